"""Workspace, channel and permission events in; broadcasts for the people concerned out."""

from __future__ import annotations

from quckchat.core.events import Event, InWorkspace
from quckchat.core.runtime import Runtime
from quckchat.event_broadcast import publish, store
from quckchat.event_broadcast.rules import draft_for
from quckchat.workspace.events import WorkspaceDeleted


async def _track_workspace(runtime: Runtime, event: Event) -> None:
    if event.source != "workspace" or (about := InWorkspace.parse(event)) is None:
        return
    if event.type == WorkspaceDeleted.type:
        await store.forget_workspace(runtime, about.workspace_id)
    else:
        await store.saw_workspace(runtime, about.workspace_id, event.tenant)


async def on_event(runtime: Runtime, event: Event) -> None:
    """Make the event's broadcast once (its id is the event's) and publish it."""
    await _track_workspace(runtime, event)
    draft = draft_for(event)
    if draft is None:
        return
    workspace_id = event.data.get("workspace_id")
    doc = store.document(
        event.id,
        kind=draft.kind.value,
        type_=event.type,
        workspace_id=workspace_id if isinstance(workspace_id, str) and workspace_id else None,
        audience=draft.audience,
        everyone=draft.audience.workspace_id is not None,
        tenant=event.tenant,
        actor=event.data.get("actor"),
        channel_id=event.data.get("channel_id"),
        user_id=draft.user_id,
        role=draft.role,
        details=draft.details,
    )
    stored, _ = await store.insert(runtime, doc)
    if not stored["published"]:
        await publish.OUTBOX.publish(runtime, stored)
