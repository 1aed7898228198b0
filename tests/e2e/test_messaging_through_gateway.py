"""Messaging end to end: REST through the gateway only, events over the realtime WebSocket.

Sockets on the first realtime replica connect at the gateway's public address
(/api/v1/realtime/ws); the second replica is reached at its own port. Alice and Bob share a
workspace, Eve has her own. One story, in order: a channel is created and joined; a message
reaches Bob on the other replica and never Eve; a thread reply, a reaction, an edit and a
delete arrive in order on both replicas; a read receipt and typing; a presence change; search;
a bookmark; a reminder fires; a disappearing message disappears; a dropped connection resumes
without gap or duplicate.
"""

from __future__ import annotations

import json
import uuid
from functools import partial
from typing import Any

import pytest

from quckchat.realtime.stream import position
from tests.e2e.conftest import PATIENCE, Platform
from tests.e2e.test_identity_through_gateway import otp_sign_in
from tests.e2e.websocket import WAIT_SECONDS, Frame, Listener, created, of_type
from tests.worlds.identity import bearer, phone_number
from tests.worlds.platform import EVERY_SERVER
from tests.worlds.waiting import eventually

pytestmark = [pytest.mark.e2e, *EVERY_SERVER]


def message_events(listener: Listener, channel_id: str) -> list[Frame]:
    return [
        f
        for f in listener.events
        if f["channel_id"] == channel_id and f["type"].startswith("message.")
    ]


