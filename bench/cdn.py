"""Delivery figures of the cdn, on the test bed's real servers (S3, FerretDB, clamd ...) with
every implemented service as its own `quckchat serve` process (tests/worlds/platform.py):

- download throughput of a 64 MiB file by its signed URL, straight from the cdn process and
  through the gateway (which streams it on), MB/s, best of 3;
- the peak RSS growth of the gateway process (and of the cdn's) while it passes the file on,
  sampled from /proc every few milliseconds: a proxy that held the file whole would grow by 64 MiB;
- ranged reads of 64 KiB at random offsets, per second, 8 at a time, direct and through the gateway;
- a made thumbnail (the media service's, already in the object store) fetched by its signed URL
  through the gateway, one request at a time: p50, p95 and p99 latency, whole and as a 304;
- the image proxy's fetches per second through the gateway, from an image server of the
  bench's own on 127.0.0.1 (the one private network the proxy is allowed here): cold (each URL
  fetched from the server, checked and stored) and cached (from the object store).

`python -m bench.cdn [MIB]` (default 64). Not a test: numbers, not pass/fail.
"""

from __future__ import annotations

import asyncio
import io
import random
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from PIL import Image

from bench.stats import figure, report, timed
from quckchat.cdn.logic import PUBLIC_PATH as SIGNED_PATH
from quckchat.cdn.proxy import PUBLIC_PATH as PROXY_PATH
from tests.support import load_testbed_env
from tests.worlds.files import Uploader, noise
from tests.worlds.mesh import serving
from tests.worlds.platform import ProcessPlatform, platform_processes

# Beside the other benchmarks' offsets and the tests' fixed ones, with no port in common.
PORT_OFFSET = 15500
REDIS_DB = 11
MIB = 1024 * 1024
RANGE = 64 * 1024
RANGED_READS = 400
IMAGES = 200
AT_ONCE = 8
RUNS = 3
THUMBNAIL_READS = 500
SAMPLE_EVERY = 0.002


def rss_bytes(pid: int) -> int:
    """The process's resident set now, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextmanager
def peak_growth(pids: list[int]) -> Iterator[dict[int, int]]:
    """How far above its resident set at the start each process went while the block ran."""
    start = {pid: rss_bytes(pid) for pid in pids}
    growth = dict.fromkeys(pids, 0)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_EVERY):
            for pid in pids:
                growth[pid] = max(growth[pid], rss_bytes(pid) - start[pid])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield growth
    finally:
        done.set()
        sampler.join()


async def download(client: httpx.AsyncClient, url: str) -> int:
    """Read the answer as it comes, keeping none of it: how many bytes came."""
    received = 0
    async with client.stream("GET", url) as answer:
        answer.raise_for_status()
        async for piece in answer.aiter_raw():
            received += len(piece)
    return received


async def per_second(call: Callable[[int], Awaitable[None]], count: int) -> float:
    """Calls per second of `count` calls, AT_ONCE at a time."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(n: int) -> None:
        async with gate:
            await call(n)

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return count / (time.perf_counter() - started)


def image_server(images: dict[str, bytes]) -> FastAPI:
    """A remote web server as the proxy sees it: one small PNG per path."""
    app = FastAPI()

    async def page(request: Request) -> Response:
        return Response(images[request.url.path], media_type="image/png")

    app.add_api_route("/{rest:path}", page, methods=["GET"])
    return app


def small_png(n: int, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (n % 256, 80, 160)).save(out, "PNG")
    return out.getvalue()


async def thumbnail_url(api: httpx.AsyncClient, auth: dict[str, str], workspace_id: str) -> str:
    """The signed URL of a photo's thumbnail, once the media service has made it."""
    base = str(api.base_url).rstrip("/")
    async with httpx.AsyncClient(base_url=f"{base}/files", timeout=60) as files:
        photo = await Uploader(files, lambda _user: auth).upload(
            "bench", workspace_id, small_png(7, (1280, 960)), name="photo.png"
        )
    for _ in range(600):
        answer = await api.get(
            f"/cdn/files/{photo['id']}/url", params={"rendition": "thumbnail"}, headers=auth
        )
        if answer.status_code == 200:
            url: str = answer.json()["url"]
            return url
        await asyncio.sleep(0.1)
    raise AssertionError(f"no thumbnail after a minute: {answer.text}")


