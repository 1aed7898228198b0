"""How soon a handler that waits tries again: soon at first, then less and less often."""

from __future__ import annotations

# A store without a volume may wait for hours: 2, 4, 8, 16, 30, 30... seconds.
FIRST_RETRY = 2.0
LAST_RETRY = 30.0


def retry_delay(retry: int, *, backoff: bool = True) -> float:
    """The delay before Kopf's `retry`-th retry (0 for the first); FIRST_RETRY every time
    without `backoff` (a rollout, bounded by its own deadline, is checked at a steady pace)."""
    factor = 2**retry if backoff else 1
    return float(min(FIRST_RETRY * factor, LAST_RETRY))
