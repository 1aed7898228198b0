"""QuckChat as the workload sees it: every implemented service as its own process on the test
bed's real servers (as `bench.gateway_sends` runs it), reached only through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bench.peers.chat import SET_UP_AT_ONCE, Listener, at_most, sending_session
from bench.peers.stores import store_pids
from bench.platform import bench_platform
from bench.ws_load import QUCKCHAT
from quckchat import __version__
from tests.worlds.platform import ProcessPlatform

PORT_OFFSET = 16000
REDIS_DB = 10
STORES = ("postgres", "mariadb", "ferretdb", "redis", "kafka", "elasticsearch")


class QuckChat:
    name = "QuckChat"
    version = __version__

    def __init__(self, platform: ProcessPlatform, web: aiohttp.ClientSession) -> None:
        self.platform, self.web, self.api = platform, web, platform.api
        self.tokens: list[str] = []
        self.channels: list[str] = []

    async def _call(self, method: str, path: str, user: int | None, body: Any = None) -> Any:
        headers = {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}
        async with self.web.request(method, self.api + path, json=body, headers=headers) as answer:
            if answer.status >= 300:
                raise RuntimeError(f"{method} {path}: {answer.status} {await answer.text()}")
            return await answer.json() if answer.content_length != 0 else None

    async def _sign_up(self, n: int) -> str:
        body = {"email": f"peer{n}-{uuid.uuid4().hex[:6]}@example.com", "password": "pw " * 4}
        return str((await self._call("POST", "/auth/register", None, body))["access_token"])

    async def prepare(self, rooms: list[list[int]]) -> list[Listener]:
        users = max(max(members) for members in rooms) + 1
        self.tokens = await at_most(SET_UP_AT_ONCE, [self._sign_up(n) for n in range(users)])
        workspace = await self._call("POST", "/workspaces", 0, {"name": "Peers"})
        invite = {"kind": "link", "max_uses": users}
        link = await self._call("POST", f"/workspaces/{workspace['id']}/invites", 0, invite)
        join = {"token": link["token"]}
        await at_most(
            SET_UP_AT_ONCE,
            [self._call("POST", "/workspaces/join", n, join) for n in range(1, users)],
        )
        for number, members in enumerate(rooms):
            body = {"workspace_id": workspace["id"], "kind": "public", "name": f"room-{number}"}
            made = await self._call("POST", "/channels", members[0], body)
            self.channels.append(made["id"])
            path = f"/channels/{made['id']}/join"
            await at_most(SET_UP_AT_ONCE, [self._call("POST", path, n) for n in members[1:]])
        socket = f"ws://127.0.0.1:{self.platform.port('backend-gateway')}/api/v1/realtime/ws"
        return [Listener("websocket", f"{socket}?token={t}", QUCKCHAT) for t in self.tokens]

    async def send(self, room: int, sender: int, text: str) -> bool:
        body = {"channel_id": self.channels[room], "text": text, "client_id": uuid.uuid4().hex}
        headers = {"Authorization": f"Bearer {self.tokens[sender]}"}
        try:
            async with self.web.post(f"{self.api}/messages", json=body, headers=headers) as answer:
                return answer.status == 201
        except (aiohttp.ClientError, TimeoutError):  # not taken in time: a failed send
            return False

    def app_pids(self) -> dict[str, int]:
        return self.platform.pids

    def store_pids(self) -> list[int]:
        return store_pids(STORES)


@asynccontextmanager
async def running() -> AsyncIterator[QuckChat]:
    async with (
        bench_platform("peers", port_offset=PORT_OFFSET, redis_db=REDIS_DB) as platform,
        sending_session() as web,
    ):
        yield QuckChat(platform, web)
