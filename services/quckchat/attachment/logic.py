"""A message's files checked before it is stored, a channel's files, who may see a file.

A channel's files narrowed by `q` are found by the search service (by a part of the name, or
by words of the name and the text extracted from the file), which indexes what this service
announces; the values listed are still this service's own bindings, read by the ids found.

The checks read the file service (any state) and, for a forward, the message forwarded: the
message service stores only what `resolve` answers, so a message never carries a file its
sender could not attach, nor values the client made up.
"""

from __future__ import annotations

from typing import Any

from quckchat.attachment import store
from quckchat.attachment.schemas import ChannelFile, MaySee, Resolve, Resolved
from quckchat.channel import client as channel_client
from quckchat.core.errors import Problem
from quckchat.core.pagination import Page, PageQuery, document_page
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.file import client as file_client
from quckchat.file.client import State
from quckchat.message import client as message_client
from quckchat.search import client as search_client

# Why a file in each state cannot be attached (clean is the only state that can).
REFUSED: dict[State, tuple[str, str]] = {
    State.UPLOADING: ("file-not-ready", "is still being uploaded"),
    State.SCANNING: ("file-not-ready", "is still being checked"),
    State.INFECTED: ("file-infected", "was quarantined: malware was found in it"),
    State.DELETED: ("file-deleted", "was deleted"),
}
# Channels of one file looked at by `may_see` (a file forwarded further is rare).
MAX_CHANNELS = 100


def _unseen(file_id: str) -> Problem:
    # The same answer for a file that does not exist: no existence leak.
    return Problem(404, f"file {file_id} was not found", file_id=file_id)


async def _carried(runtime: Runtime, message_id: str | None) -> set[str]:
    """The files the forwarded message carries (none when it is gone)."""
    if message_id is None:
        return set()
    message = await message_client.fetch_message(runtime.http, message_id)
    if message is None or message.deleted:
        return set()
    return {a.id for a in message.attachments}


async def resolve(runtime: Runtime, body: Resolve) -> list[Resolved]:
    """The files as the message is to carry them, each checked: the sender's own (or carried
    by the message forwarded), of the channel's workspace, and clean."""
    wanted = list(dict.fromkeys(body.file_ids))
    found = await file_client.files_of(runtime.http, wanted)
    carried = await _carried(runtime, body.forwarded_from)
    resolved = []
    for file_id in wanted:
        file = found.get(file_id)
        if file is None or (file.uploader_id != body.sender_id and file_id not in carried):
            raise _unseen(file_id)
        if file.workspace_id != body.workspace_id:
            raise Problem(
                422,
                f"file {file_id} belongs to another workspace",
                slug="file-of-another-workspace",
                file_id=file_id,
            )
        if (refused := REFUSED.get(file.state)) is not None:
            slug, why = refused
            raise Problem(422, f"file {file_id} {why}", slug=slug, file_id=file_id)
        resolved.append(
            Resolved(id=file.id, name=file.name, size=file.size, content_type=file.content_type)
        )
    return resolved


def _listed(doc: dict[str, Any]) -> ChannelFile:
    return ChannelFile.model_validate(doc)


async def _found(
    runtime: Runtime, *, channel_id: str, q: str, paging: PageQuery
) -> Page[ChannelFile]:
    """The search service's page of matches, as this service's bindings still listed."""
    found = await search_client.channel_files(
        runtime.http, channel_id=channel_id, q=q, cursor=paging.cursor, limit=paging.limit
    )
    ids = [store.binding_id(m.message_id, m.file_id) for m in found.items]
    query = {"_id": {"$in": ids}, "channel_id": channel_id, "gone": None}
    listed = {
        d["_id"]: d for d in await runtime.document_db[store.BINDINGS].find(query).to_list(None)
    }
    # A match whose binding went since it was indexed is left out (its removal is on its way).
    items = [_listed(listed[i]) for i in ids if i in listed]
    return Page[ChannelFile](items=items, next_cursor=found.next_cursor)


async def channel_files(
    runtime: Runtime, principal: Principal, *, channel_id: str, q: str | None, paging: PageQuery
) -> Page[ChannelFile]:
    """The files of the channel's messages, newest first; `q` narrows them to those whose name
    holds it (in any case) or whose name and extracted text hold all its words. Members only:
    anyone else gets 404, as for a channel that does not exist."""
    await channel_client.membership(runtime, channel_id, principal.user_id)
    if q:
        return await _found(runtime, channel_id=channel_id, q=q, paging=paging)
    query: dict[str, Any] = {"channel_id": channel_id, "gone": None}
    rows, next_cursor = await document_page(runtime.document_db[store.BINDINGS], query, paging)
    return Page[ChannelFile](items=[_listed(d) for d in rows], next_cursor=next_cursor)


async def may_see(runtime: Runtime, body: MaySee) -> bool:
    """Whether the user is in a channel where a message carries the file, still served."""
    bindings = runtime.document_db[store.BINDINGS]
    found = bindings.find({"file_id": body.file_id, "gone": None}, {"channel_id": 1})
    channels = {d["channel_id"] for d in await found.limit(MAX_CHANNELS).to_list(None)}
    for channel_id in sorted(channels):
        if await channel_client.is_member(runtime, channel_id, body.user_id):
            return True
    return False
