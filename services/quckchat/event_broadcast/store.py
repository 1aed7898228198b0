"""The event-broadcast service's collections: broadcasts (the history) and known workspaces.

A broadcast is stored before its event goes out and marked published after; one made from a
consumed event has that event's id as its own, so a redelivery finds it instead of making a
second. System notices go to the workspaces this service has seen created and not deleted.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from quckchat.core.documents import Index, stored_now
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.event_broadcast.rules import Audience

BROADCASTS = "broadcasts"
WORKSPACES = "workspaces"


INDEXES = (
    Index(
        BROADCASTS, (("workspace_ids", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING))
    ),
    Index(WORKSPACES, (("deleted", ASCENDING),)),
)


def document(
    broadcast_id: str,
    *,
    kind: str,
    type_: str,
    workspace_id: str | None,
    audience: Audience,
    everyone: bool,
    tenant: str | None,
    actor: str | None,
    workspace_ids: list[str] | None = None,
    channel_id: str | None = None,
    user_id: str | None = None,
    role: str | None = None,
    text: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A broadcast as stored: in the history of `workspace_ids` (default: its workspace's), for
    every member with `everyone`, else for the audience's users and its channel's members."""
    if workspace_ids is None:
        workspace_ids = [workspace_id] if workspace_id else []
    return {
        "_id": broadcast_id,
        "kind": kind,
        "type": type_,
        "workspace_id": workspace_id,
        "workspace_ids": workspace_ids,
        "audience": audience.as_dict(),
        "everyone": everyone,
        "channel_id": channel_id or audience.channel_id,
        "user_id": user_id,
        "role": role,
        "text": text,
        "details": details or {},
        "actor": actor,
        "tenant": tenant,
        "created_at": stored_now(),
        "published": False,
    }


async def insert(runtime: Runtime, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store a broadcast once; (the stored one, whether this call stored it)."""
    try:
        await runtime.document_db[BROADCASTS].insert_one(dict(doc))
    except DuplicateKeyError:
        found: dict[str, Any] = await runtime.document_db[BROADCASTS].find_one({"_id": doc["_id"]})
        return found, False
    return doc, True


async def saw_workspace(runtime: Runtime, workspace_id: str, tenant: str | None) -> None:
    """Remember a workspace (a later event about it changes nothing)."""
    await runtime.document_db[WORKSPACES].update_one(
        {"_id": workspace_id},
        {"$setOnInsert": {"tenant": tenant, "deleted": False, "seen_at": utcnow()}},
        upsert=True,
    )


async def forget_workspace(runtime: Runtime, workspace_id: str) -> None:
    await runtime.document_db[WORKSPACES].update_one(
        {"_id": workspace_id}, {"$set": {"deleted": True}}, upsert=True
    )


async def live_workspaces(runtime: Runtime) -> list[str]:
    cursor = (
        runtime.document_db[WORKSPACES].find({"deleted": False}, {"_id": 1}).sort("_id", ASCENDING)
    )
    return [doc["_id"] for doc in await cursor.to_list(None)]
