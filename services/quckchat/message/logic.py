"""Sending, reading and changing messages: one atomic document operation per change.

A message is stored before its `message.created` event goes out and is marked published after;
if the broker is down the send still succeeds and the outbox relay (`OUTBOX`, core/outbox.py)
sends the event later, under the same event id, so consumers apply it once. Whose change emits
an event is decided by a claim (`store.take`) or an insert under a unique key, never by a
conditional update: FerretDB lets several of those win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from quckchat.attachment import client as attachment_client
from quckchat.channel.client import Membership, membership
from quckchat.core import logging as qlog
from quckchat.core import outbox
from quckchat.core.documents import claim
from quckchat.core.errors import Problem, forbidden, not_found
from quckchat.core.events import DomainEvent
from quckchat.core.outbox import DocumentOutbox
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id, utcnow
from quckchat.core.tokens import Principal
from quckchat.message import events, store
from quckchat.message.schemas import (
    Attachment,
    DeleteScope,
    MessagePage,
    MessagePublic,
    Priority,
)
from quckchat.user import client as user_client

log = qlog.get("message.logic")

MENTION = re.compile(r"<@([A-Za-z0-9_.:-]{1,64})>")
CHANNEL_MENTION = re.compile(r"(?<![\w@])@(channel|here|everyone)\b")
QUOTE_EXCERPT = 280
# A claim to edit or delete older than this was lost with the replica that held it.
CHANGE_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class Draft:
    """What a sender asks to post, before it becomes a stored message."""

    channel_id: str
    text: str
    file_ids: tuple[str, ...] = ()  # the files to attach, checked when it is posted
    client_id: str | None = None
    parent_id: str | None = None
    quote_id: str | None = None
    forwarded: dict[str, str] | None = None
    priority: Priority = "standard"


def mentions_in(text: str) -> tuple[list[str], bool]:
    """User mentions (`<@id>`, each once, in order) and whether the whole channel is called."""
    users = list(dict.fromkeys(MENTION.findall(text)))
    return users, CHANNEL_MENTION.search(text) is not None


def _visible(user_id: str, now: datetime) -> dict[str, Any]:
    """What a member may see: not hidden for them, not expired (even before the sweep)."""
    return {
        "hidden_for": {"$nin": [user_id]},
        "expired": {"$ne": True},
        "$or": [{"expires_at": None}, {"expires_at": {"$gt": now}}],
    }


async def _find_visible(runtime: Runtime, message_id: str, user_id: str) -> dict[str, Any]:
    doc: dict[str, Any] | None = await runtime.document_db[store.MESSAGES].find_one(
        {"_id": message_id, **_visible(user_id, utcnow())}
    )
    if doc is None:
        raise not_found("message")
    return doc


async def get_for(
    runtime: Runtime, principal: Principal, message_id: str
) -> tuple[dict[str, Any], Membership]:
    """A message the caller may see (a member of its channel), with their membership."""
    doc = await _find_visible(runtime, message_id, principal.user_id)
    member = await membership(runtime, doc["channel_id"], principal.user_id)
    return doc, member


def _deletion(at: datetime) -> dict[str, Any]:
    """The fields a delete for everyone sets."""
    return {
        "deleted_at": at,
        "text": "",
        "attachments": [],
        "history": [],
        "quote": None,
    }


async def keep_deleted(runtime: Runtime, message_id: str) -> None:
    """Apply a claimed delete again after another write: on FerretDB a write based on an older
    read of the message can undo a concurrent delete."""
    deleted = await store.taken(runtime, f"{message_id}.deleted")
    if deleted is not None:
        await runtime.document_db[store.MESSAGES].update_one(
            {"_id": message_id, "deleted_at": None}, {"$set": _deletion(deleted["at"])}
        )


async def update(runtime: Runtime, message_id: str, change: dict[str, Any]) -> None:
    """Change a message without undoing a concurrent delete."""
    await runtime.document_db[store.MESSAGES].update_one({"_id": message_id}, change)
    await keep_deleted(runtime, message_id)


async def _created(runtime: Runtime, doc: dict[str, Any]) -> list[tuple[str, DomainEvent]]:
    # As created: no reactions yet.
    created = events.MessageCreated.about(doc, actor=doc["sender_id"])
    return [(f"{doc['_id']}.created", created)]


async def _claim_outbox(runtime: Runtime, doc: dict[str, Any]) -> bool:
    return await store.take(runtime, f"{doc['_id']}.outbox", outbox.LEASE)


async def _release_outbox(runtime: Runtime, doc: dict[str, Any]) -> None:
    await store.give_back(runtime, f"{doc['_id']}.outbox")


async def _mark_published(runtime: Runtime, doc: dict[str, Any]) -> None:
    await update(runtime, doc["_id"], {"$set": {"published": True}})


# A message is its own outbox entry: `message.created` goes out after the insert, after any
# older unpublished message of the channel (clients see a channel's messages in seq order).
OUTBOX = DocumentOutbox(
    "message outbox",
    store.MESSAGES,
    _created,
    key="channel_id",
    order="seq",
    claim=_claim_outbox,
    done=_mark_published,
    release=_release_outbox,
)


async def _reserve(
    runtime: Runtime, sender: str, draft: Draft
) -> tuple[str, dict[str, Any] | None]:
    """The id this send uses; with a client id, the first attempt's id and its message if any."""
    if draft.client_id is None:
        return new_id(), None
    key = f"{sender}:{draft.channel_id}:{draft.client_id}"
    sends = runtime.document_db[store.SENDS]
    message_id = new_id()
    try:
        await sends.insert_one({"_id": key, "message_id": message_id, "created_at": utcnow()})
    except DuplicateKeyError:  # a retry: the first attempt's record stands
        pass
    else:
        return message_id, None  # the first attempt: nothing stored under that id yet
    record = await sends.find_one({"_id": key})
    message_id = str(record["message_id"])
    existing = await runtime.document_db[store.MESSAGES].find_one({"_id": message_id})
    return message_id, existing


