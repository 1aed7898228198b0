"""Media processing figures (issue 12): time and peak RSS to make a thumbnail and a preview.

`python -m bench.media`. Inputs are made on the spot in a temporary folder: a 12 MP JPEG and
60 MP PNGs (a smooth gradient, and camera-like noise that hardly compresses). Each figure comes
from a fresh interpreter, so a peak RSS is that of one job alone:
- `process`: the whole call (decoding subprocess started, renditions, blurhash); the peak is
  the decoding subprocess's (RUSAGE_CHILDREN);
- `pillow`: the rejected path, Pillow in-process (draft mode for JPEG, which PNG lacks);
- `worker idle`: the decoding subprocess on a 16x16 image, its floor (interpreter, libraries).
Also the preview's encode time as WebP and as JPEG, which decided the renditions' format.
"""

from __future__ import annotations

import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.stats import figure
from quckchat.media.processing.sandbox import IMPORT_ROOT

RUNS = 3
PREVIEW_BOX, THUMBNAIL_BOX = 1600, 320


def _make_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    import pyvips

    def picture(width: int, height: int, *, noise: bool) -> pyvips.Image:
        """Red and green gradients; blue flat, or noise that defeats compression."""
        x, y = pyvips.Image.xyz(width, height).bandsplit()
        blue = (
            pyvips.Image.gaussnoise(width, height, mean=128, sigma=30)
            if noise
            else pyvips.Image.black(width, height) + 128
        )
        return (x * 255 / width).bandjoin([y * 255 / height, blue]).cast("uchar")

    jpeg, png, png_noise, tiny = (
        folder / "12mp.jpg",
        folder / "60mp.png",
        folder / "60mp-noise.png",
        folder / "tiny.png",
    )
    picture(4000, 3000, noise=True).jpegsave(str(jpeg), Q=90)
    picture(9600, 6400, noise=False).pngsave(str(png), compression=6)
    picture(9600, 6400, noise=True).pngsave(str(png_noise), compression=6)
    picture(16, 16, noise=False).pngsave(str(tiny))
    return {
        "12 MP JPEG": (jpeg, "image/jpeg"),
        "60 MP PNG, gradient": (png, "image/png"),
        "60 MP PNG, noise": (png_noise, "image/png"),
        "tiny PNG": (tiny, "image/png"),
    }


def _measure_process(path: Path, content_type: str) -> dict[str, float]:
    from quckchat.media.processing import process

    started = time.perf_counter()
    processed = process(path, content_type)
    seconds = time.perf_counter() - started
    assert not processed.generic, processed.reason
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak}


def _measure_pillow(path: Path, _content_type: str) -> dict[str, float]:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    started = time.perf_counter()
    with Image.open(path) as image:
        image.draft("RGB", (PREVIEW_BOX, PREVIEW_BOX))
        image.thumbnail((PREVIEW_BOX, PREVIEW_BOX))
        image.save(io.BytesIO(), "WEBP", quality=80)
        small = image.copy()
        small.thumbnail((THUMBNAIL_BOX, THUMBNAIL_BOX))
        small.save(io.BytesIO(), "WEBP", quality=80)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak}


def _measure_encoders(path: Path, _content_type: str) -> dict[str, float]:
    import pyvips

    preview = pyvips.Image.thumbnail(str(path), PREVIEW_BOX, height=PREVIEW_BOX).copy_memory()
    figures = {}
    for name, save in [
        ("webp, effort 2", lambda: preview.webpsave_buffer(Q=80, effort=2, keep="none")),
        ("webp, effort 4", lambda: preview.webpsave_buffer(Q=80, effort=4, keep="none")),
        ("jpeg", lambda: preview.jpegsave_buffer(Q=80, keep="none")),
    ]:
        started = time.perf_counter()
        data = save()
        figures[f"{name}_ms"] = (time.perf_counter() - started) * 1000
        figures[f"{name}_kib"] = len(data) / 1024
    return figures


MEASURES = {"process": _measure_process, "pillow": _measure_pillow, "encoders": _measure_encoders}


def _in_fresh_interpreter(measure: str, path: Path, content_type: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.media", measure, str(path), content_type],
        capture_output=True,
        check=True,
        env={"PYTHONPATH": f"{IMPORT_ROOT}:{Path(__file__).resolve().parent.parent}"},
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def _runs(measure: str, path: Path, content_type: str) -> tuple[float, float]:
    """Median time (s) and largest peak RSS (MiB) over RUNS fresh interpreters."""
    runs = [_in_fresh_interpreter(measure, path, content_type) for _ in range(RUNS)]
    return (
        statistics.median(r["seconds"] for r in runs),
        max(r["peak_mib"] for r in runs),
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="quckchat-bench-media-") as folder:
        inputs = _make_inputs(Path(folder))
        tiny_path, tiny_type = inputs.pop("tiny PNG")
        _, floor = _runs("process", tiny_path, tiny_type)
        figure("media: decoding subprocess idle (floor)", floor, "MiB", "peak RSS, 16x16 PNG")
        for name, (path, content_type) in inputs.items():
            size = path.stat().st_size / 1024**2
            for measure in ("process", "pillow"):
                seconds, peak = _runs(measure, path, content_type)
                label = f"media {measure}: {name}"
                figure(label, seconds * 1000, "ms", f"({size:.0f} MiB file; median of {RUNS})")
                note = f"(+{peak - floor:.0f} over the floor)" if measure == "process" else ""
                figure(f"{label}, peak RSS", peak, "MiB", note)
        path, content_type = inputs["12 MP JPEG"]
        encoded = _in_fresh_interpreter("encoders", path, content_type)
        for codec in ("webp, effort 2", "webp, effort 4", "jpeg"):
            note = f"({encoded[f'{codec}_kib']:.0f} KiB)"
            figure(
                f"media: encode 1600x1200 preview as {codec}", encoded[f"{codec}_ms"], "ms", note
            )


if __name__ == "__main__":
    if len(sys.argv) == 4:
        print(json.dumps(MEASURES[sys.argv[1]](Path(sys.argv[2]), sys.argv[3])))
    else:
        main()
