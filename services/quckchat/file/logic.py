"""Files: an upload counted against the workspace's quota before a byte is accepted, its bytes
checked once in (real type, SHA-256, malware scan), and deleted with its bytes given back.

A file's document is its own outbox entry: every change of state marks it unpublished, and
the event of its new state (`events.event_of`) goes out after the write (`OUTBOX`). Nothing here
needs two writers to exclude each other: completing twice, scanning twice or deleting twice
ends in the same document, so a lost answer is simply asked again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from quckchat.core import logging as qlog
from quckchat.core.documents import stored_now
from quckchat.core.errors import Problem, not_found
from quckchat.core.events import DomainEvent
from quckchat.core.objects import ObjectMissing, ObjectStore
from quckchat.core.outbox import DocumentOutbox
from quckchat.core.pagination import Page, PageQuery, document_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id
from quckchat.core.tokens import Principal
from quckchat.file import checks, policy, store, uploads
from quckchat.file.events import event_of
from quckchat.file.scanning import NoScanner, ScanFailed, Scanner
from quckchat.file.schemas import (
    Completion,
    FileCreate,
    FileCreated,
    FilePublic,
    Method,
    State,
    UploadPlan,
)
from quckchat.workspace import client as workspace_client

log = qlog.get("file")
ADMINS = frozenset({"owner", "admin"})
SCANNER = "scanner"  # runtime.state key


def scanner(runtime: Runtime) -> Scanner:
    found: Scanner = runtime.state.get(SCANNER) or NoScanner()
    return found


def objects(runtime: Runtime) -> ObjectStore:
    if runtime.objects is None:
        raise Problem(503, "the object store is not configured")
    return runtime.objects


def view(doc: dict[str, Any]) -> FilePublic:
    return FilePublic.model_validate({**doc, "id": doc["_id"]})


async def _events(runtime: Runtime, doc: dict[str, Any]) -> Sequence[tuple[str, DomainEvent]]:
    event = event_of(doc)
    return [] if event is None else [(f"file.{doc['_id']}.{doc['state']}", event)]


async def _settle(runtime: Runtime, doc: dict[str, Any]) -> None:
    # Only the state announced: a newer one written meanwhile is still to go out.
    await runtime.document_db[store.FILES].update_one(
        {"_id": doc["_id"], "state": doc["state"]}, {"$set": {"published": True}}
    )


OUTBOX = DocumentOutbox("file outbox", store.FILES, _events, since="changed_at", done=_settle)


async def _change(runtime: Runtime, doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Write `fields` (a new state announces itself) and publish; the document as written."""
    changed = {**fields, "changed_at": stored_now()}
    if "state" in fields:
        changed["published"] = False
    await runtime.document_db[store.FILES].update_one({"_id": doc["_id"]}, {"$set": changed})
    doc = {**doc, **changed}
    if "state" in fields:
        await OUTBOX.publish(runtime, doc)
    return doc


async def create(runtime: Runtime, principal: Principal, body: FileCreate) -> FileCreated:
    """A file to upload: its limits checked, its bytes reserved in the quota (409 when they do
    not fit, and nothing is kept), and the requests that send them."""
    await workspace_client.member_role(runtime.http, body.workspace_id, principal.user_id)
    limits = await policy.policy_of(runtime, body.workspace_id)
    policy.check_size(limits, body.size, scan_limit=scanner(runtime).max_bytes)
    if not policy.type_allowed(limits, body.content_type):
        raise policy.refuse_type(body.content_type, sniffed=False)
    method = uploads.method_for(body.size, body.method)
    file_id, now = new_id(), stored_now()
    doc: dict[str, Any] = {
        "_id": file_id,
        "tenant": principal.tenant,
        "workspace_id": body.workspace_id,
        "uploader_id": principal.user_id,
        "name": body.name,
        "size": body.size,
        "declared_type": body.content_type,
        "content_type": body.content_type,
        "state": State.UPLOADING,
        "key": store.object_key(principal.tenant, body.workspace_id, file_id),
        "upload": {"method": method, "part_size": uploads.part_size_for(body.size), "offset": 0},
        "reserved": False,
        "scanned": False,
        "sha256": None,
        "signature": None,
        "published": True,
        "created_at": now,
        "changed_at": now,
        "completed_at": None,
    }
    files = runtime.document_db[store.FILES]
    await files.insert_one(doc)
    try:
        await workspace_client.reserve_storage(
            runtime, workspace_id=body.workspace_id, reservation_id=file_id, size=body.size
        )
    except BaseException:
        await files.delete_one({"_id": file_id})
        raise
    doc["upload"] = await uploads.begin(objects(runtime), doc)
    await files.update_one({"_id": file_id}, {"$set": {"reserved": True, "upload": doc["upload"]}})
    doc["reserved"] = True
    plan = await uploads.plan(objects(runtime), doc, runtime.settings.public_origin())
    return FileCreated(file=view(doc), upload=plan)


