"""Byte ranges and dispositions as the cdn reads and writes them (pure)."""

from __future__ import annotations

import pytest

from quckchat.cdn.delivery import ByteRange, Unsatisfiable, byte_range, disposition


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, ByteRange(0, 9)),
        ("bytes=90-", 100, ByteRange(90, 99)),
        ("bytes=90-500", 100, ByteRange(90, 99)),  # clipped to the last byte
        ("bytes=-10", 100, ByteRange(90, 99)),  # the last ten
        ("bytes=-500", 100, ByteRange(0, 99)),
        ("bytes=0-0", 1, ByteRange(0, 0)),
        # Served whole, as RFC 9110 allows for what is not served by parts:
        ("bytes=0-1,5-9", 100, None),
        ("items=0-9", 100, None),
        ("bytes=9-0", 100, None),
        ("bytes=-", 100, None),
        ("bytes=a-b", 100, None),
    ],
)
def test_a_single_range_is_read_and_clipped(
    header: str | None, size: int, expected: ByteRange | None
) -> None:
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_a_range_past_the_end_cannot_be_satisfied(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        byte_range(header, size)


def test_what_a_browser_shows_is_inline_and_everything_else_is_downloaded() -> None:
    assert disposition("cat.png", "image/png").startswith("inline;")
    assert disposition("page.html", "text/html").startswith("attachment;")
    assert disposition("drawing.svg", "image/svg+xml").startswith("attachment;")


def test_a_name_is_given_plainly_and_exactly() -> None:
    given = disposition('Résumé "final".pdf', "application/pdf")
    assert "filename=\"R?sum? 'final'.pdf\"" in given
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf" in given
