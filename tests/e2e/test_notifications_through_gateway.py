"""Notifications end to end: REST through the gateway, notices over the realtime WebSocket,
pushes at local stand-ins for FCM, APNs and a browser's push service (the notification
service's real clients, pointed there by settings), mail in the test bed's Mailpit.

Each test has people of its own: Alice posts, Bob is told. A push is counted per device
and message; "nothing more arrived" is proved by a later message that did arrive, since the
orchestrator handles one channel's messages in order and the worker sends them in order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from quckchat import catalog
from tests.e2e.conftest import PATIENCE, Platform
from tests.e2e.websocket import Listener, of_type
from tests.support import running_app
from tests.worlds.mailbox import Mailbox
from tests.worlds.platform import EVERY_SERVER, PushFakes
from tests.worlds.waiting import eventually

pytestmark = [pytest.mark.e2e, *EVERY_SERVER]

# The digest is sent by a periodic job every 30 seconds.
DIGEST_WITHIN = 75.0
BOBS_ZONE = "Asia/Kolkata"


@dataclass(frozen=True)
class Seen:
    """One push as a device received it."""

    message_id: str | None
    collapse_key: str
    clear: bool


@dataclass(frozen=True)
class Device:
    device_id: str
    platform: str  # android (FCM), ios (APNs) or web (Web Push)
    token: str

    def pushes(self, fakes: PushFakes) -> list[Seen]:
        """What this device received, in order (a Web Push payload decrypted)."""
        if self.platform == "web":
            got = [r["payload"] for r in fakes.web.received if r["browser"] == self.device_id]
        elif self.platform == "android":
            got = [m["data"] for m in fakes.fcm.messages if m["token"] == self.token]
        else:
            got = [n["payload"] for n in fakes.apns.notifications if n["token"] == self.token]
        return [
            Seen(
                message_id=p.get("message_id") or p.get("data", {}).get("message_id"),
                collapse_key=p["collapse_key"],
                clear=p.get("clear") in (True, "1"),
            )
            for p in got
        ]

    def shown(self, fakes: PushFakes) -> list[str | None]:
        """The messages this device was told of (clears left out)."""
        return [s.message_id for s in self.pushes(fakes) if not s.clear]

    def shows(self, fakes: PushFakes, message_id: str) -> bool:
        return message_id in self.shown(fakes)


class Person:
    """Someone signed up by email through the gateway, with the address Mailpit keeps for them."""

    def __init__(self, platform: Platform, name: str) -> None:
        self.platform, self.name = platform, name
        self.email = Mailbox.address()
        self.headers: dict[str, str] = {}
        self.user_id = ""
        self.token = ""

    async def sign_up(self) -> Person:
        body = {"email": self.email, "password": "pw " * 4, "display_name": self.name}
        made = await self.call("POST", "/auth/register", json=body)
        self.token = made["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.user_id = made["user_id"]
        return self

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        response = await self.platform.gateway.request(method, path, headers=self.headers, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    async def send(self, channel_id: str, text: str) -> dict[str, Any]:
        body = {"channel_id": channel_id, "text": text}
        answer: dict[str, Any] = await self.call("POST", "/messages", json=body)
        return answer

    async def device(self, platform: str) -> Device:
        """A device registered for pushes: a browser subscribed at the push service, or a
        phone with a token of its own."""
        device_id = f"{platform}-{uuid.uuid4().hex[:10]}"
        if platform == "web":
            token = self.platform.push.web.subscribe(device_id).token()
        else:
            token = uuid.uuid4().hex * 2
        body = {"platform": platform, "push_token": token}
        await self.call("PUT", f"/users/me/devices/{device_id}", json=body)
        return Device(device_id, platform, token)

    async def inbox(self) -> list[dict[str, Any]]:
        page = await self.call("GET", "/notifications/", params={"limit": 100})
        items: list[dict[str, Any]] = page["items"]
        return items

    async def notified_of(self, message_id: str) -> list[dict[str, Any]]:
        return [n for n in await self.inbox() if n["message_id"] == message_id]


@dataclass
class Team:
    alice: Person
    bob: Person
    workspace_id: str
    channel_id: str

    def mention(self, text: str = "") -> str:
        return f"<@{self.bob.user_id}> {text or uuid.uuid4().hex[:8]}"

    async def channel(self) -> str:
        """Another public channel of Alice's, which Bob joins."""
        name = "n-" + uuid.uuid4().hex[:8]
        body = {"workspace_id": self.workspace_id, "kind": "public", "name": name}
        made = await self.alice.call("POST", "/channels", json=body)
        await self.bob.call("POST", f"/channels/{made['id']}/join")
        return str(made["id"])


async def team(platform: Platform) -> Team:
    """Alice's workspace with one channel, Bob a member of both."""
    alice = await Person(platform, "Alice").sign_up()
    bob = await Person(platform, "Bob").sign_up()
    workspace = await alice.call(
        "POST", "/workspaces", json={"name": "Notify " + uuid.uuid4().hex[:6]}
    )
    link = await alice.call(
        "POST", f"/workspaces/{workspace['id']}/invites", json={"kind": "link", "max_uses": 1}
    )
    await bob.call("POST", "/workspaces/join", json={"token": link["token"]})
    made = Team(alice, bob, workspace["id"], "")
    made.channel_id = await made.channel()
    return made


async def arrives(probe: Callable[[], Any], what: str, within: float = PATIENCE["within"]) -> Any:
    """`probe`'s answer once it is truthy; fails naming `what` after the deadline."""
    found = await eventually(probe, within=within, poll=PATIENCE["poll"])
    assert found, f"{what}: not within {within}s"
    return found


async def told_on(platform: Platform, message_id: str, devices: list[Device]) -> None:
    """Each device shows the message (how often is the caller's to check, once settled)."""
    for device in devices:
        await arrives(
            partial(device.shows, platform.push, message_id),
            f"a push of {message_id} on {device.device_id}",
        )


async def test_a_mention_pushes_once_per_device_and_a_read_clears_the_other(
    platform: Platform,
) -> None:
    fakes = platform.push
    t = await team(platform)
    phone = await t.bob.device("android")
    browser = await t.bob.device("web")
    dropped = await t.bob.device("ios")
    await t.bob.call("DELETE", f"/users/me/devices/{dropped.device_id}")
    # Bob's socket is open, but he is offline: no heartbeat, no presence.
    socket = await Listener.open(platform.websocket_url(0, t.bob.token))
    try:
        first = await t.alice.send(t.channel_id, t.mention("look at this"))
        await told_on(platform, first["id"], [phone, browser])
        frame = await socket.until(of_type("notification.created", message_id=first["id"]))
        assert frame["data"]["reason"] == "mention"
        inbox = await arrives(lambda: t.bob.notified_of(first["id"]), "the notice in the inbox")
        assert [n["read_at"] for n in inbox] == [None]

        # A second mention settles the first: whatever the first was to push has been pushed.
        second = await t.alice.send(t.channel_id, t.mention("and this"))
        await told_on(platform, second["id"], [phone, browser])
        for device in (phone, browser):
            assert Counter(device.shown(fakes)) == {first["id"]: 1, second["id"]: 1}
        assert dropped.pushes(fakes) == []
        shown = next(s for s in browser.pushes(fakes) if s.message_id == second["id"])
        assert shown.collapse_key == f"channel:{t.channel_id}"

        # Bob reads the channel on his phone: the browser gets a clear of the same key.
        await t.bob.call("POST", f"/channels/{t.channel_id}/read", json={"seq": second["seq"]})
        cleared = await arrives(
            lambda: [s for s in browser.pushes(fakes) if s.clear], "a clear on the browser"
        )
        assert {s.collapse_key for s in cleared} == {shown.collapse_key}

        async def all_read() -> bool:
            return all(n["read_at"] for n in await t.bob.inbox())

        await arrives(all_read, "the inbox read")
        await socket.until(of_type("notification.read"))
    finally:
        await socket.close()


