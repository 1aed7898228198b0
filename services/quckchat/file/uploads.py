"""How a client sends a file's bytes, and taking them in.

- `put`: one presigned PUT straight to the object store, for files up to `PUT_LIMIT`.
- `multipart`: presigned parts straight to the store; the client completes with their ETags.
- `tus`: resumable (tus 1.0.0 core), for clients on poor networks. The client PATCHes chunks of
  any size to the file service. Whole parts go into a multipart upload as soon as they are
  there; the bytes past the last whole part wait in a tail object. A lost answer is resumed
  from the offset the file's document holds: a part is numbered by where it starts, so sending
  it again writes the same part. The last PATCH joins the parts and the tail.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from quckchat.core.errors import Problem
from quckchat.core.objects import MAX_PARTS, ObjectMissing, ObjectStore, Part
from quckchat.core.sql import utcnow
from quckchat.file import store
from quckchat.file.schemas import Method, PartUrl, UploadPlan

PUT_LIMIT = 16 * 1024**2
PART_SIZE = 8 * 1024**2
# How long a plan's URLs stay good (a resumable upload, how long it may pause).
PUT_SECONDS = 3600
MULTIPART_SECONDS = 6 * 3600
TUS_SECONDS = 24 * 3600
TUS_ROUTE = "/api/v1/files/{file_id}/tus"


def method_for(size: int, asked: Method | None) -> Method:
    if asked is Method.PUT and size > PUT_LIMIT:
        raise Problem(
            422,
            f"a single PUT takes up to {PUT_LIMIT} bytes: use multipart or tus",
            slug="too-large-for-put",
        )
    if asked is Method.MULTIPART and size == 0:
        raise Problem(422, "an empty file is sent with one PUT", slug="empty-multipart")
    return asked or (Method.PUT if size <= PUT_LIMIT else Method.MULTIPART)


def part_size_for(size: int) -> int:
    """Parts of 8 MiB, larger (whole MiB) where 10,000 of them would not hold the file."""
    mib = 1024**2
    return max(PART_SIZE, math.ceil(size / MAX_PARTS / mib) * mib)


def seconds_for(method: Method) -> int:
    return {Method.PUT: PUT_SECONDS, Method.MULTIPART: MULTIPART_SECONDS, Method.TUS: TUS_SECONDS}[
        method
    ]


async def begin(objects: ObjectStore, doc: dict[str, Any]) -> dict[str, Any]:
    """What the file's document keeps of its upload (the multipart upload's id)."""
    method = Method(doc["upload"]["method"])
    if method is Method.MULTIPART:
        upload_id = await objects.create_multipart(doc["key"], content_type=doc["declared_type"])
        return {**doc["upload"], "upload_id": upload_id}
    return dict(doc["upload"])


async def plan(objects: ObjectStore, doc: dict[str, Any], public_origin: str) -> UploadPlan:
    """The requests the client makes to send the bytes (again: a plan can be asked anew)."""
    upload = doc["upload"]
    method = Method(upload["method"])
    expires = seconds_for(method)
    expires_at = utcnow() + timedelta(seconds=expires)
    if method is Method.PUT:
        signed = await objects.presign_put(
            doc["key"], content_type=doc["declared_type"], size=doc["size"], expires=expires
        )
        return UploadPlan(
            method=method, url=signed.url, headers=signed.headers, expires_at=expires_at
        )
    if method is Method.MULTIPART:
        part_size = upload["part_size"]
        count = max(1, math.ceil(doc["size"] / part_size))
        parts = [
            PartUrl(
                number=n,
                url=(
                    await objects.presign_part(doc["key"], upload["upload_id"], n, expires=expires)
                ).url,
            )
            for n in range(1, count + 1)
        ]
        return UploadPlan(method=method, part_size=part_size, parts=parts, expires_at=expires_at)
    url = public_origin + TUS_ROUTE.format(file_id=doc["_id"])
    return UploadPlan(method=method, url=url, expires_at=expires_at)


async def abandon(objects: ObjectStore, doc: dict[str, Any]) -> None:
    """Drop whatever an upload left in the store: its object, its parts, a tus tail."""
    upload = doc.get("upload") or {}
    if upload.get("upload_id"):
        await objects.abort_multipart(doc["key"], upload["upload_id"])
    if upload.get("method") == Method.TUS:
        await objects.delete(store.tus_tail_key(doc["_id"]))
    await objects.delete(doc["key"])


class OffsetMismatch(Exception):
    """A tus PATCH that does not start where the upload stands (409 in tus)."""


async def take_chunk(
    objects: ObjectStore, doc: dict[str, Any], offset: int, chunk: bytes
) -> dict[str, Any]:
    """Add a tus chunk at `offset`; the upload's new state (its offset, its multipart id)."""
    upload = dict(doc["upload"])
    if offset != upload.get("offset", 0):
        raise OffsetMismatch(upload.get("offset", 0))
    if offset + len(chunk) > doc["size"]:
        raise Problem(413, "the chunk goes past the file's declared size", slug="past-the-end")
    part_size = upload["part_size"]
    done = offset // part_size  # whole parts already in the multipart upload
    tail = b""
    if offset > done * part_size:
        tail = await objects.read(store.tus_tail_key(doc["_id"]))
    data = tail + chunk
    whole = len(data) // part_size
    if whole and not upload.get("upload_id"):
        upload["upload_id"] = await objects.create_multipart(
            doc["key"], content_type=doc["declared_type"]
        )
    for n in range(whole):
        piece = data[n * part_size : (n + 1) * part_size]
        await objects.upload_part(doc["key"], upload["upload_id"], done + n + 1, piece)
    rest = data[whole * part_size :]
    await objects.put(store.tus_tail_key(doc["_id"]), rest, content_type="application/octet-stream")
    upload["offset"] = offset + len(chunk)
    return upload


async def finish_tus(objects: ObjectStore, doc: dict[str, Any]) -> None:
    """Join a fully received resumable upload into the file's object."""
    upload = doc["upload"]
    key, tail_key = doc["key"], store.tus_tail_key(doc["_id"])
    try:
        rest = await objects.read(tail_key)
    except ObjectMissing:
        rest = b""  # joined before, by a try whose answer was lost
        if await objects.head(key) is not None:
            return
    if not upload.get("upload_id"):
        await objects.put(key, rest, content_type=doc["declared_type"])
    else:
        # Numbered by where they start: a tail sent by a lost try is written over, not added.
        full = doc["size"] // upload["part_size"]
        parts = [p for p in await objects.list_parts(key, upload["upload_id"]) if p.number <= full]
        if rest:
            parts.append(await objects.upload_part(key, upload["upload_id"], full + 1, rest))
        await objects.complete_multipart(key, upload["upload_id"], parts)
    await objects.delete(tail_key)


def parts_of(completed: list[Any]) -> list[Part]:
    return [Part(p.number, p.etag.strip('"')) for p in sorted(completed, key=lambda p: p.number)]
