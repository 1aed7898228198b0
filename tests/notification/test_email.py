"""The mailers: SmtpMailer against the test bed's Mailpit (checked through its API) and a
scripted relay for the answers Mailpit does not give (4xx, silence); ConsoleMailer's log; the
MIME message and the settings, without a server."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from quckchat.core.settings import Settings
from quckchat.notification.email import (
    ConsoleMailer,
    Email,
    MailRefused,
    MailUnavailable,
    SmtpMailer,
    build_message,
    mailer_from,
)
from tests.worlds.mailbox import Mailbox, smtp_url

SENDER = "QuckChat <no-reply@quckchat.test>"


def mailer(url: str, *, timeout: float = 10.0) -> SmtpMailer:
    return SmtpMailer(url, sender=SENDER, timeout=timeout)


@pytest.mark.smtp
async def test_text_and_html_arrive_with_their_headers(mailbox: Mailbox) -> None:
    to = mailbox.address()
    await mailer(smtp_url()).send(
        Email(
            to=to,
            subject="Alice mentioned you in #general",
            text="@bob lunch?",
            html="<p><b>@bob</b> lunch?</p>",
            reference="notice-42.bob",
        )
    )
    (mail,) = await mailbox.wait_for(to)
    assert mail.subject == "Alice mentioned you in #general"
    assert mail.text.strip() == "@bob lunch?"
    assert "<b>@bob</b> lunch?" in mail.html
    assert mail.sender == "no-reply@quckchat.test"
    assert mail.to == [to]
    assert mail.message_id == "notice-42.bob@quckchat.test"
    assert mail.header("Content-Type").startswith("multipart/alternative")
    assert mail.header("Date")


@pytest.mark.smtp
async def test_text_only_is_plain_and_each_send_of_a_reference_has_its_id(
    mailbox: Mailbox,
) -> None:
    to = mailbox.address()
    relay = mailer(smtp_url())
    for _ in range(2):
        await relay.send(Email(to=to, subject="Invite", text="Join us", reference="invite-7"))
    mails = await mailbox.wait_for(to, count=2)
    assert [m.message_id for m in mails] == ["invite-7@quckchat.test"] * 2
    assert all(m.html == "" for m in mails)
    assert mails[0].header("Content-Type").startswith("text/plain")


@pytest.mark.smtp
async def test_login_from_the_url_is_used(mailbox: Mailbox) -> None:
    to = mailbox.address()
    url = smtp_url().replace("smtp://", "smtp://quck%40chat:p%3Ass@")
    await mailer(url).send(Email(to=to, subject="Hi", text="with a login"))
    (mail,) = await mailbox.wait_for(to)
    assert mail.subject == "Hi"


@pytest.mark.smtp
async def test_a_recipient_the_relay_refuses_is_mail_refused(mailbox: Mailbox) -> None:
    # The test bed's Mailpit refuses every recipient at .invalid with 550.
    to = mailbox.address("refused.invalid")
    with pytest.raises(MailRefused):
        await mailer(smtp_url()).send(Email(to=to, subject="No", text="never stored"))
    assert await mailbox.messages_to(to) == []


# A relay that answers as scripted, for what Mailpit never says.


@asynccontextmanager
async def scripted_relay(answer: Callable[[str], str | None]) -> AsyncIterator[str]:
    """An SMTP relay on 127.0.0.1 that answers each command with `answer(command)` (None: the
    usual 250) and never answers at all when `answer("GREETING")` is "silent"."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if answer("GREETING") == "silent":
                await reader.read()
                return
            writer.write(b"220 scripted ESMTP\r\n")
            in_data = False
            while line := await reader.readline():
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        writer.write(((answer("DATA-END") or "250 ok") + "\r\n").encode())
                    continue
                verb = line.decode().split(" ", 1)[0].split(":", 1)[0].strip().upper()
                reply = answer(verb) or {"DATA": "354 go on", "QUIT": "221 bye"}.get(verb, "250 ok")
                writer.write((reply + "\r\n").encode())
                in_data = verb == "DATA" and reply.startswith("354")
                if verb == "QUIT":
                    break
            await writer.drain()
        finally:
            writer.close()

    relay = await asyncio.start_server(session, "127.0.0.1", 0)
    port = relay.sockets[0].getsockname()[1]
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        relay.close()
        await relay.wait_closed()


