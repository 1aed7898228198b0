"""Files: an upload counted against the workspace's quota before a byte is accepted, its bytes
checked once in (real type, SHA-256, malware scan), and deleted with its bytes given back.

A file's document is its own outbox entry: every change of state marks it unpublished, and
the event of its new state (`events.event_of`) goes out after the write (`OUTBOX`). A state is
only ever written over the state it was read in (`_move`), so a delete racing a scan or a
completion wins or loses whole; where the document store does not isolate that (FerretDB), the
upkeep finds a file marked deleted in another state and finishes the deletion. Every step of
the upkeep may run twice, on any replica, and ends in the same place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from quckchat.core import logging as qlog
from quckchat.core.documents import stored_now
from quckchat.core.errors import Problem, not_found
from quckchat.core.objects import LEFTOVER_DAYS, ObjectMissing, ObjectStore, Part, PartsRejected
from quckchat.core.outbox import move_state, state_outbox
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
    FileRecord,
    Method,
    State,
    UploadPlan,
)
from quckchat.workspace import client as workspace_client

log = qlog.get("file")
SCANNER = "scanner"  # runtime.state key

# The upkeep: how long a step waits before it takes over, and how much it takes at once.
SETTLE_AFTER = timedelta(minutes=10)  # a create that never finished its reservation
ABANDONED_AFTER = timedelta(seconds=uploads.TUS_SECONDS + 3600)  # since the upload's last sign
# However alive, an upload ends before the store's lifecycle rules abort its parts.
LONGEST_UPLOAD = timedelta(days=LEFTOVER_DAYS - 1)
RETRY_AFTER = timedelta(seconds=30)
# A scan in progress holds the file this long before the upkeep may scan it again.
SCAN_LEASE = timedelta(minutes=5)
SCAN_BACKOFF_MAX = timedelta(hours=6)
BATCH = 50


def scanner(runtime: Runtime) -> Scanner:
    found: Scanner = runtime.state.get(SCANNER) or NoScanner()
    return found


def objects(runtime: Runtime) -> ObjectStore:
    return runtime.object_store


def view(doc: dict[str, Any]) -> FilePublic:
    return FilePublic.model_validate({**doc, "id": doc["_id"]})


OUTBOX = state_outbox("file outbox", store.FILES, event_of, prefix="file")


async def _write(runtime: Runtime, doc: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Set `fields` if the file is still in the state `doc` was read in."""
    written = await runtime.document_db[store.FILES].update_one(
        {"_id": doc["_id"], "state": doc["state"]}, {"$set": fields}
    )
    return bool(written.matched_count)


async def _move(
    runtime: Runtime, doc: dict[str, Any], to: State, **fields: Any
) -> dict[str, Any] | None:
    """Move the file from the state it was read in to `to` and announce it; None when another
    writer moved it first."""
    return await move_state(runtime, OUTBOX, doc, to, **fields)


async def _reread(runtime: Runtime, file_id: str) -> dict[str, Any]:
    doc: dict[str, Any] | None = await runtime.document_db[store.FILES].find_one({"_id": file_id})
    if doc is None:
        raise not_found("file")
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
        # Nothing to count for an empty file; else set once the workspace counted the bytes.
        "reserved": body.size == 0,
        "scanned": False,
        "sha256": None,
        "signature": None,
        "published": True,
        "created_at": now,
        "changed_at": now,
        "retry_at": now,  # when the upkeep may next take it up
        "completed_at": None,
    }
    files = runtime.document_db[store.FILES]
    await files.insert_one(doc)
    if body.size:
        try:
            await workspace_client.reserve_storage(
                runtime, workspace_id=body.workspace_id, reservation_id=file_id, size=body.size
            )
        except Problem as problem:
            if problem.status < 500:  # refused: nothing was counted, nothing is kept
                await files.delete_one({"_id": file_id})
            # Else the count may have been made: the upkeep settles it (`drop_abandoned`).
            raise
    doc["upload"] = await uploads.begin(objects(runtime), doc)
    doc["reserved"] = True
    if not await _write(runtime, doc, {"reserved": True, "upload": doc["upload"]}):
        # Dropped meanwhile (the upkeep took it for a create that never finished).
        await uploads.abandon(objects(runtime), doc, doc["key"])
        raise Problem(409, "the upload was given up while it was being made; start again")
    plan = await uploads.plan(objects(runtime), doc, runtime.settings.public_origin())
    return FileCreated(file=view(doc), upload=plan)


