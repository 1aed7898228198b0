"""What the search API gives."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

# Each hit carries a snippet, so pages stay smaller than other lists.
MAX_PAGE = 100


class SearchHit(BaseModel):
    message_id: str
    channel_id: str
    sender_id: str
    created_at: datetime
    snippet: str = Field(description="HTML-escaped text around the match, matches in <mark>")


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None = Field(None, description="pass it back for the next page")


class FileMatch(BaseModel):
    """A file on a message whose name or extracted text matches (`<message id>.<file id>`
    is the attachment service's binding)."""

    file_id: str
    message_id: str


class FilePage(BaseModel):
    items: list[FileMatch]
    next_cursor: str | None = Field(None, description="pass it back for the next page")