@pytest.mark.parametrize("verb", ["RCPT", "MAIL", "DATA-END"])
async def test_a_4xx_is_mail_unavailable(verb: str) -> None:
    async with scripted_relay(lambda v: "451 4.3.0 try later" if v == verb else None) as url:
        with pytest.raises(MailUnavailable):
            await mailer(url).send(Email(to="bob@example.com", subject="s", text="t"))


async def test_a_5xx_for_the_message_is_mail_refused() -> None:
    async with scripted_relay(lambda v: "554 5.6.0 no" if v == "DATA-END" else None) as url:
        with pytest.raises(MailRefused):
            await mailer(url).send(Email(to="bob@example.com", subject="s", text="t"))


def offers_starttls(seen: list[str], starttls_answer: str) -> Callable[[str], str | None]:
    """A script whose relay offers STARTTLS in its EHLO answer and records each command."""

    def answer(verb: str) -> str | None:
        seen.append(verb)
        if verb == "EHLO":
            return "250-scripted\r\n250 STARTTLS"
        return starttls_answer if verb == "STARTTLS" else None

    return answer


async def test_starttls_is_asked_for_when_offered() -> None:
    seen: list[str] = []
    async with scripted_relay(offers_starttls(seen, "454 4.7.0 TLS not available")) as url:
        with pytest.raises(MailUnavailable):
            await mailer(url).send(Email(to="bob@example.com", subject="s", text="t"))
    assert "STARTTLS" in seen and "DATA" not in seen


async def test_starttls_off_sends_in_the_clear() -> None:
    seen: list[str] = []
    async with scripted_relay(offers_starttls(seen, "454 4.7.0 TLS not available")) as url:
        await SmtpMailer(url, sender=SENDER, starttls=False).send(
            Email(to="bob@example.com", subject="s", text="t")
        )
    assert "STARTTLS" not in seen and "DATA" in seen


async def test_a_relay_that_does_not_answer_is_mail_unavailable() -> None:
    async with scripted_relay(lambda v: "silent" if v == "GREETING" else None) as url:
        with pytest.raises(MailUnavailable):
            await mailer(url, timeout=0.5).send(Email(to="bob@example.com", subject="s", text="t"))


async def test_an_unreachable_relay_is_mail_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MailUnavailable):
        await mailer(f"smtp://127.0.0.1:{port}").send(
            Email(to="bob@example.com", subject="s", text="t")
        )


# No server.


async def test_console_mailer_logs_the_email(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        await ConsoleMailer().send(Email(to="bob@example.com", subject="Invite", text="Join"))
    assert "email to bob@example.com: Invite" in caplog.text and "Join" in caplog.text


def test_mailer_from_settings() -> None:
    assert isinstance(mailer_from(Settings()), ConsoleMailer)
    relay = mailer_from(Settings(smtp_url="smtps://u%40x:p%2Fw@mail.example.com"))
    assert isinstance(relay, SmtpMailer)
    assert (relay.hostname, relay.port, relay.use_tls) == ("mail.example.com", 465, True)
    assert (relay.username, relay.password, relay.start_tls) == ("u@x", "p/w", False)
    plain = mailer_from(Settings(smtp_url="smtp://relay:2525", smtp_starttls=False))
    assert isinstance(plain, SmtpMailer)
    assert (plain.port, plain.use_tls, plain.start_tls) == (2525, False, False)
    assert mailer("smtp://relay").start_tls is None
    with pytest.raises(ValueError):
        mailer_from(Settings(smtp_url="http://relay"))


def test_the_mime_message() -> None:
    message = build_message(
        Email(to="Bob <bob@example.com>", subject="two\nlines", text="t", reference="a b<c>"),
        sender=SENDER,
    )
    assert message["Subject"] == "two lines"
    assert message["To"] == "Bob <bob@example.com>"
    # A reference that is no dot-atom is hashed, the same way every time.
    left, _, domain = message["Message-ID"].strip("<>").partition("@")
    assert domain == "quckchat.test" and len(left) == 40
    assert (
        build_message(
            Email(to="bob@example.com", subject="s", text="t", reference="a b<c>"), sender=SENDER
        )["Message-ID"]
        == message["Message-ID"]
    )
    assert message["Date"]


@pytest.mark.parametrize("to", ["bob", "bob@example.com\r\nBcc: eve@example.com", "a@x, b@y"])
def test_what_is_no_single_address_is_refused(to: str) -> None:
    with pytest.raises(MailRefused):
        build_message(Email(to=to, subject="s", text="t"), sender=SENDER)
