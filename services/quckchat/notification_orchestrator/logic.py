"""From an event to the notices it makes: gather what the callees say about each candidate
(members and mutes, settings and blocks, presence), `decide`, store each decision once.

Delivery is at least once, and several replicas consume: every notice is stored under an id
derived from its source and recipient, so a repeat stores nothing and announces nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from quckchat.channel import client as channel_client
from quckchat.core import logging as qlog
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.message import client as message_client
from quckchat.message.events import (
    GONE,
    MessageBody,
    MessageCreated,
    MessageEdited,
    ReactionAdded,
)
from quckchat.notification_orchestrator import store
from quckchat.notification_orchestrator.decide import (
    LEVEL_DEFAULT,
    PUSH_ALL,
    Candidate,
    Decision,
    Happening,
    Kind,
    Presence,
    Settings,
    could_concern,
    decide,
    notice_id,
    withdrawn,
)
from quckchat.notification_orchestrator.events import NoticeDecided
from quckchat.presence import client as presence_client
from quckchat.reminder.events import ReminderFired
from quckchat.thread.events import ThreadUpdated
from quckchat.user import client as user_client

log = qlog.get("notification_orchestrator")
FOREVER = datetime.max.replace(tzinfo=UTC)
BODY_LENGTH = 200
# Notices stored at once: each is an insert and a publish that waits for the broker's ack, so
# one at a time a message with 50 mentions waited 150 round trips in a row.
STORE_CONCURRENCY = 16


def settings_of(profile: dict[str, Any] | None) -> Settings:
    """The user service's answer as `Settings`; the defaults for a user without a profile."""
    if profile is None:
        return Settings()
    notes = profile["notifications"]
    quiet = notes.get("quiet_hours") or {}
    return Settings(
        messages=notes["messages"],
        mentions=notes["mentions"],
        reactions=notes["reactions"],
        calls=notes["calls"],
        keywords=tuple(notes.get("keywords") or ()),
        push_delay_seconds=int(notes.get("push_delay_seconds") or 0),
        push=notes.get("push") or PUSH_ALL,
        email=notes.get("email", True),
        email_digest=notes["email_digest"],
        quiet_start=quiet.get("start"),
        quiet_end=quiet.get("end"),
        timezone=profile.get("timezone"),
    )


async def candidates(
    runtime: Runtime,
    user_ids: Iterable[str],
    *,
    actor: str | None,
    view: channel_client.NotifyView | None,
    thread_muted: Mapping[str, datetime | None] | None = None,
    happening: Happening | None = None,
) -> list[Candidate]:
    """What the callees say of each user: membership and mute (of `view`'s channel, when
    there is one), settings and blocks of the actor, presence; `thread_muted`: the thread's
    muted followers with each mute's end, as the thread service told it. Given the
    `happening`, presence is asked only for those it could concern: in a big channel a
    message that names nobody asks for nobody's."""
    wanted = sorted(set(user_ids) - {actor} if actor else set(user_ids))
    if not wanted:
        return []
    members = {m.user_id: m for m in view.members} if view is not None else {}
    mutes = thread_muted or {}
    profiles = await user_client.notify_profiles(runtime, wanted, actor_id=actor)
    found = []
    for user in wanted:
        member = members.get(user)
        answer = profiles.get(user)
        muted = member is not None and member.muted
        thread_mute = (mutes[user] or FOREVER) if user in mutes else None
        found.append(
            Candidate(
                user_id=user,
                member=view is None or member is not None,
                muted_until=(member.muted_until or FOREVER) if member and muted else None,
                settings=settings_of(answer.profile if answer else None),
                thread_muted_until=thread_mute,
                presence=Presence(),
                blocked_actor=answer is not None and answer.blocked_actor,
                level=member.level if member else LEVEL_DEFAULT,
                ignore_channel_mentions=member is not None and member.ignore_channel_mentions,
            )
        )
    asked = [c.user_id for c in found if happening is None or could_concern(happening, c)]
    presences = await presence_client.presences(runtime.http, asked) if asked else {}
    return [replace(c, presence=_presence(presences.get(c.user_id))) for c in found]


