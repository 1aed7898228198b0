"""PDF: the first page as renditions and the text of the first pages, through pdfium, inside the
decoding subprocess (pdfium bounds neither its memory nor its time by itself)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pyvips

from quckchat.media.processing.limits import Limits
from quckchat.media.processing.renditions import PREVIEW_BOX, renditions_of
from quckchat.media.processing.results import PREVIEW, Processed, describe, generic
from quckchat.media.processing.text import TextBudget


def _text(document: pdfium.PdfDocument, limits: Limits) -> str | None:
    """Text of the first text_pages pages, at most text_chars characters."""
    budget = TextBudget(limits.text_chars)
    for index in range(min(len(document), limits.text_pages)):
        if budget.full:
            break
        page = document[index]
        textpage = page.get_textpage()
        budget.add(textpage.get_text_range())
        budget.end_line()
        textpage.close()
        page.close()
    return budget.text()


def _first_page(document: pdfium.PdfDocument) -> pyvips.Image:
    """Page one, rendered to fit PREVIEW_BOX (a PDF is drawn, so any size is sharp)."""
    page = document[0]
    width, height = page.get_size()
    bitmap = page.render(scale=PREVIEW_BOX / max(width, height, 1.0))
    picture = bitmap.to_pil().convert("RGB")
    page.close()
    return pyvips.Image.new_from_memory(
        picture.tobytes(), picture.width, picture.height, 3, "uchar"
    ).copy(interpretation="srgb")


def process_pdf(path: Path, limits: Limits) -> Processed:
    """Thumbnail and preview of page one, with the text of the first pages."""
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as error:
        return generic(f"broken or encrypted PDF: {describe(error, path)}")
    text: str | None = None
    try:
        text = _text(document, limits)
        if len(document) == 0:
            return generic("the PDF has no pages", text=text)
        renditions, placeholder = renditions_of(_first_page(document), PREVIEW)
    except (pdfium.PdfiumError, pyvips.Error) as error:
        # The text read before the failure still serves search.
        return generic(f"broken PDF: {describe(error, path)}", text=text)
    finally:
        document.close()
    return Processed(renditions, blurhash=placeholder, text=text)
