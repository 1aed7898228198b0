"""Files kept no longer than their workspace's retention setting.

The setting belongs to the workspace service; the file service keeps a copy of it per workspace
(`store.RETENTION`, none for a workspace that keeps files forever), fed by that service's
events, which arrive in order per workspace. The upkeep deletes what is past it, as a deletion
by hand would (bytes, quota, `file.deleted`).
"""

from __future__ import annotations

from datetime import timedelta

from quckchat.core.documents import stored_now
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.file import logic, store
from quckchat.file.schemas import State
from quckchat.workspace.events import WorkspaceCreated, WorkspaceDeleted, WorkspaceUpdated

# What retention deletes: files that were received; an upload left open has its own upkeep.
KEPT_STATES = [State.CLEAN, State.INFECTED]


async def on_workspace_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the workspace topic: the copy of each workspace's retention setting."""
    if event.type == WorkspaceCreated.type and (created := WorkspaceCreated.parse(event)):
        await _keep(runtime, created.workspace_id, created.retention_days)
    elif event.type == WorkspaceUpdated.type and (updated := WorkspaceUpdated.parse(event)):
        if "retention_days" in updated.changed:
            await _keep(runtime, updated.workspace_id, updated.retention_days)
    elif event.type == WorkspaceDeleted.type and (deleted := WorkspaceDeleted.parse(event)):
        await _keep(runtime, deleted.workspace_id, None)


async def _keep(runtime: Runtime, workspace_id: str, days: int | None) -> None:
    rules = runtime.document_db[store.RETENTION]
    if days is None:
        await rules.delete_one({"_id": workspace_id})
    else:
        await rules.update_one(
            {"_id": workspace_id}, {"$set": {"retention_days": days}}, upsert=True
        )


async def expire_past_retention(runtime: Runtime) -> int:
    """Delete up to a batch of each limited workspace's files older than its retention."""
    db = runtime.document_db
    expired = 0
    async for rule in db[store.RETENTION].find({}):
        cutoff = stored_now() - timedelta(days=rule["retention_days"])
        query = {
            "workspace_id": rule["_id"],
            "state": {"$in": KEPT_STATES},
            "created_at": {"$lt": cutoff},
        }
        async for doc in db[store.FILES].find(query).limit(logic.BATCH):
            await logic.expire(runtime, doc)
            expired += 1
    return expired
