"""Who may have a file delivered: its uploader, an owner or admin of its workspace, and the
members of a channel it was shared in. A file is delivered only while it is clean."""

from __future__ import annotations

from quckchat.attachment import client as attachment_client
from quckchat.core.errors import Problem, not_found
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.file import client as file_client
from quckchat.workspace import client as workspace_client


async def may_see(runtime: Runtime, file: file_client.FileRecord, principal: Principal) -> bool:
    if file.uploader_id == principal.user_id:
        return True
    if await attachment_client.may_see(runtime, file.id, principal.user_id):
        return True
    return await workspace_client.is_admin(runtime.http, file.workspace_id, principal.user_id)


def servable(file: file_client.FileRecord) -> file_client.FileRecord:
    """The file, if its bytes may go out; else why not (never whether it was quarantined to
    anyone but its uploader and admins, who are the only ones who get this far)."""
    if file.state is file_client.State.CLEAN:
        return file
    if file.state is file_client.State.INFECTED:
        raise Problem(409, "the file is quarantined: malware was found in it", slug="quarantined")
    if file.state is file_client.State.DELETED:
        raise not_found("file")
    raise Problem(409, "the file is still being uploaded or checked", slug="file-not-ready")


async def visible_file(
    runtime: Runtime, file_id: str, principal: Principal
) -> file_client.FileRecord:
    """The file the caller may see; 404 as if it did not exist when they may not."""
    file = await file_client.file_of(runtime.http, file_id)
    if file.state is file_client.State.DELETED or not await may_see(runtime, file, principal):
        raise not_found("file")
    return file
