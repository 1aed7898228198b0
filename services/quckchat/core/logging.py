"""JSON logs, one object per line, stamped with the service and the request id."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from quckchat.core import context


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        current = context.service.get()
        record.service = current if current != "-" else self.service
        record.request_id = context.request_id.get()
        record.caller = context.caller.get()
        return True


def configure(service: str, level: str = "INFO") -> None:
    """Route the root logger to stdout as JSON; safe to call once per process or per service."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_quckchat", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stdout)
        handler._quckchat = True  # type: ignore[attr-defined]
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}{service}{request_id}{caller}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
        handler.addFilter(_ContextFilter(service))
        root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own access log duplicates our request log line.
    logging.getLogger("uvicorn.access").disabled = True


def get(name: str) -> logging.Logger:
    return logging.getLogger(f"quckchat.{name}")