async def test_messaging_story(platform: Platform) -> None:
    gw = platform.gateway

    async def call(method: str, path: str, who: dict[str, Any], **kw: Any) -> Any:
        response = await gw.request(method, path, headers=bearer(who), **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    async def send(who: dict[str, Any], channel_id: str, text: str, **body: Any) -> Any:
        return await call(
            "POST", "/messages", who, json={"channel_id": channel_id, "text": text, **body}
        )

    bobs_phone = phone_number()
    alice = await otp_sign_in(platform, phone_number(), display_name="Alice")
    bob = await otp_sign_in(platform, bobs_phone, display_name="Bob")
    eve = await otp_sign_in(platform, phone_number())
    workspace = await call(
        "POST", "/workspaces", alice, json={"name": "Acme " + uuid.uuid4().hex[:6]}
    )
    invite = await call(
        "POST", f"/workspaces/{workspace['id']}/invites", alice, json={"phone": bobs_phone}
    )
    # Bob's invite in Eve's hands: refused, and she is no member.
    stolen = await gw.post("/workspaces/join", json={"token": invite["token"]}, headers=bearer(eve))
    assert stolen.status_code == 403, stolen.text
    assert stolen.headers["content-type"].startswith("application/problem+json")
    assert stolen.json()["type"].endswith("/invite-not-for-you")
    peek = await gw.get(f"/workspaces/{workspace['id']}", headers=bearer(eve))
    assert peek.status_code == 404, peek.text
    await call("POST", "/workspaces/join", bob, json={"token": invite["token"]})
    # Read-your-writes: the workspace's #general is Bob's the moment the join answers.
    listed = await call("GET", "/channels", bob, params={"workspace_id": workspace["id"]})
    assert "general" in [c["name"] for c in listed["items"]]
    await call("POST", "/workspaces", eve, json={"name": "Elsewhere " + uuid.uuid4().hex[:6]})

    # Alice and Eve on one replica, Bob on the other: a sender on one, a receiver on the other.
    a = await Listener.open(platform.websocket_url(0, alice["access_token"]))
    b = await Listener.open(platform.websocket_url(1, bob["access_token"]))
    e = await Listener.open(platform.websocket_url(0, eve["access_token"]))

    # Channel creation and join: both members' open sockets follow the new channel.
    channel = await call(
        "POST",
        "/channels",
        alice,
        json={
            "workspace_id": workspace["id"],
            "kind": "public",
            "name": "e2e-" + uuid.uuid4().hex[:6],
        },
    )
    cid = channel["id"]
    joined = await gw.post(f"/channels/{cid}/join", headers=bearer(bob))
    assert joined.status_code == 201, joined.text
    listed = await call("GET", "/channels", bob, params={"workspace_id": workspace["id"]})
    assert cid in [c["id"] for c in listed["items"]]
    await a.until(of_type("channel.member.joined", channel_id=cid, user_id=bob["user_id"]))
    await b.until(of_type("channel.member.joined", channel_id=cid, user_id=bob["user_id"]))

    # Member lists show names (given at sign-up; the user service has them once Kafka delivers).
    names = {alice["user_id"]: "Alice", bob["user_id"]: "Bob"}

    async def listed_names(path: str) -> dict[str, str | None]:
        page = await call("GET", path, alice)
        return {m["user_id"]: m["display_name"] for m in page["items"]}

    for members in (f"/workspaces/{workspace['id']}/members", f"/channels/{cid}/members"):
        assert await eventually(partial(listed_names, members), until=names, **PATIENCE) == names

    # A message, a thread reply, a reaction, an edit and a delete, each awaited before the next.
    first = await send(alice, cid, "hello bob")
    assert first["sender_name"] == "Alice"
    arrived = await b.until(created(first["id"]))
    assert arrived["data"]["message"]["sender_name"] == "Alice"
    reply = await send(bob, cid, "hi alice", parent_id=first["id"])
    # The replier opens the thread at once, before the thread service has heard of the reply.
    opened = await call("GET", f"/threads/{first['id']}", bob)
    assert opened["parent_id"] == first["id"] and opened["channel_id"] == cid
    # The thread service counts the reply; the parent shows that count (a copy fed by its events).
    await a.until(of_type("thread.updated", parent_id=first["id"], reply_count=1))

    async def counted() -> bool:
        return bool((await call("GET", f"/messages/{first['id']}", alice))["reply_count"] == 1)

    assert await eventually(counted, **PATIENCE)
    await call("PUT", f"/messages/{first['id']}/reactions/:wave:", bob)
    await call("PATCH", f"/messages/{first['id']}", alice, json={"text": "hello, bob"})
    deleted = await gw.delete(f"/messages/{reply['id']}", headers=bearer(bob))
    assert deleted.status_code == 204, deleted.text
    expected = [
        ("message.created", first["id"]),
        ("message.created", reply["id"]),
        ("message.reaction.added", first["id"]),
        ("message.edited", first["id"]),
        ("message.deleted", reply["id"]),
    ]
    for listener in (a, b):
        await listener.until(of_type("message.deleted", channel_id=cid))
        got = message_events(listener, cid)
        assert [(f["type"], f["data"]["message"]["id"]) for f in got] == expected
        assert [f["id"] for f in got] == sorted({f["id"] for f in got}, key=position)
    assert [f["id"] for f in message_events(a, cid)] == [f["id"] for f in message_events(b, cid)]
    edited = message_events(b, cid)[3]["data"]["message"]
    assert edited["text"] == "hello, bob" and edited["edited_at"] is not None
    # The thread's followers (its author and the replier) hear of the reply.
    await a.until(of_type("thread.updated", parent_id=first["id"]))
    thread = await call("GET", f"/threads/{first['id']}", alice)
    assert thread["following"] is True

    # A read receipt reaches the channel; typing (a WebSocket frame) reaches the others.
    await call("POST", "/messages/read", bob, json={"channel_id": cid, "seq": first["seq"]})
    await a.until(of_type("message.read", channel_id=cid, user_id=bob["user_id"]))
    receipts = await call("GET", f"/messages/{first['id']}/receipts", alice)
    assert [r["user_id"] for r in receipts["read_by"]] == [bob["user_id"]]
    await b.socket.send(json.dumps({"type": "typing", "channel_id": cid}))
    typing = await a.until(of_type("presence.typing", channel_id=cid))
    assert typing["data"]["user_id"] == bob["user_id"]

    # Presence: Bob's device comes online, then he steps away; his workspace hears both.
    await call("POST", "/presence/heartbeat", bob, json={"device_id": "bob-phone"})
    await a.until(of_type("presence.changed", user_id=bob["user_id"], status="online"))
    await call("PUT", "/presence/me", bob, json={"status": "away"})
    changed = await a.until(of_type("presence.changed", user_id=bob["user_id"], status="away"))
    assert changed["data"]["workspace_id"] == workspace["id"]
    seen = await call("GET", f"/presence/{bob['user_id']}", alice)
    assert seen["status"] == "away"

    # Search finds the edited message for the members, through the gateway; Eve, outside the
    # workspace, is told it does not exist.
    async def hits(who: dict[str, Any], q: str) -> list[str]:
        found = await call("GET", "/search", who, params={"workspace_id": workspace["id"], "q": q})
        return [h["message_id"] for h in found["items"]]

    async def indexed() -> bool:
        return await hits(bob, '"hello, bob"') == [first["id"]]

    assert await eventually(indexed, **PATIENCE), "search never indexed the edit"
    assert await hits(alice, f"hello in:{cid} from:{alice['user_id']}") == [first["id"]]
    outsider = await gw.get(
        "/search", headers=bearer(eve), params={"workspace_id": workspace["id"], "q": "hello"}
    )
    assert outsider.status_code == 404, outsider.text

    # A saved message and a channel bookmark.
    saved = await gw.put(
        f"/bookmarks/messages/{first['id']}", headers=bearer(bob), json={"note": "reply later"}
    )
    assert saved.status_code == 201, saved.text
    mine = await call("GET", "/bookmarks", bob)
    assert [(s["message_id"], s["note"]) for s in mine["items"]] == [(first["id"], "reply later")]
    await call(
        "POST",
        f"/bookmarks/channels/{cid}",
        alice,
        json={"title": "Docs", "url": "https://example.com/docs"},
    )
    links = await call("GET", f"/bookmarks/channels/{cid}", bob)
    assert [link["title"] for link in links] == ["Docs"]

    # A personal reminder fires on Bob's socket, and on no one else's.
    reminder = await call(
        "POST",
        "/reminders",
        bob,
        json={"message_id": first["id"], "text": "answer", "after_seconds": 1},
    )
    fired = await b.until(of_type("reminder.fired", reminder_id=reminder["id"]))
    assert fired["data"]["occurrence"] == 1

    async def reminder_fired() -> bool:
        found = await call("GET", f"/reminders/{reminder['id']}", bob)
        return bool(found["occurrence"] == 1 and found["fired_at"] is not None)

    assert await eventually(reminder_fired, **PATIENCE)

    # A disappearing message: the timer is set before the channel's first message.
    vanish = await call(
        "POST",
        "/channels",
        alice,
        json={
            "workspace_id": workspace["id"],
            "kind": "public",
            "name": "tmp-" + uuid.uuid4().hex[:6],
        },
    )
    await call("PATCH", f"/channels/{vanish['id']}", alice, json={"disappearing_seconds": 2})
    await call("POST", f"/channels/{vanish['id']}/join", bob)
    await b.until(of_type("channel.member.joined", channel_id=vanish["id"], user_id=bob["user_id"]))
    fleeting = await send(alice, vanish["id"], "gone soon")
    assert fleeting["expires_at"] is not None
    await b.until(created(fleeting["id"]))
    await b.until(of_type("message.expired", message_id=fleeting["id"]), within=WAIT_SECONDS + 5)
    assert (await gw.get(f"/messages/{fleeting['id']}", headers=bearer(bob))).status_code == 404
    history = await call("GET", "/messages", bob, params={"channel_id": vanish["id"]})
    assert history["items"] == []

    # A dropped connection resumes on the other replica after the last id it saw.
    last_seen = b.events[-1]["id"]
    await b.close()
    missed = [await send(alice, cid, text) for text in ("two", "three")]
    b = await Listener.open(platform.websocket_url(0, bob["access_token"], last_seen))
    after = await send(alice, cid, "four")
    await b.until(created(after["id"]))
    resumed = [f["data"]["message"]["id"] for f in b.events if f["type"] == "message.created"]
    assert resumed == [m["id"] for m in (*missed, after)]
    assert all(position(f["id"]) > position(last_seen) for f in b.events)

    # A new name shows on the next message (the message service forgets the old one on the
    # user service's event); the old messages keep the name they were sent under.
    await call("PATCH", "/users/me", alice, json={"display_name": "Alice B."})

    async def sent_as() -> str | None:
        name: str | None = (await send(alice, vanish["id"], "who am i"))["sender_name"]
        return name

    assert await eventually(sent_as, until="Alice B.", **PATIENCE) == "Alice B."
    assert (await call("GET", f"/messages/{first['id']}", bob))["sender_name"] == "Alice"

    # Eve, outside the workspace, saw nothing of it.
    ours = {cid, vanish["id"]}
    leaked = [
        f
        for f in e.events
        if f.get("channel_id") in ours or f["data"].get("workspace_id") == workspace["id"]
    ]
    assert leaked == []
    for listener in (a, b, e):
        await listener.close()

    # All of it was kept on the real servers: the messages on FerretDB, the index on
    # Elasticsearch.
    stored = await platform.stored_messages(cid)
    assert {first["id"], after["id"], *(m["id"] for m in missed)} <= stored
    assert first["id"] in await platform.indexed_messages(workspace["id"])
