"""The events the bookmark service produces.

A saved message is the saver's own business: keyed by the saver, seen only by their other
devices (the channel does not learn who saved what). A channel's header links are keyed by the
channel and seen by its members.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import SerializerFunctionWrapHandler, model_serializer

from quckchat.bookmark.models import ChannelBookmark, SavedMessage
from quckchat.bookmark.schemas import ChannelBookmarkPublic
from quckchat.core.events import AboutUser, InChannel


class SavedEvent(AboutUser):
    workspace_id: str
    channel_id: str
    message_id: str
    actor: str | None = None

    @model_serializer(mode="wrap")
    def _with_audience(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Its data has always named its audience (`{"users": [saver]}`) for older consumers.
        data: dict[str, Any] = handler(self)
        data["audience"] = {"users": [self.user_id]}
        return data

    @classmethod
    def about(cls, row: SavedMessage, *, actor: str | None) -> Self:
        return cls(
            workspace_id=row.workspace_id,
            channel_id=row.channel_id,
            message_id=row.message_id,
            user_id=row.user_id,
            actor=actor,
        )


class MessageSaved(SavedEvent):
    type: ClassVar[str] = "bookmark.saved"


class MessageUnsaved(SavedEvent):
    type: ClassVar[str] = "bookmark.unsaved"


class ChannelBookmarkEvent(InChannel):
    """`bookmark` is the link as it is now (as it was, for a removed one)."""

    bookmark_id: str
    bookmark: ChannelBookmarkPublic
    actor: str | None = None

    @classmethod
    def about(cls, row: ChannelBookmark, *, actor: str | None) -> Self:
        return cls(
            workspace_id=row.workspace_id,
            channel_id=row.channel_id,
            bookmark_id=row.id,
            bookmark=ChannelBookmarkPublic.model_validate(row, from_attributes=True),
            actor=actor,
        )


class BookmarkAdded(ChannelBookmarkEvent):
    type: ClassVar[str] = "bookmark.channel.added"


class BookmarkUpdated(ChannelBookmarkEvent):
    type: ClassVar[str] = "bookmark.channel.updated"


class BookmarkRemoved(ChannelBookmarkEvent):
    type: ClassVar[str] = "bookmark.channel.removed"
