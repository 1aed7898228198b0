"""What the bookmark API takes and gives, with the bounds that make bad input a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    model_validator,
)

from quckchat.bookmark.models import EMOJI_LENGTH, NOTE_LENGTH, TITLE_LENGTH, URL_LENGTH
from quckchat.core.values import EMOJI_PATTERN


def _short_url(url: HttpUrl) -> HttpUrl:
    if len(str(url)) > URL_LENGTH:
        raise ValueError(f"the URL is longer than {URL_LENGTH} characters")
    return url


Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NOTE_LENGTH)]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_LENGTH)
]
Link = Annotated[HttpUrl, AfterValidator(_short_url)]
Emoji = Annotated[str, StringConstraints(max_length=EMOJI_LENGTH, pattern=EMOJI_PATTERN)]


class SaveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note | None = Field(None, description="your own note; empty or null clears it")


class SavedPublic(BaseModel):
    message_id: str
    channel_id: str
    workspace_id: str
    note: str | None
    saved_at: datetime
    updated_at: datetime


class BookmarkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    url: Link
    emoji: Emoji | None = None


class BookmarkUpdate(BaseModel):
    """Only the fields sent change; emoji may be null (removed), title and url may not."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    url: Link | None = None
    emoji: Emoji | None = None

    @model_validator(mode="after")
    def _null_only_for_emoji(self) -> Self:
        for name in self.model_fields_set - {"emoji"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ChannelBookmarkPublic(BaseModel):
    id: str
    channel_id: str
    workspace_id: str
    title: str
    url: str
    emoji: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
