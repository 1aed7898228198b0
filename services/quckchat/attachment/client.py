"""What other services ask the attachment service: the trusted values of the files a message
is to carry (the message service, before it stores one), and whether a user may see a file
(the services that process and deliver files). The only module outside the attachment service
that calls it."""

from __future__ import annotations

from collections.abc import Sequence

from quckchat.attachment.schemas import MAX_ATTACHMENTS as MAX_ATTACHMENTS
from quckchat.attachment.schemas import Resolved as Resolved  # what callers receive
from quckchat.core.runtime import Runtime

SERVICE = "attachment"


async def resolve(
    runtime: Runtime,
    *,
    workspace_id: str,
    sender_id: str,
    file_ids: Sequence[str],
    forwarded_from: str | None = None,
) -> list[Resolved]:
    """The files as the message is to carry them, in the order given (each once). A file the
    sender may not see is the attachment service's 404; one that is not clean, is of another
    workspace or was deleted, its 422 naming the file and why."""
    body = {
        "workspace_id": workspace_id,
        "sender_id": sender_id,
        "file_ids": list(file_ids),
        "forwarded_from": forwarded_from,
    }
    found = await runtime.http.json(
        SERVICE, "POST", "/internal/attachments/resolve", json=body, idempotent=True
    )
    return [Resolved.model_validate(item) for item in found]


async def may_see(runtime: Runtime, file_id: str, user_id: str) -> bool:
    """Whether the user is a member of a channel where a message carries the file (neither
    deleted nor quarantined)."""
    body = await runtime.http.json(
        SERVICE,
        "POST",
        "/internal/attachments/may-see",
        json={"file_id": file_id, "user_id": user_id},
        idempotent=True,
    )
    return bool(body["allowed"])
