"""How a client sends a file's bytes, and taking them in.

Every upload lands on a staging key (`uploads/<id>/data`) that only the upload's own URLs can
write; once complete, the service copies it to the file's key, which no client can write, and
checks that copy. A URL used again after completion so changes nothing that is served.

- `put`: one presigned PUT to the store, for files up to `PUT_LIMIT`.
- `multipart`: presigned parts (each URL signed for its exact length); the client completes
  with their ETags.
- `tus`: resumable (tus 1.0.0 core) for clients on poor networks: PATCHes of any size to the
  file service. Whole parts go into a multipart upload at once; bytes past the last whole part
  wait in a tail object named by the offset it ends at (`uploads/<id>/tail-<offset>`), which is
  never written over: a try that wrote its parts and its tail but lost the document's update is
  simply made again from the tail of the offset the document holds. A part is numbered by
  where it starts, so writing it again writes the same part.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from quckchat.core.documents import stored_now
from quckchat.core.errors import Problem
from quckchat.core.objects import (
    MAX_PARTS,
    STAGING_PREFIX,
    ObjectMissing,
    ObjectStore,
    Part,
)
from quckchat.file.schemas import Method, PartUrl, UploadPlan

PUT_LIMIT = 16 * 1024**2
PART_SIZE = 8 * 1024**2
# How long a plan's URLs stay good (a resumable upload: how long it may pause).
PUT_SECONDS = 3600
MULTIPART_SECONDS = 6 * 3600
TUS_SECONDS = 24 * 3600
TUS_ROUTE = "/api/v1/files/{file_id}/tus"


def staging_folder(file_id: str) -> str:
    return f"{STAGING_PREFIX}{file_id}/"


def staging_key(file_id: str) -> str:
    """Where a client's bytes land, before they are checked."""
    return staging_folder(file_id) + "data"


def tail_key(file_id: str, offset: int) -> str:
    """A resumable upload's bytes past its last whole part, up to `offset`."""
    return staging_folder(file_id) + f"tail-{offset}"


def method_for(size: int, asked: Method | None) -> Method:
    if asked is Method.PUT and size > PUT_LIMIT:
        raise Problem(
            422,
            f"a single PUT takes up to {PUT_LIMIT} bytes: use multipart or tus",
            slug="too-large-for-put",
        )
    if size == 0:
        return Method.PUT  # nothing to resume or split
    return asked or (Method.PUT if size <= PUT_LIMIT else Method.MULTIPART)


def part_size_for(size: int) -> int:
    """Parts of 8 MiB, larger (whole MiB) where 10,000 of them would not hold the file."""
    mib = 1024**2
    return max(PART_SIZE, math.ceil(size / MAX_PARTS / mib) * mib)


def _seconds(method: Method) -> int:
    return {Method.PUT: PUT_SECONDS, Method.MULTIPART: MULTIPART_SECONDS, Method.TUS: TUS_SECONDS}[
        method
    ]


async def begin(objects: ObjectStore, doc: dict[str, Any]) -> dict[str, Any]:
    """What the file's document keeps of its upload: the multipart upload's id, if it has one
    (a resumable upload of more than one part has one from the start)."""
    upload = dict(doc["upload"])
    method = Method(upload["method"])
    # A resumable upload of one whole part or more writes parts as they fill.
    split = method is Method.MULTIPART or (
        method is Method.TUS and doc["size"] >= upload["part_size"]
    )
    if split:
        upload["upload_id"] = await objects.create_multipart(
            staging_key(doc["_id"]), content_type=doc["declared_type"]
        )
    return upload


async def plan(objects: ObjectStore, doc: dict[str, Any], public_origin: str) -> UploadPlan:
    """The requests the client makes to send the bytes (asked again: fresh URLs)."""
    upload, size, key = doc["upload"], doc["size"], staging_key(doc["_id"])
    method = Method(upload["method"])
    expires = _seconds(method)
    expires_at = stored_now() + timedelta(seconds=expires)
    if method is Method.PUT:
        signed = await objects.presign_put(
            key, content_type=doc["declared_type"], size=size, expires=expires
        )
        return UploadPlan(
            method=method, url=signed.url, headers=signed.headers, expires_at=expires_at
        )
    if method is Method.MULTIPART:
        part_size = upload["part_size"]
        count = math.ceil(size / part_size)
        parts = []
        for n in range(1, count + 1):
            length = min(part_size, size - (n - 1) * part_size)
            signed = await objects.presign_part(
                key, upload["upload_id"], n, size=length, expires=expires
            )
            parts.append(PartUrl(number=n, url=signed.url))
        return UploadPlan(method=method, part_size=part_size, parts=parts, expires_at=expires_at)
    url = public_origin + TUS_ROUTE.format(file_id=doc["_id"])
    return UploadPlan(method=method, url=url, expires_at=expires_at)


