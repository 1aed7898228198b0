"""Workspace invites, delivered: the workspace service announces each invite with where it is
to go, and this service sends its join link there once (by the invite's id, so a redelivered
announcement sends nothing again)."""

from __future__ import annotations

from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.notification import logic, worker
from quckchat.notification.schemas import SendRequest
from quckchat.workspace.events import InviteCreated


def request_of(invite: InviteCreated, tenant: str | None) -> SendRequest | None:
    """What to send for an invite to a person (a link invite goes to nobody)."""
    if invite.delivery is None or not (invite.delivery.email or invite.delivery.phone):
        return None
    place = invite.workspace_name or "a workspace"
    return SendRequest(
        notice_id=f"invite.{invite.invite_id}",
        email=invite.delivery.email,
        phone=None if invite.delivery.email else invite.delivery.phone,
        tenant=tenant,
        reason="invite",
        title=f"You are invited to {place} on QuckChat",
        body=f"Join {place} as a {invite.role}: {invite.delivery.url}",
        workspace_id=invite.workspace_id,
    )


async def on_workspace(runtime: Runtime, event: Event) -> None:
    """Consumer of the workspace topic: deliver each new invite to a person."""
    if event.type != InviteCreated.type or (invite := InviteCreated.parse(event)) is None:
        return
    if (request := request_of(invite, event.tenant)) is None or runtime.db is None:
        return
    async with runtime.db.session() as session:
        await logic.send(session, runtime, body=request)
    worker.wake(runtime)
