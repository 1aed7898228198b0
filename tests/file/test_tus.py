"""Resumable uploads (tus 1.0.0): chunks of any size, a lost answer resumed from the offset the
server holds, the last chunk completing the file."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from quckchat.core.documents import stored_now
from quckchat.file import logic, store, uploads
from quckchat.file.uploads import PART_SIZE, staging_key, tail_key
from tests.file.conftest import Files, noise, sha256
from tests.worlds.problems import assert_problem

TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}


async def patch(files: Files, user: str, file_id: str, offset: int, chunk: bytes) -> object:
    return await files.api.patch(
        f"/{file_id}/tus",
        content=chunk,
        headers={**files.auth(user), **TUS, "Upload-Offset": str(offset)},
    )


async def test_a_resumable_upload_survives_lost_answers_and_completes(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    data = noise(2 * PART_SIZE + 12345)
    started = await files.start(owner, ws, data, name="clip.mov", method="tus")
    assert started.status_code == 201, started.text
    plan, file_id = started.json()["upload"], started.json()["file"]["id"]
    assert plan["method"] == "tus" and plan["url"].endswith(f"/api/v1/files/{file_id}/tus")

    options = await files.api.options(f"/{file_id}/tus")
    assert options.status_code == 204 and options.headers["Tus-Version"] == "1.0.0"

    step = 3 * 1024 * 1024 + 7  # chunks that do not line up with the parts
    offset = 0
    while offset < len(data):
        chunk = data[offset : offset + step]
        sent = await patch(files, owner, file_id, offset, chunk)
        assert sent.status_code == 204, sent.text
        if offset == step:
            # The answer was lost: the client asks where the upload stands and sends on.
            again = await patch(files, owner, file_id, offset, chunk)
            assert_problem(again, 409, "offset-mismatch")
            assert again.headers["Upload-Offset"] == str(offset + len(chunk))
            head = await files.api.head(f"/{file_id}/tus", headers={**files.auth(owner), **TUS})
            assert head.headers["Upload-Offset"] == str(offset + len(chunk))
            assert head.headers["Upload-Length"] == str(len(data))
        offset = int(sent.headers["Upload-Offset"])
    assert sent.headers["Upload-State"] == "clean"

    file = (await files.api.get(f"/{file_id}", headers=files.auth(owner))).json()
    assert file["state"] == "clean" and file["sha256"] == sha256(data)
    assert await files.objects.read(f"files/default/{ws}/{file_id}") == data
    for left in (staging_key(file_id), tail_key(file_id, len(data))):
        assert await files.objects.head(left) is None


async def test_a_small_resumable_upload_needs_no_parts(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    data = b"%PDF-1.4\n" + os.urandom(1000)
    file_id = (await files.start(owner, ws, data, method="tus")).json()["file"]["id"]
    first = await patch(files, owner, file_id, 0, data[:500])
    assert first.status_code == 204 and first.headers["Upload-State"] == "uploading"
    last = await patch(files, owner, file_id, 500, data[500:])
    assert last.headers["Upload-State"] == "clean"
    file = (await files.api.get(f"/{file_id}", headers=files.auth(owner))).json()
    assert file["content_type"] == "application/pdf" and file["sha256"] == sha256(data)


async def test_tus_refuses_what_it_cannot_take(files: Files) -> None:
    ws, owner, (member,) = await files.workspace("member")
    file_id = (await files.start(owner, ws, b"abc", method="tus")).json()["file"]["id"]
    assert_problem(await patch(files, member, file_id, 0, b"abc"), 404)
    past = await patch(files, owner, file_id, 0, b"abcd")
    assert_problem(past, 413, "past-the-end")
    wrong_type = await files.api.patch(
        f"/{file_id}/tus",
        content=b"abc",
        headers={**files.auth(owner), "Upload-Offset": "0", "Content-Type": "text/plain"},
    )
    assert_problem(wrong_type, 415, "not-a-chunk")
    old = await files.api.patch(
        f"/{file_id}/tus",
        content=b"abc",
        headers={**files.auth(owner), **TUS, "Upload-Offset": "0", "Tus-Resumable": "0.2.2"},
    )
    assert_problem(old, 412, "tus-version")
    put_file = (await files.start(owner, ws, b"abc")).json()["file"]["id"]
    assert_problem(await patch(files, owner, put_file, 0, b"abc"), 404, "not-resumable")


async def record(files: Files, file_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        await files.org.runtime("file").document_db[store.FILES].find_one({"_id": file_id})
    )
    return found


async def test_a_chunk_written_but_never_recorded_does_no_harm_to_the_next(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    mib = 1024 * 1024
    data = noise(22 * mib)
    file_id = (await files.start(owner, ws, data, method="tus")).json()["file"]["id"]
    for start, end in ((0, 12 * mib), (12 * mib, 14 * mib)):
        assert (await patch(files, owner, file_id, start, data[start:end])).status_code == 204
    # A try that wrote its part and its tail, then died before its record (a crash).
    await uploads.take_chunk(
        files.objects, await record(files, file_id), 14 * mib, data[14 * mib : 20 * mib]
    )
    head = await files.api.head(f"/{file_id}/tus", headers={**files.auth(owner), **TUS})
    assert head.headers["Upload-Offset"] == str(14 * mib)
    last = await patch(files, owner, file_id, 14 * mib, data[14 * mib :])
    assert last.headers["Upload-State"] == "clean", last.text
    file = (await files.api.get(f"/{file_id}", headers=files.auth(owner))).json()
    assert file["sha256"] == sha256(data)


async def test_an_upload_whose_last_chunk_was_recorded_but_not_completed_is_completed(
    files: Files,
) -> None:
    ws, owner, _ = await files.workspace()
    data = b"%PDF-1.4\n" + os.urandom(3000)
    file_id = (await files.start(owner, ws, data, method="tus")).json()["file"]["id"]
    runtime = files.org.runtime("file")
    # The last chunk is recorded, then the completion fails: the client saw every byte taken.
    doc = await record(files, file_id)
    upload = await uploads.take_chunk(files.objects, doc, 0, data)
    await runtime.document_db[store.FILES].update_one(
        {"_id": file_id},
        {
            "$set": {
                "upload": upload,
                "received": True,
                "changed_at": stored_now() - timedelta(minutes=5),
            }
        },
    )
    assert await logic.finish_received(runtime) >= 1
    file = (await files.api.get(f"/{file_id}", headers=files.auth(owner))).json()
    assert file["state"] == "clean" and file["sha256"] == sha256(data)


async def test_a_file_of_exactly_one_part_and_an_empty_chunk(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    data = noise(PART_SIZE)
    file_id = (await files.start(owner, ws, data, method="tus")).json()["file"]["id"]
    first = await patch(files, owner, file_id, 0, data[:1000])
    assert first.headers["Upload-Offset"] == "1000"
    empty = await patch(files, owner, file_id, 1000, b"")
    assert empty.status_code == 204 and empty.headers["Upload-Offset"] == "1000"
    last = await patch(files, owner, file_id, 1000, data[1000:])
    assert last.headers["Upload-State"] == "clean", last.text
    file = (await files.api.get(f"/{file_id}", headers=files.auth(owner))).json()
    assert file["sha256"] == sha256(data)