async def _thread_parent(runtime: Runtime, draft: Draft, user_id: str) -> dict[str, Any] | None:
    if draft.parent_id is None:
        return None
    parent = await _find_visible(runtime, draft.parent_id, user_id)
    if parent["channel_id"] != draft.channel_id:
        raise Problem(422, "parent_id is a message of another channel", slug="bad-parent")
    if parent.get("parent_id") is not None:
        raise Problem(422, "a reply cannot have replies; reply to its parent", slug="bad-parent")
    if parent.get("deleted_at") is not None:
        raise Problem(409, "the parent message was deleted", slug="parent-deleted")
    return parent


async def _quote(runtime: Runtime, draft: Draft, user_id: str) -> dict[str, Any] | None:
    if draft.quote_id is None:
        return None
    quoted = await _find_visible(runtime, draft.quote_id, user_id)
    if quoted["channel_id"] != draft.channel_id or quoted.get("deleted_at") is not None:
        raise Problem(422, "quote_id must be a message of this channel", slug="bad-quote")
    text = quoted.get("text", "")
    return {"id": quoted["_id"], "sender_id": quoted["sender_id"], "text": text[:QUOTE_EXCERPT]}


async def checked_attachments(
    runtime: Runtime,
    member: Membership,
    sender_id: str,
    file_ids: tuple[str, ...],
    *,
    forwarded_from: str | None = None,
) -> list[Attachment]:
    """The files as the message is to carry them, vouched for by the attachment service (a file
    the sender may not attach is its 404 or 422, and nothing is stored)."""
    if not file_ids:
        return []
    resolved = await attachment_client.resolve(
        runtime,
        workspace_id=member.workspace_id,
        sender_id=sender_id,
        file_ids=file_ids,
        forwarded_from=forwarded_from,
    )
    return [Attachment.model_validate(r.model_dump()) for r in resolved]


