"""What the media service answers: a file's media record, a rendition's signed URL; and what
it takes to start an upload of an image or a video."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from quckchat.file.client import FileCreate
from quckchat.media.processing.results import POSTER, PREVIEW, SANITIZED, THUMBNAIL


class MediaState(StrEnum):
    """A record's life: processing awaited, then its outcome; `deleted` is the file's end."""

    PENDING = "pending"
    PROCESSED = "processed"  # renditions made
    GENERIC = "generic"  # too large, broken or of a type without a preview: a generic icon
    FAILED = "failed"  # the bytes could not be read, after retries (`reason` says why)
    DROPPED = "dropped"  # renditions deleted on request; the file stays
    DELETED = "deleted"  # the file is gone (a tombstone, so a late file.ready brings nothing back)


class Kind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    PDF = "pdf"
    DOCUMENT = "document"  # office documents and plain text: text only
    OTHER = "other"


class RenditionName(StrEnum):
    THUMBNAIL = THUMBNAIL
    PREVIEW = PREVIEW
    POSTER = POSTER
    SANITIZED = SANITIZED  # the original without its location metadata


class RenditionPublic(BaseModel):
    name: RenditionName
    content_type: str
    size: int
    width: int
    height: int


class MediaPublic(BaseModel):
    file_id: str
    workspace_id: str
    uploader_id: str
    name: str
    content_type: str = Field(description="the file's type, sniffed from its bytes")
    size: int
    state: MediaState
    reason: str | None = Field(None, description="why generic or failed")
    kind: Kind
    width: int | None = None
    height: int | None = None
    duration: float | None = Field(None, description="seconds, for a video that says")
    blurhash: str | None = None
    renditions: list[RenditionPublic] = Field(default_factory=list)
    had_location: bool = Field(False, description="the original carried location metadata")
    location_stripped: bool = Field(
        False, description="a copy of the original without it is the `sanitized` rendition"
    )
    text_length: int = Field(0, description="characters of text extracted for search")
    created_at: datetime
    processed_at: datetime | None = None


class RenditionUrl(BaseModel):
    """A short-lived URL that GETs the rendition's bytes straight from the object store."""

    url: str
    method: str = "GET"
    expires_at: datetime
    content_type: str
    size: int
    width: int
    height: int


MEDIA_FAMILIES = ("image/", "video/")


class MediaUpload(FileCreate):
    """An image or a video to upload; the answer is the file service's upload plan."""

    @field_validator("content_type")
    @classmethod
    def _image_or_video(cls, content_type: str) -> str:
        if not content_type.startswith(MEDIA_FAMILIES):
            raise ValueError("the media service uploads images and video; other files: /files")
        return content_type


class Location(BaseModel):
    """What processing found of a file's location metadata (for the delivery service)."""

    state: MediaState
    had_location: bool = False
    location_stripped: bool = False
