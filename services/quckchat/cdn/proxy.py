"""The image proxy for link previews: a remote image fetched on the platform's behalf, so a
reader's address never reaches the image's host and a page over plain HTTP shows no mixed
content.

Only URLs the platform signed are fetched. What is fetched is held to limits: http(s) only, a
public address (a name is resolved before the request and again at connect time, where a name
that turned private is refused: no DNS rebinding), few redirects (each checked the same way), a
byte limit read as it comes, a time limit, and a real raster image by its bytes (never SVG,
which can carry script). A fetched image is kept in the object store for a while.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from quckchat.cdn import signing, store
from quckchat.core.documents import stored_now
from quckchat.core.errors import Problem
from quckchat.core.objects import ObjectInfo, ObjectStore
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.core.sniff import SNIFF_BYTES, content_type_of

PUBLIC_PATH = "/api/v1/cdn/proxy"
MAX_REDIRECTS = 3
IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "QuckChat-ImageProxy/1.0"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Problem):
    def __init__(self, detail: str, slug: str = "image-refused") -> None:
        super().__init__(422, detail, slug=slug)


def allowed_networks(settings: Settings) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in settings.cdn_proxy_allowed_networks)


def permitted(address: Address, allowed: tuple[Network, ...]) -> bool:
    """A public address, or one in a network the settings open (tests' own servers)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return True
    return address.is_global and not address.is_multicast


class VettedResolver(AbstractResolver):
    """Resolves as the system does, keeping only permitted addresses (checked at connect)."""

    def __init__(self, allowed: tuple[Network, ...]) -> None:
        self._inner = ThreadedResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        kept = [r for r in found if permitted(ipaddress.ip_address(r["host"]), self._allowed)]
        if not kept:
            raise OSError(f"{host} resolves to no public address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


async def _check_host(host: str, allowed: tuple[Network, ...]) -> None:
    """Refuse, with a reason, a host that is or resolves only to a private address."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError as exc:
            raise Refused(f"the image's host {host} is not known", "image-unreachable") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not any(permitted(a, allowed) for a in addresses):
        raise Refused(f"the image's host {host} is a private address", "private-address")


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http and https images are fetched")
    return parts.hostname


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str


async def fetch(settings: Settings, url: str) -> Fetched:
    """The image at `url`, within the limits; Refused (422) with the reason otherwise."""
    allowed = allowed_networks(settings)
    limit = settings.cdn_proxy_max_bytes
    connector = aiohttp.TCPConnector(resolver=VettedResolver(allowed), use_dns_cache=False)
    timeout = aiohttp.ClientTimeout(total=settings.cdn_proxy_timeout_seconds)
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers, trust_env=False
    ) as session:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            await _check_host(_check_url(current), allowed)
            try:
                async with session.get(current, allow_redirects=False) as response:
                    if response.status in REDIRECTS and "Location" in response.headers:
                        current = urljoin(current, response.headers["Location"])
                        continue
                    if response.status != 200:
                        raise Refused(f"the image's server answered {response.status}")
                    data = await _read_capped(response, limit)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise Refused(
                    f"the image could not be fetched: {exc}", "image-unreachable"
                ) from exc
            found = content_type_of(data[:SNIFF_BYTES])
            if found not in IMAGE_TYPES:
                raise Refused(f"the URL gives {found}, not an image this proxy shows")
            return Fetched(data, found)
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    if (response.content_length or 0) > limit:
        raise Refused(f"the image is larger than {limit} bytes")
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise Refused(f"the image is larger than {limit} bytes")
    return bytes(data)


def signed_path(runtime: Runtime, url: str) -> str:
    """The proxy URL of an image, relative to the API's origin."""
    signature = signing.signer(runtime).sign("proxy", url)
    return f"{PUBLIC_PATH}?{urlencode({'url': url, 's': signature})}"


async def image(runtime: Runtime, objects: ObjectStore, url: str) -> tuple[ObjectInfo, str]:
    """The image at `url` as kept in the object store: fetched again once older than the
    cache setting; its stored info and content type."""
    url_hash = signing.digest(url)
    kept: dict[str, Any] | None = await runtime.document_db[store.PROXIED].find_one(
        {"_id": url_hash}
    )
    fresh_after = stored_now() - timedelta(seconds=runtime.settings.cdn_proxy_cache_seconds)
    if kept is not None and kept["fetched_at"] > fresh_after:
        info = await objects.head(store.proxied_key(url_hash))
        if info is not None:
            return info, kept["content_type"]
    fetched = await fetch(runtime.settings, url)
    info = await objects.put(
        store.proxied_key(url_hash), fetched.data, content_type=fetched.content_type
    )
    await runtime.document_db[store.PROXIED].replace_one(
        {"_id": url_hash},
        {"_id": url_hash, "content_type": fetched.content_type, "fetched_at": stored_now()},
        upsert=True,
    )
    return info, fetched.content_type
