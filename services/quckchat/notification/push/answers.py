"""What the providers' HTTP answers have in common: when to retry, and after how long."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from quckchat.notification.push.base import Outcome, Result

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date; None when absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry(status: int, detail: str, header: str | None) -> Result:
    return Result(Outcome.RETRY, status, detail, retry_after(header))


def unreachable(exc: BaseException) -> Result:
    """A network error: the provider never answered, so the push may be tried again."""
    return Result(Outcome.RETRY, None, f"{type(exc).__name__}: {exc}")
