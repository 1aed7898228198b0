"""Who may see a file's media and who may drop it: the one place the rule is written.

A file's media is seen by its uploader, its workspace's owners and admins, and the members of
the channels it is shared in (as the attachment service says); it is dropped only by the
uploader and the admins.
"""

from __future__ import annotations

from typing import Any

from quckchat.attachment import client as attachment_client
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.workspace import client as workspace_client


async def _uploader_or_admin(
    runtime: Runtime, record: dict[str, Any], principal: Principal
) -> bool:
    if record["tenant"] != principal.tenant:
        return False
    if record["uploader_id"] == principal.user_id:
        return True
    return await workspace_client.is_admin(runtime.http, record["workspace_id"], principal.user_id)


async def may_see(runtime: Runtime, record: dict[str, Any], principal: Principal) -> bool:
    """Whether the caller may see the record and fetch its renditions."""
    if await _uploader_or_admin(runtime, record, principal):
        return True
    shared = record["tenant"] == principal.tenant
    return shared and await attachment_client.may_see(runtime, record["_id"], principal.user_id)


async def may_manage(runtime: Runtime, record: dict[str, Any], principal: Principal) -> bool:
    """Whether the caller may drop the file's renditions."""
    return await _uploader_or_admin(runtime, record, principal)
