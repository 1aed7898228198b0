"""What the cdn service takes and answers: signed download URLs, public links, proxied images."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from quckchat.core.values import Id


class Rendition(StrEnum):
    """What of a file is delivered: the file itself, or a preview the media service made."""

    ORIGINAL = "original"
    THUMBNAIL = "thumbnail"
    PREVIEW = "preview"
    POSTER = "poster"


class SignedUrl(BaseModel):
    url: str = Field(description="relative to the API's origin; needs no token until it expires")
    expires_at: datetime


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_id: Id


class LinkPublic(BaseModel):
    id: str
    file_id: str
    workspace_id: str
    created_by: str
    created_at: datetime
    url: str | None = Field(None, description="only in the answer that made the link")


class ProxyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[AnyHttpUrl] = Field(min_length=1, max_length=50)


class ProxyUrls(BaseModel):
    urls: list[str]