async def checked_parts(
    objects: ObjectStore, doc: dict[str, Any], named: list[Part]
) -> list[Part] | None:
    """The parts a client named, as the store holds them; None when the upload is already
    completed. Problem 409 when one is not there, 422 when they do not make the declared size."""
    upload = doc["upload"]
    try:
        stored = {
            p.number: p
            for p in await objects.list_parts(staging_key(doc["_id"]), upload["upload_id"])
        }
    except ObjectMissing:
        return None
    for part in named:
        found = stored.get(part.number)
        if found is None or found.etag != part.etag:
            raise Problem(
                409, f"part {part.number} is not in the store as named", slug="parts-missing"
            )
    total = sum(stored[p.number].size or 0 for p in named)
    if total != doc["size"]:
        raise Problem(
            422,
            f"the parts hold {total} bytes where {doc['size']} were declared; send the "
            "missing ones and complete again",
            slug="size-mismatch",
        )
    return [stored[p.number] for p in named]


async def abandon(objects: ObjectStore, doc: dict[str, Any], final_key: str) -> None:
    """Drop whatever the file left in the store: its parts, its staged bytes, its own key."""
    upload_id = (doc.get("upload") or {}).get("upload_id")
    if upload_id:
        await objects.abort_multipart(staging_key(doc["_id"]), upload_id)
    # Staged bytes first: a copy to the file's key racing this finds nothing, or is removed.
    await objects.delete_prefix(staging_folder(doc["_id"]))
    await objects.delete(final_key)


class OffsetMismatch(Exception):
    """A tus PATCH that does not start where the upload stands (409 in tus)."""


async def take_chunk(
    objects: ObjectStore, doc: dict[str, Any], offset: int, chunk: bytes
) -> dict[str, Any]:
    """Write a tus chunk at `offset`; the upload's new state, for the caller to record (only
    over the offset it was read at)."""
    upload = dict(doc["upload"])
    if offset != upload["offset"]:
        raise OffsetMismatch(upload["offset"])
    if offset + len(chunk) > doc["size"]:
        raise Problem(413, "the chunk goes past the file's declared size", slug="past-the-end")
    file_id, part_size = doc["_id"], upload["part_size"]
    done = offset // part_size  # whole parts before this offset
    try:
        tail = await objects.read(tail_key(file_id, offset)) if offset % part_size else b""
    except ObjectMissing as exc:  # another PATCH of this offset was recorded and moved on
        raise OffsetMismatch(None) from exc
    data = tail + chunk
    whole = len(data) // part_size
    for n in range(whole):
        piece = data[n * part_size : (n + 1) * part_size]
        await objects.upload_part(staging_key(file_id), upload["upload_id"], done + n + 1, piece)
    upload["offset"] = offset + len(chunk)
    rest = data[whole * part_size :]
    if rest:
        await objects.put(
            tail_key(file_id, upload["offset"]), rest, content_type="application/octet-stream"
        )
    return upload


async def drop_tail(objects: ObjectStore, doc: dict[str, Any], offset: int) -> None:
    """The tail a recorded chunk replaced is no longer read."""
    if offset % doc["upload"]["part_size"]:
        await objects.delete(tail_key(doc["_id"], offset))


async def finish_tus(objects: ObjectStore, doc: dict[str, Any]) -> None:
    """Join a fully received resumable upload into its staged object (again: nothing to do)."""
    file_id, size, upload = doc["_id"], doc["size"], doc["upload"]
    key = staging_key(file_id)
    joined = await objects.head(key)
    if joined is not None and joined.size == size:
        return
    part_size = upload["part_size"]
    full, left = divmod(size, part_size)
    rest = await objects.read(tail_key(file_id, size)) if left else b""
    if not upload.get("upload_id"):
        await objects.put(key, rest, content_type=doc["declared_type"])
    else:
        listed = await objects.list_parts(key, upload["upload_id"])
        parts = [p for p in listed if p.number <= full]
        if rest:
            parts.append(await objects.upload_part(key, upload["upload_id"], full + 1, rest))
        await objects.complete_multipart(key, upload["upload_id"], parts)
