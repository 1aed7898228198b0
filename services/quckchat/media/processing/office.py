"""Text of office documents (docx, xlsx, pptx, odt, ods, odp), for search.

The zip's XML parts are read directly, streamed through expat: one small reader covers all six
formats, and it stops at the byte and character caps, where python-docx and openpyxl would
first build the whole document in memory (and cover two formats).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from quckchat.media.processing.text import TextBudget

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Format:
    parts: re.Pattern[str]  # the zip members that hold the text
    text_in: frozenset[str]  # elements (local names) whose character data is text
    breaks: frozenset[str]  # elements after which a line ends


OOXML_TEXT = frozenset({"t"})  # w:t, a:t, and a spreadsheet's shared or inline <t>
ODF_TEXT = frozenset({"p", "h"})  # text:p, text:h, with their spans inside
OOXML_BREAKS = frozenset({"p", "si", "c"})  # paragraphs, shared strings, cells
ODF = Format(re.compile(r"content\.xml"), ODF_TEXT, ODF_TEXT)

FORMATS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": Format(
        re.compile(r"word/document\.xml"), OOXML_TEXT, OOXML_BREAKS
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": Format(
        re.compile(r"xl/sharedStrings\.xml|xl/worksheets/sheet\d+\.xml"), OOXML_TEXT, OOXML_BREAKS
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": Format(
        re.compile(r"ppt/slides/slide\d+\.xml"), OOXML_TEXT, OOXML_BREAKS
    ),
    "application/vnd.oasis.opendocument.text": ODF,
    "application/vnd.oasis.opendocument.spreadsheet": ODF,
    "application/vnd.oasis.opendocument.presentation": ODF,
}
# ODF's inline spacing elements, as the characters they stand for.
SPACING = {"s": " ", "tab": "\t", "line-break": "\n"}


class HostileXml(ValueError):
    """The part declares a DTD or entities, which no office format needs (an XML bomb might)."""


# What a broken, encrypted or hostile document raises while it is read.
BROKEN = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    expat.ExpatError,
    HostileXml,
    EOFError,
    OSError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # a compression method zipfile lacks
)


def _natural(name: str) -> tuple[int, str]:
    """Sort key putting slide2.xml before slide10.xml."""
    number = re.search(r"(\d+)\.xml$", name)
    return (int(number.group(1)) if number else 0, name)


def office_text(path: Path, content_type: str, chars: int, max_bytes: int) -> str | None:
    """The document's text, at most `chars` characters, from at most `max_bytes` of
    decompressed XML (so a zip bomb costs no more than a plain file of the size limit).

    Raises one of BROKEN for a broken, encrypted or hostile file.
    """
    shape = FORMATS[content_type]
    budget = TextBudget(chars)
    left = max_bytes
    with zipfile.ZipFile(path) as archive:
        names = sorted((n for n in archive.namelist() if shape.parts.fullmatch(n)), key=_natural)
        for name in names:
            if budget.full or left <= 0:
                break
            left -= _read_part(archive, name, shape, budget, left)
            budget.end_line()
    return budget.text()


def _read_part(
    archive: zipfile.ZipFile, name: str, shape: Format, budget: TextBudget, left: int
) -> int:
    """Feed one part to the budget; the decompressed bytes read."""
    parser = _parser(shape, budget)
    read = 0
    with archive.open(name) as part:
        while not budget.full and read < left:
            chunk = part.read(min(CHUNK, left - read))
            parser.Parse(chunk, not chunk)
            if not chunk:
                break
            read += len(chunk)
    return read


def _parser(shape: Format, budget: TextBudget) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    depth = 0  # how deep inside text-bearing elements the parser is

    def local(name: str) -> str:
        return name.rpartition(" ")[2]

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal depth
        tag = local(name)
        if tag in shape.text_in:
            depth += 1
        elif depth and tag in SPACING:
            budget.add(SPACING[tag])

    def end(name: str) -> None:
        nonlocal depth
        tag = local(name)
        if tag in shape.text_in:
            depth -= 1
        if tag in shape.breaks:
            budget.end_line()

    def characters(data: str) -> None:
        if depth:
            budget.add(data)

    def refuse(*_args: object) -> None:
        raise HostileXml("the part declares a DTD")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser
