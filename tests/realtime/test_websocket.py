"""The WebSocket gateway end to end: real services, a real socket, two replicas.

Alice and Bob share a workspace, Eve has her own. Messages are sent through the message
service's API and must reach exactly the members' sockets, in order, once; a reconnect resumes
after the last event id seen; a replica other than the one the sender's event was routed by
delivers too; a client that does not read is cut off.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from quckchat import catalog
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.file.events import FileQuarantined
from quckchat.realtime.fanout import hub_of
from tests.support import TestKeys, server
from tests.worlds.frames import assert_documented
from tests.worlds.identity import new_user
from tests.worlds.mesh import replica, serving
from tests.worlds.org import Org, running_org

pytestmark = pytest.mark.redis

SERVICES = ["permission", "user", "channel", "workspace", "message", "realtime"]


@dataclass
class Live:
    org: Org
    keys: TestKeys
    ports: list[int]
    alice: str
    bob: str
    eve: str
    workspace_id: str
    general: str

    async def connect(
        self, user: str, *, replica: int = 0, last_event_id: str | None = None
    ) -> ClientConnection:
        url = f"ws://127.0.0.1:{self.ports[replica]}/ws?token={self.keys.mint(user)}"
        if last_event_id:
            url += f"&last_event_id={last_event_id}"
        socket = await websockets.connect(url)
        hello = await received(socket)
        assert hello["type"] == "hello" and hello["user_id"] == user
        return socket

    async def send(self, user: str, text: str, **body: Any) -> dict[str, Any]:
        response = await self.org.mesh.client("message").post(
            "/",
            json={"channel_id": self.general, "text": text, **body},
            headers=self.org.auth(user),
        )
        assert response.status_code == 201, response.text
        sent: dict[str, Any] = response.json()
        return sent


async def received(socket: ClientConnection) -> dict[str, Any]:
    """The next frame, which must be one the AsyncAPI document allows."""
    frame: dict[str, Any] = json.loads(await socket.recv())
    assert_documented(frame)
    return frame


async def frames(socket: ClientConnection, count: int, within: float = 5.0) -> list[dict[str, Any]]:
    """The next `count` event frames (control frames skipped)."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while len(found) < count:
            frame = await received(socket)
            if "id" in frame:
                found.append(frame)
    return found


