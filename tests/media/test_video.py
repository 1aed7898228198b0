"""Video: a poster frame by ffmpeg at 1 s (0 for a shorter clip), and the recording place."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from quckchat.media.processing import Limits, process
from tests.support import server
from tests.worlds import samples

pytestmark = pytest.mark.ffmpeg


@pytest.fixture(autouse=True)
def ffmpeg() -> None:
    """Debian's ffmpeg, which hack/testbed installs: missing, a failure under CI=true."""
    server("ffmpeg")


BLACK_THEN_WHITE = (
    "color=black:s=320x240:d=1[a];color=white:s=320x240:d=1[b];[a][b]concat=n=2:v=1:a=0"
)


def colour_of(data: bytes) -> tuple[int, ...]:
    value = Image.open(io.BytesIO(data)).convert("RGB").getpixel((10, 10))
    assert isinstance(value, tuple)
    return value


def test_a_clip_gets_a_poster_a_thumbnail_and_a_blurhash(tmp_path: Path) -> None:
    path = samples.clip(tmp_path / "test.mp4", "testsrc=size=640x360:rate=25:duration=2")

    processed = process(path, "video/mp4")

    assert not processed.generic, processed.reason
    assert (processed.width, processed.height) == (640, 360)
    sizes = {r.kind: (r.width, r.height, r.content_type) for r in processed.renditions}
    assert sizes == {"poster": (640, 360, "image/webp"), "thumbnail": (320, 180, "image/webp")}
    assert processed.blurhash is not None
    assert not processed.had_location


def test_the_poster_is_the_frame_at_one_second(tmp_path: Path) -> None:
    path = samples.clip(tmp_path / "fade.mp4", BLACK_THEN_WHITE)

    poster = next(r for r in process(path, "video/mp4").renditions if r.kind == "poster")

    assert colour_of(poster.data) > (240, 240, 240)


def test_a_clip_shorter_than_a_second_gets_its_first_frame(tmp_path: Path) -> None:
    path = samples.clip(tmp_path / "blink.mp4", "color=red:s=160x120:d=0.4")

    processed = process(path, "video/mp4")

    poster = next(r for r in processed.renditions if r.kind == "poster")
    red, green, blue = colour_of(poster.data)
    assert red > 200 and green < 40 and blue < 40


def test_a_clip_with_a_recording_place_reports_it(tmp_path: Path) -> None:
    path = samples.clip(
        tmp_path / "here.mp4",
        "testsrc=size=160x120:duration=1",
        "-metadata",
        "location=+37.7749-122.4194/",
    )

    processed = process(path, "video/mp4")

    assert processed.had_location and not processed.generic


def test_a_video_over_the_pixel_limit_is_not_decoded(tmp_path: Path) -> None:
    path = samples.clip(tmp_path / "wide.mp4", "testsrc=size=640x360:duration=1")

    processed = process(path, "video/mp4", Limits(max_pixels=640 * 360 - 1))

    assert processed.generic and processed.reason is not None
    assert "too many pixels" in processed.reason


def test_a_broken_video_is_generic(tmp_path: Path) -> None:
    whole = samples.clip(tmp_path / "whole.mp4", "testsrc=size=160x120:duration=1")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:500])

    processed = process(cut, "video/mp4")

    assert processed.generic and processed.renditions == ()
    assert processed.reason is not None


def test_a_4k_frame_fits_the_memory_cap(tmp_path: Path) -> None:
    """ffmpeg's default threads each took frame buffers: 4K went over 512 MiB with them."""
    path = samples.clip(
        tmp_path / "4k.mp4",
        "testsrc2=size=3840x2160:rate=25:duration=1.2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
    )

    processed = process(path, "video/mp4")

    assert not processed.generic, processed.reason
    assert (processed.width, processed.height) == (3840, 2160)
    sizes = {r.kind: (r.width, r.height) for r in processed.renditions}
    assert sizes == {"poster": (1600, 900), "thumbnail": (320, 180)}
