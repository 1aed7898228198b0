"""Sending stored bytes the way browsers and download managers expect: a single byte range
(206, or 416 when it lies past the end), ETag validators (304 for a copy the client has;
If-Range falls back to the whole when the bytes changed), cache headers, and a disposition
that never lets an uploaded page or script run on the platform's origin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from quckchat.core.errors import Problem
from quckchat.core.objects import ObjectInfo, ObjectStore

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Shown in the browser; everything else is downloaded (an uploaded HTML page or SVG never runs).
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "video/mp4",
        "video/webm",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "application/pdf",
        "text/plain",
    }
)
# Whatever is served is data, not a page of the platform's origin.
SAFETY = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(ValueError):
    """A range that starts past the end of the bytes."""


def byte_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for, clipped to the bytes; None for the whole (no header, or one this
    does not serve by parts: several ranges, another unit, a malformed one, as RFC 9110 allows)."""
    if header is None or (found := RANGE.match(header.strip())) is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        if int(last) == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(size - int(last), 0), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable(header)
    return ByteRange(start, end)


def disposition(name: str, content_type: str) -> str:
    """inline for what a browser shows safely, else attachment; the name in both forms."""
    kind = "inline" if content_type in INLINE_TYPES else "attachment"
    plain = name.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


async def send(
    request: Request,
    objects: ObjectStore,
    info: ObjectInfo,
    *,
    name: str,
    content_type: str,
    cache_control: str,
) -> Response:
    """The object (or the part asked for) as the answer to `request`, streamed."""
    etag = f'"{info.etag}"'
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "Accept-Ranges": "bytes",
        "Content-Disposition": disposition(name, content_type),
        **SAFETY,
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    ranged: ByteRange | None = None
    if_range = request.headers.get("if-range")
    if if_range is None or if_range.strip() == etag:
        try:
            ranged = byte_range(request.headers.get("range"), info.size)
        except Unsatisfiable as exc:
            raise Problem(
                416,
                f"the range starts past the last of the {info.size} bytes",
                slug="range-not-satisfiable",
                headers={"Content-Range": f"bytes */{info.size}"},
            ) from exc
    if ranged is None:
        status, length, start, end = 200, info.size, 0, None
    else:
        status, length, start, end = 206, ranged.length, ranged.start, ranged.end
        headers["Content-Range"] = f"bytes {ranged.start}-{ranged.end}/{info.size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD" or length == 0:
        return Response(status_code=status, headers=headers, media_type=content_type)
    return StreamingResponse(
        objects.stream(info.key, start=start, end=end),
        status_code=status,
        headers=headers,
        media_type=content_type,
    )