async def _find(runtime: Runtime, principal: Principal, file_id: str) -> dict[str, Any]:
    doc: dict[str, Any] | None = await runtime.document_db[store.FILES].find_one(
        {"_id": file_id, "tenant": principal.tenant}
    )
    if doc is None:
        raise not_found("file")
    return doc


async def _own(runtime: Runtime, principal: Principal, file_id: str) -> dict[str, Any]:
    """The caller's own file (an upload is only its uploader's to send and complete)."""
    doc = await _find(runtime, principal, file_id)
    if doc["uploader_id"] != principal.user_id:
        raise not_found("file")
    return doc


async def visible(runtime: Runtime, principal: Principal, file_id: str) -> dict[str, Any]:
    """A file its uploader or an admin of its workspace sees; 404 for anyone else (attached
    to a message, its channel's members see it through the attachment service)."""
    doc = await _find(runtime, principal, file_id)
    if doc["uploader_id"] == principal.user_id:
        return doc
    role = await workspace_client.role_of(runtime.http, doc["workspace_id"], principal.user_id)
    if role not in ADMINS:
        raise not_found("file")
    return doc


async def get(runtime: Runtime, principal: Principal, file_id: str) -> FilePublic:
    return view(await visible(runtime, principal, file_id))


async def plan_again(runtime: Runtime, principal: Principal, file_id: str) -> UploadPlan:
    """Fresh URLs for an upload whose earlier ones expired."""
    doc = await _own(runtime, principal, file_id)
    if doc["state"] != State.UPLOADING:
        raise Problem(409, "the file's bytes are already in", slug="upload-finished")
    return await uploads.plan(objects(runtime), doc, runtime.settings.public_origin())


async def complete(
    runtime: Runtime, principal: Principal, file_id: str, body: Completion
) -> FilePublic:
    """The bytes are in: join the parts, hold them to the declared size and the workspace's
    types, then check them. Asked again, it answers the file as it now is."""
    doc = await _own(runtime, principal, file_id)
    if doc["state"] != State.UPLOADING:
        return view(doc)
    store_ = objects(runtime)
    upload = doc["upload"]
    if upload["method"] == Method.MULTIPART:
        if not body.parts:
            raise Problem(
                422, "a multipart upload completes with its parts' ETags", slug="no-parts"
            )
        try:
            await store_.complete_multipart(
                doc["key"], upload["upload_id"], uploads.parts_of(body.parts)
            )
        except ObjectMissing as exc:
            if await store_.head(doc["key"]) is None:
                raise Problem(
                    409, "the parts named are not all in the store", slug="parts-missing"
                ) from exc
    elif upload["method"] == Method.TUS:
        if upload.get("offset", 0) != doc["size"]:
            raise Problem(409, "the resumable upload is not finished", slug="upload-incomplete")
        await uploads.finish_tus(store_, doc)
    return view(await receive(runtime, doc))


