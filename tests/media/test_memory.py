"""Bounded memory: a 60-megapixel PNG (180 MB of pixels once decoded whole, as Pillow would)
gets its thumbnail and preview from a decoding process that stays far below that."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyvips

from quckchat.media.processing.sandbox import IMPORT_ROOT

WIDTH, HEIGHT = 9600, 6400  # 61.4 MP
# Peak RSS of the decoding subprocess, the interpreter and libvips (about 30 MB) included.
PEAK_LIMIT_MIB = 150
# A fresh interpreter runs `process`, so that RUSAGE_CHILDREN covers its decoding subprocess only.
MEASURE = """
import json, resource, sys
from pathlib import Path
from quckchat.media.processing import process
processed = process(Path(sys.argv[1]), "image/png")
print(json.dumps({
    "reason": processed.reason,
    "size": [processed.width, processed.height],
    "renditions": {r.kind: [r.width, r.height] for r in processed.renditions},
    "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def gradient_png(path: Path) -> Path:
    """Written by libvips strip by strip, so making it costs little memory or time."""
    x, y = pyvips.Image.xyz(WIDTH, HEIGHT).bandsplit()
    red, green = (x * 255 / WIDTH).cast("uchar"), (y * 255 / HEIGHT).cast("uchar")
    red.bandjoin([green, (green * 0 + 128).cast("uchar")]).pngsave(str(path), compression=6)
    return path


def test_a_60_megapixel_png_is_previewed_within_the_memory_cap(tmp_path: Path) -> None:
    path = gradient_png(tmp_path / "huge.png")

    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONPATH": IMPORT_ROOT},
    )
    measured = json.loads(done.stdout)

    assert measured["reason"] is None
    assert measured["size"] == [WIDTH, HEIGHT]
    assert measured["renditions"] == {"thumbnail": [320, 213], "preview": [1600, 1067]}
    assert measured["peak_kib"] / 1024 < PEAK_LIMIT_MIB


def test_the_calling_process_loads_no_decoder() -> None:
    """Decoders live in the subprocess only: the service's own memory stays small and whole."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, quckchat.media.processing; print(*sorted(sys.modules))",
        ],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONPATH": IMPORT_ROOT},
    )
    loaded = set(done.stdout.decode().split())

    assert not loaded & {"pyvips", "pillow_heif", "pypdfium2", "blurhash", "PIL"}