async def test_a_mention_added_by_an_edit_notifies_once(platform: Platform) -> None:
    t = await team(platform)
    phone = await t.bob.device("android")
    message = await t.alice.send(t.channel_id, "nothing for anyone yet")
    await t.alice.call("PATCH", f"/messages/{message['id']}", json={"text": t.mention("now you")})
    await told_on(platform, message["id"], [phone])
    # Edited again, still naming Bob: he was told of this message already.
    again = {"text": t.mention("now you, again")}
    await t.alice.call("PATCH", f"/messages/{message['id']}", json=again)
    later = await t.alice.send(t.channel_id, t.mention("later"))
    await told_on(platform, later["id"], [phone])
    assert Counter(phone.shown(platform.push)) == {message["id"]: 1, later["id"]: 1}
    assert len(await t.bob.notified_of(message["id"])) == 1


async def test_a_muted_channel_notifies_nothing_until_the_mute_ends(platform: Platform) -> None:
    t = await team(platform)
    phone = await t.bob.device("android")
    # Muted before anything was said there: no kept member list predates the mute.
    until = datetime.now(UTC) + timedelta(seconds=6)
    await t.bob.call("PUT", f"/channels/{t.channel_id}/mute", json={"until": until.isoformat()})
    muted = await t.alice.send(t.channel_id, t.mention("while muted"))
    # Waiting out the mute (asserting nothing); the margin covers clocks a little apart.
    await asyncio.sleep((until - datetime.now(UTC)).total_seconds() + 0.5)
    after = await t.alice.send(t.channel_id, t.mention("after the mute"))
    await told_on(platform, after["id"], [phone])
    assert phone.shown(platform.push) == [after["id"]]
    assert await t.bob.notified_of(muted["id"]) == []


async def test_quiet_hours_push_nothing_and_the_digest_holds_only_the_unread(
    platform: Platform,
) -> None:
    t = await team(platform)
    phone = await t.bob.device("android")
    browser = await t.bob.device("web")
    # Quiet from an hour ago to two hours ahead, on Bob's clock; a daily digest meanwhile.
    now = datetime.now(ZoneInfo(BOBS_ZONE))
    quiet = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=2)).strftime("%H:%M"),
    }
    await t.bob.call("PATCH", "/users/me", json={"timezone": BOBS_ZONE})
    await t.bob.call(
        "PATCH",
        "/users/me/settings",
        json={"notifications": {"quiet_hours": quiet, "email_digest": "daily"}},
    )
    other = await t.channel()
    read_later = await t.alice.send(t.channel_id, t.mention("read before the digest"))
    unread = await t.alice.send(other, t.mention("still unread"))
    for message in (read_later, unread):
        await arrives(partial(t.bob.notified_of, message["id"]), "the notice in the inbox")
    await t.bob.call("POST", f"/channels/{t.channel_id}/read", json={"seq": read_later["seq"]})

    async def first_read() -> bool:
        return bool((await t.bob.notified_of(read_later["id"]))[0]["read_at"])

    await arrives(first_read, "the first notice read")
    # Now every digest is due at once: the next run of the digest job sends it.
    await t.bob.call(
        "PATCH", "/users/me/settings", json={"notifications": {"email_digest": "immediately"}}
    )
    (digest,) = await platform.mailbox.wait_for(t.bob.email, within=DIGEST_WITHIN)
    assert "still unread" in digest.text
    assert "read before the digest" not in digest.text
    assert digest.subject == "1 unread notification"
    # The digest took at least a tick of its job: a push would have come by now.
    assert phone.pushes(platform.push) == browser.pushes(platform.push) == []