async def _find(
    runtime: Runtime, principal: Principal, file_id: str, *, deleted: bool = False
) -> dict[str, Any]:
    query: dict[str, Any] = {"_id": file_id, "tenant": principal.tenant}
    if not deleted:
        query["state"] = {"$ne": State.DELETED}
    doc: dict[str, Any] | None = await runtime.document_db[store.FILES].find_one(query)
    if doc is None:
        raise not_found("file")
    return doc


async def _own(runtime: Runtime, principal: Principal, file_id: str) -> dict[str, Any]:
    """The caller's own file (an upload is only its uploader's to send and complete)."""
    doc = await _find(runtime, principal, file_id)
    if doc["uploader_id"] != principal.user_id:
        raise not_found("file")
    return doc


async def visible(
    runtime: Runtime, principal: Principal, file_id: str, *, deleted: bool = False
) -> dict[str, Any]:
    """A file its uploader or an admin of its workspace sees; 404 for anyone else (attached
    to a message, its channel's members see it through the attachment service)."""
    doc = await _find(runtime, principal, file_id, deleted=deleted)
    if doc["uploader_id"] == principal.user_id:
        return doc
    if not await workspace_client.is_admin(runtime.http, doc["workspace_id"], principal.user_id):
        raise not_found("file")
    return doc


async def get(runtime: Runtime, principal: Principal, file_id: str) -> FilePublic:
    return view(await visible(runtime, principal, file_id))


async def plan_again(runtime: Runtime, principal: Principal, file_id: str) -> UploadPlan:
    """Fresh URLs for an upload whose earlier ones expired; it counts as alive again."""
    doc = await _own(runtime, principal, file_id)
    if doc["state"] != State.UPLOADING or not doc["reserved"]:
        raise Problem(409, "the file's upload is not open", slug="upload-not-open")
    if not await _write(runtime, doc, {"changed_at": stored_now()}):
        raise Problem(409, "the file's upload is not open", slug="upload-not-open")
    return await uploads.plan(objects(runtime), doc, runtime.settings.public_origin())


async def complete(
    runtime: Runtime, principal: Principal, file_id: str, body: Completion
) -> FilePublic:
    """The bytes are sent: join the parts, then check them. Asked again, it answers the file
    as it now is."""
    doc = await _own(runtime, principal, file_id)
    if doc["state"] != State.UPLOADING:
        return view(doc)
    if not doc["reserved"]:
        raise Problem(409, "the file's upload is not open", slug="upload-not-open")
    store_ = objects(runtime)
    method = doc["upload"]["method"]
    if method == Method.MULTIPART:
        if not body.parts:
            raise Problem(
                422, "a multipart upload completes with its parts' ETags", slug="no-parts"
            )
        named = [
            Part(p.number, p.etag.strip('"')) for p in sorted(body.parts, key=lambda p: p.number)
        ]
        parts = await uploads.checked_parts(store_, doc, named)
        if parts is not None:
            try:
                await store_.complete_multipart(
                    uploads.staging_key(file_id), doc["upload"]["upload_id"], parts
                )
            except PartsRejected as exc:
                raise Problem(
                    409, f"the store refused the parts: {exc}", slug="parts-rejected"
                ) from exc
            except ObjectMissing:
                pass  # completed meanwhile by another try: the staged object tells
    elif method == Method.TUS:
        if doc["upload"]["offset"] != doc["size"]:
            raise Problem(409, "the resumable upload is not finished", slug="upload-incomplete")
        await uploads.finish_tus(store_, doc)
    return view(await receive(runtime, doc))


