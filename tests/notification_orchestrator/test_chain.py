"""The orchestrator behind the real message, thread, channel, user and presence services (one
in-process mesh, embedded stores): what people do in the chat becomes the right notices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from quckchat.channel import client as channel_client
from quckchat.core.events import Event
from quckchat.core.sql import new_id, utcnow
from quckchat.notification_orchestrator import store
from quckchat.notification_orchestrator.logic import on_event
from quckchat.reminder.events import ReminderFired
from quckchat.user import client as user_client
from quckchat.user.consumers import on_auth_event
from tests.support import TestKeys
from tests.worlds.bus import Observer
from tests.worlds.chat import SUPPORT, Chat, chat_in
from tests.worlds.identity import registered
from tests.worlds.mesh import Mesh, mesh_settings, running_services
from tests.worlds.waiting import eventually

ORCHESTRATOR = "notification-orchestrator"
NAMES = [*SUPPORT, "thread", "presence", ORCHESTRATOR]


@pytest.fixture(scope="module", name="mesh")
async def mesh_fixture(
    tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Mesh]:
    base = mesh_settings(data_dir=tmp_path_factory.mktemp("orchestrator"))
    async with running_services(NAMES, base, module_keys) as mesh:
        yield mesh


@pytest.fixture(name="chat")
async def chat_fixture(mesh: Mesh, module_keys: TestKeys) -> AsyncIterator[Chat]:
    async with chat_in(mesh, module_keys, ORCHESTRATOR, observe=[ORCHESTRATOR]) as chat:
        yield chat


def observer(chat: Chat) -> Observer:
    return chat.observers[ORCHESTRATOR]


async def decided(chat: Chat, user: str, **data: Any) -> Event:
    return await observer(chat).wait_for("notice.decided", user_id=user, **data)


async def test_a_reply_tells_the_threads_followers_but_the_replier(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    parent = await chat.post(bob, "a plan")
    await chat.post(carol, f"<@{chat.owner}> joins in", parent_id=parent["id"])
    # The owner was mentioned in the reply; Bob follows as the parent's author.
    await decided(chat, chat.owner, reason="mention")
    reply_to_bob = await decided(chat, bob, reason="thread_reply")
    assert reply_to_bob.data["thread_id"] == parent["id"]
    assert reply_to_bob.data["collapse_key"] == f"thread:{parent['id']}"
    await chat.post(bob, "thanks", parent_id=parent["id"])
    await decided(chat, carol, reason="thread_reply")
    await decided(chat, chat.owner, reason="thread_reply")
    told = [e.data["user_id"] for e in observer(chat).drain() if e.type == "notice.decided"]
    assert bob not in told


async def test_a_reaction_tells_the_author_when_their_setting_says_so(chat: Chat) -> None:
    bob = await chat.member()
    mine = await chat.post(bob, "ship it")
    await chat.call("message", "PUT", f"/{mine['id']}/reactions/:tada:", chat.owner)
    event = await decided(chat, bob, reason="reaction")
    assert event.data["actor"] == chat.owner
    body = {"notifications": {"reactions": False}}
    await chat.call("user", "PATCH", "/me/settings", bob, json=body)
    other = await chat.post(bob, "and this")
    await chat.call("message", "PUT", f"/{other['id']}/reactions/:tada:", chat.owner)
    await chat.post(chat.owner, f"<@{bob}> after")
    await decided(chat, bob, reason="mention")
    reasons = [e.data["reason"] for e in observer(chat).drain() if e.type == "notice.decided"]
    assert "reaction" not in reasons


async def test_a_muted_channel_tells_nothing_until_the_mute_ends(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    await chat.call("channel", "PUT", f"/{chat.general}/mute", bob)
    await chat.post(chat.owner, f"<@{bob}> <@{carol}> muted")
    # Decided when handled: Carol's notice says the muted message was, before the unmute.
    await decided(chat, carol)
    await chat.call("channel", "DELETE", f"/{chat.general}/mute", bob)
    # The orchestrator keeps the member list a few seconds; the unmute announces nothing.
    channel_client.forget_channel(chat.mesh.runtime(ORCHESTRATOR), chat.general)
    unmuted = await chat.post(chat.owner, f"<@{bob}> unmuted")
    event = await decided(chat, bob)
    assert event.data["message_id"] == unmuted["id"]


async def test_a_direct_conversation_tells_the_other_and_blocks_hold(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    dm = await chat.call(
        "channel",
        "POST",
        "/",
        bob,
        json={"workspace_id": chat.workspace_id, "kind": "direct", "members": [carol]},
    )
    await chat.post(bob, "psst", channel_id=dm["id"])
    event = await decided(chat, carol, reason="direct")
    assert event.data["title"] == "Direct message"
    await on_auth_event(chat.mesh.runtime("user"), registered(bob))
    await chat.call("user", "POST", f"/me/blocks/{bob}", carol)
    runtime = chat.mesh.runtime(ORCHESTRATOR)

    async def blocked() -> bool:
        # The orchestrator's kept answer is dropped when the block's event reaches it.
        return (await user_client.notify_profiles(runtime, [carol], actor_id=bob))[
            carol
        ].blocked_actor

    assert await eventually(blocked)
    await chat.post(bob, "again", channel_id=dm["id"])
    await chat.post(chat.owner, f"<@{carol}> still here")
    await decided(chat, carol, reason="mention")
    told = [e.data for e in observer(chat).drain() if e.type == "notice.decided"]
    assert all(d["actor"] != bob for d in told)


async def test_at_here_tells_only_those_active_now(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    await chat.call("presence", "POST", "/heartbeat", bob, json={"device_id": "desk"})
    here = await chat.post(chat.owner, "@here standup")
    await decided(chat, bob, reason="mention", message_id=here["id"])
    await chat.post(chat.owner, f"<@{carol}> barrier")
    await decided(chat, carol, reason="mention")
    told = [e.data for e in observer(chat).drain() if e.type == "notice.decided"]
    assert not [d for d in told if d["user_id"] == carol and d["message_id"] == here["id"]]


async def test_a_personal_reminder_tells_its_owner(chat: Chat) -> None:
    fired = ReminderFired(
        reminder_id=new_id(),
        user_id=chat.owner,
        workspace_id=chat.workspace_id,
        text="water the plants",
        occurrence=1,
        due_at=utcnow(),
        actor=chat.owner,
    )
    event = Event.of(fired, source="reminder", tenant="default", id=fired.event_id)
    runtime = chat.mesh.runtime(ORCHESTRATOR)
    await on_event(runtime, event)
    await on_event(runtime, event)  # redelivered
    notice = await decided(chat, chat.owner, reason="reminder")
    assert notice.data["body"] == "water the plants"
    assert notice.data["actor"] == chat.owner
    again = [e for e in observer(chat).drain() if e.data.get("reason") == "reminder"]
    assert again == []


async def test_a_mention_edited_away_withdraws_that_notice_only(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    await on_auth_event(chat.mesh.runtime("user"), registered(carol))
    await chat.call(
        "user", "PATCH", "/me/settings", carol, json={"notifications": {"keywords": ["deploy"]}}
    )
    said = await chat.post(chat.owner, f"<@{bob}> <@{carol}> the deploy")
    to_bob = await decided(chat, bob, message_id=said["id"])
    await decided(chat, carol, message_id=said["id"])
    await chat.call("message", "PATCH", f"/{said['id']}", chat.owner, json={"text": "the deploy"})
    gone = await observer(chat).wait_for("notice.withdrawn", user_id=bob)
    assert gone.data["notice_id"] == to_bob.data["notice_id"]
    await chat.post(chat.owner, f"<@{bob}> barrier")
    await decided(chat, bob, reason="mention")
    # Carol's keyword is still in the text: her notice stands.
    withdrawn = [e.data for e in observer(chat).drain() if e.type == "notice.withdrawn"]
    assert withdrawn == []


async def test_a_muted_thread_tells_its_follower_nothing_until_unmuted(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    parent = await chat.post(bob, "a plan")
    until = (utcnow() + timedelta(hours=1)).isoformat()
    await chat.call("thread", "PUT", f"/{parent['id']}/mute", bob, json={"until": until})
    muted = await chat.post(carol, "quiet reply", parent_id=parent["id"])
    runtime = chat.mesh.runtime(ORCHESTRATOR)
    assert await eventually(lambda: store.thread_reply_seen(runtime, parent["id"], muted["seq"]))
    await chat.call("thread", "DELETE", f"/{parent['id']}/mute", bob)
    loud = await chat.post(carol, "loud reply", parent_id=parent["id"])
    event = await decided(chat, bob, reason="thread_reply")
    assert event.data["message_id"] == loud["id"]
    told = [e.data for e in observer(chat).drain() if e.type == "notice.decided"]
    assert not [d for d in told if d["message_id"] == muted["id"] and d["user_id"] == bob]


async def settings(chat: Chat, user: str, **notifications: Any) -> None:
    """Change the user's notification settings and wait until the orchestrator sees them."""
    await on_auth_event(chat.mesh.runtime("user"), registered(user))
    await chat.call("user", "PATCH", "/me/settings", user, json={"notifications": notifications})
    runtime = chat.mesh.runtime(ORCHESTRATOR)

    async def seen() -> bool:
        found = (await user_client.notify_profiles(runtime, [user], actor_id=None))[user]
        profile = found.profile or {}
        notes = profile.get("notifications", {})
        return all(notes.get(k) == v for k, v in notifications.items())

    assert await eventually(seen)


