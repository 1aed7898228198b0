"""The events the file service produces, keyed by file id: a file ready to use (received,
checked and clean), a file quarantined (its uploader's devices are told), a file deleted.
Each is made from the file's document as it is when its state changes (`events_of`)."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from quckchat.core.events import Audience, DomainEvent
from quckchat.file.schemas import State


class FileEvent(DomainEvent):
    file_id: str
    workspace_id: str
    uploader_id: str
    name: str
    content_type: str
    size: int

    @property
    def key(self) -> str:
        return self.file_id

    @classmethod
    def of_document(cls, doc: dict[str, Any], **fields: Any) -> Self:
        return cls.model_validate(
            {
                "file_id": doc["_id"],
                "workspace_id": doc["workspace_id"],
                "uploader_id": doc["uploader_id"],
                "name": doc["name"],
                "content_type": doc["content_type"],
                "size": doc["size"],
                **fields,
            }
        )


class FileReady(FileEvent):
    """Received, checked and clean: previews may be made, and the file attached."""

    type: ClassVar[str] = "file.ready"
    sha256: str
    key_name: str  # where the bytes are in the object store
    scanned: bool


class FileQuarantined(FileEvent):
    type: ClassVar[str] = "file.quarantined"
    signature: str

    def audience(self) -> Audience | None:
        return Audience(users=(self.uploader_id,))


class FileDeleted(FileEvent):
    type: ClassVar[str] = "file.deleted"


def event_of(doc: dict[str, Any]) -> FileEvent | None:
    """The event of the document's current state; None for a state announced by none."""
    state = State(doc["state"])
    if state is State.CLEAN:
        return FileReady.of_document(
            doc, sha256=doc["sha256"], key_name=doc["key"], scanned=doc["scanned"]
        )
    if state is State.INFECTED:
        return FileQuarantined.of_document(doc, signature=doc["signature"])
    if state is State.DELETED:
        return FileDeleted.of_document(doc)
    return None
