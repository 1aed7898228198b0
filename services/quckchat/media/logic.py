"""The media API: a file's record, signed URLs of its renditions, dropping them, and starting
an upload of an image or a video through the file service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from quckchat.core.errors import Problem, not_found
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.file import client as file_client
from quckchat.media import access, records, store
from quckchat.media.schemas import (
    MediaPublic,
    MediaState,
    MediaUpload,
    RenditionName,
    RenditionUrl,
)

# A rendition's URL is for showing it now; a client asks again for a later view.
URL_SECONDS = 300


async def visible(runtime: Runtime, principal: Principal, file_id: str) -> dict[str, Any]:
    """The file's record, if the caller may see it; 404 alike for none and not theirs."""
    doc = await records.find(runtime, file_id)
    if (
        doc is None
        or doc["state"] == MediaState.DELETED
        or not await access.may_see(runtime, doc, principal)
    ):
        raise not_found("media")
    return doc


async def get(runtime: Runtime, principal: Principal, file_id: str) -> MediaPublic:
    return records.view(await visible(runtime, principal, file_id))


async def rendition_url(
    runtime: Runtime, principal: Principal, file_id: str, name: RenditionName
) -> RenditionUrl:
    """A short-lived signed GET of one of the file's renditions; 404 when it has none by that
    name (not made for this file, not yet, or dropped)."""
    doc = await visible(runtime, principal, file_id)
    made = next((r for r in doc.get("renditions", []) if r["name"] == name), None)
    if made is None:
        raise Problem(
            404,
            f"the file has no {name} rendition",
            slug="no-such-rendition",
            renditions=[r["name"] for r in doc.get("renditions", [])],
        )
    expires_at = datetime.now(UTC) + timedelta(seconds=URL_SECONDS)
    signed = await runtime.object_store.presign_get(
        store.rendition_key(file_id, name), expires=URL_SECONDS
    )
    return RenditionUrl(url=signed.url, method=signed.method, expires_at=expires_at, **made)


async def drop(runtime: Runtime, principal: Principal, file_id: str) -> None:
    """Delete the file's renditions (its uploader or a workspace admin); the file stays, and
    a file.ready delivered again brings none back. Again: nothing more happens."""
    doc = await visible(runtime, principal, file_id)
    if not await access.may_manage(runtime, doc, principal):
        raise Problem(403, "only the uploader or a workspace admin drops a file's renditions")
    while doc["state"] != MediaState.DROPPED:
        moved = await records.move(runtime, doc, MediaState.DROPPED, renditions=[], blurhash=None)
        doc = moved if moved is not None else await visible(runtime, principal, file_id)
    await runtime.object_store.delete_prefix(store.rendition_folder(file_id))


async def upload(
    runtime: Runtime, principal: Principal, body: MediaUpload
) -> file_client.FileCreated:
    """Start the upload through the file service, as the caller: its checks and quota apply."""
    return await file_client.start_upload(
        runtime.http,
        tenant=principal.tenant,
        uploader_id=principal.user_id,
        file=file_client.FileCreate.model_validate(body.model_dump()),
    )
