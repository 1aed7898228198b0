"""Replies reach the thread service as message events, at least once; each applies once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from quckchat.channel.events import ChannelDeleted, MemberLeft
from quckchat.core.events import Event
from quckchat.thread.consumers import apply_channel_event, apply_reply_created, reply_fields
from quckchat.thread.models import Follower, Thread, processed_events
from tests.worlds.chat import Chat
from tests.worlds.waiting import eventually


async def thread_row(chat: Chat, parent_id: str) -> Thread | None:
    db = chat.mesh.runtime("thread").db
    assert db is not None
    async with db.session() as session:
        return await session.get(Thread, parent_id)


async def following(chat: Chat, parent_id: str) -> dict[str, tuple[bool, int]]:
    db = chat.mesh.runtime("thread").db
    assert db is not None
    async with db.session() as session:
        rows = await session.scalars(select(Follower).where(Follower.parent_id == parent_id))
        return {f.user_id: (f.following, f.last_read_seq) for f in rows}


async def reply_and_wait(chat: Chat, user: str, parent: dict[str, Any], text: str) -> Event:
    reply = await chat.post(user, text, parent_id=parent["id"])
    return await chat.observers["thread"].wait_for("thread.updated", last_reply_id=reply["id"])


async def test_a_reply_opens_the_thread_and_its_people_follow(chat: Chat) -> None:
    bob = await chat.member()
    parent = await chat.post(chat.owner, "lunch?")
    updated = await reply_and_wait(chat, bob, parent, "yes")

    assert updated.key == parent["id"]
    assert updated.data["workspace_id"] == chat.workspace_id
    assert updated.data["channel_id"] == chat.general
    assert updated.data["reply_count"] == 1
    assert updated.data["followers"] == sorted([chat.owner, bob])
    thread = await thread_row(chat, parent["id"])
    assert thread is not None and thread.parent_sender_id == chat.owner
    assert thread.last_seq == parent["seq"] + 1
    # The author has the reply to read; the replier has read up to their own reply.
    assert await following(chat, parent["id"]) == {
        chat.owner: (True, parent["seq"]),
        bob: (True, parent["seq"] + 1),
    }


async def test_a_redelivered_reply_has_no_second_effect(chat: Chat) -> None:
    bob = await chat.member()
    parent = await chat.post(chat.owner, "question")
    reply = await chat.post(bob, "answer", parent_id=parent["id"])
    created = await chat.observers["message"].wait_for("message.created", message_id=reply["id"])
    first = await chat.observers["thread"].wait_for("thread.updated", last_reply_id=reply["id"])

    fields = reply_fields(created)
    assert fields is not None
    db = chat.mesh.runtime("thread").db
    assert db is not None
    async with db.session() as session:
        applied = await apply_reply_created(
            session, chat.mesh.runtime("thread"), event=created, reply=fields
        )
    assert applied is False
    # Through the bus too, as Kafka would redeliver it: nothing changes, nothing is announced.
    await chat.mesh.runtime("message").events.publish("quckchat.message", created)
    later = await chat.post(bob, "and another", parent_id=parent["id"])
    updated = await chat.observers["thread"].wait_for("thread.updated", last_reply_id=later["id"])
    assert updated.data["reply_count"] == 2 and updated.id != first.id
    assert chat.observers["thread"].drain() == []
    again = await chat.observers["message"].wait_for("message.created", message_id=later["id"])
    async with db.session() as session:
        recorded = await session.scalar(
            select(func.count())
            .select_from(processed_events)
            .where(processed_events.c.event_id.in_([created.id, again.id]))
        )
    assert recorded == 2


async def test_mentioned_members_follow_and_outsiders_do_not(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    outsider = "stranger"
    parent = await chat.post(chat.owner, "plan")
    reply = await chat.post(bob, f"<@{carol}> and <@{outsider}>, see this", parent_id=parent["id"])
    updated = await chat.observers["thread"].wait_for("thread.updated", last_reply_id=reply["id"])

    assert updated.data["followers"] == sorted([chat.owner, bob, carol])
    # Carol starts with the reply that named her unread.
    assert (await following(chat, parent["id"]))[carol] == (True, parent["seq"])


async def test_an_author_who_unfollowed_is_not_followed_again_unless_named(chat: Chat) -> None:
    bob = await chat.member()
    parent = await chat.post(chat.owner, "status")
    await reply_and_wait(chat, bob, parent, "ok")
    gone = await chat.client.delete(f"/{parent['id']}/follow", headers=chat.auth(chat.owner))
    assert gone.status_code == 204
    updated = await reply_and_wait(chat, bob, parent, "still ok")
    assert updated.data["followers"] == [bob]
    named = await reply_and_wait(chat, bob, parent, f"<@{chat.owner}> look")
    assert named.data["followers"] == sorted([chat.owner, bob])


async def test_deleted_and_expired_replies_are_uncounted(chat: Chat) -> None:
    bob = await chat.member()
    parent = await chat.post(chat.owner, "thread")
    first = await chat.post(bob, "one", parent_id=parent["id"])
    second = await chat.post(bob, "two", parent_id=parent["id"])
    await chat.observers["thread"].wait_for("thread.updated", last_reply_id=second["id"])

    deleted = await chat.mesh.client("message").delete(f"/{second['id']}", headers=chat.auth(bob))
    assert deleted.status_code == 204
    updated = await chat.observers["thread"].wait_for("thread.updated", reply_count=1)
    assert updated.data["last_reply_id"] == first["id"]
    assert updated.data["actor"] == bob

    # As the message service's sweeper announces a disappearing message.
    expired = Event(
        type="message.expired",
        source="message",
        key=chat.general,
        data={
            "workspace_id": chat.workspace_id,
            "channel_id": chat.general,
            "message_id": first["id"],
            "seq": first["seq"],
            "actor": bob,
        },
    )
    await chat.mesh.runtime("message").events.publish("quckchat.message", expired)
    updated = await chat.observers["thread"].wait_for("thread.updated", reply_count=0)
    assert updated.data["last_reply_id"] is None and updated.data["last_reply_at"] is None
    thread = await thread_row(chat, parent["id"])
    assert thread is not None and thread.last_seq == parent["seq"]


async def test_a_member_who_leaves_the_channel_stops_following(chat: Chat) -> None:
    bob = await chat.member()
    parent = await chat.post(chat.owner, "hello")
    await reply_and_wait(chat, bob, parent, "hi")
    left = Event.of(
        MemberLeft(
            workspace_id=chat.workspace_id,
            channel_id=chat.general,
            kind="public",
            user_id=bob,
            actor=bob,
        ),
        source="channel",
        tenant=None,
    )
    db = chat.mesh.runtime("thread").db
    assert db is not None
    async with db.session() as session:
        assert await apply_channel_event(session, event=left) is True
    async with db.session() as session:
        assert await apply_channel_event(session, event=left) is False
    assert set(await following(chat, parent["id"])) == {chat.owner}


async def test_a_deleted_channel_takes_its_threads(chat: Chat) -> None:
    bob = await chat.member()
    parent = await chat.post(chat.owner, "bye")
    await reply_and_wait(chat, bob, parent, "bye")
    deleted = Event.of(
        ChannelDeleted(
            workspace_id=chat.workspace_id, channel_id=chat.general, kind="public", actor=bob
        ),
        source="channel",
        tenant=None,
    )
    await chat.mesh.runtime("channel").events.publish("quckchat.channel", deleted)
    assert await eventually(lambda: thread_row(chat, parent["id"]), until=None) is None
    assert await following(chat, parent["id"]) == {}


async def test_unusable_events_change_nothing(chat: Chat) -> None:
    top = Event(
        type="message.created",
        source="message",
        key="c",
        data={"channel_id": "c", "message": {"id": "m", "parent_id": None}},
    )
    assert reply_fields(top) is None
    broken = Event(
        type="message.created",
        source="message",
        key="c",
        data={"channel_id": "../x", "message": {"id": "m", "parent_id": "p", "seq": 3}},
    )
    assert reply_fields(broken) is None
    db = chat.mesh.runtime("thread").db
    assert db is not None
    no_user = Event(type="channel.member.left", source="channel", key="c", data={"channel_id": "c"})
    async with db.session() as session:
        assert await apply_channel_event(session, event=no_user) is False
        recorded = await session.scalar(
            select(func.count())
            .select_from(processed_events)
            .where(processed_events.c.event_id == no_user.id)
        )
    assert recorded == 0