async def nothing_more(socket: ClientConnection, wait: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(wait):
            while True:
                frame = await received(socket)
                if "id" in frame:
                    raise AssertionError(f"unexpected frame {frame}")


async def _second_replica(stack: AsyncExitStack, org: Org, keys: TestKeys) -> Runtime:
    """Another realtime process's worth: its own app on the same stores and event bus."""
    app, _, runtime = await stack.enter_async_context(replica(org.mesh, "realtime", keys))
    org.mesh.apps["realtime-2"] = app
    return runtime


@pytest.fixture(params=["embedded", "redis"])
async def live(
    request: pytest.FixtureRequest, tmp_path: Path, keys: TestKeys
) -> AsyncIterator[Live]:
    redis_url = None if request.param == "embedded" else server("redis")
    async with AsyncExitStack() as stack:
        org = await stack.enter_async_context(
            running_org(
                "sqlite",
                tmp_path,
                keys,
                services=SERVICES,
                redis_url=redis_url,
                realtime_send_queue=20,
            )
        )
        await _second_replica(stack, org, keys)
        ports = [
            await stack.enter_async_context(serving(org.mesh.apps[name]))
            for name in ("realtime", "realtime-2")
        ]
        alice, bob, eve = new_user(), new_user(), new_user()
        workspace = await org.create_workspace(alice)
        await org.add(workspace["id"], alice, bob)
        await org.create_workspace(eve)
        general = (await org.channels(workspace["id"], alice))["general"]["id"]
        yield Live(org, keys, ports, alice, bob, eve, workspace["id"], general)


async def test_a_bad_token_is_refused_with_a_close_code(live: Live) -> None:
    socket = await websockets.connect(f"ws://127.0.0.1:{live.ports[0]}/ws?token=nonsense")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_members_get_the_message_in_order_outsiders_never(live: Live) -> None:
    bob = await live.connect(live.bob)
    eve = await live.connect(live.eve)
    alice = await live.connect(live.alice, replica=1)
    sent = await live.send(live.alice, "hello bob")
    reply = await live.send(live.bob, "hi", parent_id=sent["id"])
    edited = await live.org.mesh.client("message").patch(
        f"/{sent['id']}", json={"text": "hello, bob"}, headers=live.org.auth(live.alice)
    )
    assert edited.status_code == 200
    got = await frames(bob, 3)
    assert [f["type"] for f in got] == ["message.created", "message.created", "message.edited"]
    assert got[0]["data"]["message"]["text"] == "hello bob"
    assert got[1]["data"]["message"]["id"] == reply["id"]
    assert [f["id"] for f in got] == sorted(f["id"] for f in got)
    # The same events reach a socket on the other replica, with the same ids.
    assert [f["id"] for f in await frames(alice, 3)] == [f["id"] for f in got]
    await nothing_more(eve)
    for connection in (alice, bob, eve):
        await connection.close()


async def test_a_quarantined_file_is_told_to_its_uploader_alone(live: Live) -> None:
    alice = await live.connect(live.alice, replica=1)
    bob = await live.connect(live.bob)
    quarantined = FileQuarantined(
        file_id="f" * 26,
        workspace_id=live.workspace_id,
        uploader_id=live.alice,
        name="invoice.txt",
        content_type="text/plain",
        size=68,
        signature="Eicar-Test-Signature",
    )
    # As the file service's outbox sends it: on the file topic, in the typed envelope.
    envelope = Event.of(quarantined, source="file", tenant="default")
    await live.org.runtime("message").events.publish(catalog.get("file").topic, envelope)
    told = (await frames(alice, 1, within=15))[0]
    assert told["type"] == "file.quarantined"
    assert told["data"]["file_id"] == quarantined.file_id
    assert told["data"]["signature"] == "Eicar-Test-Signature"
    await nothing_more(bob)
    await alice.close()
    await bob.close()


async def test_typing_reaches_the_channel(live: Live) -> None:
    alice = await live.connect(live.alice)
    bob = await live.connect(live.bob, replica=1)
    await bob.send(json.dumps({"type": "typing", "channel_id": live.general}))
    typing = (await frames(alice, 1))[0]
    assert typing["type"] == "presence.typing"
    assert typing["data"] == {
        "workspace_id": live.workspace_id,
        "channel_id": live.general,
        "user_id": live.bob,
        "actor": live.bob,
        "expires_in": 5,
    }
    await bob.send(json.dumps({"type": "typing", "channel_id": "not-mine"}))
    async with asyncio.timeout(5):
        # Bob's own typing frame may come first: he is in the channel too.
        while (error := await received(bob))["type"] == "presence.typing":
            continue
    assert error["type"] == "error"
    await alice.close()
    await bob.close()


async def test_a_reconnect_resumes_without_gap_or_duplicate(live: Live) -> None:
    bob = await live.connect(live.bob)
    await live.send(live.alice, "one")
    (first,) = await frames(bob, 1)
    await bob.close()
    missed = [await live.send(live.alice, text) for text in ("two", "three")]
    await asyncio.sleep(0.3)  # both are in the log before Bob comes back
    bob = await live.connect(live.bob, replica=1, last_event_id=first["id"])
    after = await live.send(live.alice, "four")
    got = await frames(bob, 3)
    assert [f["data"]["message"]["id"] for f in got] == [m["id"] for m in (*missed, after)]
    await nothing_more(bob)
    await bob.close()


async def _close_code(reader: asyncio.StreamReader) -> int:
    """Read server frames until the close frame; its status code."""
    while True:
        first, second = await reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2))
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8))
        payload = await reader.readexactly(length)
        if first & 0x0F == 0x8:  # close
            return int.from_bytes(payload[:2])


async def test_a_client_that_does_not_read_is_cut_off(live: Live) -> None:
    # A raw socket: after the handshake it reads nothing, so the server's writes back up.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", live.ports[0]))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    writer.write(
        f"GET /ws?token={live.keys.mint(live.bob)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    hub = hub_of(live.org.runtime("realtime"))
    async with asyncio.timeout(5):
        # Signed in once its memberships are loaded; the hub offers no event to await.
        while not hub.by_user.get(live.bob):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    (client,) = hub.by_user[live.bob]
    for n in range(400):
        await live.send(live.alice, f"{n} " + "x" * 39_000)
        if client.close_code is not None:
            break
    assert client.close_code == 4008, "the client was never cut off"
    async with asyncio.timeout(30):
        assert await _close_code(reader) == 4008
    writer.close()
