"""Video: a poster frame by ffmpeg (Debian's), made into renditions by the decoding subprocess.

ffprobe and ffmpeg run as subprocesses under RLIMIT_AS and the time left. The frame is taken
at 1 s (past fade-ins and black first frames), or at 0 for a shorter clip; ffmpeg applies the
stream's rotation, so the frame is as displayed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from quckchat.media.processing.formats import TIFF
from quckchat.media.processing.limits import SUBPROCESS_ENV, Limits, capped_memory
from quckchat.media.processing.results import POSTER, Processed, generic
from quckchat.media.processing.sandbox import IMAGE_JOB, decode

FFMPEG = "/usr/bin/ffmpeg"
FFPROBE = "/usr/bin/ffprobe"
POSTER_AT = 1.0
# An idle ffmpeg already maps 261 MiB of address space (its libraries): on top of the data cap.
LIBRARY_ADDRESS_SPACE = 256 * 1024**2
# One thread each to decode, filter and encode: a 4K 10-bit HEVC frame then fits the cap.
ONE_THREAD = ("-threads", "1")
# Uncompressed TIFF: nothing to compress in ffmpeg, and libvips streams it back in.
FRAME_NAME = "frame.tif"
FRAME_TYPE = TIFF
# Metadata keys of a recording place: QuickTime's ISO 6709 key and ffmpeg's `location` (©xyz).
LOCATION_KEYS = ("location", "com.apple.quicktime.location.iso6709")


class ToolFailed(Exception):
    """ffprobe or ffmpeg could not do its part: the message says why."""


def _run(command: list[str], limits: Limits, deadline: float) -> bytes:
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=max(deadline - time.monotonic(), 0.0),
            preexec_fn=capped_memory(limits.memory_bytes + LIBRARY_ADDRESS_SPACE),
            env=SUBPROCESS_ENV,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ToolFailed(f"timed out after {limits.seconds:g} s") from error
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise ToolFailed(f"broken video: {lines[-1] if lines else done.returncode}")
    return done.stdout


def _probe(path: Path, limits: Limits, deadline: float) -> dict[str, Any]:
    """ffprobe's JSON for the first video stream's size and the container's duration and tags."""
    entries = "stream=width,height:format=duration:format_tags"
    out = _run(
        [
            FFPROBE,
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            entries,
            "-of",
            "json",
            str(path),
        ],
        limits,
        deadline,
    )
    try:
        probed = json.loads(out)
    except ValueError as error:
        raise ToolFailed("ffprobe's answer was unreadable") from error
    if not isinstance(probed, dict) or not probed.get("streams"):
        raise ToolFailed("no video stream")
    return probed


def _had_location(probed: dict[str, Any]) -> bool:
    tags = probed.get("format", {}).get("tags", {})
    return any(key.lower().startswith(LOCATION_KEYS) for key in tags)


def _too_many_pixels(probed: dict[str, Any], limits: Limits) -> str | None:
    stream = probed["streams"][0]
    width, height = stream.get("width"), stream.get("height")
    if isinstance(width, int) and isinstance(height, int) and width * height > limits.max_pixels:
        return f"too many pixels: {width}x{height} over {limits.max_pixels}"
    return None


def _duration(probed: dict[str, Any]) -> float | None:
    """The container's duration in seconds, when it says one."""
    try:
        duration = float(probed.get("format", {}).get("duration", "nan"))
    except (TypeError, ValueError):
        return None
    return duration if math.isfinite(duration) and duration >= 0 else None


def _starts(probed: dict[str, Any]) -> list[float]:
    """Where to try for a frame: at POSTER_AT unless the clip is known to be shorter, then 0."""
    duration = _duration(probed)
    return [0.0] if duration is not None and duration < POSTER_AT else [POSTER_AT, 0.0]


def _frame(path: Path, folder: Path, at: float, limits: Limits, deadline: float) -> Path | None:
    """One frame at `at` seconds as an uncompressed TIFF, or None past the end of the clip."""
    frame = folder / FRAME_NAME
    source = ["-ss", f"{at:g}", *ONE_THREAD, "-i", str(path)]
    one_frame = ["-frames:v", "1", "-an", "-sn", "-dn", "-filter_threads", "1", *ONE_THREAD]
    output = ["-pix_fmt", "rgb24", "-c:v", "tiff", "-update", "1", "-y", str(frame)]
    _run([FFMPEG, "-nostdin", "-v", "error", *source, *one_frame, *output], limits, deadline)
    return frame if frame.exists() and frame.stat().st_size > 0 else None


def process_video(path: Path, limits: Limits, deadline: float) -> Processed:
    """Poster and thumbnail of a frame; width and height of the video as displayed."""
    located = False
    try:
        probed = _probe(path, limits, deadline)
        located = _had_location(probed)
        too_many = _too_many_pixels(probed, limits)
        if too_many:
            return generic(too_many, had_location=located)
        with tempfile.TemporaryDirectory(prefix="quckchat-poster-") as folder:
            for at in _starts(probed):
                frame = _frame(path, Path(folder), at, limits, deadline)
                if frame is not None:
                    seconds = deadline - time.monotonic()
                    made = decode(
                        IMAGE_JOB, frame, FRAME_TYPE, limits, kind=POSTER, seconds=seconds
                    )
                    return dataclasses.replace(
                        made, had_location=located, duration=_duration(probed)
                    )
    except ToolFailed as error:
        return generic(str(error).replace(str(path), "the file"), had_location=located)
    return generic("no frame could be decoded", had_location=located)
