"""iOS pushes through APNs over HTTP/2 (aioapns), with token-based auth: the .p8 key signs the
provider token that aioapns renews every half hour.

aioapns knows only Apple's two hosts, on port 443, as class attributes of its connection
protocol; the one subclass here takes host and port from the `apns_url` setting instead, and
keeps each answer's Retry-After, which aioapns drops."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from aioapns import APNs, NotificationRequest, PushType
from aioapns.connection import APNsTLSClientProtocol
from aioapns.exceptions import ConnectionError as APNsConnectionError
from aioapns.exceptions import MaxAttemptsExceeded

from quckchat.notification.push import answers
from quckchat.notification.push.base import Outcome, Push, Result

PRIORITY_NOW = 10
PRIORITY_BACKGROUND = 5  # Apple refuses a background push at priority 10
GONE_REASONS = frozenset({"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"})


class _Protocol(APNsTLSClientProtocol):
    """aioapns's protocol towards the configured server; remembers Retry-After by apns-id."""

    retry_after: ClassVar[dict[str, str]]

    def on_response_received(self, headers: dict[bytes, bytes]) -> None:
        if b"retry-after" in headers:
            notification_id = headers.get(b"apns-id", b"").decode()
            self.retry_after[notification_id] = headers[b"retry-after"].decode()
        super().on_response_received(headers)


def protocol_for(url: str) -> type[_Protocol]:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the APNs URL must be https://host[:port], not {url!r}")
    attributes = {
        "APNS_SERVER": parts.hostname,
        "APNS_PORT": parts.port or 443,
        "retry_after": {},
    }
    return type("APNsProtocol", (_Protocol,), attributes)


class ApnsPush:
    def __init__(
        self,
        *,
        key_file: str,
        key_id: str,
        team_id: str,
        topic: str,
        url: str,
        ttl_seconds: int,
        ca_file: str = "",
        timeout: float = 10.0,
    ) -> None:
        self._key = Path(key_file).read_text()
        self._key_id = key_id
        self._team_id = team_id
        self._topic = topic
        self._protocol = protocol_for(url)
        self._ttl = ttl_seconds
        self._timeout = timeout
        self._tls = ssl.create_default_context(cafile=ca_file or None)
        self._tls.set_alpn_protocols(["h2"])
        self._client: APNs | None = None

    def _apns(self) -> APNs:
        """aioapns binds its pool to the loop it is made on: made at the first push."""
        if self._client is None:
            client = APNs(
                key=self._key,
                key_id=self._key_id,
                team_id=self._team_id,
                topic=self._topic,
                ssl_context=self._tls,
                max_connection_attempts=1,
                err_func=_quiet,
            )
            client.pool.protocol_class = self._protocol
            self._client = client
        return self._client

    async def send(self, token: str, push: Push) -> Result:
        request = notification(token, push, self._ttl)
        try:
            async with asyncio.timeout(self._timeout):
                result = await self._apns().send_notification(request)
        except (TimeoutError, APNsConnectionError, MaxAttemptsExceeded, OSError) as exc:
            return answers.unreachable(exc)
        header = self._protocol.retry_after.pop(request.notification_id, None)
        status = int(result.status) if str(result.status).isdigit() else None
        reason = result.description or ""
        if result.is_successful:
            return Result(Outcome.DELIVERED, status)
        if status == 410 or reason in GONE_REASONS:
            return Result(Outcome.GONE, status, reason)
        if status in answers.RETRY_STATUSES:
            return answers.retry(status, reason, header)
        return Result(Outcome.FAILED, status, reason)

    async def aclose(self) -> None:
        if self._client is not None:
            self._client.pool.close()


def notification(token: str, push: Push, ttl_seconds: int) -> NotificationRequest:
    """An alert grouped by the collapse key; a clear is a background push carrying the key of
    the notice the app removes."""
    extra: dict[str, Any] = {**push.data, "collapse_key": push.collapse_key}
    if push.clear:
        return NotificationRequest(
            device_token=token,
            message={"aps": {"content-available": 1}, **extra, "clear": "1"},
            time_to_live=ttl_seconds,
            priority=PRIORITY_BACKGROUND,
            collapse_key=push.collapse_key,
            push_type=PushType.BACKGROUND,
        )
    aps: dict[str, Any] = {
        "alert": {"title": push.title, "body": push.body},
        "thread-id": push.collapse_key,
        "sound": "default",
    }
    if push.badge is not None:
        aps["badge"] = push.badge
    return NotificationRequest(
        device_token=token,
        message={"aps": aps, **extra},
        time_to_live=ttl_seconds,
        priority=PRIORITY_NOW,
        collapse_key=push.collapse_key,
        push_type=PushType.ALERT,
    )


async def _quiet(request: NotificationRequest, result: Any) -> None:
    """aioapns logs every refusal as an error; the notification service stores it instead."""
