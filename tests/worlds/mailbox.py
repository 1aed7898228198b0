"""Mail as the test bed's SMTP server (Mailpit) received it, read through its REST API: the
messages to an address, one awaited with a deadline, its subject, text, HTML and headers.
Tests send to addresses of their own (`Mailbox.address`), so parallel sessions never see each
other's mail and nothing needs clearing between tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support import server, unavailable
from tests.worlds.waiting import eventually


@dataclass(frozen=True)
class Mail:
    id: str
    sender: str
    to: list[str]
    subject: str
    text: str
    html: str
    message_id: str
    headers: dict[str, list[str]]

    def header(self, name: str) -> str:
        """The one value of header `name` (any case); fails when it is absent or repeated."""
        values = next(v for k, v in self.headers.items() if k.lower() == name.lower())
        (value,) = values
        return value


class Mailbox:
    """A client of Mailpit's API (`base` is its root, e.g. http://127.0.0.1:28025)."""

    def __init__(self, base: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.http = httpx.AsyncClient(
            base_url=base.rstrip("/") + "/api/v1", timeout=10.0, transport=transport
        )

    @staticmethod
    def address(domain: str = "example.com") -> str:
        """A recipient no other test uses."""
        return f"t-{uuid.uuid4().hex[:16]}@{domain}"

    async def messages_to(self, address: str) -> list[Mail]:
        """Every message with `address` among its recipients (To, Cc or Bcc), oldest first."""
        response = await self.http.get("/search", params={"query": f'to:"{address}"', "limit": 200})
        response.raise_for_status()
        summaries = response.json()["messages"]
        return [await self.read(m["ID"]) for m in reversed(summaries)]

    async def wait_for(self, address: str, *, count: int = 1, within: float = 10.0) -> list[Mail]:
        """The messages to `address` once there are at least `count`; fails after `within` s."""
        found: list[Mail] = await eventually(
            lambda: self._at_least(address, count), within=within, poll=0.1
        )
        assert found, f"no {count} message(s) to {address} within {within} s"
        return found

    async def _at_least(self, address: str, count: int) -> list[Mail]:
        mails = await self.messages_to(address)
        return mails if len(mails) >= count else []

    async def read(self, message_id: str) -> Mail:
        response = await self.http.get(f"/message/{message_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        headers = await self.http.get(f"/message/{message_id}/headers")
        headers.raise_for_status()
        return Mail(
            id=body["ID"],
            sender=body["From"]["Address"] if body.get("From") else "",
            to=[a["Address"] for a in (body.get("To") or []) + (body.get("Bcc") or [])],
            subject=body["Subject"],
            text=body["Text"],
            html=body["HTML"],
            message_id=body["MessageID"],
            headers=headers.json(),
        )

    async def delete_to(self, address: str) -> None:
        """Delete the messages to `address`."""
        response = await self.http.request("DELETE", "/search", params={"query": f'to:"{address}"'})
        response.raise_for_status()

    async def delete_all(self) -> None:
        """Delete every message (also other sessions' ones: only for a server of one's own)."""
        response = await self.http.request("DELETE", "/messages")
        response.raise_for_status()

    async def aclose(self) -> None:
        await self.http.aclose()


def smtp_url() -> str:
    """The test bed's SMTP server (`smtp://127.0.0.1:PORT`); the test needs `@pytest.mark.smtp`."""
    return server("smtp")


def mailpit_url() -> str:
    """The root of the test bed's Mailpit API, beside its SMTP server."""
    smtp_url()
    return os.environ.get("QUCKCHAT_TEST_MAILPIT_URL") or unavailable(
        "Mailpit's API not available: run `hack/testbed up` (QUCKCHAT_TEST_MAILPIT_URL unset)"
    )


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    """The test bed's Mailpit, read through its API; the test needs `@pytest.mark.smtp`."""
    client = Mailbox(mailpit_url())
    try:
        yield client
    finally:
        await client.aclose()
