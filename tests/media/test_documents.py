"""PDF, office documents and plain text: the words come out for search, within their caps."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from quckchat.media.processing import Limits, process
from tests.worlds import samples

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"


def test_a_pdf_gets_its_first_page_drawn_and_its_words_kept(tmp_path: Path) -> None:
    path = tmp_path / "two.pdf"
    path.write_bytes(samples.pdf(["Quokka", "Wallaby"]))

    processed = process(path, "application/pdf")

    assert not processed.generic, processed.reason
    assert processed.text is not None
    assert "Quokka" in processed.text and "Wallaby" in processed.text
    sizes = {r.kind: (r.width, r.height) for r in processed.renditions}
    # A4 is 595 x 842 points: page one fits the 1600 box, and its thumbnail the 320 one.
    assert sizes == {"preview": (1131, 1600), "thumbnail": (226, 320)}
    assert processed.blurhash is not None


def test_pdf_text_stops_at_its_page_and_character_caps(tmp_path: Path) -> None:
    path = tmp_path / "two.pdf"
    path.write_bytes(samples.pdf(["Quokka", "Wallaby"]))

    first_page = process(path, "application/pdf", Limits(text_pages=1)).text
    few_chars = process(path, "application/pdf", Limits(text_chars=3)).text

    assert first_page is not None and "Quokka" in first_page and "Wallaby" not in first_page
    assert few_chars == "Quo"


@pytest.mark.parametrize(
    ("content_type", "parts", "words", "absent"),
    [
        (
            DOCX,
            {"word/document.xml": samples.docx_xml("Platypus", "Echidna")},
            ["Platypus", "Echidna"],
            ["deletedword"],
        ),
        (
            XLSX,
            samples.xlsx_parts("Kookaburra", "Dingo"),
            ["Kookaburra", "Dingo", "inlinecell"],
            ["4242"],
        ),
        (PPTX, samples.pptx_parts("Wombat", "Numbat"), ["Wombat", "Numbat"], []),
        (ODT, samples.odf_content("Bilby", "Quoll"), ["Bilby", "Quoll"], []),
    ],
)
def test_an_office_document_gives_its_text(
    tmp_path: Path,
    content_type: str,
    parts: dict[str, str | bytes],
    words: list[str],
    absent: list[str],
) -> None:
    path = samples.zipped(tmp_path / "document", parts)

    processed = process(path, content_type)

    assert processed.generic and processed.renditions == ()
    assert processed.text is not None
    for word in words:
        assert word in processed.text.splitlines()
    for word in absent:
        assert word not in processed.text


def test_slides_come_in_their_order(tmp_path: Path) -> None:
    slides = [f"slide{n}" for n in range(1, 12)]
    path = samples.zipped(tmp_path / "deck.pptx", samples.pptx_parts(*slides))

    text = process(path, PPTX).text

    assert text is not None and text.split() == slides


def test_a_zip_bomb_costs_no_more_than_its_caps(tmp_path: Path) -> None:
    """128 MiB of text deflated into a few hundred kilobytes."""
    path = tmp_path / "bomb.docx"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w") as part,
    ):
        part.write(f"<w:document {samples.W}><w:body><w:p><w:r><w:t>".encode())
        for _ in range(128):
            part.write(b"ab" * 512 * 1024)
        part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    assert path.stat().st_size < 1024**2

    started = time.monotonic()
    few_chars = process(path, DOCX, Limits(text_chars=1000)).text
    few_bytes = process(path, DOCX, Limits(max_bytes=1024**2, text_chars=10**9)).text

    assert few_chars == "ab" * 500
    assert few_bytes is not None and 1000 < len(few_bytes) <= 1024**2
    assert time.monotonic() - started < 10


def test_xml_with_entities_is_refused(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        f"<w:document {samples.W}><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body>"
        "</w:document>"
    )
    path = samples.zipped(tmp_path / "laughs.docx", {"word/document.xml": laughs})

    processed = process(path, DOCX)

    assert processed.generic and processed.text is None
    assert processed.reason is not None and "DTD" in processed.reason


@pytest.mark.parametrize("content_type", [DOCX, ODT])
def test_a_broken_document_is_generic(tmp_path: Path, content_type: str) -> None:
    path = tmp_path / "broken"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    unclosed = samples.zipped(tmp_path / "unclosed", {"word/document.xml": "<w:document><w:p>"})

    for broken in [path, unclosed]:
        processed = process(broken, content_type)
        assert processed.generic and processed.reason is not None


def test_plain_text_is_capped_in_characters(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Emu " * 10 + "é" * 1000, encoding="utf-8")

    assert process(path, "text/plain").text == ("Emu " * 10 + "é" * 1000)
    assert process(path, "text/plain", Limits(text_chars=42)).text == "Emu " * 10 + "éé"


def test_plain_text_in_another_encoding_is_read_as_latin_1(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("Größe".encode("latin-1"))

    assert process(path, "text/plain; charset=iso-8859-1").text == "Größe"
