"""The chat workload over the Matrix client-server API: the same calls for Synapse and Dendrite.

Users register with a password (the dummy auth stage), each room is created public by its first
member and joined by the rest, and each user then long-polls `/sync` with a filter that keeps
only room messages.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import aiohttp

from bench.peers.chat import SET_UP_AT_ONCE, Listener, at_most, next_batch

CLIENT = "/_matrix/client/v3"
# Only the messages of joined rooms; a timeline limit above any step's backlog per poll, so no
# answer is cut short ("limited") and skips a message.
SYNC_FILTER = json.dumps(
    {
        "presence": {"types": []},
        "account_data": {"types": []},
        "room": {
            "timeline": {"types": ["m.room.message"], "limit": 1000},
            "state": {"types": []},
            "ephemeral": {"types": []},
            "account_data": {"types": []},
        },
    },
    separators=(",", ":"),
)


class MatrixChat:
    """A Matrix homeserver at `base` (http://127.0.0.1:PORT), driven as the workload says."""

    def __init__(
        self,
        name: str,
        version: str,
        base: str,
        web: aiohttp.ClientSession,
        pids: dict[str, int],
    ) -> None:
        self.name, self.version, self.base, self.web = name, version, base, web
        self.pids = pids
        self.stores: list[int] = []
        self.tokens: list[str] = []
        self.room_ids: list[str] = []

    async def _call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.web.request(
            method, self.base + CLIENT + path, json=body, headers=headers
        ) as answer:
            found = await answer.json(content_type=None)
            if answer.status >= 300:
                raise RuntimeError(f"{method} {path}: {answer.status} {found}")
            return found

    async def _register(self, n: int) -> str:
        body: dict[str, Any] = {"username": f"peer{n}", "password": "bench password"}
        # The first try only opens an auth session; the dummy stage completes it.
        async with self.web.post(f"{self.base}{CLIENT}/register", json=body) as first:
            session = (await first.json(content_type=None)).get("session")
        body["auth"] = {"type": "m.login.dummy", "session": session}
        return str((await self._call("POST", "/register", None, body))["access_token"])

    async def prepare(self, rooms: list[list[int]]) -> list[Listener]:
        users = max(max(members) for members in rooms) + 1
        self.tokens = await at_most(SET_UP_AT_ONCE, [self._register(n) for n in range(users)])
        for number, members in enumerate(rooms):
            body = {"preset": "public_chat", "name": f"room-{number}"}
            made = await self._call("POST", "/createRoom", self.tokens[members[0]], body)
            self.room_ids.append(made["room_id"])
            path = f"/join/{quote(made['room_id'], safe='')}"
            joins = [self._call("POST", path, self.tokens[n], {}) for n in members[1:]]
            await at_most(SET_UP_AT_ONCE, joins)
        return await at_most(SET_UP_AT_ONCE, [self._listener(token) for token in self.tokens])

    async def _listener(self, token: str) -> Listener:
        """Where the user's long poll starts: after an initial sync, so only new messages."""
        params = {"filter": SYNC_FILTER, "timeout": "0"}
        headers = {"Authorization": f"Bearer {token}"}
        async with self.web.get(f"{self.base}{CLIENT}/sync", params=params, headers=headers) as a:
            since = next_batch(await a.read())
        url = f"{self.base}{CLIENT}/sync"
        return Listener("sync", url, token=token, since=since, filter=SYNC_FILTER)

    async def send(self, room: int, sender: int, text: str) -> bool:
        room_id = quote(self.room_ids[room], safe="")
        path = f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}"
        headers = {"Authorization": f"Bearer {self.tokens[sender]}"}
        body = {"msgtype": "m.text", "body": text}
        try:
            async with self.web.put(self.base + CLIENT + path, json=body, headers=headers) as a:
                return a.status == 200
        except (aiohttp.ClientError, TimeoutError):  # not taken in time: a failed send
            return False

    def app_pids(self) -> dict[str, int]:
        return self.pids

    def store_pids(self) -> list[int]:
        return self.stores
