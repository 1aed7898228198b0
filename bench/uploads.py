"""Upload throughput to the test bed's S3 server (versitygw) by presigned URL, as a client
sends a file: one presigned PUT, and a multipart upload of presigned parts sent four at a time.
Then the file service's own copy and check of the bytes (SHA-256 and the libmagic sniff, no
scanner) for the same file.

`python -m bench.uploads [MIB]` (default 256). Skipped without the test bed's S3 server.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
import uuid

import httpx

from bench.stats import figure
from quckchat.core.objects import Part, S3Objects
from quckchat.file.checks import check
from quckchat.file.scanning import NoScanner
from quckchat.file.uploads import PART_SIZE, PUT_LIMIT
from tests.support import drop_bucket, load_testbed_env, s3_settings, s3_store

MIB = 1024 * 1024
PARALLEL_PARTS = 4


async def put_once(store: S3Objects, client: httpx.AsyncClient, key: str, data: bytes) -> float:
    signed = await store.presign_put(
        key, content_type="application/octet-stream", size=len(data), expires=600
    )
    started = time.perf_counter()
    answer = await client.put(signed.url, content=data, headers=signed.headers)
    answer.raise_for_status()
    return time.perf_counter() - started


async def multipart(store: S3Objects, client: httpx.AsyncClient, key: str, data: bytes) -> float:
    upload = await store.create_multipart(key, content_type="video/mp4")
    count = math.ceil(len(data) / PART_SIZE)
    gate = asyncio.Semaphore(PARALLEL_PARTS)

    async def part(n: int) -> Part:
        piece = data[(n - 1) * PART_SIZE : n * PART_SIZE]
        signed = await store.presign_part(key, upload, n, size=len(piece), expires=600)
        async with gate:
            answer = await client.put(signed.url, content=piece)
        answer.raise_for_status()
        return Part(n, answer.headers["ETag"].strip('"'))

    started = time.perf_counter()
    parts = await asyncio.gather(*(part(n) for n in range(1, count + 1)))
    await store.complete_multipart(key, upload, list(parts))
    return time.perf_counter() - started


async def main(mib: int = 256) -> None:
    load_testbed_env()
    if not os.environ.get("QUCKCHAT_TEST_S3_URL"):
        print("uploads: skipped (no S3 server: run `hack/testbed up s3`)")
        return
    settings = s3_settings(f"bench-{uuid.uuid4().hex[:12]}")
    store = s3_store(settings)
    await store.start()
    try:
        async with httpx.AsyncClient(timeout=300) as client:
            small = os.urandom(PUT_LIMIT)
            seconds = min([await put_once(store, client, f"put/{n}", small) for n in range(5)])
            figure("uploads: presigned PUT, 16 MiB", PUT_LIMIT / MIB / seconds, "MB/s", "best of 5")
            data = os.urandom(mib * MIB)
            seconds = await multipart(store, client, "multipart/1", data)
            note = f"{mib} MiB, {PART_SIZE // MIB} MiB parts, {PARALLEL_PARTS} at a time"
            figure("uploads: presigned multipart", mib / seconds, "MB/s", note)
        started = time.perf_counter()
        await store.copy("multipart/1", "files/1")
        figure("uploads: copy to the file's key", mib / (time.perf_counter() - started), "MB/s")
        started = time.perf_counter()
        await check(store, NoScanner(), "files/1")
        figure("uploads: SHA-256 and sniff", mib / (time.perf_counter() - started), "MB/s")
    finally:
        await store.close()
        await drop_bucket(settings)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 256))
