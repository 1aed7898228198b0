"""Sending email, behind one interface: SMTP (aiosmtplib) when a relay is configured, the log
otherwise (`make run`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Sent as Message-ID's left part, so a resend of one notice is recognisable as the same.
    reference: str | None = None


class Mailer(Protocol):
    async def send(self, email: Email) -> None:
        """Hand `email` to the relay; raises `MailRefused` for a recipient the relay refused
        for good, `MailUnavailable` when it could not be reached or asked to retry."""
        ...

    async def aclose(self) -> None: ...


class MailRefused(Exception):
    """The relay refused the recipient or the message for good (5xx)."""


class MailUnavailable(Exception):
    """The relay could not take the message now (unreachable, 4xx): try again later."""