def _presence(seen: presence_client.Presence | None) -> Presence:
    if seen is None:
        return Presence()
    return Presence(status=seen.status, active=seen.active, dnd_until=seen.dnd_until)


def _title(view: channel_client.NotifyView | None) -> str:
    if view is None:
        return "QuckChat"
    if view.direct:
        return "Direct message"
    return f"#{view.name}" if view.name else "Channel"


def _notices(
    decisions: list[Decision],
    *,
    source: str,
    tenant: str,
    title: str,
    body: str,
    actor: str | None,
    workspace_id: str | None,
    channel_id: str | None,
    thread_id: str | None = None,
    message_id: str | None = None,
    seq: int | None = None,
) -> list[NoticeDecided]:
    collapse = f"thread:{thread_id}" if thread_id else f"channel:{channel_id or source}"
    return [
        NoticeDecided(
            notice_id=notice_id(source, d.user_id),
            user_id=d.user_id,
            tenant=tenant,
            reason=d.reason,
            media=list(d.media),
            title=title,
            body=body[:BODY_LENGTH],
            collapse_key=collapse,
            workspace_id=workspace_id,
            channel_id=channel_id,
            thread_id=thread_id,
            message_id=message_id,
            seq=seq,
            actor=actor,
            push_after=d.push_after,
            digest=d.digest,
            urgent=d.urgent,
        )
        for d in decisions
    ]


def _place(message: MessageBody) -> dict[str, Any]:
    """Where a notice about `message` points: its workspace, channel, thread and place."""
    return {
        "workspace_id": message.workspace_id,
        "channel_id": message.channel_id,
        "thread_id": message.parent_id,
        "message_id": message.id,
        "seq": message.seq,
    }


async def _store(runtime: Runtime, notices: list[NoticeDecided], *, source: str) -> int:
    """Store and announce the notices, several at once (each is another recipient's, so no
    recipient's order changes); how many were new."""
    bound = asyncio.Semaphore(STORE_CONCURRENCY)

    async def one(notice: NoticeDecided) -> bool:
        async with bound:
            return await store.store_notice(runtime, notice, source=source)

    return sum(await asyncio.gather(*(one(notice) for notice in notices)))


async def on_message(runtime: Runtime, event: Event, message: MessageBody, kind: Kind) -> int:
    """A new or edited message: the members it mentions, names by keyword, or (direct
    conversations) every other member. How many notices were stored."""
    view = await channel_client.notify_view(runtime, message.channel_id)
    if view is None or message.deleted:
        return 0
    source = message.id
    told = await store.told(runtime, source) if kind is Kind.EDITED else {}
    happening = Happening(
        kind=kind,
        source=source,
        actor=message.sender_id,
        channel_kind=view.kind,
        text=message.text,
        mentions=frozenset(message.mentions),
        mention_channel=message.mention_channel,
        told=frozenset(told),
        reply=message.parent_id is not None,
        urgent=message.priority == "urgent",
    )
    members = (m.user_id for m in view.members)
    people = await candidates(
        runtime, members, actor=message.sender_id, view=view, happening=happening
    )
    await store.withdraw_told(runtime, source, withdrawn(happening, people, told))
    decisions = decide(happening, people, utcnow())
    notices = _notices(
        decisions,
        source=source,
        tenant=event.tenant or "default",
        title=_title(view),
        body=message.text,
        actor=message.sender_id,
        **_place(message),
    )
    return await _store(runtime, notices, source=source)


