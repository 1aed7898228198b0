"""The media service on the file service's uploads: records, renditions in the object store,
signed URLs, redelivery, deletion and who sees what, on each storage world."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from quckchat.core.events import Event
from quckchat.file.events import FileReady
from quckchat.media import store, work
from quckchat.media.processing.exif import GPS_POINTER, has_location
from tests.media.conftest import Media
from tests.support import server
from tests.worlds import samples
from tests.worlds.identity import new_user
from tests.worlds.org import team
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually

BROKEN_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 300


def jpeg_with_gps(tmp_path: Path) -> bytes:
    """600x300 pixels stored, shown 300x600 (EXIF orientation 6), with GPS coordinates."""
    block = samples.exif(orientation=6, gps=True)
    path = samples.image_file(tmp_path / "here.jpg", samples.halves(600, 300), exif=block)
    return path.read_bytes()


def png_bytes() -> bytes:
    out = io.BytesIO()
    samples.halves(120, 80).save(out, "PNG")
    return out.getvalue()


def names(record: dict[str, Any]) -> set[str]:
    return {r["name"] for r in record["renditions"]}


async def stored(media: Media, file_id: str, name: str) -> bytes | None:
    key = store.rendition_key(file_id, name)
    objects = media.objects
    return None if await objects.head(key) is None else await objects.read(key)


def processed_events(media: Media, file_id: str) -> list[Any]:
    return [e for e in media.events("media.processed") if e.data["file_id"] == file_id]


async def test_a_photo_gets_turned_previews_and_a_copy_without_its_location(
    media: Media, tmp_path: Path
) -> None:
    ws, owner, _ = await team(media.org)
    data = jpeg_with_gps(tmp_path)
    file = await media.upload(owner, ws, data, name="here.jpg", content_type="image/jpeg")

    record = await media.processed(owner, file["id"])

    assert record["state"] == "processed" and record["kind"] == "image", record
    assert (record["width"], record["height"]) == (300, 600)
    assert names(record) == {"thumbnail", "preview", "sanitized"}
    assert record["had_location"] and record["location_stripped"]
    assert record["blurhash"]
    for rendition in record["renditions"]:
        kept = await stored(media, file["id"], rendition["name"])
        assert kept is not None and len(kept) == rendition["size"]
    preview = Image.open(io.BytesIO(await stored(media, file["id"], "preview") or b""))
    assert preview.height > preview.width  # the orientation was applied

    signed = await media.url(owner, file["id"], "sanitized")
    assert signed.status_code == 200, signed.text
    fetched = await media.files.fetch("GET", signed.json()["url"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == await stored(media, file["id"], "sanitized")
    assert not has_location(fetched.content)
    assert not Image.open(io.BytesIO(fetched.content)).getexif().get_ifd(GPS_POINTER)
    assert await media.objects.read(f"files/default/{ws}/{file['id']}") == data

    [event] = processed_events(media, file["id"])
    assert event.key == file["id"]
    assert event.data["state"] == "processed" and event.data["kind"] == "image"
    assert set(event.data["renditions"]) == names(record)
    assert event.data["blurhash"] == record["blurhash"]


async def test_a_png_gets_previews_and_no_sanitized_copy(media: Media) -> None:
    ws, owner, _ = await team(media.org)
    file = await media.upload(owner, ws, png_bytes(), name="p.png", content_type="image/png")

    record = await media.processed(owner, file["id"])

    assert record["state"] == "processed" and (record["width"], record["height"]) == (120, 80)
    assert names(record) == {"thumbnail", "preview"}
    assert not record["had_location"] and not record["location_stripped"]
    thumbnail = await media.url(owner, file["id"], "thumbnail")
    assert thumbnail.json()["content_type"] == "image/webp"
    fetched = await media.files.fetch("GET", thumbnail.json()["url"])
    assert fetched.status_code == 200 and fetched.content[:4] == b"RIFF"
    assert_problem(await media.url(owner, file["id"], "poster"), 404, "no-such-rendition")
    assert_problem(await media.url(owner, file["id"], "original"), 422)


async def test_a_broken_image_keeps_its_file_and_gets_a_generic_record(media: Media) -> None:
    ws, owner, _ = await team(media.org)
    file = await media.upload(owner, ws, BROKEN_PNG, name="b.png", content_type="image/png")

    record = await media.processed(owner, file["id"])

    assert record["state"] == "generic" and record["reason"], record
    assert record["renditions"] == [] and record["blurhash"] is None
    kept = await media.files.api.get(f"/{file['id']}", headers=media.auth(owner))
    assert kept.status_code == 200 and kept.json()["state"] == "clean"
    [event] = processed_events(media, file["id"])
    assert event.data["state"] == "generic" and event.data["renditions"] == []


async def test_a_pdf_gets_a_first_page_preview_and_its_text_for_search(media: Media) -> None:
    ws, owner, _ = await team(media.org)
    data = samples.pdf(["quarterly", "figures"])
    file = await media.files.upload(owner, ws, data, name="r.pdf", content_type="application/pdf")

    record = await media.processed(owner, file["id"])

    assert record["state"] == "processed" and record["kind"] == "pdf", record
    assert names(record) == {"thumbnail", "preview"}
    assert record["text_length"] > 0
    [event] = processed_events(media, file["id"])
    assert "quarterly" in event.data["text"] and "figures" in event.data["text"]
    assert event.data["text_truncated"] is False


async def test_a_redelivered_file_ready_changes_nothing(media: Media) -> None:
    ws, owner, _ = await team(media.org)
    file = await media.upload(owner, ws, png_bytes(), name="p.png", content_type="image/png")
    before = await media.processed(owner, file["id"])
    [ready] = [e for e in media.events("file.ready") if e.data["file_id"] == file["id"]]

    await work.on_file_event(media.runtime, ready)
    await work.process_due(media.runtime)
    await asyncio.sleep(0.3)

    assert (await media.record(owner, file["id"])).json() == before
    assert len(processed_events(media, file["id"])) == 1


async def test_a_deleted_file_loses_its_renditions_and_record_for_good(media: Media) -> None:
    ws, owner, _ = await team(media.org)
    file = await media.upload(owner, ws, png_bytes(), name="p.png", content_type="image/png")
    await media.processed(owner, file["id"])
    [ready] = [e for e in media.events("file.ready") if e.data["file_id"] == file["id"]]

    deleted = await media.files.api.delete(f"/{file['id']}", headers=media.auth(owner))
    assert deleted.status_code == 204

    gone = await eventually(lambda: stored(media, file["id"], "thumbnail"), until=None)
    assert gone is None and await stored(media, file["id"], "preview") is None
    assert_problem(await media.record(owner, file["id"]), 404)
    await work.on_file_event(media.runtime, ready)  # late: nothing comes back
    await work.process_due(media.runtime)
    assert_problem(await media.record(owner, file["id"]), 404)
    [deleted_event] = [e for e in media.events("file.deleted") if e.data["file_id"] == file["id"]]
    await work.on_file_event(media.runtime, deleted_event)  # again: no error


async def test_only_the_uploader_and_admins_see_and_drop_renditions(media: Media) -> None:
    ws, owner, [admin, member] = await team(media.org, "admin", "member")
    file = await media.upload(member, ws, png_bytes(), name="p.png", content_type="image/png")
    await media.processed(member, file["id"])
    outsider = new_user()

    for user in (outsider,):
        assert_problem(await media.record(user, file["id"]), 404)
        assert_problem(await media.url(user, file["id"], "thumbnail"), 404)
        response = await media.api.delete(f"/{file['id']}", headers=media.auth(user))
        assert_problem(response, 404)
    other_member = new_user()
    await media.org.add(ws, owner, other_member)
    assert_problem(await media.record(other_member, file["id"]), 404)
    assert (await media.record(admin, file["id"])).status_code == 200
    # Shared in a channel, the file's media is seen by its members, who still may not drop it.
    general = (await media.org.channels(ws, member))["general"]["id"]
    body = {"channel_id": general, "text": "a picture", "attachments": [{"id": file["id"]}]}
    sent = await media.org.mesh.client("message").post("/", json=body, headers=media.auth(member))
    assert sent.status_code == 201, sent.text

    async def other_sees() -> int:
        return (await media.record(other_member, file["id"])).status_code

    assert await eventually(other_sees, until=200) == 200
    assert (await media.url(other_member, file["id"], "thumbnail")).status_code == 200
    refused = await media.api.delete(f"/{file['id']}", headers=media.auth(other_member))
    assert_problem(refused, 403)
    assert_problem(await media.record(outsider, file["id"]), 404)

    dropped = await media.api.delete(f"/{file['id']}", headers=media.auth(admin))
    assert dropped.status_code == 204
    record = (await media.record(member, file["id"])).json()
    assert record["state"] == "dropped" and record["renditions"] == []
    assert await stored(media, file["id"], "thumbnail") is None
    again = await media.api.delete(f"/{file['id']}", headers=media.auth(member))
    assert again.status_code == 204
    kept = await media.files.api.get(f"/{file['id']}", headers=media.auth(member))
    assert kept.status_code == 200 and kept.json()["state"] == "clean"
    assert [e.data["file_id"] for e in media.events("media.dropped")].count(file["id"]) == 1


async def test_uploads_through_media_are_images_and_video_of_the_callers_workspaces(
    media: Media,
) -> None:
    ws, owner, _ = await team(media.org)
    body = {"workspace_id": ws, "name": "a.pdf", "size": 10, "content_type": "application/pdf"}
    assert_problem(await media.api.post("/", json=body, headers=media.auth(owner)), 422)
    body = {**body, "content_type": "image/png", "name": "a.png"}
    assert_problem(await media.api.post("/", json=body, headers=media.auth(new_user())), 404)
    assert_problem(await media.api.post("/", json=body), 401)
    started = await media.api.post("/", json=body, headers=media.auth(owner))
    assert started.status_code == 201, started.text
    assert started.json()["file"]["uploader_id"] == owner
    assert started.json()["upload"]["method"] == "put"


@pytest.mark.ffmpeg
async def test_a_video_gets_a_poster_frame_and_its_duration(media: Media, tmp_path: Path) -> None:
    server("ffmpeg")
    ws, owner, _ = await team(media.org)
    path = samples.clip(tmp_path / "c.mp4", "testsrc=size=320x240:rate=25:duration=2")
    file = await media.upload(owner, ws, path.read_bytes(), name="c.mp4", content_type="video/mp4")

    record = await media.processed(owner, file["id"])

    assert record["state"] == "processed" and record["kind"] == "video", record
    assert names(record) == {"poster", "thumbnail"}
    assert record["duration"] == pytest.approx(2.0, abs=0.1)
    assert await stored(media, file["id"], "poster") is not None


def ready_event(ws: str, owner: str, **fields: Any) -> Event:
    """A file.ready of a file the file service never had, as a redelivery from elsewhere."""
    values: dict[str, Any] = {
        "file_id": uuid.uuid4().hex,
        "workspace_id": ws,
        "uploader_id": owner,
        "name": "x.png",
        "content_type": "image/png",
        "size": 100,
        "sha256": "0" * 64,
        "key_name": f"files/default/{ws}/missing",
        "scanned": False,
    }
    ready = FileReady.model_validate({**values, **fields})
    return Event.of(ready, source="file", tenant="default")


async def test_a_file_whose_bytes_are_gone_is_recorded_failed_once(media: Media) -> None:
    ws, owner, _ = await team(media.org)
    event = ready_event(ws, owner)

    await work.on_file_event(media.runtime, event)
    record = await media.processed(owner, event.key)

    assert record["state"] == "failed" and "gone" in record["reason"], record
    [failed] = processed_events(media, event.key)
    assert failed.data["state"] == "failed"


async def test_a_file_over_the_byte_limit_is_generic_without_being_fetched(media: Media) -> None:
    ws, owner, _ = await team(media.org)
    event = ready_event(ws, owner, size=work.LIMITS.max_bytes + 1)

    await work.on_file_event(media.runtime, event)
    record = await media.processed(owner, event.key)

    assert record["state"] == "generic" and record["reason"].startswith("too large"), record