async def test_an_invite_by_email_arrives_once(platform: Platform) -> None:
    alice = await Person(platform, "Alice").sign_up()
    workspace = await alice.call(
        "POST", "/workspaces", json={"name": "Invites " + uuid.uuid4().hex[:6]}
    )
    invited, later = Mailbox.address(), Mailbox.address()
    path = f"/workspaces/{workspace['id']}/invites"
    await alice.call("POST", path, json={"email": invited})
    (mail,) = await platform.mailbox.wait_for(invited, within=PATIENCE["within"])
    assert workspace["name"] in mail.subject
    assert "/join" in mail.text or "token" in mail.text
    # A later invite delivered: the first one's announcement was handled, and sent once.
    await alice.call("POST", path, json={"email": later})
    await platform.mailbox.wait_for(later, within=PATIENCE["within"])
    assert len(await platform.mailbox.messages_to(invited)) == 1


ORCHESTRATOR = "notification-orchestrator"
STREAM_SECONDS = 15.0
SEND_EVERY = 0.15


def grouped_partitions(runtime: Any) -> set[Any]:
    """The partitions the replica's group consumer holds now (its cache consumers, which see
    every partition, left out)."""
    bus = runtime.events
    held: set[Any] = set()
    for sub, consumer in zip(bus.subscriptions, bus._consumers, strict=True):
        if not sub.broadcast:
            held |= consumer.assignment()
    return held


async def test_two_orchestrator_replicas_one_restarted_lose_and_repeat_nothing(
    platform: Platform,
) -> None:
    fakes = platform.push
    t = await team(platform)
    channels = [t.channel_id, *[await t.channel() for _ in range(3)]]
    phone = await t.bob.device("android")
    settings = platform.settings_for(catalog.get(ORCHESTRATOR))
    sent: list[str] = []
    async with AsyncExitStack() as replicas:
        # A second replica beside the platform's own, in its Kafka group: once it holds
        # partitions, the two share the stream.
        _, _, second = await replicas.enter_async_context(running_app(ORCHESTRATOR, settings))
        await arrives(lambda: grouped_partitions(second), "partitions for the second replica")
        sending = True

        async def stream() -> None:
            while sending:
                channel = channels[len(sent) % len(channels)]
                message = await t.alice.send(channel, t.mention(f"number {len(sent)}"))
                sent.append(message["id"])
                await asyncio.sleep(SEND_EVERY)

        sender = asyncio.create_task(stream())
        try:
            await asyncio.sleep(STREAM_SECONDS / 3)
            # Stopped mid-stream: its consumer is cancelled between handling and committing,
            # so what it had in hand is redelivered to the other replica.
            await replicas.aclose()
            stopped_at = len(sent)
            await asyncio.sleep(STREAM_SECONDS / 3)
            _, _, restarted = await replicas.enter_async_context(
                running_app(ORCHESTRATOR, settings)
            )
            restarted_at = len(sent)
            await asyncio.sleep(STREAM_SECONDS / 3)
        finally:
            sending = False
            await sender
        assert 0 < stopped_at < restarted_at < len(sent), (stopped_at, restarted_at, len(sent))

        await arrives(
            lambda: set(sent) <= set(phone.shown(fakes)),
            f"a push of each of {len(sent)} messages",
            within=120.0,
        )
        # One more, in every channel, told after the rest: nothing of theirs is still coming.
        last = [await t.alice.send(c, t.mention("the last")) for c in channels]
        await told_on(platform, last[-1]["id"], [phone])
        await arrives(lambda: {m["id"] for m in last} <= set(phone.shown(fakes)), "the last pushes")
        assert grouped_partitions(restarted), "the restarted replica took no partition back"

    everything = sent + [m["id"] for m in last]
    pushed = Counter(phone.shown(fakes))
    assert {m: n for m, n in pushed.items() if n != 1} == {}
    assert set(pushed) == set(everything)
    inbox: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = await t.bob.call("GET", "/notifications/", params=params)
        inbox.update(n["message_id"] for n in page["items"])
        if not (cursor := page.get("next_cursor")):
            break
    assert inbox == Counter(everything)
