"""Text kept for search, capped in characters; and the text of a plain-text file."""

from __future__ import annotations

from pathlib import Path

# UTF-8 spends at most four bytes on a character.
BYTES_PER_CHAR = 4


class TextBudget:
    """Collects text until `chars` characters are kept; what comes after is dropped."""

    def __init__(self, chars: int) -> None:
        self.left = chars
        self.pieces: list[str] = []

    @property
    def full(self) -> bool:
        return self.left <= 0

    def add(self, piece: str) -> None:
        kept = piece[: max(0, self.left)]
        if kept:
            self.pieces.append(kept)
            self.left -= len(kept)

    def end_line(self) -> None:
        """End the current line, unless it is empty (runs of empty lines cost no budget)."""
        if self.pieces and not self.pieces[-1].endswith("\n"):
            self.add("\n")

    def text(self) -> str | None:
        """What was kept, without surrounding blank space; None when nothing was."""
        joined = "".join(self.pieces).strip()
        return joined or None


def plain_text(path: Path, chars: int) -> str | None:
    """The first `chars` characters of a text file, reading no more bytes than they can take.

    UTF-8 (a character cut at the end is dropped); anything else is read as Latin-1.
    """
    with path.open("rb") as file:
        head = file.read(chars * BYTES_PER_CHAR)
    try:
        decoded = head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # Only a character cut by the byte cap, at the very end, is forgiven.
        tail_cut = error.start >= len(head) - (BYTES_PER_CHAR - 1) and error.reason.startswith(
            "unexpected end"
        )
        decoded = head[: error.start].decode("utf-8-sig") if tail_cut else head.decode("latin-1")
    budget = TextBudget(chars)
    budget.add(decoded)
    return budget.text()