async def post(runtime: Runtime, principal: Principal, draft: Draft) -> tuple[dict[str, Any], bool]:
    """Store and publish a message; False (and the first message) for a retried client id."""
    member = await membership(runtime, draft.channel_id, principal.user_id)
    member.require_post()
    if not draft.text.strip() and not draft.file_ids and draft.forwarded is None:
        raise Problem(422, "a message needs text or an attachment", slug="empty-message")
    message_id, existing = await _reserve(runtime, principal.user_id, draft)
    if existing is not None:
        return existing, False
    forwarded_from = draft.forwarded["message_id"] if draft.forwarded else None
    attachments = await checked_attachments(
        runtime, member, principal.user_id, draft.file_ids, forwarded_from=forwarded_from
    )
    await _thread_parent(runtime, draft, principal.user_id)
    quote = await _quote(runtime, draft, principal.user_id)
    mentions, everyone = mentions_in(draft.text)
    now = utcnow()
    seconds = member.disappearing_seconds
    doc: dict[str, Any] = {
        "_id": message_id,
        "tenant": principal.tenant,
        "workspace_id": member.workspace_id,
        "channel_id": draft.channel_id,
        "seq": None,  # set by store.insert_next
        "sender_id": principal.user_id,
        # The name as it was when sent: history reads no profiles (as a Matrix event's sender).
        "sender_name": await user_client.display_name(runtime, principal.user_id),
        "text": draft.text,
        "mentions": mentions,
        "mention_channel": everyone,
        "parent_id": draft.parent_id,
        "reply_count": 0,
        "last_reply_at": None,
        "quote": quote,
        "forwarded": draft.forwarded,
        "priority": draft.priority,
        "attachments": [a.model_dump() for a in attachments],
        "edited_at": None,
        "history": [],
        "deleted_at": None,
        "hidden_for": [],
        "client_id": draft.client_id,
        "created_at": now,
        "expires_at": now + timedelta(seconds=seconds) if seconds else None,
        "published": False,
    }
    if doc["expires_at"] is not None:
        # Listed first: a message stored but not listed would never disappear.
        await store.will_expire(runtime, message_id, doc["expires_at"])
    if not await store.insert_next(runtime, doc):
        # A concurrent retry of the same client id stored it first.
        return await runtime.document_db[store.MESSAGES].find_one({"_id": message_id}), False
    await OUTBOX.publish(runtime, doc)
    return doc, True