async def measure(platform: ProcessPlatform, mib: int) -> None:
    gateway = f"http://127.0.0.1:{platform.port('backend-gateway')}"
    cdn = f"http://127.0.0.1:{platform.port('cdn')}"
    async with httpx.AsyncClient(base_url=platform.api, timeout=300) as api:
        user = {"email": f"cdn-{time.time_ns()}@example.com", "password": "bench password"}
        registered = (await api.post("/auth/register", json=user)).raise_for_status()
        auth = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        ws = (await api.post("/workspaces", json={"name": "Bench"}, headers=auth)).json()
        async with httpx.AsyncClient(base_url=f"{platform.api}/files", timeout=300) as files:
            uploader = Uploader(files, lambda _user: auth)
            data = noise(mib * MIB)
            file = await uploader.upload("bench", ws["id"], data, name="big.bin")
        assert file["state"] == "clean", file
        signed = (await api.get(f"/cdn/files/{file['id']}/url", headers=auth)).json()["url"]
        thumbnail = await thumbnail_url(api, auth, ws["id"])
    through = gateway + signed
    # The cdn serves at its root what the gateway serves under /api/v1/cdn.
    direct = cdn + "/f/" + signed.removeprefix(SIGNED_PATH)
    pids = platform.pids

    async with httpx.AsyncClient(timeout=300) as client:
        for name, url in (("direct from the cdn", direct), ("through the gateway", through)):
            best, grew = 0.0, dict[int, int]()
            for _ in range(RUNS):
                with peak_growth([pids["backend-gateway"], pids["cdn"]]) as growth:
                    started = time.perf_counter()
                    assert await download(client, url) == len(data)
                    best = max(best, mib / (time.perf_counter() - started))
                grew = {pid: max(grew.get(pid, 0), g) for pid, g in growth.items()}
            figure(f"cdn: {mib} MiB download, {name}", best, "MB/s", f"best of {RUNS}")
            if name == "through the gateway":
                note = f"peak over {RUNS} downloads of {mib} MiB"
                figure("cdn: gateway RSS growth", grew[pids["backend-gateway"]] / MIB, "MiB", note)
                figure("cdn: cdn RSS growth", grew[pids["cdn"]] / MIB, "MiB", note)

        for name, url in (("direct from the cdn", direct), ("through the gateway", through)):
            offsets = [random.randrange(len(data) - RANGE) for _ in range(RANGED_READS)]

            async def ranged(n: int, url: str = url, offsets: list[int] = offsets) -> None:
                at = offsets[n]
                headers = {"Range": f"bytes={at}-{at + RANGE - 1}"}
                answer = await client.get(url, headers=headers)
                assert answer.status_code == 206 and answer.content == data[at : at + RANGE]

            rate = await per_second(ranged, RANGED_READS)
            figure(f"cdn: 64 KiB ranged reads, {name}", rate, "/s", f"{AT_ONCE} at a time")

        async def whole() -> None:
            answer = await client.get(gateway + thumbnail)
            assert answer.status_code == 200 and answer.content

        report("cdn: cached thumbnail, through the gateway", await timed(whole, THUMBNAIL_READS))
        etag = (await client.get(gateway + thumbnail)).headers["etag"]

        async def unchanged() -> None:
            answer = await client.get(gateway + thumbnail, headers={"If-None-Match": etag})
            assert answer.status_code == 304

        report("cdn: cached thumbnail, 304", await timed(unchanged, THUMBNAIL_READS))

        images = {f"/i/{n}.png": small_png(n) for n in range(IMAGES)}
        async with serving(image_server(images)) as port:
            proxied: list[str] = []
            async with httpx.AsyncClient(
                base_url=cdn, headers={"X-QuckChat-Caller": "bench"}, timeout=30
            ) as internal:
                for start in range(0, IMAGES, 50):
                    paths = list(images)[start : start + 50]
                    asked = {"urls": [f"http://127.0.0.1:{port}{p}" for p in paths]}
                    answer = await internal.post("/internal/proxy-urls", json=asked)
                    proxied.extend(answer.raise_for_status().json()["urls"])
            assert all(url.startswith(PROXY_PATH) for url in proxied)

            async def fetch(n: int) -> None:
                answer = await client.get(gateway + proxied[n])
                assert answer.status_code == 200 and answer.content == images[f"/i/{n}.png"]

            for name in ("cold", "cached"):
                rate = await per_second(fetch, IMAGES)
                figure(f"cdn: image proxy, {name}", rate, "/s", f"{AT_ONCE} at a time, gateway")


async def main(mib: int = 64) -> None:
    load_testbed_env()
    options: dict[str, Any] = {
        "log_level": "WARNING",
        "rate_limit_per_ip": 10_000_000,
        "rate_limit_per_user": 10_000_000,
        "cdn_proxy_allowed_networks": ["127.0.0.1/32"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        async with platform_processes(
            Path(tmp), label="cdn", port_offset=PORT_OFFSET, redis_db=REDIS_DB, **options
        ) as platform:
            await measure(platform, mib)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 64))
