"""The orchestrator's decisions, and read marks from the message, channel and thread services.

Delivery is at least once and replicas race: a decision is stored once by its `notice_id`
(the loser of the race finds the row and does nothing), a withdrawal once by the notice's
flag, and read pointers only move forward, so a redelivery changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from quckchat.auth.client import email_of
from quckchat.channel.events import ChannelRead
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.core.sql import Database, utcnow
from quckchat.message.events import MessagesRead
from quckchat.notification import worker
from quckchat.notification.models import EMAIL, PUSH, Delivery, Notice
from quckchat.notification.store import delivery_id, move_pointer, store, withdraw
from quckchat.notification_orchestrator.events import Medium, NoticeDecided, NoticeWithdrawn
from quckchat.thread.events import ThreadRead
from quckchat.user.client import devices_of


def _db(runtime: Runtime) -> Database:
    if runtime.db is None:
        raise RuntimeError("the notification service needs its database")
    return runtime.db


def notice_of(decided: NoticeDecided) -> Notice:
    return Notice(
        id=decided.notice_id,
        tenant=decided.tenant,
        user_id=decided.user_id,
        reason=decided.reason.value,
        title=decided.title,
        body=decided.body,
        collapse_key=decided.collapse_key,
        workspace_id=decided.workspace_id,
        channel_id=decided.channel_id,
        thread_id=decided.thread_id,
        message_id=decided.message_id,
        seq=decided.seq,
        actor=decided.actor,
        urgent=decided.urgent,
        created_at=utcnow(),
    )


async def deliveries_for(
    runtime: Runtime,
    *,
    notice_id: str,
    user_id: str,
    media: Sequence[Medium],
    push_after: datetime | None = None,
    digest: bool = False,
) -> list[Delivery]:
    """One push per device of the user (held until `push_after`), and one email."""
    found: list[Delivery] = []
    now = utcnow()
    if Medium.PUSH in media:
        for device in await devices_of(runtime.http, user_id):
            found.append(
                Delivery(
                    id=delivery_id(notice_id, PUSH, device.device_id),
                    notice_id=notice_id,
                    user_id=user_id,
                    medium=PUSH,
                    device_id=device.device_id,
                    platform=device.platform,
                    token=device.push_token,
                    due_at=max(push_after or now, now),
                )
            )
    if Medium.EMAIL in media and (address := await email_of(runtime.http, user_id)):
        found.append(
            Delivery(
                id=delivery_id(notice_id, EMAIL, address),
                notice_id=notice_id,
                user_id=user_id,
                medium=EMAIL,
                address=address,
                digest=digest,
                due_at=now,
            )
        )
    return found


async def on_decision(runtime: Runtime, event: Event) -> None:
    """Consumer of the orchestrator's topic: store what it decided, or withdraw it."""
    db = _db(runtime)
    if event.type == NoticeDecided.type and (decided := NoticeDecided.parse(event)):
        async with db.session() as session:
            if await session.get(Notice, decided.notice_id) is not None:
                return
        # Asked before the transaction: a redelivery (the user service away) asks again.
        deliveries = await deliveries_for(
            runtime,
            notice_id=decided.notice_id,
            user_id=decided.user_id,
            media=decided.media,
            push_after=decided.push_after,
            digest=decided.digest,
        )
        async with db.session() as session:
            await store(session, runtime, notice_of(decided), deliveries)
        worker.wake(runtime)
    elif event.type == NoticeWithdrawn.type and (withdrawn := NoticeWithdrawn.parse(event)):
        async with db.session() as session:
            await withdraw(session, runtime, notice_id=withdrawn.notice_id)
        worker.wake(runtime)  # the clears of what was shown


async def on_read(runtime: Runtime, event: Event) -> None:
    """Consumer of the message, channel and thread topics: a user read up to a point."""
    mark: MessagesRead | ChannelRead | ThreadRead | None = None
    if event.type == MessagesRead.type:
        mark = MessagesRead.parse(event)
    elif event.type == ChannelRead.type:
        mark = ChannelRead.parse(event)
    elif event.type == ThreadRead.type:
        mark = ThreadRead.parse(event)
    if mark is None:
        return
    thread_id = mark.parent_id if isinstance(mark, ThreadRead) else None
    async with _db(runtime).session() as session:
        await move_pointer(
            session,
            runtime,
            user_id=mark.user_id,
            tenant=event.tenant,
            channel_id=mark.channel_id,
            thread_id=thread_id,
            seq=mark.seq,
        )
    worker.wake(runtime)  # the clears for devices that showed what is now read
