"""QuckChat: the platform runtime (32 services on one framework)."""

__version__ = "1.0.0"
