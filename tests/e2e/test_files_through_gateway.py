"""Files end to end, through the gateway (the bytes straight to the S3 server by presigned
URL, as a client sends them): one PUT, a resumable upload, the quota, the scan, deleting; then
files shared in a channel: their previews, delivery by the cdn, the channel's files list and a
public link."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import httpx
import pillow_heif
import pytest
import pyvips
from PIL import Image

from quckchat.media.processing.exif import has_location
from tests.e2e.conftest import PATIENCE, Platform
from tests.e2e.test_identity_through_gateway import otp_sign_in
from tests.e2e.websocket import Listener, of_type
from tests.worlds import samples
from tests.worlds.files import EICAR
from tests.worlds.identity import bearer, phone_number
from tests.worlds.platform import EVERY_SERVER
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually

pytestmark = [pytest.mark.e2e, *EVERY_SERVER]

TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


async def put_file(
    gw: httpx.AsyncClient, user: dict[str, Any], ws: str, data: bytes, **body: Any
) -> dict[str, Any]:
    """Create, PUT the bytes to the store's presigned URL, complete: the file."""
    body = {"workspace_id": ws, "name": "f.bin", "size": len(data), **body}
    created = await gw.post("/files", json=body, headers=bearer(user))
    assert created.status_code == 201, created.text
    plan = created.json()["upload"]
    assert plan["method"] == "put"
    async with httpx.AsyncClient() as client:
        sent = await client.put(plan["url"], content=data, headers=plan["headers"])
    assert sent.status_code == 200, sent.text
    file_id = created.json()["file"]["id"]
    done = await gw.post(f"/files/{file_id}/complete", headers=bearer(user))
    assert done.status_code == 200, done.text
    file: dict[str, Any] = done.json()
    return file


async def test_files_story(platform: Platform) -> None:
    gw = platform.gateway
    alice = await otp_sign_in(platform, phone_number(), display_name="Alice")
    outsider = await otp_sign_in(platform, phone_number())
    ws = (await gw.post("/workspaces", json={"name": "Files"}, headers=bearer(alice))).json()

    # One PUT straight to S3: typed by its bytes, hashed, scanned clean, counted.
    image = png()
    file = await put_file(gw, alice, ws["id"], image, name="chart.png")
    assert (file["state"], file["content_type"], file["scanned"]) == ("clean", "image/png", True)
    assert file["sha256"] == hashlib.sha256(image).hexdigest()
    assert_problem(await gw.get(f"/files/{file['id']}", headers=bearer(outsider)), 404)

    # Resumable: chunks through the gateway, the answer to one lost and asked again.
    data = b"QuckChat test bytes\n" + os.urandom(3 * 1024 * 1024)
    body = {"workspace_id": ws["id"], "name": "clip.mov", "size": len(data), "method": "tus"}
    created = (await gw.post("/files", json=body, headers=bearer(alice))).json()
    tus = f"/files/{created['file']['id']}/tus"
    options = await gw.options(tus)
    assert options.headers["Tus-Version"] == "1.0.0"
    half = len(data) // 2
    first = await gw.patch(
        tus, content=data[:half], headers={**bearer(alice), **TUS, "Upload-Offset": "0"}
    )
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(half)
    head = await gw.head(tus, headers={**bearer(alice), "Tus-Resumable": "1.0.0"})
    assert head.headers["Upload-Offset"] == str(half)
    last = await gw.patch(
        tus, content=data[half:], headers={**bearer(alice), **TUS, "Upload-Offset": str(half)}
    )
    assert last.status_code == 204 and last.headers["Upload-State"] == "clean"

    # The EICAR test file is quarantined, and its uploader's devices are told.
    socket = await Listener.open(platform.websocket_url(0, alice["access_token"]))
    infected = await put_file(gw, alice, ws["id"], EICAR, name="invoice.txt")
    assert infected["state"] == "infected" and infected["signature"].startswith("Eicar")
    told = await socket.until(of_type("file.quarantined", file_id=infected["id"]))
    assert told["data"]["signature"] == infected["signature"]
    await socket.close()

    # The quota refuses what would exceed it; deleting gives the bytes back.
    async with platform.internal("workspace") as workspace:
        quota = (await workspace.get(f"/internal/workspaces/{ws['id']}/quota")).json()
        used = quota["storage_used_bytes"]
        assert used == len(image) + len(data) + len(EICAR)
        limited = await workspace.patch(
            f"/internal/workspaces/by-slug/{ws['slug']}",
            json={"quotas": {"max_storage_bytes": used + 10}},
        )
        assert limited.status_code == 200, limited.text
        big = {"workspace_id": ws["id"], "name": "big.bin", "size": 11}
        assert_problem(
            await gw.post("/files", json=big, headers=bearer(alice)), 409, "storage-quota-exceeded"
        )
        gone = await gw.delete(f"/files/{file['id']}", headers=bearer(alice))
        assert gone.status_code == 204
        after = (await workspace.get(f"/internal/workspaces/{ws['id']}/quota")).json()
        assert after["storage_used_bytes"] == used - len(image)
    assert (await gw.post("/files", json=big, headers=bearer(alice))).status_code == 201


