"""Object storage: the same calls on the local folder and on the real S3 server (versitygw)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest

from quckchat.core.objects import (
    MIN_PART_SIZE,
    LocalObjects,
    ObjectMissing,
    ObjectStore,
    Part,
    PartsRejected,
    Presigned,
    S3Objects,
    SignatureRejected,
)
from tests.support import fresh_bucket, s3_store

BACKENDS = ["local", "s3"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    """A fresh bucket on the real S3 server, or a fresh folder."""
    if request.param == "local":
        local = LocalObjects(tmp_path / "objects", base_url="http://files.test/o", secret=b"k" * 32)
        await local.start()
        yield local
        return
    async with fresh_bucket() as settings:
        s3 = await started(settings)
        try:
            yield s3
        finally:
            await s3.close()


async def started(settings: dict[str, Any], **more: Any) -> S3Objects:
    s3 = s3_store(settings, **more)
    await s3.start()
    return s3


async def send(store: ObjectStore, signed: Presigned, data: bytes, content_type: str) -> str:
    """Do what a client does with a presigned request; the ETag the store answers."""
    if isinstance(store, LocalObjects):
        # The local store's URLs are routed to it by the service that owns them.
        url = urlsplit(signed.url)
        key = unquote(url.path.removeprefix("/o/"))
        taken = await store.accept_signed_put(key, dict(parse_qsl(url.query)), content_type, data)
        return taken.etag
    headers = {**signed.headers, "Content-Type": content_type} if signed.headers else {}
    async with httpx.AsyncClient() as client:
        try:
            answer = await client.request(signed.method, signed.url, content=data, headers=headers)
        except httpx.TransportError as exc:  # the store cut the request off
            raise SignatureRejected(repr(exc)) from exc
    if answer.status_code != 200:
        raise SignatureRejected(f"{answer.status_code}: {answer.text[:200]}")
    return answer.headers["ETag"].strip('"')


async def test_an_object_is_written_read_whole_and_by_range_and_deleted(store: ObjectStore) -> None:
    data = bytes(range(256)) * 2000
    info = await store.put("files/a/b.bin", data, content_type="application/octet-stream")
    assert (info.size, info.etag) == (len(data), hashlib.md5(data).hexdigest())
    assert await store.head("files/a/b.bin") == info
    assert await store.read("files/a/b.bin") == data
    assert await store.read("files/a/b.bin", start=1000, end=1999) == data[1000:2000]
    assert await store.read("files/a/b.bin", start=len(data) - 10) == data[-10:]
    streamed = [chunk async for chunk in store.stream("files/a/b.bin")]
    assert len(streamed) > 1 and b"".join(streamed) == data

    await store.delete("files/a/b.bin")
    assert await store.head("files/a/b.bin") is None
    with pytest.raises(ObjectMissing):
        await store.read("files/a/b.bin")
    await store.delete("files/a/b.bin")  # deleting again is no error


async def test_an_empty_object_reads_as_nothing(store: ObjectStore) -> None:
    await store.put("empty", b"", content_type="text/plain")
    assert await store.read("empty") == b""
    assert (await store.head("empty") or pytest.fail("no object")).size == 0


async def test_a_presigned_put_takes_exactly_what_was_signed(store: ObjectStore) -> None:
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
    signed = await store.presign_put("up/1", content_type="image/png", size=len(data), expires=60)
    assert signed.method == "PUT" and signed.headers == {"Content-Type": "image/png"}

    with pytest.raises(SignatureRejected):
        await send(store, signed, data, "text/html")
    assert await store.head("up/1") is None

    etag = await send(store, signed, data, "image/png")
    info = await store.head("up/1")
    assert info is not None
    assert (info.size, info.etag, etag) == (len(data), hashlib.md5(data).hexdigest(), info.etag)
    assert info.content_type == "image/png"
    assert await store.read("up/1") == data


async def test_an_expired_presigned_put_is_refused(store: ObjectStore) -> None:
    signed = await store.presign_put("up/late", content_type="text/plain", size=2, expires=-5)
    with pytest.raises(SignatureRejected):
        await send(store, signed, b"hi", "text/plain")
    assert await store.head("up/late") is None


async def fetch(store: ObjectStore, signed: Presigned) -> bytes:
    """Do what a client does with a presigned GET; SignatureRejected when refused."""
    assert signed.method == "GET"
    if isinstance(store, LocalObjects):
        url = urlsplit(signed.url)
        key = unquote(url.path.removeprefix("/o/"))
        await store.open_signed_get(key, dict(parse_qsl(url.query)))
        return await store.read(key)
    async with httpx.AsyncClient() as client:
        answer = await client.get(signed.url)
    if answer.status_code != 200:
        raise SignatureRejected(f"{answer.status_code}: {answer.text[:200]}")
    return answer.content


async def test_a_presigned_get_reads_the_object_until_it_expires(store: ObjectStore) -> None:
    await store.put("media/f/thumbnail", b"RIFF-webp", content_type="image/webp")
    assert await fetch(store, await store.presign_get("media/f/thumbnail", expires=60)) == (
        b"RIFF-webp"
    )
    with pytest.raises(SignatureRejected):
        await fetch(store, await store.presign_get("media/f/thumbnail", expires=-5))


async def test_a_local_url_signed_for_reading_takes_no_upload_nor_the_reverse(
    tmp_path: Path,
) -> None:
    store = LocalObjects(tmp_path / "objects", base_url="http://x/o", secret=b"s")
    await store.start()
    await store.put("k", b"x", content_type="text/plain")
    read = dict(parse_qsl(urlsplit((await store.presign_get("k", expires=60)).url).query))
    with pytest.raises(SignatureRejected):
        await store.accept_signed_put("k", read, "text/plain", b"y")
    with pytest.raises(SignatureRejected):
        store.verify("k", read)
    put = await store.presign_put("k", content_type="text/plain", size=1, expires=60)
    with pytest.raises(SignatureRejected):
        await store.open_signed_get("k", dict(parse_qsl(urlsplit(put.url).query)))
    with pytest.raises(SignatureRejected):  # signed for another key
        await store.open_signed_get("other", read)
    await store.delete("k")
    with pytest.raises(ObjectMissing):
        await store.open_signed_get("k", read)


async def test_a_multipart_upload_from_presigned_parts_joins_them_in_order(
    store: ObjectStore,
) -> None:
    first, last = os.urandom(MIN_PART_SIZE), os.urandom(1234)
    upload = await store.create_multipart("big/video.mp4", content_type="video/mp4")
    etags = []
    for number, data in ((1, first), (2, last)):
        signed = await store.presign_part(
            "big/video.mp4", upload, number, size=len(data), expires=60
        )
        with pytest.raises(SignatureRejected):  # a part URL takes its planned length only
            await send(store, signed, data + b"x", "")
        etags.append(await send(store, signed, data, ""))
    parts = await store.list_parts("big/video.mp4", upload)
    assert parts == [Part(1, etags[0], len(first)), Part(2, etags[1], len(last))]

    info = await store.complete_multipart("big/video.mp4", upload, parts)
    assert info.size == len(first) + len(last)
    assert info.etag.endswith("-2") and info.content_type == "video/mp4"
    assert await store.read("big/video.mp4", start=MIN_PART_SIZE - 3, end=MIN_PART_SIZE + 2) == (
        first[-3:] + last[:3]
    )
    with pytest.raises(ObjectMissing):
        await store.list_parts("big/video.mp4", upload)


async def test_parts_sent_by_the_service_and_an_abort(store: ObjectStore) -> None:
    upload = await store.create_multipart("tus/1", content_type="application/pdf")
    one = await store.upload_part("tus/1", upload, 1, b"a" * MIN_PART_SIZE)
    assert one.size == MIN_PART_SIZE
    assert await store.list_parts("tus/1", upload) == [one]
    await store.abort_multipart("tus/1", upload)
    with pytest.raises(ObjectMissing):
        await store.upload_part("tus/1", upload, 2, b"b")
    assert await store.head("tus/1") is None
    await store.abort_multipart("tus/1", upload)  # twice is no error


async def test_a_part_with_a_wrong_etag_fails_the_completion(store: ObjectStore) -> None:
    upload = await store.create_multipart("bad/1", content_type="text/plain")
    await store.upload_part("bad/1", upload, 1, b"x" * 10)
    with pytest.raises(PartsRejected):
        await store.complete_multipart("bad/1", upload, [Part(1, "0" * 32)])
    assert await store.head("bad/1") is None


async def test_a_copy_and_a_folder_deleted_whole(store: ObjectStore) -> None:
    await store.put("uploads/a/data", b"staged bytes", content_type="text/plain")
    await store.put("uploads/a/tail-3", b"abc", content_type="application/octet-stream")
    await store.put("uploads/ab/data", b"another upload", content_type="text/plain")
    copied = await store.copy("uploads/a/data", "files/t/w/a")
    assert copied.size == 12 and copied.content_type == "text/plain"
    assert await store.read("files/t/w/a") == b"staged bytes"
    await store.delete_prefix("uploads/a/")
    assert (
        await store.head("uploads/a/data") is None and await store.head("uploads/a/tail-3") is None
    )
    assert await store.read("uploads/ab/data") == b"another upload"
    assert await store.read("files/t/w/a") == b"staged bytes"
    with pytest.raises(ObjectMissing):
        await store.copy("uploads/a/data", "files/t/w/b")


async def test_a_local_key_cannot_leave_its_folder(tmp_path: Path) -> None:
    store = LocalObjects(tmp_path / "objects", base_url="http://x/o", secret=b"s")
    await store.start()
    for key in ("../../outside", "../signing.key", "..", ""):
        with pytest.raises(ObjectMissing):
            await store.put(key, b"x", content_type="text/plain")
    assert not (tmp_path / "outside").exists()
    (tmp_path / "objects" / "signing.key").write_bytes(b"secret")
    with pytest.raises(ObjectMissing):
        await store.read("../signing.key")
    with pytest.raises(ObjectMissing):
        await store.delete("../signing.key")
    assert (tmp_path / "objects" / "signing.key").read_bytes() == b"secret"


async def test_a_forged_local_signature_is_refused(tmp_path: Path) -> None:
    store = LocalObjects(tmp_path / "objects", base_url="http://x/o", secret=b"s")
    other = LocalObjects(tmp_path / "objects", base_url="http://x/o", secret=b"t")
    await store.start()
    signed = await other.presign_put("k", content_type="text/plain", size=1, expires=60)
    query = dict(parse_qsl(urlsplit(signed.url).query))
    with pytest.raises(SignatureRejected):
        await store.accept_signed_put("k", query, "text/plain", b"x")
    with pytest.raises(SignatureRejected):  # not ASCII: still a refusal, not a crash
        await store.accept_signed_put("k", {**query, "signature": "é"}, "text/plain", b"x")
    with pytest.raises(SignatureRejected):
        signed = await store.presign_put("k", content_type="text/plain", size=1, expires=60)
        await store.accept_signed_put(
            "other", dict(parse_qsl(urlsplit(signed.url).query)), "text/plain", b"x"
        )
    assert await store.head("k") is None and await store.head("other") is None


@pytest.mark.s3
async def test_browsers_may_put_to_the_bucket_and_read_etags() -> None:
    async with fresh_bucket() as settings:
        s3 = await started(settings, cors_origins=["https://chat.example.com"])
        try:
            rules = (await s3.client.get_bucket_cors(Bucket=s3.bucket))["CORSRules"]
        finally:
            await s3.close()
    assert rules[0]["AllowedOrigins"] == ["https://chat.example.com"]
    assert "PUT" in rules[0]["AllowedMethods"] and rules[0]["ExposeHeaders"] == ["ETag"]