async def receive(runtime: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    """Take the staged bytes in: one completion wins the move to `scanning`, and only the winner
    copies them to the file's own key, which it then checks."""
    store_ = objects(runtime)
    staged = await store_.head(uploads.staging_key(doc["_id"]))
    if staged is None:
        raise Problem(409, "the file's bytes have not arrived", slug="upload-incomplete")
    if staged.size != doc["size"]:
        await _drop(runtime, doc, reason="size-mismatch")
        raise Problem(
            422,
            f"{staged.size} bytes arrived where {doc['size']} were declared; the file is dropped",
            slug="wrong-size-dropped",
        )
    lease = stored_now() + SCAN_LEASE
    moved = await _move(runtime, doc, State.SCANNING, completed_at=stored_now(), next_scan_at=lease)
    if moved is None:  # another completion won, or a deletion
        return await _reread(runtime, doc["_id"])
    if not await _take_staged(runtime, moved):
        return await _reread(runtime, doc["_id"])
    return await scan(runtime, moved)


async def _take_staged(runtime: Runtime, doc: dict[str, Any]) -> bool:
    """Copy the staged bytes to the file's key and drop the staging; False (and the file
    dropped) when they are gone."""
    store_ = objects(runtime)
    try:
        await store_.copy(uploads.staging_key(doc["_id"]), doc["key"])
    except ObjectMissing:
        if await store_.head(doc["key"]) is None:
            log.warning("file %s lost its bytes before its scan: dropped", doc["_id"])
            await _drop(runtime, doc, reason="bytes-lost")
            return False
    await store_.delete_prefix(uploads.staging_folder(doc["_id"]))
    return True


async def scan(runtime: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    """Check the bytes: type, hash and verdict. No verdict leaves the file to be scanned again
    later (backing off); a type the workspace does not take drops it (415)."""
    if await objects(runtime).head(doc["key"]) is None and not await _take_staged(runtime, doc):
        return await _reread(runtime, doc["_id"])  # the winner stopped before its copy
    try:
        checked = await checks.check(objects(runtime), scanner(runtime), doc["key"])
    except ScanFailed as exc:
        attempts = doc.get("scan_attempts", 0) + 1
        wait = min(RETRY_AFTER * 2 ** min(attempts, 16), SCAN_BACKOFF_MAX)
        log.warning("file %s waits %s to be scanned again: %s", doc["_id"], wait, exc)
        fields = {"scan_attempts": attempts, "scan_error": str(exc)}
        fields["next_scan_at"] = stored_now() + wait
        await _write(runtime, doc, fields)
        return {**doc, **fields}
    except ObjectMissing:
        log.warning("file %s lost its bytes before its scan: dropped", doc["_id"])
        await _drop(runtime, doc, reason="bytes-lost")
        return await _reread(runtime, doc["_id"])
    limits = await policy.policy_of(runtime, doc["workspace_id"])
    if not policy.type_allowed(limits, checked.content_type):
        await _drop(runtime, doc, reason="type-not-allowed")
        raise policy.refuse_type(checked.content_type, sniffed=True)
    verdict = checked.verdict
    moved = await _move(
        runtime,
        doc,
        State.INFECTED if verdict.infected else State.CLEAN,
        sha256=checked.sha256,
        content_type=checked.content_type,
        scanned=verdict.scanned,
        signature=verdict.signature,
        scan_error=None,
    )
    return moved if moved is not None else await _reread(runtime, doc["_id"])


async def _drop(runtime: Runtime, doc: dict[str, Any], *, reason: str) -> None:
    """Delete a file the service itself refuses (its bytes, its quota), keeping why."""
    moved = await _move(
        runtime, doc, State.DELETED, deleted_at=stored_now(), purged=False, reason=reason
    )
    if moved is not None:
        await purge(runtime, moved)


async def delete(runtime: Runtime, principal: Principal, file_id: str) -> None:
    """Delete a file (its uploader, or an admin of its workspace): the bytes go, the quota
    gets them back, and `file.deleted` tells whoever shows it. Again: nothing more happens."""
    await _delete(runtime, await visible(runtime, principal, file_id, deleted=True))


async def lookup(runtime: Runtime, file_ids: Sequence[str]) -> list[FileRecord]:
    found = runtime.document_db[store.FILES].find({"_id": {"$in": list(file_ids)}})
    return [FileRecord.model_validate({**doc, "id": doc["_id"]}) async for doc in found]


async def release(runtime: Runtime, file_id: str) -> None:
    """Delete a file on a service's word (the last message it was attached to is gone)."""
    doc = await _reread(runtime, file_id)
    await _delete(runtime, doc, reason="released")


async def expire(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Delete a file its workspace keeps no longer (its retention setting)."""
    await _delete(runtime, doc, reason="retention")


async def _delete(runtime: Runtime, doc: dict[str, Any], **why: str) -> None:
    while doc["state"] != State.DELETED:
        changed = {"deleted_at": stored_now(), "purged": False, **why}
        moved = await _move(runtime, doc, State.DELETED, **changed)
        doc = moved if moved is not None else await _reread(runtime, doc["_id"])
    if not doc.get("purged"):
        await purge(runtime, doc)


async def purge(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Remove a deleted file's bytes and give its quota back (each step may run again)."""
    await uploads.abandon(objects(runtime), doc, doc["key"])
    await _release(runtime, doc)
    await runtime.document_db[store.FILES].update_one(
        {"_id": doc["_id"]}, {"$set": {"purged": True}}
    )


async def _release(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Give the file's bytes back to the quota, exactly once: where a crash left it unknown
    whether they were counted, reserving again under the same id changes nothing if they were
    (and is refused, 409, if they were not), then the release takes them out."""
    if doc["size"] == 0:
        return
    if not doc.get("reserved"):
        try:
            await workspace_client.reserve_storage(
                runtime,
                workspace_id=doc["workspace_id"],
                reservation_id=doc["_id"],
                size=doc["size"],
            )
        except workspace_client.StorageQuotaExceeded:
            return  # never counted
        except Problem as problem:
            if problem.status == 404:
                return  # the workspace is gone, and its count with it
            raise
    try:
        await workspace_client.release_storage(
            runtime, workspace_id=doc["workspace_id"], release_id=doc["_id"], size=doc["size"]
        )
    except Problem as problem:
        if problem.status != 404:
            raise


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
    rows, next_cursor = await document_page(runtime.document_db[store.FILES], query, paging)
    return Page[FilePublic](items=[view(d) for d in rows], next_cursor=next_cursor)


async def _resumable(runtime: Runtime, principal: Principal, file_id: str) -> dict[str, Any]:
    doc = await _own(runtime, principal, file_id)
    if doc["upload"]["method"] != Method.TUS:
        raise Problem(404, "the file's upload is not a resumable one", slug="not-resumable")
    if doc["state"] == State.UPLOADING and not doc["reserved"]:
        raise Problem(409, "the file's upload is not open", slug="upload-not-open")
    return doc


async def tus_offset(runtime: Runtime, principal: Principal, file_id: str) -> tuple[int, int]:
    """(bytes received, bytes declared) of a resumable upload."""
    doc = await _resumable(runtime, principal, file_id)
    received = doc["size"] if doc["state"] != State.UPLOADING else doc["upload"]["offset"]
    return received, doc["size"]


async def tus_patch(
    runtime: Runtime, principal: Principal, file_id: str, offset: int, chunk: bytes
) -> tuple[int, FilePublic]:
    """Add a chunk at `offset` (OffsetMismatch elsewhere); the last one completes the file."""
    doc = await _resumable(runtime, principal, file_id)
    if doc["state"] != State.UPLOADING:
        if offset == doc["size"] and not chunk:
            return offset, view(doc)
        raise uploads.OffsetMismatch(doc["size"])
    if not chunk:  # nothing to add: the upload stands where it stood
        if offset != doc["upload"]["offset"]:
            raise uploads.OffsetMismatch(doc["upload"]["offset"])
        return offset, view(doc)
    try:
        upload = await uploads.take_chunk(objects(runtime), doc, offset, chunk)
    except uploads.OffsetMismatch as exc:
        if exc.args[0] is None:
            raise uploads.OffsetMismatch(await _offset_now(runtime, file_id)) from exc
        raise
    now = stored_now()
    # `received` marks an upload with every byte in, for the upkeep should its completion fail.
    fields = {"upload": upload, "changed_at": now, "retry_at": now + RETRY_AFTER}
    fields["received"] = upload["offset"] == doc["size"]
    written = await runtime.document_db[store.FILES].update_one(
        {"_id": file_id, "state": State.UPLOADING, "upload.offset": offset}, {"$set": fields}
    )
    if written.matched_count == 0:  # another PATCH of the same offset was recorded first
        raise uploads.OffsetMismatch(await _offset_now(runtime, file_id))
    await uploads.drop_tail(objects(runtime), doc, offset)
    doc = {**doc, "upload": upload}
    if upload["offset"] < doc["size"]:
        return upload["offset"], view(doc)
    await uploads.finish_tus(objects(runtime), doc)
    return upload["offset"], view(await receive(runtime, doc))


async def _offset_now(runtime: Runtime, file_id: str) -> int:
    doc = await _reread(runtime, file_id)
    return int(doc["size"] if doc["state"] != State.UPLOADING else doc["upload"]["offset"])


# The upkeep, every replica: each file on its own, a failure put back to wait its turn.
Step = Callable[[Runtime, dict[str, Any]], Awaitable[object]]


async def _each(runtime: Runtime, query: dict[str, Any], step: Step) -> int:
    """Run `step` on each file of `query` whose turn it is; one that fails waits its turn again
    (`retry_at`, apart from `changed_at`, which says when the file last moved)."""
    files = runtime.document_db[store.FILES]
    due = {"$and": [query, {"retry_at": {"$lte": stored_now()}}]}
    found = await files.find(due).sort("retry_at", 1).limit(BATCH).to_list(None)
    for doc in found:
        try:
            await step(runtime, doc)
        except Exception:
            log.exception("file %s: %s failed; tried again later", doc["_id"], step.__name__)
            later = stored_now() + RETRY_AFTER
            await files.update_one({"_id": doc["_id"]}, {"$set": {"retry_at": later}})
    return len(found)


async def _scan_again(runtime: Runtime, doc: dict[str, Any]) -> None:
    # Claimed by moving its turn on; where two replicas still both scan, the result is the same.
    lease = stored_now() + SCAN_LEASE
    claimed = await runtime.document_db[store.FILES].update_one(
        {"_id": doc["_id"], "state": State.SCANNING, "next_scan_at": doc["next_scan_at"]},
        {"$set": {"next_scan_at": lease}},
    )
    if not claimed.matched_count:
        return
    try:
        await scan(runtime, {**doc, "next_scan_at": lease})
    except Problem as problem:
        if problem.status != 415:  # a refused type was dropped, as it should be
            raise


async def rescan_waiting(runtime: Runtime) -> int:
    """Scan again the files whose scan gave no verdict (clamd away, say), when their wait is
    over, and those whose scan was cut short."""
    return await _each(
        runtime, {"state": State.SCANNING, "next_scan_at": {"$lte": stored_now()}}, _scan_again
    )


async def _finish_received(runtime: Runtime, doc: dict[str, Any]) -> None:
    try:
        await uploads.finish_tus(objects(runtime), doc)
    except ObjectMissing:
        log.warning("file %s lost received bytes: dropped", doc["_id"])
        await _drop(runtime, doc, reason="bytes-lost")
        return
    try:
        await receive(runtime, doc)
    except Problem as problem:
        if problem.status not in (404, 415, 422):  # else deleted or dropped, as it should be
            raise


async def finish_received(runtime: Runtime) -> int:
    """Resumable uploads with every byte in whose completion failed: complete them (a tus
    client that saw every byte taken does not ask again)."""
    due = {
        "state": State.UPLOADING,
        "received": True,
        "changed_at": {"$lte": stored_now() - RETRY_AFTER},
    }
    return await _each(runtime, due, _finish_received)


async def _finish_deleting(runtime: Runtime, doc: dict[str, Any]) -> None:
    while doc["state"] != State.DELETED:  # marked deleted by a write another state won
        moved = await _move(runtime, doc, State.DELETED, purged=False)
        doc = moved if moved is not None else await _reread(runtime, doc["_id"])
    await purge(runtime, doc)


async def finish_deletions(runtime: Runtime) -> int:
    """Deletions cut short: bytes and quota still held, or a state written over the deletion."""
    due = {
        "$or": [
            {"state": State.DELETED, "purged": False},
            {"state": {"$ne": State.DELETED}, "deleted_at": {"$ne": None}},
        ],
        "changed_at": {"$lte": stored_now() - RETRY_AFTER},
    }
    return await _each(runtime, due, _finish_deleting)


async def _abandon(runtime: Runtime, doc: dict[str, Any]) -> None:
    await _drop(runtime, doc, reason="abandoned")


async def drop_abandoned(runtime: Runtime) -> int:
    """Uploads never completed: their bytes and their count go. One whose create never
    finished goes after a few minutes; one whose client went quiet after a day; any after
    `LONGEST_UPLOAD`."""
    now = stored_now()
    due = {
        "state": State.UPLOADING,
        "$or": [
            {"reserved": False, "changed_at": {"$lte": now - SETTLE_AFTER}},
            {"changed_at": {"$lte": now - ABANDONED_AFTER}},
            {"created_at": {"$lte": now - LONGEST_UPLOAD}},
        ],
    }
    return await _each(runtime, due, _abandon)
