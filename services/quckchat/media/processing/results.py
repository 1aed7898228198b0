"""What processing a file gives back: its renditions and what was learnt from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

THUMBNAIL = "thumbnail"
PREVIEW = "preview"
POSTER = "poster"
SANITIZED = "sanitized"


@dataclass(frozen=True)
class Rendition:
    kind: str  # "thumbnail" | "preview" | "poster" | "sanitized"
    content_type: str  # "image/webp", "image/jpeg"
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Processed:
    renditions: tuple[Rendition, ...]
    width: int | None = None  # of the original (after orientation)
    height: int | None = None
    blurhash: str | None = None
    text: str | None = None
    had_location: bool = False  # the original carried GPS metadata
    generic: bool = False  # no preview could be made: the client shows a generic icon
    reason: str | None = None  # why generic (too many pixels, broken, unsupported, timed out)
    duration: float | None = None  # seconds, of a video whose container says


def generic(reason: str, *, text: str | None = None, had_location: bool = False) -> Processed:
    """A result with no preview: the client shows a generic icon, the file itself is kept."""
    return Processed((), text=text, had_location=had_location, generic=True, reason=reason)


def describe(error: Exception, path: Path) -> str:
    """What went wrong, in one line, without the file's path (libvips' cause is in `detail`)."""
    text = getattr(error, "detail", None) or str(error)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith("unable to")]
    found = (useful or lines or [type(error).__name__])[0]
    return found.replace(str(path), "the file")