WORD = "Quokkanomics"
SIXTY_MP = (9600, 6400)


def one_colour_png(width: int, height: int) -> bytes:
    """A PNG of one colour, made a row at a time by libvips (never the pixels whole)."""
    pixels = pyvips.Image.black(width, height).new_from_image([30, 140, 90]).cast("uchar")
    data: bytes = pixels.pngsave_buffer(compression=9)
    return data


def heic_with_gps(folder: Path) -> bytes:
    """A 800x600 HEIC photo whose EXIF says turn it a quarter (orientation 6) and where it was."""
    path = samples.image_file(
        folder / "holiday.heic",
        samples.halves(800, 600),
        exif=samples.exif(orientation=6, gps=True),
    )
    return path.read_bytes()


def jpeg_with_gps(folder: Path) -> bytes:
    """A 640x480 JPEG that says where it was taken."""
    path = samples.image_file(
        folder / "harbour.jpg", samples.halves(640, 480), exif=samples.exif(gps=True)
    )
    return path.read_bytes()


@pytest.mark.ffmpeg
async def test_files_shared_in_a_channel(platform: Platform, tmp_path: Path) -> None:
    gw = platform.gateway
    origin = platform.settings.service_url("backend-gateway")

    async def call(method: str, path: str, who: dict[str, Any], **kw: Any) -> Any:
        response = await gw.request(method, path, headers=bearer(who), **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    async def delivered(
        who: dict[str, Any], file_id: str, rendition: str, **kw: Any
    ) -> httpx.Response:
        """The bytes of a file's rendition by the cdn's signed URL, through the gateway."""
        signed = await call(
            "GET", f"/cdn/files/{file_id}/url", who, params={"rendition": rendition}
        )
        async with httpx.AsyncClient(base_url=origin, timeout=30) as anyone:
            return await anyone.get(signed["url"], **kw)

    bobs_phone = phone_number()
    alice = await otp_sign_in(platform, phone_number(), display_name="Alice")
    bob = await otp_sign_in(platform, bobs_phone, display_name="Bob")
    eve = await otp_sign_in(platform, phone_number())
    ws = await call("POST", "/workspaces", alice, json={"name": "Shared files"})
    await call("POST", "/workspaces", eve, json={"name": "Elsewhere"})
    invite = await call(
        "POST", f"/workspaces/{ws['id']}/invites", alice, json={"phone": bobs_phone}
    )
    await call("POST", "/workspaces/join", bob, json={"token": invite["token"]})
    channels = await call("GET", "/channels", bob, params={"workspace_id": ws["id"]})
    general = next(c["id"] for c in channels["items"] if c["name"] == "general")

    # Alice sends a 60-megapixel image, a HEIC photo with orientation and GPS, and a PDF.
    sent = {
        "skyline.png": one_colour_png(*SIXTY_MP),
        "holiday.heic": heic_with_gps(tmp_path),
        "harbour.jpg": jpeg_with_gps(tmp_path),
        "quarterly-report.pdf": samples.pdf([WORD, "appendix"]),
        "launch.mp4": samples.clip(
            tmp_path / "launch.mp4", "testsrc=size=320x240:duration=2"
        ).read_bytes(),
    }
    files = {
        name: await put_file(gw, alice, ws["id"], data, name=name) for name, data in sent.items()
    }
    ids = {name: file["id"] for name, file in files.items()}
    png, heic, pdf = ids["skyline.png"], ids["holiday.heic"], ids["quarterly-report.pdf"]
    message = {
        "channel_id": general,
        "text": "the files",
        "attachments": [{"id": i} for i in ids.values()],
    }
    posted = await call("POST", "/messages", alice, json=message)

    # Bob, a member, sees each file's record once the media service has processed it.
    async def records() -> dict[str, Any]:
        found = {n: await gw.get(f"/media/{i}", headers=bearer(bob)) for n, i in ids.items()}
        return {n: r.json() for n, r in found.items() if r.status_code == 200}

    async def all_processed() -> dict[str, Any] | None:
        answer = await records()
        done = len(answer) == len(ids) and all(r["state"] != "pending" for r in answer.values())
        return answer if done else None

    media = await eventually(all_processed, **PATIENCE)
    assert media, await records()

    # 60 MP is under the media service's 100 MP limit: a thumbnail and a preview, and the
    # original itself, whole and by a range.
    big = media["skyline.png"]
    assert (big["state"], big["width"], big["height"]) == ("processed", *SIXTY_MP)
    shapes = {r["name"]: (r["width"], r["height"]) for r in big["renditions"]}
    assert shapes == {"thumbnail": (320, 213), "preview": (1600, 1067)}
    thumbnail = await delivered(bob, png, "thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(thumbnail.content)).size == (320, 213)
    original = await delivered(bob, png, "original")
    assert original.status_code == 200 and original.content == sent["skyline.png"]
    assert original.headers["content-length"] == str(len(sent["skyline.png"]))
    part = await delivered(bob, png, "original", headers={"Range": "bytes=1000-66535"})
    assert part.status_code == 206, part.text
    assert part.content == sent["skyline.png"][1000:66536]
    assert part.headers["content-range"] == f"bytes 1000-66535/{len(sent['skyline.png'])}"
    signed = await call("GET", f"/cdn/files/{png}/url", bob)
    async with httpx.AsyncClient(base_url=origin, timeout=30) as anyone:
        head = await anyone.head(signed["url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(sent["skyline.png"]))
    assert head.headers["etag"] == original.headers["etag"]

    # The HEIC: previews turned upright; the copy delivered as the original has no location.
    photo = media["holiday.heic"]
    assert (photo["state"], photo["width"], photo["height"]) == ("processed", 600, 800)
    assert photo["had_location"] and photo["location_stripped"]
    preview = await delivered(bob, heic, "preview")
    assert Image.open(io.BytesIO(preview.content)).size == (600, 800)
    copy = await delivered(bob, heic, "original")
    assert copy.status_code == 200 and copy.headers["content-type"] == "image/heic"
    assert len(copy.content) == len(sent["holiday.heic"])
    opened = pillow_heif.open_heif(io.BytesIO(copy.content))
    assert opened.size == (600, 800) and not has_location(opened.info["exif"])
    assert has_location(pillow_heif.open_heif(io.BytesIO(sent["holiday.heic"])).info["exif"])

    # The JPEG: what Bob gets as its original is the picture without where it was taken.
    harbour = media["harbour.jpg"]
    assert harbour["had_location"] and harbour["location_stripped"]
    assert has_location(Image.open(io.BytesIO(sent["harbour.jpg"])).info["exif"])
    clean = await delivered(bob, ids["harbour.jpg"], "original")
    assert clean.status_code == 200 and clean.headers["content-type"] == "image/jpeg"
    delivered_exif = Image.open(io.BytesIO(clean.content)).info.get("exif", b"")
    assert not delivered_exif or not has_location(delivered_exif)
    part = await delivered(bob, ids["harbour.jpg"], "original", headers={"range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == clean.content[:100]

    # The PDF: a preview of its first page, its text read, the original as sent.
    report = media["quarterly-report.pdf"]
    assert (report["state"], report["kind"]) == ("processed", "pdf")
    assert report["text_length"] >= len(WORD)
    assert {r["name"] for r in report["renditions"]} >= {"thumbnail", "preview"}
    pages = await delivered(bob, pdf, "original")
    assert pages.content == sent["quarterly-report.pdf"] and f"({WORD})".encode() in pages.content
    assert pages.headers["content-disposition"].startswith("inline")

    # Eve, of another workspace, learns nothing of any of it.
    assert_problem(await gw.get(f"/cdn/files/{png}/url", headers=bearer(eve)), 404)
    assert_problem(await gw.get(f"/media/{heic}", headers=bearer(eve)), 404)
    listing = {"channel_id": general}
    assert_problem(await gw.get("/attachments/", params=listing, headers=bearer(eve)), 404)

    # The channel's files list holds the three; `q` finds one by a part of its name.
    async def listed(**query: str) -> set[str]:
        page = await call("GET", "/attachments/", bob, params={**listing, **query})
        return {f["name"] for f in page["items"]}

    assert await eventually(listed, until=set(sent), **PATIENCE) == set(sent)
    assert await listed(q="REPORT") == {"quarterly-report.pdf"}

    # A short video gets a poster frame, opened by range too.
    clip = media["launch.mp4"]
    assert clip["state"] == "processed" and "poster" in {r["name"] for r in clip["renditions"]}
    poster = await delivered(bob, ids["launch.mp4"], "poster")
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/webp"
    head = await delivered(bob, ids["launch.mp4"], "poster", headers={"range": "bytes=0-9"})
    assert head.status_code == 206 and head.content == poster.content[:10]

    # Every file Bob opens comes by range too, the same bytes as whole.
    for name, file_id in ids.items():
        whole = await delivered(bob, file_id, "original")
        part = await delivered(bob, file_id, "original", headers={"range": "bytes=10-109"})
        assert whole.status_code == 200, name
        assert part.status_code == 206 and part.content == whole.content[10:110], name

    # A public link needs no token, until an admin turns public links off.
    link = await call("POST", "/cdn/links", alice, json={"file_id": pdf})
    async with httpx.AsyncClient(base_url=origin, timeout=30) as anyone:
        public = await anyone.get(link["url"])
        assert public.status_code == 200 and public.content == sent["quarterly-report.pdf"]
        off = await call(
            "PATCH", f"/files/policies/{ws['id']}", alice, json={"public_links": False}
        )
        assert off["public_links"] is False

        async def link_status() -> int:
            return (await anyone.get(link["url"])).status_code

        assert await eventually(link_status, until=404, **PATIENCE) == 404

    # Search finds the PDF by a word inside it (its extracted text, through the search service).
    assert await eventually(lambda: listed(q=WORD), until={"quarterly-report.pdf"}, **PATIENCE) == {
        "quarterly-report.pdf"
    }

    # A quarantined file is never attached, nor served; a URL not signed here is 404 to anyone.
    infected = await put_file(gw, alice, ws["id"], EICAR, name="payload.txt")
    assert infected["state"] == "infected"
    refused = await gw.post(
        "/messages",
        json={**message, "attachments": [{"id": infected["id"]}]},
        headers=bearer(alice),
    )
    assert_problem(refused, 422, "file-infected")
    assert_problem(await gw.get(f"/cdn/files/{infected['id']}/url", headers=bearer(alice)), 409)
    forged = f"/cdn/f/{png}/original?e=9999999999&s=forged"
    assert_problem(await gw.get(forged, headers=bearer(eve)), 404)

    # Deleting the message gives its files' space back to the workspace.
    async with platform.internal("workspace") as workspace:

        async def used() -> int:
            quota = await workspace.get(f"/internal/workspaces/{ws['id']}/quota")
            return int(quota.json()["storage_used_bytes"])

        shared = sum(len(data) for data in sent.values())
        assert await used() == shared + len(EICAR)
        gone = await gw.delete(f"/messages/{posted['id']}", headers=bearer(alice))
        assert gone.status_code == 204, gone.text
        assert await eventually(used, until=len(EICAR), **PATIENCE) == len(EICAR)