async def history(
    runtime: Runtime,
    principal: Principal,
    *,
    channel_id: str | None,
    parent_id: str | None,
    before: str | None,
    after: str | None,
    around: str | None,
    limit: int,
) -> MessagePage:
    """A page of a channel (top-level messages) or of one thread, oldest first."""
    if (channel_id is None) == (parent_id is None):
        raise Problem(422, "give exactly one of channel_id and parent_id", slug="bad-query")
    if sum(anchor is not None for anchor in (before, after, around)) > 1:
        raise Problem(422, "give at most one of before, after and around", slug="bad-query")
    if parent_id is not None:
        parent, _ = await get_for(runtime, principal, parent_id)
        scope: dict[str, Any] = {"channel_id": parent["channel_id"], "parent_id": parent_id}
    else:
        await membership(runtime, str(channel_id), principal.user_id)
        scope = {"channel_id": channel_id, "parent_id": None}
    base = {**scope, **_visible(principal.user_id, utcnow())}
    messages = runtime.document_db[store.MESSAGES]

    async def older(seq: int | None, n: int, inclusive: bool = False) -> list[dict[str, Any]]:
        query = dict(base)
        if seq is not None:
            query["seq"] = {"$lte" if inclusive else "$lt": seq}
        found = await messages.find(query).sort("seq", DESCENDING).limit(n).to_list(None)
        return list(reversed(found))

    async def newer(seq: int, n: int) -> list[dict[str, Any]]:
        cursor = messages.find({**base, "seq": {"$gt": seq}}).sort("seq", ASCENDING).limit(n)
        return list(await cursor.to_list(None))

    async def anchor_seq(message_id: str) -> int:
        doc = await messages.find_one({"_id": message_id, **scope})
        if doc is None:
            raise Problem(
                422, f"{message_id} is not a message of this conversation", slug="bad-anchor"
            )
        return int(doc["seq"])

    if after is not None:
        rows = await newer(await anchor_seq(after), limit + 1)
        more_after, rows = len(rows) > limit, rows[:limit]
        return await _page(runtime, rows, more_before=True, more_after=more_after)
    if around is not None:
        seq = await anchor_seq(around)
        half = max(limit // 2, 1)
        early = await older(seq, half + 1, inclusive=True)
        late = await newer(seq, limit - half + 1)
        more_before, early = len(early) > half, early[-half:]
        more_after, late = len(late) > limit - half, late[: limit - half]
        return await _page(runtime, early + late, more_before=more_before, more_after=more_after)
    start = await anchor_seq(before) if before is not None else None
    rows = await older(start, limit + 1)
    more_before, rows = len(rows) > limit, rows[-limit:]
    return await _page(runtime, rows, more_before=more_before, more_after=before is not None)


async def _page(
    runtime: Runtime, rows: list[dict[str, Any]], *, more_before: bool, more_after: bool
) -> MessagePage:
    items = [MessagePublic.model_validate(shown) for shown in await store.shown(runtime, rows)]
    return MessagePage(items=items, has_more_before=more_before, has_more_after=more_after)


async def edit(
    runtime: Runtime, principal: Principal, message_id: str, text: str
) -> dict[str, Any]:
    """The sender changes the text; the old text goes to the message's history."""
    doc, member = await get_for(runtime, principal, message_id)
    if doc["sender_id"] != principal.user_id:
        raise forbidden("only the sender edits a message")
    if doc.get("deleted_at") is not None:
        raise Problem(409, "the message was deleted", slug="message-deleted")
    if member.archived:
        raise Problem(409, "the channel is archived", slug="channel-archived")
    mentions, everyone = mentions_in(text)
    number = len(doc.get("history", [])) + 1
    if not await store.take(runtime, f"{message_id}.edited.{number}", CHANGE_LEASE):
        raise Problem(
            409, "the message changed meanwhile; load it and edit again", slug="edit-conflict"
        )
    now = utcnow()
    updated: dict[str, Any] | None = await runtime.document_db[store.MESSAGES].find_one_and_update(
        {"_id": message_id, "deleted_at": None},
        {
            "$set": {
                "text": text,
                "mentions": mentions,
                "mention_channel": everyone,
                "edited_at": now,
            },
            "$push": {"history": {"text": doc["text"], "edited_at": now}},
        },
        return_document=ReturnDocument.AFTER,
    )
    await keep_deleted(runtime, message_id)
    if updated is None:
        raise Problem(409, "the message was deleted", slug="message-deleted")
    reactions = await store.reactions_of(runtime, [message_id])
    await runtime.emit(
        events.MessageEdited.about(
            updated, actor=principal.user_id, reactions=reactions.get(message_id, {})
        ),
        tenant=principal.tenant,
        event_id=f"{message_id}.edited.{number}",
    )
    return updated


async def delete(
    runtime: Runtime, principal: Principal, message_id: str, scope: DeleteScope
) -> None:
    """For everyone (the sender or a channel admin), or hidden for the caller alone."""
    doc, member = await get_for(runtime, principal, message_id)
    messages = runtime.document_db[store.MESSAGES]
    if scope == DeleteScope.ME:
        await update(runtime, message_id, {"$addToSet": {"hidden_for": principal.user_id}})
        hidden = events.MessageHidden(
            workspace_id=doc["workspace_id"],
            channel_id=doc["channel_id"],
            message_id=message_id,
            user_id=principal.user_id,
            actor=principal.user_id,
        )
        await runtime.emit(hidden, tenant=principal.tenant)
        return
    if doc["sender_id"] != principal.user_id and not member.is_admin:
        raise forbidden("only the sender or a channel admin deletes a message for everyone")
    if doc.get("deleted_at") is not None or not await store.take(
        runtime, f"{message_id}.deleted", CHANGE_LEASE
    ):
        return  # deleted already, or being deleted by another request: once is enough
    await messages.update_one({"_id": message_id}, {"$set": _deletion(utcnow())})
    await keep_deleted(runtime, message_id)
    # After deleted_at is set, so a reaction added meanwhile sees the delete and takes itself back.
    await runtime.document_db[store.REACTIONS].delete_many({"message_id": message_id})
    deleted: dict[str, Any] = await messages.find_one({"_id": message_id})
    await runtime.emit(
        events.MessageDeleted.about(deleted, actor=principal.user_id),
        tenant=principal.tenant,
        event_id=f"{message_id}.deleted",
    )


async def react(
    runtime: Runtime, principal: Principal, message_id: str, emoji: str, *, add: bool
) -> dict[str, Any]:
    """Add or remove the caller's reaction; doing it twice changes nothing the second time.

    Each time a reaction is added it is a new document, unique by (message, emoji, user): the
    one insert that stores it announces the add, and the one claim of `unreact:<its id>` the
    removal, however many replicas race.
    """
    doc, member = await get_for(runtime, principal, message_id)
    if doc.get("deleted_at") is not None:
        raise Problem(409, "the message was deleted", slug="message-deleted")
    if add and member.archived:
        raise Problem(409, "the channel is archived", slug="channel-archived")
    reactions = runtime.document_db[store.REACTIONS]
    slot = store.reaction_slot(message_id, emoji, principal.user_id)
    if add:
        reaction_id = new_id()
        changed = await claim(
            reactions,
            reaction_id,
            slot=slot,
            message_id=message_id,
            emoji=emoji,
            user_id=principal.user_id,
            at=utcnow(),
        )
    else:
        held = await reactions.find_one({"slot": slot}, {"_id": 1})
        reaction_id = held["_id"] if held is not None else ""
        changed = held is not None and await claim(
            runtime.document_db[store.CLAIMS], store.UNREACT + reaction_id, at=utcnow()
        )
        if held is not None:
            # Every remover finishes the delete: the claimant may have died after its claim.
            await reactions.delete_one({"_id": reaction_id})
    current: dict[str, Any] = await runtime.document_db[store.MESSAGES].find_one(
        {"_id": message_id}
    )
    if current.get("deleted_at") is not None or current.get("expired"):
        # Deleted or expired meanwhile: its reactions are gone with it, this one too.
        if add and changed:
            await reactions.delete_one({"_id": reaction_id})
        raise Problem(409, "the message was deleted", slug="message-deleted")
    if changed:
        shown = await store.reactions_of(runtime, [message_id])
        kind = events.ReactionAdded if add else events.ReactionRemoved
        await runtime.emit(
            kind.about(
                current, actor=principal.user_id, reactions=shown.get(message_id, {}), emoji=emoji
            ),
            tenant=principal.tenant,
            event_id=f"{reaction_id}.{'added' if add else 'removed'}",
        )
    return current


async def forward(
    runtime: Runtime, principal: Principal, message_id: str, channel_id: str, comment: str
) -> tuple[dict[str, Any], bool]:
    """Post a copy of a message the caller can see into another channel they may post in."""
    doc, _ = await get_for(runtime, principal, message_id)
    if doc.get("deleted_at") is not None:
        raise Problem(409, "the message was deleted", slug="message-deleted")
    text = "\n".join(part for part in (comment, doc.get("text", "")) if part)
    draft = Draft(
        channel_id=channel_id,
        text=text,
        file_ids=tuple(a["id"] for a in doc.get("attachments", [])),
        forwarded={
            "message_id": doc["_id"],
            "channel_id": doc["channel_id"],
            "sender_id": doc["sender_id"],
        },
    )
    return await post(runtime, principal, draft)