async def receive(runtime: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    """Hold the arrived object to what was declared and allowed, then check it."""
    store_ = objects(runtime)
    info = await store_.head(doc["key"])
    if info is None:
        raise Problem(409, "the file's bytes have not arrived", slug="upload-incomplete")
    if info.size != doc["size"]:
        await _discard(runtime, doc)
        raise Problem(
            422,
            f"{info.size} bytes arrived where {doc['size']} were declared; the file is dropped",
            slug="size-mismatch",
        )
    sniffed = await checks.sniffed_type(store_, doc["key"])
    limits = await policy.policy_of(runtime, doc["workspace_id"])
    if not policy.type_allowed(limits, sniffed):
        await _discard(runtime, doc)
        raise policy.refuse_type(sniffed, sniffed=True)
    doc = await _change(
        runtime, doc, state=State.SCANNING, content_type=sniffed, completed_at=stored_now()
    )
    return await scan(runtime, doc)


async def scan(runtime: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    """Check the bytes; a scanner that gives no verdict leaves the file to be scanned again."""
    try:
        checked = await checks.check(objects(runtime), scanner(runtime), doc["key"])
    except ScanFailed as exc:
        log.warning("file %s waits to be scanned: %s", doc["_id"], exc)
        return await _change(runtime, doc, scan_error=str(exc))
    verdict = checked.verdict
    return await _change(
        runtime,
        doc,
        state=State.INFECTED if verdict.infected else State.CLEAN,
        sha256=checked.sha256,
        content_type=checked.content_type,
        scanned=verdict.scanned,
        signature=verdict.signature,
        scan_error=None,
    )


async def _discard(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Drop a refused upload: its bytes, its quota, its record."""
    await uploads.abandon(objects(runtime), doc)
    await _release(runtime, doc)
    await runtime.document_db[store.FILES].delete_one({"_id": doc["_id"]})


async def _release(runtime: Runtime, doc: dict[str, Any]) -> None:
    if not doc.get("reserved"):
        return
    await workspace_client.release_storage(
        runtime, workspace_id=doc["workspace_id"], release_id=doc["_id"], size=doc["size"]
    )


async def delete(runtime: Runtime, principal: Principal, file_id: str) -> None:
    """Delete a file (its uploader, or an admin of its workspace): the bytes go, the quota
    gets them back, and `file.deleted` tells whoever shows it."""
    doc = await visible(runtime, principal, file_id)
    if doc["state"] != State.DELETED:
        doc = await _change(
            runtime, doc, state=State.DELETED, deleted_at=stored_now(), purged=False
        )
    await purge(runtime, doc)


async def purge(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Remove a deleted file's bytes and give its quota back (again after a crash: each step
    may be repeated)."""
    await uploads.abandon(objects(runtime), doc)
    await _release(runtime, doc)
    await runtime.document_db[store.FILES].update_one(
        {"_id": doc["_id"]}, {"$set": {"purged": True}}
    )


async def list_mine(
    runtime: Runtime, principal: Principal, workspace_id: str, paging: PageQuery
) -> Page[FilePublic]:
    """The caller's files in the workspace, newest first (deleted ones left out)."""
    query = {
        "tenant": principal.tenant,
        "workspace_id": workspace_id,
        "uploader_id": principal.user_id,
        "state": {"$ne": State.DELETED},
    }
    rows, next_cursor = await document_page(
        runtime.document_db[store.FILES], query, paging, sort="created_at", descending=True
    )
    return Page[FilePublic](items=[view(d) for d in rows], next_cursor=next_cursor)


# Background work: files left to scan again, deletions left to finish, uploads never finished.
RESCAN_AFTER = timedelta(seconds=30)
ABANDONED_AFTER = timedelta(seconds=uploads.TUS_SECONDS + 3600)
BATCH = 50


async def rescan_waiting(runtime: Runtime) -> int:
    """Scan again the files whose scan gave no verdict (clamd away, say)."""
    files = runtime.document_db[store.FILES]
    due = {"state": State.SCANNING, "changed_at": {"$lte": stored_now() - RESCAN_AFTER}}
    found = await files.find(due).sort("changed_at", 1).limit(BATCH).to_list(None)
    for doc in found:
        await scan(runtime, doc)
    return len(found)


async def finish_deletions(runtime: Runtime) -> int:
    files = runtime.document_db[store.FILES]
    due = {
        "state": State.DELETED,
        "purged": False,
        "changed_at": {"$lte": stored_now() - RESCAN_AFTER},
    }
    found = await files.find(due).limit(BATCH).to_list(None)
    for doc in found:
        await purge(runtime, doc)
    return len(found)


async def drop_abandoned(runtime: Runtime) -> int:
    """Uploads never completed: their bytes and reservation go, and their record."""
    files = runtime.document_db[store.FILES]
    due = {"state": State.UPLOADING, "created_at": {"$lte": stored_now() - ABANDONED_AFTER}}
    found = await files.find(due).limit(BATCH).to_list(None)
    for doc in found:
        if not doc.get("reserved"):
            # Reserved or not, we cannot tell after a crash: reserving again under the same id
            # changes nothing if it was, and then the release below gives it back.
            try:
                await workspace_client.reserve_storage(
                    runtime,
                    workspace_id=doc["workspace_id"],
                    reservation_id=doc["_id"],
                    size=doc["size"],
                )
                doc["reserved"] = True
            except Problem:  # refused (it was not reserved), or the workspace is gone
                pass
        await _discard(runtime, doc)
    return len(found)


async def _resumable(runtime: Runtime, principal: Principal, file_id: str) -> dict[str, Any]:
    doc = await _own(runtime, principal, file_id)
    if doc["upload"]["method"] != Method.TUS:
        raise Problem(404, "the file's upload is not a resumable one", slug="not-resumable")
    return doc


async def tus_offset(runtime: Runtime, principal: Principal, file_id: str) -> tuple[int, int]:
    """(bytes received, bytes declared) of a resumable upload."""
    doc = await _resumable(runtime, principal, file_id)
    received = doc["size"] if doc["state"] != State.UPLOADING else doc["upload"]["offset"]
    return received, doc["size"]


async def tus_patch(
    runtime: Runtime, principal: Principal, file_id: str, offset: int, chunk: bytes
) -> tuple[int, FilePublic]:
    """Add a chunk at `offset` (409 `offset-mismatch` elsewhere); the last one completes."""
    doc = await _resumable(runtime, principal, file_id)
    if doc["state"] != State.UPLOADING:
        if offset == doc["size"] and not chunk:
            return offset, view(doc)
        raise uploads.OffsetMismatch(doc["size"])
    upload = await uploads.take_chunk(objects(runtime), doc, offset, chunk)
    written = await runtime.document_db[store.FILES].update_one(
        {"_id": file_id, "state": State.UPLOADING, "upload.offset": offset},
        {"$set": {"upload": upload, "changed_at": stored_now()}},
    )
    if written.matched_count == 0:  # another PATCH of the same offset won
        raise uploads.OffsetMismatch(offset)
    doc = {**doc, "upload": upload}
    if upload["offset"] < doc["size"]:
        return upload["offset"], view(doc)
    await uploads.finish_tus(objects(runtime), doc)
    return upload["offset"], view(await receive(runtime, doc))
