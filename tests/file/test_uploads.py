"""Uploads through the file service: one PUT, presigned parts, the quota, the real type, the
SHA-256, the scan, the workspace's limits, and deleting."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from PIL import Image

from quckchat.core.documents import stored_now
from quckchat.core.errors import Problem
from quckchat.file import client as file_client
from quckchat.file import logic, store
from quckchat.file.scanning import Clamd, Verdict
from quckchat.file.uploads import PART_SIZE
from quckchat.workspace import client as workspace_client
from tests.file.conftest import Files, noise, sha256
from tests.worlds.files import EICAR
from tests.worlds.problems import assert_problem


def png(side: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


async def test_a_put_upload_is_typed_by_its_bytes_hashed_scanned_and_counted(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    data = png()
    before = (await files.org.storage(ws))["storage_used_bytes"]
    file = await files.upload(owner, ws, data, name="logo.png", content_type="application/pdf")

    assert file["state"] == "clean" and file["size"] == len(data)
    assert file["content_type"] == "image/png" and file["declared_type"] == "application/pdf"
    assert file["sha256"] == sha256(data)
    assert file["scanned"] is (files.world == "s3")
    assert (await files.org.storage(ws))["storage_used_bytes"] == before + len(data)
    stored = await files.objects.read(f"files/default/{ws}/{file['id']}")
    assert stored == data
    [ready] = [e for e in files.events("file.ready") if e.data["file_id"] == file["id"]]
    assert ready.data["sha256"] == sha256(data) and ready.key == file["id"]

    again = await files.api.post(f"/{file['id']}/complete", headers=files.auth(owner))
    assert again.status_code == 200 and again.json() == file


async def test_a_large_file_goes_up_in_presigned_parts(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    data = noise(PART_SIZE) + b"tail of the video" * 100
    file = await files.upload(owner, ws, data, name="talk.mp4", content_type="video/mp4")
    assert file["state"] == "clean" and file["size"] == len(data)
    assert file["sha256"] == sha256(data)


async def test_a_file_that_does_not_fit_the_quota_is_refused_and_nothing_is_kept(
    files: Files,
) -> None:
    ws, owner, _ = await files.workspace()
    workspace = (await files.org.workspace.get(f"/{ws}", headers=files.auth(owner))).json()
    assert (await files.org.set_storage_quota(workspace["slug"], 1000)).status_code == 200
    refused = await files.start(owner, ws, b"x" * 1001)
    assert_problem(refused, 409, "storage-quota-exceeded")
    listed = await files.api.get("/", params={"workspace_id": ws}, headers=files.auth(owner))
    assert listed.json()["items"] == []
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0
    fits = await files.upload(owner, ws, b"y" * 1000, content_type="text/plain")
    assert fits["state"] == "clean"


async def test_an_infected_file_is_quarantined_and_its_uploader_told(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    file = await files.upload(owner, ws, EICAR, name="invoice.txt", content_type="text/plain")
    if files.world == "local":  # no scanner configured: kept, and said to be unscanned
        assert file["state"] == "clean" and not file["scanned"]
        return
    assert file["state"] == "infected"
    assert file["signature"] == "Eicar-Test-Signature.UNOFFICIAL"
    [told] = [e for e in files.events("file.quarantined") if e.data["file_id"] == file["id"]]
    assert told.audience is not None and told.audience.users == (owner,)
    assert not [e for e in files.events("file.ready") if e.data["file_id"] == file["id"]]


async def test_the_workspaces_limits_hold_by_declared_and_by_real_type(files: Files) -> None:
    ws, owner, (member,) = await files.workspace("member")
    refused = await files.start(member, ws, b"MZ", content_type="application/x-msdownload")
    assert_problem(refused, 415, "type-not-allowed")

    changed = await files.api.patch(
        f"/policies/{ws}",
        json={"max_file_bytes": 5000, "blocked_types": ["image/*"]},
        headers=files.auth(owner),
    )
    assert changed.status_code == 200, changed.text
    by_member = await files.api.patch(
        f"/policies/{ws}", json={"blocked_types": []}, headers=files.auth(member)
    )
    assert_problem(by_member, 403)
    assert_problem(await files.start(member, ws, b"z" * 5001), 413, "file-too-large")

    # Said to be a PDF, but the bytes are a PNG: refused once they are in, and gone.
    started = await files.start(member, ws, png(), content_type="application/pdf")
    created = started.json()
    sent = await files.send(created["upload"]["url"], png(), created["upload"]["headers"])
    assert sent.status_code == 200
    done = await files.api.post(f"/{created['file']['id']}/complete", headers=files.auth(member))
    assert_problem(done, 415, "type-not-allowed")
    assert await files.objects.head(f"files/default/{ws}/{created['file']['id']}") is None
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0


async def test_a_completion_short_of_parts_is_refused_and_the_upload_stays_open(
    files: Files,
) -> None:
    ws, owner, _ = await files.workspace()
    data = noise(PART_SIZE + 10)
    started = await files.start(owner, ws, data, method="multipart")
    created = started.json()
    file_id = created["file"]["id"]
    [first, second] = created["upload"]["parts"]
    sent = await files.send(first["url"], data[:PART_SIZE], {})
    one = {"number": 1, "etag": sent.headers["ETag"]}
    # A part URL takes the length planned for it, no more.
    assert (await files.send(second["url"], data[PART_SIZE:] + b"!", {})).status_code != 200

    short = await files.api.post(
        f"/{file_id}/complete", json={"parts": [one]}, headers=files.auth(owner)
    )
    assert_problem(short, 422, "size-mismatch")
    wrong = await files.api.post(
        f"/{file_id}/complete",
        json={"parts": [one, {"number": 2, "etag": "0" * 32}]},
        headers=files.auth(owner),
    )
    assert_problem(wrong, 409, "parts-missing")
    twice = await files.api.post(
        f"/{file_id}/complete", json={"parts": [one, one]}, headers=files.auth(owner)
    )
    assert_problem(twice, 422)

    sent = await files.send(second["url"], data[PART_SIZE:], {})
    two = {"number": 2, "etag": sent.headers["ETag"]}
    done = await files.api.post(
        f"/{file_id}/complete", json={"parts": [two, one]}, headers=files.auth(owner)
    )
    assert done.status_code == 200, done.text
    assert done.json()["sha256"] == sha256(data)


async def test_a_put_url_used_again_after_completion_changes_nothing_served(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    data = png()
    started = (await files.start(owner, ws, data, content_type="image/png")).json()
    plan, file_id = started["upload"], started["file"]["id"]
    assert (await files.send(plan["url"], data, plan["headers"])).status_code == 200
    done = await files.api.post(f"/{file_id}/complete", headers=files.auth(owner))
    assert done.json()["state"] == "clean"
    swapped = b"MZ" + os.urandom(len(data) - 2)
    await files.send(plan["url"], swapped, plan["headers"])
    assert await files.objects.read(f"files/default/{ws}/{file_id}") == data
    again = await files.api.post(f"/{file_id}/complete", headers=files.auth(owner))
    assert again.json()["sha256"] == sha256(data)


async def test_an_empty_file_needs_no_quota_and_is_kept(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    file = await files.upload(owner, ws, b"", name="empty.txt", method="tus")
    assert file["state"] == "clean" and file["size"] == 0
    assert file["sha256"] == sha256(b"")
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0


async def test_completing_before_the_bytes_arrive_is_a_conflict(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    started = await files.start(owner, ws, b"hello")
    file_id = started.json()["file"]["id"]
    early = await files.api.post(f"/{file_id}/complete", headers=files.auth(owner))
    assert_problem(early, 409, "upload-incomplete")
    renewed = await files.api.post(f"/{file_id}/upload", headers=files.auth(owner))
    assert renewed.status_code == 200 and renewed.json()["method"] == "put"


async def test_a_file_is_its_uploaders_and_its_admins_and_deleting_gives_the_bytes_back(
    files: Files,
) -> None:
    ws, owner, (member, other) = await files.workspace("member", "member")
    file = await files.upload(member, ws, b"notes" * 100, content_type="text/plain")
    assert_problem(await files.api.get(f"/{file['id']}", headers=files.auth(other)), 404)
    assert_problem(await files.api.delete(f"/{file['id']}", headers=files.auth(other)), 404)
    assert (await files.api.get(f"/{file['id']}", headers=files.auth(owner))).status_code == 200

    assert (await files.api.delete(f"/{file['id']}", headers=files.auth(member))).status_code == 204
    assert (await files.api.delete(f"/{file['id']}", headers=files.auth(owner))).status_code == 204
    assert await files.objects.head(f"files/default/{ws}/{file['id']}") is None
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0
    [deleted] = [e for e in files.events("file.deleted") if e.data["file_id"] == file["id"]]
    assert deleted.data["workspace_id"] == ws
    listed = await files.api.get("/", params={"workspace_id": ws}, headers=files.auth(member))
    assert listed.json()["items"] == []


async def age(files: Files, file_id: str, field: str) -> None:
    """Make a file's `field` time two days old, and its turn for the upkeep come, as if the
    waits were over."""
    runtime = files.org.runtime("file")
    past = stored_now() - timedelta(days=2)
    await runtime.document_db[store.FILES].update_one(
        {"_id": file_id}, {"$set": {field: past, "retry_at": past}}
    )


async def test_a_file_waits_while_the_scanner_is_away_and_is_scanned_once_it_is_back(
    files: Files,
) -> None:
    ws, owner, _ = await files.workspace()
    runtime = files.org.runtime("file")
    real = logic.scanner(runtime)
    runtime.state[logic.SCANNER] = Clamd("tcp://127.0.0.1:9", timeout=2)
    try:
        file = await files.upload(owner, ws, EICAR, content_type="text/plain")
    finally:
        runtime.state[logic.SCANNER] = real
    assert file["state"] == "scanning" and file["sha256"] is None
    assert all(e.data["file_id"] != file["id"] for e in files.events("file.ready"))

    assert await logic.rescan_waiting(runtime) == 0  # it waits its turn
    await age(files, file["id"], "next_scan_at")
    assert await logic.rescan_waiting(runtime) >= 1
    now = (await files.api.get(f"/{file['id']}", headers=files.auth(owner))).json()
    assert now["state"] == ("infected" if files.world == "s3" else "clean")
    assert now["sha256"] == sha256(EICAR)


async def test_an_upload_never_finished_is_dropped_with_its_reservation(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    started = await files.start(owner, ws, b"", size=PART_SIZE + 1, method="multipart")
    file_id = started.json()["file"]["id"]
    part = started.json()["upload"]["parts"][0]
    assert (await files.send(part["url"], b"p" * PART_SIZE, {})).status_code == 200
    assert (await files.org.storage(ws))["storage_used_bytes"] == PART_SIZE + 1

    await age(files, file_id, "created_at")
    assert await logic.drop_abandoned(files.org.runtime("file")) == 0  # still alive
    await age(files, file_id, "changed_at")
    assert await logic.drop_abandoned(files.org.runtime("file")) >= 1
    assert_problem(await files.api.get(f"/{file_id}", headers=files.auth(owner)), 404)
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0


async def test_a_deletion_cut_short_is_finished_by_the_upkeep(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    file = await files.upload(owner, ws, b"minutes" * 50, content_type="text/plain")
    runtime = files.org.runtime("file")
    # As a crash right after the deletion was written leaves it: bytes and quota still held.
    await runtime.document_db[store.FILES].update_one(
        {"_id": file["id"]}, {"$set": {"state": "deleted", "purged": False}}
    )
    await age(files, file["id"], "changed_at")
    assert await logic.finish_deletions(runtime) >= 1
    assert await files.objects.head(f"files/default/{ws}/{file['id']}") is None
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0


async def test_a_create_cut_short_after_its_count_is_settled_once_the_workspace_answers(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, owner, _ = await files.workspace()
    started = (await files.start(owner, ws, b"x" * 5000)).json()
    file_id = started["file"]["id"]
    runtime = files.org.runtime("file")
    # As a crash between the workspace's count and its record leaves it.
    await runtime.document_db[store.FILES].update_one(
        {"_id": file_id}, {"$set": {"reserved": False}}
    )
    await age(files, file_id, "changed_at")

    async def away(*args: object, **kwargs: object) -> None:
        raise Problem(503, "the workspace service is away")

    with monkeypatch.context() as patched:
        patched.setattr(workspace_client, "reserve_storage", away)
        await logic.drop_abandoned(runtime)
    assert (await files.org.storage(ws))["storage_used_bytes"] == 5000  # not forgotten

    # Marked deleted by then: the deletions' upkeep finishes it.
    await age(files, file_id, "changed_at")
    assert await logic.finish_deletions(runtime) >= 1
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0
    assert_problem(await files.api.get(f"/{file_id}", headers=files.auth(owner)), 404)


class DeletingScanner:
    """A scanner during whose scan the uploader deletes the file."""

    max_bytes = 2**40

    def __init__(self, files: Files, user: str) -> None:
        self.files, self.user, self.file_id = files, user, ""

    async def scan(self, chunks: AsyncIterator[bytes]) -> Verdict:
        async for _ in chunks:
            pass
        gone = await self.files.api.delete(f"/{self.file_id}", headers=self.files.auth(self.user))
        assert gone.status_code == 204, gone.text
        return Verdict(infected=False)

    async def ping(self) -> None:
        return None


async def test_a_file_deleted_during_its_scan_stays_deleted(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    runtime = files.org.runtime("file")
    started = (await files.start(owner, ws, b"report" * 100, content_type="text/plain")).json()
    file_id = started["file"]["id"]
    plan = started["upload"]
    assert (await files.send(plan["url"], b"report" * 100, plan["headers"])).status_code == 200
    real, deleting = logic.scanner(runtime), DeletingScanner(files, owner)
    deleting.file_id = file_id
    runtime.state[logic.SCANNER] = deleting
    try:
        done = await files.api.post(f"/{file_id}/complete", headers=files.auth(owner))
    finally:
        runtime.state[logic.SCANNER] = real
    assert done.json()["state"] == "deleted"
    assert_problem(await files.api.get(f"/{file_id}", headers=files.auth(owner)), 404)
    assert await files.objects.head(f"files/default/{ws}/{file_id}") is None
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0
    assert all(e.data["file_id"] != file_id for e in files.events("file.ready"))


async def test_two_completions_at_once_check_and_serve_the_same_bytes(files: Files) -> None:
    ws, owner, _ = await files.workspace()
    data = png()
    started = (await files.start(owner, ws, data, content_type="image/png")).json()
    plan, file_id = started["upload"], started["file"]["id"]
    assert (await files.send(plan["url"], data, plan["headers"])).status_code == 200
    both = await asyncio.gather(
        *(files.api.post(f"/{file_id}/complete", headers=files.auth(owner)) for _ in range(2))
    )
    assert [a.status_code for a in both] == [200, 200], [a.text for a in both]
    final = (await files.api.get(f"/{file_id}", headers=files.auth(owner))).json()
    assert final["state"] == "clean" and final["sha256"] == sha256(data)
    assert await files.objects.read(f"files/default/{ws}/{file_id}") == data
    # One announcement; on FerretDB, whose conditional updates do not isolate, both racers
    # may win the move and announce, but only ever the same checked bytes.
    ready = [e for e in files.events("file.ready") if e.data["file_id"] == file_id]
    assert ready and {e.data["sha256"] for e in ready} == {sha256(data)}


async def test_a_forged_upload_url_is_refused(files: Files) -> None:
    """By the S3 server, or by the file service before it reads the body (local store)."""
    ws, owner, _ = await files.workspace()
    started = (await files.start(owner, ws, b"abc")).json()
    plan = started["upload"]
    url = urlsplit(plan["url"])
    if files.world == "s3":
        query = dict(parse_qsl(url.query)) | {"X-Amz-Signature": "0" * 64}
        forged_url = urlunsplit(url._replace(query=urlencode(query)))
        refused = await files.send(forged_url, b"abc", plan["headers"])
        assert refused.status_code == 403, refused.text
        done = await files.api.post(f"/{started['file']['id']}/complete", headers=files.auth(owner))
        assert_problem(done, 409)
        return
    query = dict(parse_qsl(url.query)) | {"size": str(10**12)}
    path = url.path.removeprefix("/api/v1/files")
    forged = await files.api.put(path, params=query, content=b"x" * 1000)
    assert_problem(forged, 403, "signature-rejected")
    unsigned = await files.api.put(path, params={"size": "²"}, content=b"abc")
    assert_problem(unsigned, 403, "signature-rejected")


async def test_other_services_look_files_up_and_release_them_through_the_client(
    files: Files,
) -> None:
    ws, owner, _ = await files.workspace()
    data = noise(3000)
    file = await files.upload(owner, ws, data)
    http = files.org.runtime("workspace").http  # any caller: the client is what they use
    found = await file_client.files_of(http, [file["id"], "f" * 26])
    assert list(found) == [file["id"]]
    assert found[file["id"]].state is file_client.State.CLEAN
    assert found[file["id"]].sha256 == sha256(data)
    assert (await files.org.storage(ws))["storage_used_bytes"] == len(data)

    await file_client.release_file(http, file["id"])
    await file_client.release_file(http, file["id"])  # again: nothing more happens
    gone = await file_client.file_of(http, file["id"])
    assert gone.state is file_client.State.DELETED
    assert (await files.org.storage(ws))["storage_used_bytes"] == 0
    assert await files.objects.head(f"files/default/{ws}/{file['id']}") is None
    assert [e.data["file_id"] for e in files.events("file.deleted")].count(file["id"]) == 1
    with pytest.raises(Problem) as missing:
        await file_client.file_of(http, "f" * 26)
    assert missing.value.status == 404
