"""Object storage (file bytes, previews): any S3-compatible server, or a local folder by default.

Both backends answer the same calls. Clients upload straight to the store with presigned
requests: a PUT for a small file, presigned parts of a multipart upload for a large one. The
local backend signs its URLs itself (HMAC) and `accept_signed_put` takes them, so `make run`
works without an S3 server and the service routes one path for both.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from quckchat.core import logging as qlog

if TYPE_CHECKING:
    from quckchat.core.settings import Settings

log = qlog.get("objects")
# Completion errors that are the client's: the parts it named are not those in the store.
REJECTED_PARTS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall"})
# Where uploads are staged before they are checked; the store expires what is left there.
STAGING_PREFIX = "uploads/"
LEFTOVER_DAYS = 7
# S3's own limits: a part is at least 5 MiB (but the last), at most 10,000 parts.
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
CHUNK = 256 * 1024
# The local store's signed URLs for reading say so, so that none of them takes an upload.
READ = "GET"


class ObjectMissing(LookupError):
    """No object (or no multipart upload) under that key."""


class SignatureRejected(PermissionError):
    """A presigned request that is forged, expired, or for another object."""


class PartsRejected(ValueError):
    """A multipart completion the store refuses: a part missing, too small, or not the one
    sent (a client's mistake; the upload stays open)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str | None = None


@dataclass(frozen=True)
class Presigned:
    """A request a client makes itself: where, and the headers it must send as signed."""

    url: str
    method: str = "PUT"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    number: int
    etag: str
    # Known when the store lists the part; None in what a client says it sent.
    size: int | None = None


class ObjectStore(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...
    async def put(self, key: str, data: bytes, *, content_type: str) -> ObjectInfo: ...
    async def head(self, key: str) -> ObjectInfo | None: ...
    async def read(self, key: str, *, start: int = 0, end: int | None = None) -> bytes: ...
    def stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]: ...
    async def delete(self, key: str) -> None: ...
    async def presign_put(
        self, key: str, *, content_type: str, size: int, expires: int
    ) -> Presigned: ...
    async def presign_get(self, key: str, *, expires: int) -> Presigned: ...
    async def create_multipart(self, key: str, *, content_type: str) -> str: ...
    async def presign_part(
        self, key: str, upload_id: str, number: int, *, size: int, expires: int
    ) -> Presigned: ...
    async def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> Part: ...
    async def list_parts(self, key: str, upload_id: str) -> list[Part]: ...
    async def complete_multipart(
        self, key: str, upload_id: str, parts: list[Part]
    ) -> ObjectInfo: ...
    async def abort_multipart(self, key: str, upload_id: str) -> None: ...
    async def copy(self, source: str, target: str) -> ObjectInfo: ...
    async def delete_prefix(self, prefix: str) -> None: ...


def _etag(raw: str) -> str:
    return raw.strip('"')


class S3Objects:
    """One bucket on an S3-compatible server, through aiobotocore (path-style addressing)."""

    def __init__(
        self,
        endpoint: str,
        *,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        public_endpoint: str | None = None,
        cors_origins: list[str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.bucket = bucket
        self.cors_origins = cors_origins or []
        self._args: dict[str, Any] = {
            "region_name": region,
            "aws_access_key_id": access_key,
            "aws_secret_access_key": secret_key,
            "config": AioConfig(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        }
        self._endpoint = endpoint
        # Presigned URLs name the host a client reaches, which inside a cluster may differ.
        self._public_endpoint = public_endpoint or endpoint
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._signer: Any = None

    async def start(self) -> None:
        session = get_session()
        self._client = await self._stack.enter_async_context(
            session.create_client("s3", endpoint_url=self._endpoint, **self._args)
        )
        self._signer = self._client
        if self._public_endpoint != self._endpoint:
            self._signer = await self._stack.enter_async_context(
                session.create_client("s3", endpoint_url=self._public_endpoint, **self._args)
            )
        with contextlib.suppress(ClientError):
            # Made once; an existing bucket of ours (or one we may not create) is left as is.
            await self._client.create_bucket(Bucket=self.bucket)
        if self.cors_origins:
            await self._allow_browsers()
        await self._expire_leftovers()

    async def _expire_leftovers(self) -> None:
        """What an upload left unfinished goes after a few days, whatever crashed meanwhile."""
        rules = [
            {
                "ID": "abandoned-multipart",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": LEFTOVER_DAYS},
            },
            {
                "ID": "staged-uploads",
                "Status": "Enabled",
                "Filter": {"Prefix": STAGING_PREFIX},
                "Expiration": {"Days": LEFTOVER_DAYS},
            },
        ]
        ours = {rule["ID"] for rule in rules}
        try:
            try:
                found = await self._client.get_bucket_lifecycle_configuration(Bucket=self.bucket)
                # A bucket's rules are one document: keep those someone else set.
                rules += [r for r in found.get("Rules", []) if r.get("ID") not in ours]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
                    raise
            await self._client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket, LifecycleConfiguration={"Rules": rules}
            )
        except ClientError as exc:  # the file service's upkeep still removes what it knows of
            log.warning("no lifecycle rules on bucket %s: %s", self.bucket, exc)

    async def _allow_browsers(self) -> None:
        """Let web clients PUT presigned uploads and read the ETag of each part."""
        rule = {
            "AllowedOrigins": self.cors_origins,
            "AllowedMethods": ["GET", "HEAD", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3600,
        }
        try:
            await self._client.put_bucket_cors(
                Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]}
            )
        except ClientError as exc:  # a store that keeps CORS elsewhere still serves the rest
            log.warning("could not set CORS on bucket %s: %s", self.bucket, exc)

    async def close(self) -> None:
        await self._stack.aclose()

    @property
    def client(self) -> Any:
        """The aiobotocore S3 client, for what this interface does not cover (tests, tools)."""
        return self._client

    async def ping(self) -> None:
        await self._client.head_bucket(Bucket=self.bucket)

    async def put(self, key: str, data: bytes, *, content_type: str) -> ObjectInfo:
        answer = await self._client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
        )
        return ObjectInfo(key, len(data), _etag(answer["ETag"]), content_type)

    async def head(self, key: str) -> ObjectInfo | None:
        try:
            answer = await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise
        return ObjectInfo(
            key, answer["ContentLength"], _etag(answer["ETag"]), answer.get("ContentType")
        )

    async def read(self, key: str, *, start: int = 0, end: int | None = None) -> bytes:
        return b"".join([chunk async for chunk in self.stream(key, start=start, end=end)])

    async def stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """The bytes from `start` to `end` (inclusive; None: to the last), a chunk at a time."""
        # No Range for the whole object: a range of an empty object is refused (416).
        ranged = (
            {}
            if start == 0 and end is None
            else {"Range": f"bytes={start}-{'' if end is None else end}"}
        )
        try:
            answer = await self._client.get_object(Bucket=self.bucket, Key=key, **ranged)
        except ClientError as exc:
            if _status(exc) == 404:
                raise ObjectMissing(key) from exc
            raise
        async with answer["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self.bucket, Key=key)

    async def presign_put(
        self, key: str, *, content_type: str, size: int, expires: int
    ) -> Presigned:
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
        }
        url = await self._signer.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=expires
        )
        return Presigned(url, headers={"Content-Type": content_type})

    async def presign_get(self, key: str, *, expires: int) -> Presigned:
        params = {"Bucket": self.bucket, "Key": key}
        url = await self._signer.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires
        )
        return Presigned(url, method="GET")

    async def create_multipart(self, key: str, *, content_type: str) -> str:
        answer = await self._client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return str(answer["UploadId"])

    async def presign_part(
        self, key: str, upload_id: str, number: int, *, size: int, expires: int
    ) -> Presigned:
        # The length is signed: a part URL takes exactly the bytes planned for it.
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": number,
            "ContentLength": size,
        }
        url = await self._signer.generate_presigned_url(
            "upload_part", Params=params, ExpiresIn=expires
        )
        return Presigned(url)

    async def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> Part:
        try:
            answer = await self._client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
        except ClientError as exc:
            raise _missing_upload(exc, key) from exc
        return Part(number, _etag(answer["ETag"]), len(data))

    async def list_parts(self, key: str, upload_id: str) -> list[Part]:
        parts: list[Part] = []
        marker = 0
        while True:
            try:
                answer = await self._client.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
            except ClientError as exc:
                raise _missing_upload(exc, key) from exc
            parts += [
                Part(p["PartNumber"], _etag(p["ETag"]), p.get("Size"))
                for p in answer.get("Parts", [])
            ]
            if not answer.get("IsTruncated"):
                return parts
            marker = int(answer["NextPartNumberMarker"])

    async def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> ObjectInfo:
        done = {"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]}
        try:
            await self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload=done
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in REJECTED_PARTS:
                raise PartsRejected(f"{code}: {exc}") from exc
            raise _missing_upload(exc, key) from exc
        info = await self.head(key)
        if info is None:
            raise ObjectMissing(key)
        return info

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(ObjectMissing):
            try:
                await self._client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            except ClientError as exc:
                raise _missing_upload(exc, key) from exc

    async def copy(self, source: str, target: str) -> ObjectInfo:
        """The object under a second key, copied inside the store (up to 5 GB)."""
        try:
            await self._client.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
            )
        except ClientError as exc:
            if _status(exc) == 404 or exc.response.get("Error", {}).get("Code") == "NoSuchKey":
                raise ObjectMissing(source) from exc
            raise
        info = await self.head(target)
        if info is None:
            raise ObjectMissing(target)
        return info

    async def delete_prefix(self, prefix: str) -> None:
        """Every object whose key starts with `prefix`, gone."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        async for page in pages:
            for item in page.get("Contents", []):
                await self._client.delete_object(Bucket=self.bucket, Key=item["Key"])


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _missing_upload(exc: ClientError, key: str) -> Exception:
    code = exc.response.get("Error", {}).get("Code")
    return ObjectMissing(key) if code in {"NoSuchUpload", "NoSuchKey"} else exc


class LocalObjects:
    """Objects as files under a folder; presigned requests are HMAC-signed URLs of `base_url`,
    where the owning service routes them to `accept_signed_put`."""

    def __init__(self, root: Path, *, base_url: str, secret: bytes) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self._secret = secret

    async def start(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        if not await asyncio.to_thread(self.root.is_dir):
            raise ObjectMissing(str(self.root))

    def _path(self, key: str) -> Path:
        folder = (self.root / "objects").resolve()
        path = (folder / key).resolve()
        if path == folder or not path.is_relative_to(folder):
            raise ObjectMissing(key)
        return path

    def _meta(self, key: str) -> Path:
        return (
            self.root
            / "meta"
            / f"{self._path(key).relative_to(self.root.resolve() / 'objects')}.json"
        )

    def _upload(self, upload_id: str) -> Path:
        if not upload_id.isalnum():
            raise ObjectMissing(upload_id)
        return self.root / "uploads" / upload_id

    async def put(self, key: str, data: bytes, *, content_type: str) -> ObjectInfo:
        info = ObjectInfo(
            key, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(), content_type
        )
        await asyncio.to_thread(self._write, key, data, info)
        return info

    def _write(self, key: str, data: bytes, info: ObjectInfo) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._meta(key).parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        temp.write_bytes(data)
        self._meta(key).write_text(json.dumps({"etag": info.etag, "type": info.content_type}))
        os.replace(temp, path)

    async def head(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._head, key)

    def _head(self, key: str) -> ObjectInfo | None:
        try:
            size = self._path(key).stat().st_size
            meta = json.loads(self._meta(key).read_text())
        except (FileNotFoundError, ObjectMissing):
            return None
        return ObjectInfo(key, size, meta["etag"], meta["type"])

    async def read(self, key: str, *, start: int = 0, end: int | None = None) -> bytes:
        return b"".join([chunk async for chunk in self.stream(key, start=start, end=end)])

    async def stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        try:
            handle = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        with handle:
            handle.seek(start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                chunk = await asyncio.to_thread(
                    handle.read, CHUNK if left is None else min(CHUNK, left)
                )
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    async def delete(self, key: str) -> None:
        def remove() -> None:
            for path in (self._path(key), self._meta(key)):
                path.unlink(missing_ok=True)

        await asyncio.to_thread(remove)

    def _sign(self, fields: dict[str, str]) -> str:
        text = json.dumps(fields, sort_keys=True).encode()
        return (
            base64.urlsafe_b64encode(hmac.digest(self._secret, text, "sha256")).decode().rstrip("=")
        )

    def _signed_url(self, key: str, fields: dict[str, str]) -> str:
        query = {**fields, "signature": self._sign({"key": key, **fields})}
        return f"{self.base_url}/{quote(key)}?{urlencode(query)}"

    async def presign_put(
        self, key: str, *, content_type: str, size: int, expires: int
    ) -> Presigned:
        fields = {
            "expires": str(int(time.time()) + expires),
            "type": content_type,
            "size": str(size),
        }
        return Presigned(self._signed_url(key, fields), headers={"Content-Type": content_type})

    async def presign_get(self, key: str, *, expires: int) -> Presigned:
        fields = {"expires": str(int(time.time()) + expires), "method": READ}
        return Presigned(self._signed_url(key, fields), method="GET")

    async def create_multipart(self, key: str, *, content_type: str) -> str:
        upload_id = secrets.token_hex(16)
        folder = self._upload(upload_id)

        def make() -> None:
            folder.mkdir(parents=True)
            (folder / "upload.json").write_text(json.dumps({"key": key, "type": content_type}))

        await asyncio.to_thread(make)
        return upload_id

    async def presign_part(
        self, key: str, upload_id: str, number: int, *, size: int, expires: int
    ) -> Presigned:
        fields = {
            "expires": str(int(time.time()) + expires),
            "upload": upload_id,
            "part": str(number),
            "size": str(size),
        }
        return Presigned(self._signed_url(key, fields))

    def _upload_of(self, key: str, upload_id: str) -> dict[str, str]:
        try:
            upload: dict[str, str] = json.loads(
                (self._upload(upload_id) / "upload.json").read_text()
            )
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        if upload["key"] != key:
            raise ObjectMissing(key)
        return upload

    async def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> Part:
        def write() -> Part:
            self._upload_of(key, upload_id)
            digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
            part = Part(number, digest, len(data))
            path = self._upload(upload_id) / f"{number:05d}.part"
            temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            temp.write_bytes(data)
            os.replace(temp, path)
            return part

        return await asyncio.to_thread(write)

    async def list_parts(self, key: str, upload_id: str) -> list[Part]:
        def parts() -> list[Part]:
            self._upload_of(key, upload_id)
            found = sorted(self._upload(upload_id).glob("*.part"))
            return [
                Part(
                    int(p.stem),
                    hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest(),
                    p.stat().st_size,
                )
                for p in found
            ]

        return await asyncio.to_thread(parts)

    async def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> ObjectInfo:
        def complete() -> ObjectInfo:
            upload = self._upload_of(key, upload_id)
            folder = self._upload(upload_id)
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._meta(key).parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
            digests = b""
            with temp.open("wb") as out:
                for part in parts:
                    path = folder / f"{part.number:05d}.part"
                    data = path.read_bytes() if path.exists() else b""
                    digest = hashlib.md5(data, usedforsecurity=False)
                    if not path.exists() or digest.hexdigest() != part.etag:
                        temp.unlink(missing_ok=True)
                        raise PartsRejected(f"part {part.number} is not the one in the store")
                    digests += digest.digest()
                    out.write(data)
            etag = f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"
            info = ObjectInfo(key, temp.stat().st_size, etag, upload["type"])
            self._meta(key).write_text(json.dumps({"etag": etag, "type": upload["type"]}))
            os.replace(temp, target)
            shutil.rmtree(folder, ignore_errors=True)
            return info

        return await asyncio.to_thread(complete)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._upload(upload_id), True)

    def _signed_fields(self, key: str, query: dict[str, str]) -> dict[str, str]:
        """The fields of a URL this store signed for `key`, unexpired; else SignatureRejected."""
        fields = {k: v for k, v in query.items() if k != "signature"}
        expected = self._sign({"key": key, **fields}).encode()
        if not hmac.compare_digest(expected, query.get("signature", "").encode()):
            raise SignatureRejected("the signature does not match this request")
        if int(fields["expires"]) < time.time():
            raise SignatureRejected("the signed URL has expired")
        return fields

    def verify(self, key: str, query: dict[str, str]) -> int:
        """The body size a URL this store signed takes; SignatureRejected for any other URL
        (checked before a byte of the body is read)."""
        fields = self._signed_fields(key, query)
        if fields.get("method") == READ or "size" not in fields:
            raise SignatureRejected("the URL was signed for reading, not for an upload")
        return int(fields["size"])

    async def open_signed_get(self, key: str, query: dict[str, str]) -> ObjectInfo:
        """The object a URL this store signed for reading names (ObjectMissing when gone);
        SignatureRejected for any other URL, an upload's included."""
        if self._signed_fields(key, query).get("method") != READ:
            raise SignatureRejected("the URL was not signed for reading")
        info = await self.head(key)
        if info is None:
            raise ObjectMissing(key)
        return info

    async def accept_signed_put(
        self, key: str, query: dict[str, str], content_type: str, data: bytes
    ) -> ObjectInfo | Part:
        """Take what a client sends to a URL this store signed: a whole object or one part."""
        self.verify(key, query)
        fields = {k: v for k, v in query.items() if k != "signature"}
        if int(fields["size"]) != len(data):
            raise SignatureRejected(f"{len(data)} bytes sent where {fields['size']} were signed")
        if "upload" in fields:
            return await self.upload_part(key, fields["upload"], int(fields["part"]), data)
        if fields.get("type") != content_type:
            raise SignatureRejected("the content type differs from what was signed")
        return await self.put(key, data, content_type=content_type)

    async def delete_prefix(self, prefix: str) -> None:
        """Every object under the folder `prefix` (ending in `/`), gone."""
        if not prefix.endswith("/"):
            raise ValueError("the local store deletes whole folders: end the prefix with /")
        folder = self._path(prefix.rstrip("/"))
        meta = self.root / "meta" / folder.relative_to((self.root / "objects").resolve())

        def remove() -> None:
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(meta, ignore_errors=True)

        await asyncio.to_thread(remove)

    async def copy(self, source: str, target: str) -> ObjectInfo:
        def copy() -> ObjectInfo:
            info = self._head(source)
            if info is None:
                raise ObjectMissing(source)
            path = self._path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._meta(target).parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            try:
                shutil.copyfile(self._path(source), temp)
            except FileNotFoundError as exc:  # removed since it was looked at
                raise ObjectMissing(source) from exc
            self._meta(target).write_text(
                json.dumps({"etag": info.etag, "type": info.content_type})
            )
            os.replace(temp, path)
            return ObjectInfo(target, info.size, info.etag, info.content_type)

        return await asyncio.to_thread(copy)


# Where the file service takes what clients send to the local store's signed URLs.
LOCAL_ROUTE = "/api/v1/files/objects"


def objects_for(settings: Settings) -> ObjectStore:
    """The S3 server the settings name, else the local folder under the data directory."""
    if settings.s3_endpoint:
        return S3Objects(
            settings.s3_endpoint,
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
            public_endpoint=settings.s3_public_endpoint,
            cors_origins=settings.cors_origins,
        )
    root = settings.data_dir / "objects"
    return LocalObjects(
        root, base_url=settings.public_origin() + LOCAL_ROUTE, secret=_local_key(root)
    )


def _local_key(root: Path) -> bytes:
    """The local store's signing key: made once, shared by every service on the data dir."""
    path = root / "signing.key"
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        temp = root / f".signing.key.{secrets.token_hex(4)}"
        temp.write_bytes(secrets.token_bytes(32))
        # A link appears whole or not at all; the first service to make it wins.
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
        temp.unlink()
    return path.read_bytes()
