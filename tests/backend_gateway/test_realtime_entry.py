"""The WebSocket at the public address: /api/v1/realtime/ws on the gateway.

Relayed to a realtime reached over the network (each service its own process), or handed to
the realtime app of the same process (`quckchat run`); either way the client sees realtime's
frames and close codes, and its own frames reach realtime.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from quckchat.core import local
from quckchat.core.runtime import Runtime
from quckchat.realtime.client import PUBLIC_PATH
from quckchat.realtime.fanout import hub_of
from tests.support import TestKeys
from tests.worlds.frames import assert_documented
from tests.worlds.identity import new_user
from tests.worlds.mesh import serving
from tests.worlds.org import Org, running_org
from tests.worlds.waiting import eventually

SERVICES = [
    "permission",
    "user",
    "channel",
    "workspace",
    "message",
    "realtime",
    "backend-gateway",
]
NOWHERE = "http://127.0.0.1:1"


@dataclass
class Edge:
    org: Org
    keys: TestKeys
    gateway_port: int
    realtime_port: int

    @property
    def gateway(self) -> Runtime:
        return self.org.runtime("backend-gateway")

    def realtime_at(self, template: str) -> None:
        """Where the gateway dials realtime."""
        self.gateway.settings = self.gateway.settings.model_copy(
            update={"service_url_template": template}
        )

    async def open(self, user: str | None, port: int | None = None) -> ClientConnection:
        token = self.keys.mint(user) if user else "nonsense"
        where = port or self.gateway_port
        return await websockets.connect(f"ws://127.0.0.1:{where}{PUBLIC_PATH}?token={token}")


async def next_frame(socket: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await socket.recv())
    assert_documented(frame)
    return frame


async def closed_with(socket: ClientConnection) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


@pytest.fixture(scope="module")
async def edge(
    tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Edge]:
    path: Path = tmp_path_factory.mktemp("edge")
    async with AsyncExitStack() as stack:
        org = await stack.enter_async_context(
            running_org("sqlite", path, module_keys, services=SERVICES)
        )
        realtime_port = await stack.enter_async_context(serving(org.mesh.apps["realtime"]))
        gateway_port = await stack.enter_async_context(serving(org.mesh.apps["backend-gateway"]))
        yield Edge(org, module_keys, gateway_port, realtime_port)


@pytest.fixture
def relayed(edge: Edge) -> Edge:
    """The gateway reaches realtime over the network, as from a process of its own."""
    local.leave("realtime")
    edge.realtime_at(f"http://127.0.0.1:{edge.realtime_port}")
    return edge


async def test_frames_go_both_ways_through_the_relay(relayed: Edge) -> None:
    alice = new_user()
    workspace = await relayed.org.create_workspace(alice)
    general = (await relayed.org.channels(workspace["id"], alice))["general"]["id"]
    socket = await relayed.open(alice)
    hello = await next_frame(socket)
    assert (hello["type"], hello["user_id"]) == ("hello", alice)
    await socket.send(json.dumps({"type": "ping"}))
    assert (await next_frame(socket))["type"] == "pong"
    sent = await relayed.org.mesh.client("message").post(
        "/", json={"channel_id": general, "text": "through"}, headers=relayed.org.auth(alice)
    )
    assert sent.status_code == 201, sent.text
    delivered = await next_frame(socket)
    assert delivered["type"] == "message.created"
    assert delivered["data"]["message"]["id"] == sent.json()["id"]
    await socket.close()


async def test_a_client_that_drops_away_is_let_go_on_both_sides(relayed: Edge) -> None:
    hub = hub_of(relayed.org.runtime("realtime"))
    user = new_user()
    socket = await relayed.open(user)
    await next_frame(socket)
    assert len(hub.by_user[user]) == 1
    socket.transport.abort()  # no close frame: the gateway sees code 1006
    assert await eventually(lambda: len(hub.by_user.get(user, ())), until=0) == 0


async def test_realtimes_close_code_reaches_the_client(relayed: Edge) -> None:
    assert await closed_with(await relayed.open(None)) == 4401


async def test_an_unreachable_realtime_is_a_try_again_close(relayed: Edge) -> None:
    relayed.realtime_at(NOWHERE)
    assert await closed_with(await relayed.open(new_user())) == 1013


async def test_in_one_process_the_socket_goes_straight_to_realtime(edge: Edge) -> None:
    edge.realtime_at(NOWHERE)  # so only the hand-off can answer
    local.serve_here("realtime", edge.org.mesh.apps["realtime"])
    try:
        user = new_user()
        socket = await edge.open(user)
        assert (await next_frame(socket))["user_id"] == user
        await socket.send(json.dumps({"type": "ping"}))
        assert (await next_frame(socket))["type"] == "pong"
        await socket.close()
        assert await closed_with(await edge.open(None)) == 4401
    finally:
        local.leave("realtime")


async def test_realtime_answers_the_public_path_itself(edge: Edge) -> None:
    """What an Ingress routing /api/v1/realtime/ws straight to the realtime Service relies on."""
    user = new_user()
    socket = await edge.open(user, port=edge.realtime_port)
    assert (await next_frame(socket))["user_id"] == user
    await socket.close()
