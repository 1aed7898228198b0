"""What the file service takes and answers: uploads, their plans, files, a workspace's limits."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from quckchat.core.values import Id, Patch

# A MIME type, or a family of them (`image/*`), lowercase as sniffing reports them.
MIME_PATTERN = r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/([a-z0-9][a-z0-9!#$&^_.+-]{0,126}|\*)$"
MAX_FILE_BYTES = 5 * 1000**3  # the largest object S3 copies in one request
DEFAULT_MAX_FILE_BYTES = 100 * 1024**2


def _plain_name(name: str) -> str:
    # The name is shown and offered on download: no path, no control characters.
    if re.search(r"[\x00-\x1f\x7f/\\]", name) or name in {".", ".."}:
        raise ValueError("a file name has no slashes or control characters")
    return name


FileName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_plain_name),
]
Mime = Annotated[str, StringConstraints(to_lower=True, max_length=255, pattern=MIME_PATTERN)]


# Programs that run when opened; a workspace admin may allow them.
BLOCKED_BY_DEFAULT = (
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-mach-binary",
)


class State(StrEnum):
    """A file's life: bytes awaited, then checked; only `clean` is ever served."""

    UPLOADING = "uploading"
    SCANNING = "scanning"  # received; its scan is to be made (again)
    CLEAN = "clean"
    INFECTED = "infected"  # quarantined: never served
    DELETED = "deleted"


class Method(StrEnum):
    PUT = "put"  # one presigned PUT
    MULTIPART = "multipart"  # presigned parts, then complete with their ETags
    TUS = "tus"  # resumable: PATCH chunks to the service (tus 1.0.0)


class FileCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: Id
    name: FileName
    size: int = Field(ge=0, le=MAX_FILE_BYTES)
    content_type: Mime = Field(
        "application/octet-stream", description="what the client says; the bytes decide"
    )
    method: Method | None = Field(None, description="default: put, multipart for large files")


class UploadFor(BaseModel):
    """An upload another service starts on a user's behalf (the tenant from that user's token)."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=1, max_length=64)
    uploader_id: Id
    file: FileCreate


class PartUrl(BaseModel):
    number: int
    url: str


class UploadPlan(BaseModel):
    """How to send the bytes: one PUT (`url`, `headers`), parts of `part_size` bytes each to
    their URLs, or tus PATCHes to `url`. Then `POST /files/{id}/complete` (tus: automatic)."""

    method: Method
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    part_size: int | None = None
    parts: list[PartUrl] = Field(default_factory=list)
    expires_at: datetime


class FilePublic(BaseModel):
    id: str
    workspace_id: str
    uploader_id: str
    name: str
    size: int
    content_type: str = Field(description="sniffed from the bytes once received")
    declared_type: str
    state: State
    sha256: str | None = None
    # The signature found in a quarantined file; whether a scanner looked at a clean one.
    signature: str | None = None
    scanned: bool = False
    created_at: datetime
    completed_at: datetime | None = None


class FileRecord(FilePublic):
    """A file as other services see it: with where its bytes are in the object store."""

    key: str


class FileCreated(BaseModel):
    file: FilePublic
    upload: UploadPlan


class FileLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(max_length=100)


class CompletedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=128)


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[CompletedPart] = Field(default_factory=list, max_length=10_000)

    @field_validator("parts")
    @classmethod
    def _each_part_once(cls, parts: list[CompletedPart]) -> list[CompletedPart]:
        if len({p.number for p in parts}) != len(parts):
            raise ValueError("each part number once")
        return parts


class Policy(BaseModel):
    """A workspace's limits on files; the bytes' sniffed type is what the lists are held to."""

    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(DEFAULT_MAX_FILE_BYTES, ge=1, le=MAX_FILE_BYTES)
    allowed_types: list[Mime] = Field(
        default_factory=list, max_length=100, description="empty: every type not blocked"
    )
    blocked_types: list[Mime] = Field(
        default_factory=lambda: list(BLOCKED_BY_DEFAULT), max_length=100
    )
    public_links: bool = Field(
        True, description="members may share a file by a link that needs no sign-in"
    )


class PolicyUpdate(Patch):
    max_file_bytes: int | None = Field(None, ge=1, le=MAX_FILE_BYTES)
    allowed_types: list[Mime] | None = Field(None, max_length=100)
    blocked_types: list[Mime] | None = Field(None, max_length=100)
    public_links: bool | None = None
