"""Browser pushes by the Web Push protocol: the payload encrypted for the subscription's keys
(RFC 8291, aes128gcm), the sender named by a VAPID token (RFC 8292).

The device's push token is the browser's subscription, as JSON. Its endpoint is chosen by the
client, so it is reached only at a public address (core/egress), like any such request."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from quckchat.core import egress
from quckchat.notification.push import answers
from quckchat.notification.push.base import Outcome, Push, Result

VAPID_LIFETIME_SECONDS = 12 * 3600  # RFC 8292 allows at most 24 hours
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
DELIVERED = frozenset({200, 201, 202})


class BadSubscription(ValueError):
    """The push token is not a browser's subscription."""


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: bytes
    auth: bytes


def subscription(token: str) -> Subscription:
    """The subscription JSON a browser's PushManager gives (`endpoint`, `keys.p256dh`,
    `keys.auth`), checked down to the key sizes."""
    try:
        found = json.loads(token)
        endpoint, keys = found["endpoint"], found["keys"]
        p256dh, auth = _unbase64(keys["p256dh"]), _unbase64(keys["auth"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadSubscription(f"not a push subscription: {exc}") from exc
    if not isinstance(endpoint, str) or len(p256dh) != 65 or len(auth) != 16:
        raise BadSubscription("a subscription needs an endpoint, a P-256 key and a 16-byte secret")
    return Subscription(endpoint, p256dh, auth)


def topic(collapse_key: str) -> str:
    """The Topic header replaces a waiting push with the same topic; it allows 32 URL-safe
    characters, so a longer key is hashed into them."""
    if TOPIC.match(collapse_key):
        return collapse_key
    digest = hashlib.sha256(collapse_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def payload(push: Push) -> dict[str, Any]:
    """What the service worker receives: it shows the notice under `collapse_key` as its tag,
    or on a clear closes the notice with that tag."""
    shown: dict[str, Any] = {"collapse_key": push.collapse_key, "data": push.data}
    if push.clear:
        return {**shown, "clear": True}
    found = {**shown, "title": push.title, "body": push.body}
    if push.badge is not None:
        found["badge"] = push.badge
    return found


def encrypt(data: bytes, to: Subscription) -> bytes:
    """aes128gcm with a fresh sender key per message, as RFC 8291 requires."""
    sender = ec.generate_private_key(ec.SECP256R1())
    encrypted: bytes = http_ece.encrypt(
        data, private_key=sender, dh=to.p256dh, auth_secret=to.auth, version="aes128gcm"
    )
    return encrypted


class WebPush:
    def __init__(
        self,
        *,
        vapid_private_key: str,
        subject: str,
        allowed_networks: list[str],
        ttl_seconds: int,
        timeout: float = 10.0,
    ) -> None:
        self._vapid = Vapid02.from_string(vapid_private_key)
        self._subject = subject
        self._allowed = egress.networks(allowed_networks)
        self._ttl = ttl_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        """Made at the first push, on the loop that sends."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=egress.connector(self._allowed), timeout=self._timeout, trust_env=False
            )
        return self._session

    async def send(self, token: str, push: Push) -> Result:
        try:
            to = subscription(token)
        except BadSubscription as exc:
            return Result(Outcome.FAILED, None, str(exc))
        refused = await self._refused(to.endpoint)
        if refused is not None:
            return refused
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(to.endpoint))
        claims = {
            "aud": origin,
            "sub": self._subject,
            "exp": int(time.time()) + VAPID_LIFETIME_SECONDS,
        }
        headers = {
            **self._vapid.sign(claims),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self._ttl),
            "Urgency": "normal" if push.clear else "high",
            "Topic": topic(push.collapse_key),
        }
        body = encrypt(json.dumps(payload(push)).encode(), to)
        try:
            async with self._http().post(
                to.endpoint, data=body, headers=headers, allow_redirects=False
            ) as response:
                detail = (await response.text())[:200]
                status = response.status
                header = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return answers.unreachable(exc)
        if status in DELIVERED:
            return Result(Outcome.DELIVERED, status)
        if status in (404, 410):
            return Result(Outcome.GONE, status, detail)
        if status in answers.RETRY_STATUSES:
            return answers.retry(status, detail, header)
        return Result(Outcome.FAILED, status, detail)

    async def _refused(self, endpoint: str) -> Result | None:
        """Why the endpoint is not reached, or None: https at a public address (plain http only
        in a network the settings open); a name that resolves to nothing may resolve later."""
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        plain_allowed = parts.scheme == "http" and _opened(host, self._allowed)
        if not host or (parts.scheme != "https" and not plain_allowed):
            return Result(Outcome.FAILED, None, "the endpoint is not an https URL")
        try:
            await egress.vet_host(host, self._allowed)
        except egress.UnknownHost as exc:
            return answers.unreachable(exc)
        except egress.PrivateHost:
            return Result(Outcome.FAILED, None, f"the endpoint's host {host} is a private address")
        return None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _opened(host: str, allowed: tuple[egress.Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(address in network for network in allowed)


def _unbase64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
