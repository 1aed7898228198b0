"""Announcements, system notices and the history of a workspace's broadcasts."""

from __future__ import annotations

from typing import Any

from quckchat.channel import client as channel_client
from quckchat.core import logging as qlog
from quckchat.core.pagination import PageQuery, document_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id
from quckchat.core.tokens import Principal
from quckchat.event_broadcast import access, publish, store
from quckchat.event_broadcast.rules import Audience
from quckchat.event_broadcast.schemas import AnnouncementCreate, BroadcastPublic, Kind
from quckchat.workspace import client as workspace_client

log = qlog.get("event_broadcast.logic")


async def _store_and_publish(runtime: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    await store.insert(runtime, doc)
    await publish.OUTBOX.publish(runtime, doc)  # stored: on failure the relay sends it shortly
    return doc


async def announce(
    runtime: Runtime, principal: Principal, body: AnnouncementCreate
) -> dict[str, Any]:
    """An announcement to every member of the workspace, by one of its admins or owners."""
    await access.require_announcer(runtime, body.workspace_id, principal.user_id)
    doc = store.document(
        new_id(),
        kind=Kind.ANNOUNCEMENT.value,
        type_=Kind.ANNOUNCEMENT.value,
        workspace_id=body.workspace_id,
        audience=Audience(workspace_id=body.workspace_id),
        everyone=True,
        tenant=principal.tenant,
        actor=principal.user_id,
        text=body.text,
    )
    return await _store_and_publish(runtime, doc)


async def notify_all(runtime: Runtime, principal: Principal, text: str) -> dict[str, Any]:
    """A platform administrator's notice to every workspace there is."""
    doc = store.document(
        new_id(),
        kind=Kind.NOTICE.value,
        type_=publish.SYSTEM,
        workspace_id=None,
        workspace_ids=await store.live_workspaces(runtime),
        audience=Audience(),
        everyone=True,
        tenant=principal.tenant,
        actor=principal.user_id,
        text=text,
    )
    return await _store_and_publish(runtime, doc)


async def history(
    runtime: Runtime, principal: Principal, workspace_id: str, paging: PageQuery
) -> tuple[list[BroadcastPublic], str | None]:
    """The workspace's broadcasts the caller may see, newest first."""
    me = principal.user_id
    await workspace_client.member_role(runtime.http, workspace_id, me)
    channels = await channel_client.channels_of(runtime.http, me)
    visible = {
        "workspace_ids": workspace_id,
        "$or": [
            {"everyone": True},
            {"audience.users": me},
            {"audience.channel_id": {"$in": channels}},
        ],
    }
    rows, next_cursor = await document_page(runtime.document_db[store.BROADCASTS], visible, paging)
    return [view(doc, workspace_id) for doc in rows], next_cursor


def view(doc: dict[str, Any], workspace_id: str | None = None) -> BroadcastPublic:
    return BroadcastPublic(
        id=doc["_id"],
        kind=Kind(doc["kind"]),
        type=doc["type"],
        workspace_id=doc["workspace_id"] or workspace_id,
        channel_id=doc["channel_id"],
        user_id=doc["user_id"],
        role=doc["role"],
        text=doc["text"],
        details=doc["details"],
        actor=doc["actor"],
        created_at=doc["created_at"],
    )
