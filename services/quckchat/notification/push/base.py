"""What every push provider's client does, and what it answers: the notification service
picks the sender by the device's platform and acts on the `Result` alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class Push:
    """One notice for one device. A `clear` push removes what `collapse_key` showed
    (the notice was read elsewhere) instead of showing anything."""

    title: str
    body: str
    collapse_key: str
    data: dict[str, str] = field(default_factory=dict)
    badge: int | None = None
    clear: bool = False


class Outcome(StrEnum):
    DELIVERED = "delivered"  # the provider accepted it
    GONE = "gone"  # the token is dead (unregistered, expired): remove the device's token
    RETRY = "retry"  # try again later (after `retry_after` when the provider said)
    FAILED = "failed"  # refused for good (bad payload, bad credentials): do not retry


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    status: int | None = None  # the provider's HTTP status, when there was one
    detail: str = ""  # the provider's reason, for the stored attempt
    retry_after: float | None = None  # seconds, from the provider's Retry-After


class PushSender(Protocol):
    async def send(self, token: str, push: Push) -> Result:
        """Deliver `push` to the device with `token`; never raises for a provider's answer
        (network errors are RETRY)."""
        ...

    async def aclose(self) -> None: ...
