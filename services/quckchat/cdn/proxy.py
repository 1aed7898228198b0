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

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp

from quckchat.cdn import signing, store
from quckchat.core import egress
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


class Refused(Problem):
    def __init__(self, detail: str, slug: str = "image-refused") -> None:
        super().__init__(422, detail, slug=slug)


async def _check_host(host: str, allowed: tuple[egress.Network, ...]) -> None:
    """Refuse, with a reason, a host that is or resolves only to a private address."""
    try:
        await egress.vet_host(host, allowed)
    except egress.UnknownHost as exc:
        raise Refused(f"the image's host {host} is not known", "image-unreachable") from exc
    except egress.PrivateHost as exc:
        raise Refused(f"the image's host {host} is a private address", "private-address") from exc


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
    allowed = egress.networks(settings.cdn_proxy_allowed_networks)
    limit = settings.cdn_proxy_max_bytes
    connector = egress.connector(allowed)
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
