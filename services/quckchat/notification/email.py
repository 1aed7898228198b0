"""Sending email, behind one interface: SMTP (aiosmtplib) when a relay is configured, the log
otherwise (`make run`)."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from quckchat.core import logging as qlog
from quckchat.core.settings import Settings

log = qlog.get("notification.email")

# What a Message-ID's left part may hold as it is (RFC 5322 dot-atom-text).
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


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


def message_id(reference: str | None, domain: str) -> str:
    """`<reference@domain>`, the same for every send of one reference; a reference that is not
    a dot-atom is hashed rather than escaped, so no two references share an id."""
    if reference is None:
        return make_msgid(domain=domain)
    if _DOT_ATOM.fullmatch(reference) is None:
        reference = hashlib.sha256(reference.encode()).hexdigest()[:40]
    return f"<{reference}@{domain}>"


def build_message(email: Email, *, sender: str) -> EmailMessage:
    """The MIME message of `email`: text, and the HTML as its alternative when there is one.
    Raises `MailRefused` for a recipient that is no single address (it could never go)."""
    address = parseaddr(email.to)[1]
    if "@" not in address or any(c in email.to for c in "\r\n,"):
        raise MailRefused(f"not one email address: {email.to!r}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    # A header can not carry a line break; a subject is one line however it was written.
    message["Subject"] = " ".join(email.subject.split())
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(email.reference, parseaddr(sender)[1].rpartition("@")[2])
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


class SmtpMailer:
    """Any SMTP relay, one connection per message: `smtps://` speaks TLS from the first byte,
    `smtp://` upgrades with STARTTLS when the relay offers it (unless `starttls` is off)."""

    def __init__(
        self, url: str, *, sender: str, starttls: bool = True, timeout: float = 10.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"an SMTP relay is smtp://host[:port] or smtps://host[:port]: {url}")
        self.hostname = parts.hostname
        self.port = parts.port or _DEFAULT_PORTS[parts.scheme]
        self.use_tls = parts.scheme == "smtps"
        # None lets aiosmtplib upgrade exactly when the relay says STARTTLS.
        self.start_tls: bool | None = None if starttls and not self.use_tls else False
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    async def send(self, email: Email) -> None:
        message = build_message(email, sender=self.sender)
        try:
            await aiosmtplib.send(
                message,
                sender=parseaddr(self.sender)[1],
                recipients=[parseaddr(email.to)[1]],
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            if any(code >= 500 for code in codes):
                raise MailRefused(f"the relay refused {email.to}: {exc}") from exc
            raise MailUnavailable(f"the relay deferred {email.to}: {exc}") from exc
        except (
            aiosmtplib.SMTPConnectResponseError,
            aiosmtplib.SMTPHeloError,
            aiosmtplib.SMTPAuthenticationError,
            aiosmtplib.SMTPSenderRefused,
        ) as exc:
            # Refused us (greeting, login, sender), not this message: the configuration can fix it.
            log.error("the SMTP relay refused us: %s", exc)
            raise MailUnavailable(f"the relay refused us: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise MailRefused(f"the relay refused the message: {exc}") from exc
            raise MailUnavailable(f"the relay deferred the message: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailUnavailable(f"the relay could not be reached: {exc}") from exc

    async def aclose(self) -> None:
        return None


class ConsoleMailer:
    """Writes each email to the log, where a developer (or a test) reads it."""

    def __init__(self) -> None:
        # The email must show even when the platform logs only warnings.
        log.setLevel(logging.INFO)

    async def send(self, email: Email) -> None:
        log.info(
            "email to %s: %s\n%s",
            email.to,
            email.subject,
            email.text,
            extra={"to": email.to, "reference": email.reference},
        )

    async def aclose(self) -> None:
        return None


def mailer_from(settings: Settings) -> Mailer:
    """The SMTP relay the settings name, else the log."""
    if settings.smtp_url:
        return SmtpMailer(
            settings.smtp_url,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    return ConsoleMailer()
