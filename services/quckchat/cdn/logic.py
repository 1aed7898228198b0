"""Delivery: short-lived signed URLs for those who may see a file, and the bytes behind them,
behind public links and behind the image proxy."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import PurePath
from urllib.parse import urlencode

from fastapi import Request, Response

from quckchat.cdn import access, delivery, links, location, proxy, signing, store
from quckchat.cdn.schemas import Rendition, SignedUrl
from quckchat.core.errors import Problem, not_found
from quckchat.core.objects import ObjectInfo
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.file import client as file_client

PUBLIC_PATH = "/api/v1/cdn/f/"
# A public link's bytes may be cached briefly: turning links off takes effect within this.
LINK_CACHE = "private, max-age=60"


def _not_signed(detail: str) -> Problem:
    # 404 like a file that does not exist: a URL that is not valid shows nothing of what is.
    return Problem(404, detail, slug="signature-rejected")


async def _stored(
    runtime: Runtime, file: file_client.FileRecord, rendition: Rendition
) -> tuple[ObjectInfo, str, str] | None:
    """Where the bytes of the file's rendition are, their type, and the name to give them."""
    store_ = runtime.object_store
    if rendition is Rendition.ORIGINAL:
        info = await store_.head(store.rendition_key(file.id, location.SANITIZED))
        info = info or await store_.head(file.key)
        return None if info is None else (info, file.content_type, file.name)
    info = await store_.head(store.rendition_key(file.id, rendition))
    if info is None:
        return None
    content_type = info.content_type or "application/octet-stream"
    suffix = content_type.rpartition("/")[2].replace("jpeg", "jpg")
    return info, content_type, f"{PurePath(file.name).stem}-{rendition}.{suffix}"


async def signed_url(
    runtime: Runtime, principal: Principal, file_id: str, rendition: Rendition
) -> SignedUrl:
    """A URL of the file (or one of its previews) that works without a token for a while."""
    file = access.servable(await access.visible_file(runtime, file_id, principal))
    if rendition is not Rendition.ORIGINAL and await _stored(runtime, file, rendition) is None:
        raise Problem(404, f"the file has no {rendition} (yet)", slug="no-rendition")
    if rendition is Rendition.ORIGINAL and file.uploader_id != principal.user_id:
        await location.check_shareable(runtime, runtime.object_store, file)
    expires = int(time.time()) + runtime.settings.cdn_url_ttl_seconds
    signature = signing.signer(runtime).sign_until(expires, file.id, rendition)
    query = urlencode({"e": expires, "s": signature})
    return SignedUrl(
        url=f"{PUBLIC_PATH}{file.id}/{rendition}?{query}",
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


async def _send(
    runtime: Runtime,
    request: Request,
    file: file_client.FileRecord,
    rendition: Rendition,
    *,
    cache_control: str,
) -> Response:
    found = await _stored(runtime, file, rendition)
    if found is None:
        raise not_found("file")
    info, content_type, name = found
    return await delivery.send(
        request,
        runtime.object_store,
        info,
        name=name,
        content_type=content_type,
        cache_control=cache_control,
    )


async def deliver(
    runtime: Runtime,
    request: Request,
    file_id: str,
    rendition: Rendition,
    *,
    expires: str,
    signature: str,
) -> Response:
    """The bytes behind a signed URL, while it is valid and the file is still clean."""
    if not signing.signer(runtime).valid_until(signature, expires, file_id, rendition):
        raise _not_signed("the URL was not signed here, or it has expired")
    file = await file_client.file_of(runtime.http, file_id)
    if file.state is not file_client.State.CLEAN:
        raise not_found("file")
    left = max(int(expires) - int(time.time()), 0)
    return await _send(runtime, request, file, rendition, cache_control=f"private, max-age={left}")


async def deliver_link(runtime: Runtime, request: Request, token: str) -> Response:
    file = await links.resolve(runtime, token)
    return await _send(runtime, request, file, Rendition.ORIGINAL, cache_control=LINK_CACHE)


async def deliver_proxied(runtime: Runtime, request: Request, url: str, signature: str) -> Response:
    """A remote image through the proxy, for a URL the platform signed."""
    if not signing.signer(runtime).valid(signature, "proxy", url):
        raise _not_signed("the image URL was not signed here")
    info, content_type = await proxy.image(runtime, runtime.object_store, url)
    return await delivery.send(
        request,
        runtime.object_store,
        info,
        name=PurePath(url.split("?", 1)[0]).name or "image",
        content_type=content_type,
        cache_control=f"public, max-age={runtime.settings.cdn_proxy_cache_seconds}",
    )
