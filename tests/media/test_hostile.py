"""Broken, truncated, hostile, oversized or unsupported files: a generic result with a reason,
quickly, and never an exception."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from quckchat.media.processing import Limits, Processed, process
from tests.worlds import samples

# Generous: a decoder that took the bait would need minutes (or run out of memory) instead.
QUICKLY = 10.0


def processed_quickly(path: Path, content_type: str, limits: Limits = Limits()) -> Processed:
    started = time.monotonic()
    processed = process(path, content_type, limits)
    assert time.monotonic() - started < QUICKLY
    return processed


def assert_generic(processed: Processed, *words: str) -> None:
    assert processed.generic
    assert processed.renditions == ()
    assert processed.reason is not None
    for word in words:
        assert word in processed.reason


def test_a_truncated_jpeg_is_broken(tmp_path: Path) -> None:
    whole = samples.image_file(tmp_path / "whole.jpg", samples.halves(1200, 800), quality=95)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    assert_generic(processed_quickly(cut, "image/jpeg"), "broken", "premature end")


def test_random_bytes_are_broken(tmp_path: Path) -> None:
    noise = tmp_path / "noise.jpg"
    noise.write_bytes(os.urandom(64 * 1024))

    for content_type in ["image/jpeg", "image/png", "image/heic", "application/pdf", "video/mp4"]:
        assert_generic(processed_quickly(noise, content_type))


@pytest.mark.parametrize("side", [200_000, 20_000])
def test_a_png_claiming_too_many_pixels_is_never_decoded(tmp_path: Path, side: int) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(samples.png_claiming(side, side))

    assert_generic(processed_quickly(bomb, "image/png"), "too many pixels", f"{side}x{side}")


def test_the_pixel_limit_is_the_callers(tmp_path: Path) -> None:
    path = samples.image_file(tmp_path / "fine.png", samples.halves(200, 100))

    assert_generic(process(path, "image/png", Limits(max_pixels=19_999)), "too many pixels")
    assert not process(path, "image/png", Limits(max_pixels=20_000)).generic


def test_a_file_over_max_bytes_is_not_opened(tmp_path: Path) -> None:
    path = samples.image_file(tmp_path / "big.png", samples.halves(200, 100))

    assert_generic(process(path, "image/png", Limits(max_bytes=100)), "too large")


def test_a_decoder_out_of_its_memory_cap_costs_a_generic_result(tmp_path: Path) -> None:
    """A cap too small for the decoder: the subprocess fails, the caller gets a reason."""
    path = samples.image_file(tmp_path / "fine.jpg", samples.halves(2000, 1000))

    assert_generic(process(path, "image/jpeg", Limits(memory_bytes=32 * 1024**2)), "decoder")


def test_a_decoder_past_its_time_is_stopped(tmp_path: Path) -> None:
    path = samples.image_file(tmp_path / "fine.jpg", samples.halves(2000, 1000))

    assert_generic(process(path, "image/jpeg", Limits(seconds=0.001)), "timed out")


@pytest.mark.parametrize("content_type", ["image/bmp", "image/svg+xml", "application/zip"])
def test_an_unsupported_type_is_generic(tmp_path: Path, content_type: str) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"BM" + bytes(100))

    assert_generic(process(path, content_type), "unsupported")


def test_a_missing_file_is_generic(tmp_path: Path) -> None:
    assert_generic(process(tmp_path / "gone.jpg", "image/jpeg"), "unreadable")
