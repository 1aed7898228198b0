"""Public links: a file shared by a URL that needs no sign-in. Only the hash of a link's token
is kept, so the store never holds a working link. A link works while it is not revoked, its
file is clean, and its workspace allows public links: an admin turning them off stops every
link at once, and turning them on again brings back those not revoked."""

from __future__ import annotations

import secrets
from typing import Any

from quckchat.cdn import access, location, signing, store
from quckchat.cdn.schemas import LinkPublic
from quckchat.core.documents import stored_now
from quckchat.core.errors import Problem, not_found
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id
from quckchat.core.tokens import Principal
from quckchat.file import client as file_client

PUBLIC_PATH = "/api/v1/cdn/p/"


def _view(doc: dict[str, Any], url: str | None = None) -> LinkPublic:
    return LinkPublic.model_validate({**doc, "id": doc["_id"], "url": url})


async def _allowed(runtime: Runtime, workspace_id: str) -> bool:
    return (await file_client.policy_of(runtime.http, workspace_id)).public_links


async def create(runtime: Runtime, principal: Principal, file_id: str) -> LinkPublic:
    file = access.servable(await access.visible_file(runtime, file_id, principal))
    if not await _allowed(runtime, file.workspace_id):
        raise Problem(403, "this workspace does not allow public links", slug="public-links-off")
    await location.check_shareable(runtime, runtime.object_store, file)
    token = secrets.token_urlsafe(24)
    doc = {
        "_id": new_id(),
        "token_hash": signing.digest(token),
        "file_id": file.id,
        "workspace_id": file.workspace_id,
        "created_by": principal.user_id,
        "created_at": stored_now(),
        "revoked_at": None,
    }
    await runtime.document_db[store.LINKS].insert_one(doc)
    return _view(doc, PUBLIC_PATH + token)


async def list_for(runtime: Runtime, principal: Principal, file_id: str) -> list[LinkPublic]:
    """The file's links that are not revoked (to those who may see the file)."""
    await access.visible_file(runtime, file_id, principal)
    found = runtime.document_db[store.LINKS].find({"file_id": file_id, "revoked_at": None})
    return [_view(doc) async for doc in found.sort("created_at", -1)]


async def revoke(runtime: Runtime, principal: Principal, link_id: str) -> None:
    """Stop a link for good (its maker, or whoever may see its file)."""
    links = runtime.document_db[store.LINKS]
    doc: dict[str, Any] | None = await links.find_one({"_id": link_id})
    if doc is None:
        raise not_found("link")
    if doc["created_by"] != principal.user_id:
        await access.visible_file(runtime, doc["file_id"], principal)
    await links.update_one(
        {"_id": link_id, "revoked_at": None}, {"$set": {"revoked_at": stored_now()}}
    )


async def resolve(runtime: Runtime, token: str) -> file_client.FileRecord:
    """The file a link's token opens; 404 for any link that does not work (whatever the
    reason: a stranger learns nothing)."""
    doc: dict[str, Any] | None = await runtime.document_db[store.LINKS].find_one(
        {"token_hash": signing.digest(token), "revoked_at": None}
    )
    if doc is None:
        raise not_found("link")
    file = await file_client.file_of(runtime.http, doc["file_id"])
    if file.state is not file_client.State.CLEAN or not await _allowed(runtime, file.workspace_id):
        raise not_found("link")
    try:
        await location.check_shareable(runtime, runtime.object_store, file)
    except Problem as refused:  # its copy without the location was dropped since
        raise not_found("link") from refused
    return file
