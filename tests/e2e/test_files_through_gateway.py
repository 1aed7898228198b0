"""Files end to end, through the gateway (the bytes straight to the S3 server by presigned
URL, as a client sends them): one PUT, a resumable upload, the quota, the scan, deleting."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.e2e.conftest import Platform
from tests.e2e.test_identity_through_gateway import otp_sign_in
from tests.e2e.websocket import Listener, of_type
from tests.worlds.files import EICAR
from tests.worlds.identity import bearer, phone_number
from tests.worlds.platform import EVERY_SERVER
from tests.worlds.problems import assert_problem

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