async def test_the_push_switch_on_mentions_pushes_no_thread_reply(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    await settings(chat, bob, push="mentions", email=False)
    parent = await chat.post(bob, "a plan")
    await chat.post(carol, "a reply", parent_id=parent["id"])
    reply = await decided(chat, bob, reason="thread_reply")
    assert reply.data["media"] == ["in_app"] and reply.data["push_after"] is None
    await chat.post(carol, f"<@{bob}> look")
    mention = await decided(chat, bob, reason="mention")
    assert mention.data["media"] == ["in_app", "push"]


async def test_a_push_waits_only_while_a_desktop_is_active(chat: Chat) -> None:
    bob = await chat.member()
    await settings(chat, bob, push_delay_seconds=300)
    beat = {"device_id": "phone", "kind": "mobile"}
    await chat.call("presence", "POST", "/heartbeat", bob, json=beat)
    on_phone = await chat.post(chat.owner, f"<@{bob}> on the phone")
    event = await decided(chat, bob, message_id=on_phone["id"])
    assert datetime.fromisoformat(event.data["push_after"]) < utcnow() + timedelta(seconds=60)
    beat = {"device_id": "laptop", "kind": "desktop"}
    await chat.call("presence", "POST", "/heartbeat", bob, json=beat)
    at_desk = await chat.post(chat.owner, f"<@{bob}> at the desk")
    event = await decided(chat, bob, message_id=at_desk["id"])
    assert datetime.fromisoformat(event.data["push_after"]) > utcnow() + timedelta(seconds=200)


async def test_do_not_disturb_holds_the_push_until_it_ends(chat: Chat) -> None:
    bob = await chat.member()
    await chat.call("presence", "POST", "/heartbeat", bob, json={"device_id": "phone"})
    until = utcnow() + timedelta(hours=2)
    await chat.call(
        "presence", "PUT", "/me", bob, json={"status": "dnd", "dnd_until": until.isoformat()}
    )
    held = await chat.post(chat.owner, f"<@{bob}> later")
    event = await decided(chat, bob, message_id=held["id"])
    assert "push" in event.data["media"]
    assert abs(datetime.fromisoformat(event.data["push_after"]) - until) < timedelta(seconds=1)