async def on_thread(runtime: Runtime, event: Event, updated: ThreadUpdated) -> int:
    """A new reply in a thread: its followers but the replier. A change that is no new reply
    (a reply deleted) finds its seq handled before and tells nobody."""
    if updated.last_reply_id is None or updated.actor is None:
        return 0
    if await store.thread_reply_seen(runtime, updated.parent_id, updated.last_seq):
        return 0
    reply = await message_client.fetch_message(runtime.http, updated.last_reply_id)
    view = await channel_client.notify_view(runtime, updated.channel_id)
    if reply is None or reply.deleted or view is None or reply.sender_id != updated.actor:
        return 0
    happening = Happening(
        kind=Kind.THREAD_REPLY,
        source=reply.id,
        actor=reply.sender_id,
        channel_kind=view.kind,
        text=reply.text,
        mentions=frozenset(reply.mentions),
        mention_channel=reply.mention_channel,
        addressed=frozenset(updated.followers),
    )
    people = await candidates(
        runtime,
        updated.followers,
        actor=reply.sender_id,
        view=view,
        thread_muted=updated.muted,
        happening=happening,
    )
    notices = _notices(
        decide(happening, people, utcnow()),
        source=reply.id,
        tenant=event.tenant or "default",
        title=_title(view),
        body=reply.text,
        actor=reply.sender_id,
        **_place(reply),
    )
    stored = await _store(runtime, notices, source=reply.id)
    await store.mark_thread_reply(runtime, updated.parent_id, updated.last_seq)
    return stored


async def on_reaction(runtime: Runtime, event: Event, added: ReactionAdded) -> int:
    """A reaction: the message's author, if their settings say so."""
    message = added.message
    view = await channel_client.notify_view(runtime, message.channel_id)
    if view is None:
        return 0
    source = f"{message.id}:reaction:{added.actor}:{added.emoji}"
    happening = Happening(
        kind=Kind.REACTION,
        source=source,
        actor=added.actor,
        channel_kind=view.kind,
        addressed=frozenset({message.sender_id}),
    )
    sender = [message.sender_id]
    people = await candidates(runtime, sender, actor=added.actor, view=view, happening=happening)
    notices = _notices(
        decide(happening, people, utcnow()),
        source=source,
        tenant=event.tenant or "default",
        title=_title(view),
        body=f"{added.emoji} on: {message.text}",
        actor=added.actor,
        **_place(message),
    )
    return await _store(runtime, notices, source=source)


async def on_reminder(runtime: Runtime, event: Event, fired: ReminderFired) -> int:
    """A reminder: its owner, or a channel's members for a channel's reminder."""
    view = None
    addressed = {fired.user_id}
    if fired.channel_id:
        view = await channel_client.notify_view(runtime, fired.channel_id)
        if view is None:
            return 0
        addressed = {m.user_id for m in view.members}
    source = f"reminder:{fired.reminder_id}.{fired.occurrence}"
    # The owner set it for themselves: the one rule of "never the actor" that does not hold.
    happening = Happening(
        kind=Kind.REMINDER, source=source, actor=None, addressed=frozenset(addressed)
    )
    people = await candidates(runtime, addressed, actor=None, view=view, happening=happening)
    notices = _notices(
        decide(happening, people, utcnow()),
        source=source,
        tenant=event.tenant or "default",
        title="Reminder",
        body=fired.text,
        actor=fired.actor,
        workspace_id=fired.workspace_id,
        channel_id=fired.channel_id,
        message_id=fired.message_id,
    )
    return await _store(runtime, notices, source=source)


async def on_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the message, thread and reminder topics."""
    if event.type == MessageCreated.type and (created := MessageCreated.parse(event)):
        await on_message(runtime, event, created.message, Kind.CREATED)
    elif event.type == MessageEdited.type and (edited := MessageEdited.parse(event)):
        await on_message(runtime, event, edited.message, Kind.EDITED)
    elif event.type == ReactionAdded.type and (added := ReactionAdded.parse(event)):
        await on_reaction(runtime, event, added)
    elif event.type == ThreadUpdated.type and (updated := ThreadUpdated.parse(event)):
        await on_thread(runtime, event, updated)
    elif event.type == ReminderFired.type and (fired := ReminderFired.parse(event)):
        await on_reminder(runtime, event, fired)
    elif (gone := GONE.get(event.type)) is not None and (removed := gone.parse(event)):
        await store.withdraw_message(runtime, removed.message_id)
