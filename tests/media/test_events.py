"""The media service's events: the text for search is capped by its encoded size."""

from __future__ import annotations

import json

from quckchat.media.events import TEXT_EVENT_BYTES, capped_text


def encoded(text: str) -> int:
    return len(json.dumps(text)) - 2


def test_short_text_goes_whole() -> None:
    assert capped_text("quarterly figures") == "quarterly figures"


def test_long_text_is_cut_at_the_encoded_budget() -> None:
    ascii_text = "word " * 50_000
    cut = capped_text(ascii_text)
    assert len(cut) == TEXT_EVENT_BYTES and ascii_text.startswith(cut)


def test_escaped_characters_count_as_what_they_take_on_the_wire() -> None:
    text = "日本語テキスト😀\n" * 40_000
    cut = capped_text(text)
    assert text.startswith(cut)
    assert TEXT_EVENT_BYTES - 12 < encoded(cut) <= TEXT_EVENT_BYTES
    assert encoded(capped_text(text, 7)) <= 7
