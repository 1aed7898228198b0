"""The gateway passes a download on as it comes: the first bytes reach the client before the
service has sent the last, HEAD says the length GET would send, and a client that hangs up
mid-download frees the service's stream at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from quckchat.core.settings import Settings
from tests.support import running_app
from tests.worlds.mesh import serving
from tests.worlds.waiting import eventually

CHUNK = 64 * 1024
CHUNKS = 256  # 16 MiB
READ = 0.002  # what fetching each chunk from the object store takes, about


@dataclass
class Upstream:
    """A service behind the gateway whose download waits for `go` after its first chunk."""

    go: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    ended: str = ""

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            for n in range(CHUNKS):
                if n == 1:
                    await self.go.wait()
                await asyncio.sleep(READ)
                self.sent += 1
                yield bytes([n % 256]) * CHUNK
            self.ended = "done"
        finally:
            self.ended = self.ended or "closed"


def upstream_app(upstream: Upstream) -> FastAPI:
    app = FastAPI()
    headers = {"Content-Length": str(CHUNK * CHUNKS), "ETag": '"v1"'}

    @app.api_route("/f/{name}", methods=["GET", "HEAD"])
    async def download(request: Request) -> Response:
        if request.method == "HEAD":
            return Response(headers=headers, media_type="application/octet-stream")
        return StreamingResponse(
            upstream.chunks(), headers=headers, media_type="application/octet-stream"
        )

    return app


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Upstream, str]]:
    """The upstream and the gateway, each on a real port; the gateway's address."""
    upstream = Upstream()
    async with serving(upstream_app(upstream)) as port:
        settings = Settings(
            service="backend-gateway",
            database_url=f"sqlite+aiosqlite:///{tmp_path}/gw.db",
            service_url_template=f"http://127.0.0.1:{port}",
        )
        async with (
            running_app("backend-gateway", settings) as (app, _, _),
            serving(app) as gateway,
        ):
            yield upstream, f"http://127.0.0.1:{gateway}/api/v1/cdn/f/x"
        upstream.go.set()


async def test_the_first_bytes_arrive_before_the_service_has_sent_the_last(
    world: tuple[Upstream, str],
) -> None:
    upstream, url = world
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as answer:
        assert answer.headers["content-length"] == str(CHUNK * CHUNKS)
        assert answer.headers["etag"] == '"v1"'
        received = 0
        async for piece in answer.aiter_raw():
            if received == 0:
                assert upstream.sent == 1  # the rest is still held back upstream
                upstream.go.set()
            received += len(piece)
    assert received == CHUNK * CHUNKS and upstream.ended == "done"


async def test_head_says_the_length_get_would_send(world: tuple[Upstream, str]) -> None:
    _, url = world
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.head(url)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-length"] == str(CHUNK * CHUNKS)
    assert answer.headers["etag"] == '"v1"'


async def test_a_client_that_hangs_up_mid_download_frees_the_service_stream(
    world: tuple[Upstream, str],
) -> None:
    upstream, url = world
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as answer:
        first = await anext(answer.aiter_raw())
        assert first and upstream.sent == 1
    # The client is gone; the service's generator must not wait on for a reader.
    upstream.go.set()
    assert await eventually(lambda: upstream.ended, within=5) == "closed"
    assert upstream.sent < CHUNKS
