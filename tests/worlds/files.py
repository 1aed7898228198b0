"""What tests upload, and how: start a file, send its bytes by the plan the file service
answers (one PUT or presigned parts, to the S3 server or the file service's local route),
complete it; on the storage worlds the file suite and the suites that attach files share."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support import TestKeys, fresh_bucket, fresh_documents, server
from tests.worlds.org import Org, running_org

# The storage worlds: the embedded document store with the local object folder and no
# scanner, then the real MongoDB-protocol server, S3 server and clamd of hack/testbed.
WORLDS = ["local", "s3"]

# The anti-malware test file every scanner reports (the test bed's clamd through its own
# signature database, hack/clamav/quckchat-test.ndb).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# Random bytes could start like an executable (`MZ`), which the workspace's limits refuse.
NOISE_HEADER = b"QuckChat test bytes\n"


def noise(size: int) -> bytes:
    """`size` bytes libmagic calls application/octet-stream, random past a fixed header."""
    return (NOISE_HEADER + os.urandom(size))[:size]


def pdf(words: list[str]) -> bytes:
    """A minimal A4 PDF, one page per word, set in Helvetica."""
    pages = len(words)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids ["
        + " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
        + f"] /Count {pages} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, word in enumerate(words):
        stream = f"BT /F1 36 Tf 72 700 Td ({word}) Tj ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode())
    out.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


@dataclass
class Uploader:
    """A client of the file service `api`, signing in as `auth(user)` says."""

    api: httpx.AsyncClient
    auth: Callable[[str], dict[str, str]]

    async def start(self, user: str, workspace_id: str, data: bytes, **body: Any) -> httpx.Response:
        body = {"workspace_id": workspace_id, "name": "a.bin", "size": len(data), **body}
        return await self.api.post("/", json=body, headers=self.auth(user))

    async def fetch(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request to a presigned URL: the S3 server's own, or the file service's route for
        the local store."""
        parts = urlsplit(url)
        if parts.path.startswith("/api/v1/files/"):
            path = parts.path.removeprefix("/api/v1/files") + "?" + parts.query
            return await self.api.request(method, path, **kwargs)
        async with httpx.AsyncClient() as client:
            return await client.request(method, url, **kwargs)

    async def send(self, url: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.fetch("PUT", url, content=data, headers=headers)

    async def upload(
        self, user: str, workspace_id: str, data: bytes, **body: Any
    ) -> dict[str, Any]:
        """Create, send by the plan (one PUT or presigned parts) and complete: the file."""
        started = await self.start(user, workspace_id, data, **body)
        assert started.status_code == 201, started.text
        return await self.finish(user, started.json(), data)

    async def finish(self, user: str, created: dict[str, Any], data: bytes) -> dict[str, Any]:
        """Send the bytes of a started upload by its plan and complete it: the file."""
        plan, file_id = created["upload"], created["file"]["id"]
        parts = []
        if plan["method"] == "put":
            sent = await self.send(plan["url"], data, plan["headers"])
            assert sent.status_code == 200, sent.text
        else:
            size = plan["part_size"]
            for part in plan["parts"]:
                at = (part["number"] - 1) * size
                sent = await self.send(part["url"], data[at : at + size], {})
                assert sent.status_code == 200, sent.text
                parts.append({"number": part["number"], "etag": sent.headers["ETag"]})
        done = await self.api.post(
            f"/{file_id}/complete", json={"parts": parts}, headers=self.auth(user)
        )
        assert done.status_code == 200, done.text
        file: dict[str, Any] = done.json()
        return file


def mark_storage_worlds(items: list[pytest.Item], folder: Path) -> None:
    """The S3 world of the folder's tests runs on the real document store and clamd as well."""
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if item.path.is_relative_to(folder) and "s3" in params.values():
            item.add_marker("mongodb")
            item.add_marker("clamav")


@asynccontextmanager
async def storage_org(
    world: str, path: Path, keys: TestKeys, services: list[str], **settings: Any
) -> AsyncIterator[Org]:
    """`services` (SQL ones on SQLite) on the storage world named, with any further settings."""
    async with AsyncExitStack() as stack:
        overrides: dict[str, Any] = {}
        kind = "embedded"
        if world == "s3":
            kind = "mongodb"
            overrides = await stack.enter_async_context(fresh_bucket())
            overrides["clamd_url"] = server("clamav")
        documents_url = await stack.enter_async_context(fresh_documents(kind))
        org = await stack.enter_async_context(
            running_org(
                "sqlite",
                path,
                keys,
                services=services,
                mongodb_url=documents_url,
                **overrides,
                **settings,
            )
        )
        yield org
