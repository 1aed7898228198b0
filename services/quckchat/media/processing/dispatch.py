"""`process`: one file on disk in, its renditions and what was learnt from it out."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from quckchat.media.processing import office, sanitize
from quckchat.media.processing.formats import IMAGES, PDF, TEXT
from quckchat.media.processing.limits import Limits
from quckchat.media.processing.results import PREVIEW, SANITIZED, Processed, Rendition, generic
from quckchat.media.processing.sandbox import IMAGE_JOB, PDF_JOB, decode
from quckchat.media.processing.text import plain_text
from quckchat.media.processing.video import process_video

log = logging.getLogger(__name__)


def _image(path: Path, content_type: str, limits: Limits, deadline: float) -> Processed:
    """Renditions from the decoding subprocess, and the sanitized original if it had GPS."""
    made = decode(
        IMAGE_JOB, path, content_type, limits, kind=PREVIEW, seconds=deadline - time.monotonic()
    )
    if not made.had_location or content_type not in sanitize.SANITIZABLE:
        return made
    cleaned = sanitize.sanitized(path, content_type)
    if cleaned is None:
        return made
    original = Rendition(SANITIZED, content_type, made.width or 0, made.height or 0, cleaned)
    return dataclasses.replace(made, renditions=(*made.renditions, original))


def _office(path: Path, content_type: str, limits: Limits) -> Processed:
    try:
        text = office.office_text(path, content_type, limits.text_chars, limits.max_bytes)
    except office.BROKEN as error:
        return generic(f"broken document: {error}")
    return generic("documents get text, no preview", text=text)


def _dispatch(path: Path, content_type: str, limits: Limits, deadline: float) -> Processed:
    if content_type in IMAGES:
        return _image(path, content_type, limits, deadline)
    if content_type.startswith("video/"):
        return process_video(path, limits, deadline)
    if content_type == PDF:
        seconds = deadline - time.monotonic()
        return decode(PDF_JOB, path, content_type, limits, kind=PREVIEW, seconds=seconds)
    if content_type in office.FORMATS:
        return _office(path, content_type, limits)
    if content_type == TEXT:
        return generic("text gets no preview", text=plain_text(path, limits.text_chars))
    return generic(f"unsupported type: {content_type}")


def process(path: Path, content_type: str, limits: Limits = Limits()) -> Processed:
    """Renditions, placeholder and text of the file at `path`, whose type was sniffed as
    `content_type`. Blocks (run it in a worker thread or process). Never raises for bad input:
    a file too large, broken, hostile or of an unsupported type gives a generic result."""
    deadline = time.monotonic() + limits.seconds
    try:
        size = path.stat().st_size
    except OSError as error:
        return generic(f"unreadable: {error.strerror}")
    if size > limits.max_bytes:
        return generic(f"too large: {size} bytes over {limits.max_bytes}")
    kind = content_type.partition(";")[0].strip().lower()
    try:
        return _dispatch(path, kind, limits, deadline)
    # A bug here must not lose the upload either: it is logged, and the file shown as generic.
    except Exception:
        log.exception("processing %s (%s) failed", path, kind)
        return generic("processing failed")
