"""Events under faults: the broker stopped for 15 seconds, then a consumer process killed.

Every service runs as its own process on the test bed's real servers. Alice and Bob send a
steady stream of messages into one channel through the gateway, each send awaited, while both
listen on the realtime WebSocket. Meanwhile the test bed's Kafka broker is stopped, left down
for 15 seconds and started again; then the search service's process is killed (SIGKILL: no
offsets committed, nothing flushed) and started again. Afterwards every message is stored once,
reached both sockets exactly once and in the order it was sent, and is indexed once.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from quckchat import catalog
from quckchat.core.search import ElasticsearchBackend
from quckchat.message.store import MESSAGES
from quckchat.search.store import index_prefix
from tests.e2e.websocket import Frame, Listener
from tests.worlds.platform import EVERY_SERVER, ProcessPlatform, platform_processes

pytestmark = [pytest.mark.e2e, pytest.mark.solo, *EVERY_SERVER]

PORT_OFFSET = 13000
REDIS_DB = 5
TESTBED = Path(__file__).resolve().parents[2] / "hack" / "testbed"
BROKER_DOWN_SECONDS = 15.0
SEND_EVERY = 0.2
SEND_TRIES = 5
CATCH_UP_SECONDS = 120.0


@pytest.fixture(scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ProcessPlatform]:
    async with platform_processes(
        tmp_path_factory.mktemp("faults"),
        label="faults",
        port_offset=PORT_OFFSET,
        redis_db=REDIS_DB,
        rate_limit_per_ip=10_000_000,
        rate_limit_per_user=10_000_000,
    ) as running:
        yield running


async def run_testbed(command: str, server: str) -> None:
    """Stop or start one of the test bed's servers with its own script."""
    done = await asyncio.to_thread(
        subprocess.run, [str(TESTBED), command, server], capture_output=True, text=True
    )
    assert done.returncode == 0, f"hack/testbed {command} {server}: {done.stdout}{done.stderr}"


class Person:
    def __init__(self, api: httpx.AsyncClient, name: str) -> None:
        self.api, self.name = api, name
        self.headers: dict[str, str] = {}
        self.user_id = ""

    async def sign_up(self) -> None:
        body = {"email": f"{self.name}-{uuid.uuid4().hex[:8]}@example.com", "password": "pw " * 4}
        made = (await self.api.post("/auth/register", json=body)).raise_for_status().json()
        self.headers = {"Authorization": f"Bearer {made['access_token']}"}
        self.user_id = made["user_id"]

    async def send(self, body: dict[str, Any]) -> Any:
        """Post a message, again after a gateway timeout (the broker's restart can stall a
        send past it), until it is stored."""
        for _ in range(SEND_TRIES):
            response = await self.api.post("/messages", headers=self.headers, json=body)
            if response.status_code != 504:
                break
        assert response.status_code < 300, f"POST /messages: {response.status_code} {response.text}"
        return response.json()

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        response = await self.api.request(method, path, headers=self.headers, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None


async def test_every_message_once_and_in_order_through_a_broker_outage_and_a_crash(
    platform: ProcessPlatform,
) -> None:
    async with httpx.AsyncClient(base_url=platform.api, timeout=60) as api:
        alice, bob = Person(api, "alice"), Person(api, "bob")
        await alice.sign_up()
        await bob.sign_up()
        workspace = await alice.call("POST", "/workspaces", json={"name": "Faults"})
        link = await alice.call(
            "POST",
            f"/workspaces/{workspace['id']}/invites",
            json={"kind": "link", "max_uses": 1},
        )
        await bob.call("POST", "/workspaces/join", json={"token": link["token"]})
        channel = await alice.call(
            "POST",
            "/channels",
            json={"workspace_id": workspace["id"], "kind": "public", "name": "faults"},
        )
        cid = channel["id"]
        await bob.call("POST", f"/channels/{cid}/join")

        # The public address: the gateway process relays each socket to the realtime process.
        gateway = platform.port("backend-gateway")
        realtime = f"ws://127.0.0.1:{gateway}/api/v1/realtime/ws?token="
        listeners = [
            await Listener.open(realtime + who.headers["Authorization"].split()[1])
            for who in (alice, bob)
        ]
        sent: list[str] = []
        marks: dict[str, str] = {}  # a word each message alone holds, to search for
        sending = True

        async def stream() -> None:
            """Alice and Bob in turn, each send awaited: the order sent is the order stored."""
            while sending:
                who = (alice, bob)[len(sent) % 2]
                mark = f"m{uuid.uuid4().hex[:10]}"
                text = f"{who.name} says {len(sent)} {mark}"
                # As a client would: a send that timed out is sent again under its client id,
                # which the message service stores once.
                body = {"channel_id": cid, "text": text, "client_id": uuid.uuid4().hex}
                message = await who.send(body)
                sent.append(message["id"])
                marks[message["id"]] = mark
                await asyncio.sleep(SEND_EVERY)

        sender = asyncio.create_task(stream())
        await asyncio.sleep(5)
        try:
            await run_testbed("down", "kafka")
            down_at = len(sent)
            await asyncio.sleep(BROKER_DOWN_SECONDS)
        finally:  # the broker is the whole suite's: never leave it down
            await run_testbed("up", "kafka")
        up_at = len(sent)
        await asyncio.sleep(5)
        await platform.kill("search")
        await asyncio.sleep(2)
        await platform.start("search")
        await asyncio.sleep(5)
        sending = False
        await sender
        assert up_at > down_at, "no message was sent while the broker was down"

        # Both sockets get every message.created, however late; then the counts are final.
        def created_ids(listener: Listener) -> list[str]:
            frames: list[Frame] = [f for f in listener.events if f["type"] == "message.created"]
            return [f["data"]["message"]["id"] for f in frames if f["channel_id"] == cid]

        deadline = time.monotonic() + CATCH_UP_SECONDS
        while time.monotonic() < deadline:
            if all(set(sent) <= set(created_ids(listener)) for listener in listeners):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # a duplicate would arrive by now
        for listener in listeners:
            got = created_ids(listener)
            repeated = [i for i, n in Counter(got).items() if n > 1]
            missing = set(sent) - set(got)
            apart = next(
                (i for i, (a, b) in enumerate(zip(got, sent, strict=False)) if a != b), None
            )
            assert got == sent, (
                f"each message exactly once, in the order sent: {len(repeated)} repeated, "
                f"{len(missing)} missing, order differs from {apart} of {len(sent)} "
                f"(broker down from {down_at} to {up_at}; logs in {platform.log_dir})"
            )
            await listener.close()

        # Stored once: one document per send, no more.
        stored = await platform_documents(platform, cid)
        assert sorted(stored) == sorted(sent)

        # Indexed once: every message, and nothing twice.
        indexed: tuple[set[str], int] = (set(), 0)
        while time.monotonic() < deadline + CATCH_UP_SECONDS:
            indexed = await indexed_messages(platform, workspace["id"])
            if set(sent) <= indexed[0]:
                break
            await asyncio.sleep(0.5)
        assert indexed == (set(sent), len(sent))
        # One sent while the broker was down is found, once, through the search API.
        during = sent[down_at]
        found = await bob.call(
            "GET", "/search", params={"workspace_id": workspace["id"], "q": marks[during]}
        )
        assert [hit["message_id"] for hit in found["items"]] == [during]


async def platform_documents(platform: ProcessPlatform, channel_id: str) -> list[str]:
    """The ids of the channel's messages, one per stored document."""
    client: Any = AsyncMongoClient(platform.settings_for(catalog.get("message")).mongodb_url)
    try:
        found = client.get_default_database()[MESSAGES].find({"channel_id": channel_id})
        return [doc["_id"] for doc in await found.to_list(None)]
    finally:
        await client.close()


async def indexed_messages(platform: ProcessPlatform, workspace_id: str) -> tuple[set[str], int]:
    """The ids Elasticsearch holds for the workspace, and how many documents hold them."""
    settings = platform.settings_for(catalog.get("search"))
    index = ElasticsearchBackend(settings.elasticsearch_url or "", prefix=index_prefix(settings))
    try:
        await index.refresh()
        counted = await index.client.count(
            index=index.alias, query={"term": {"workspace_id": workspace_id}}
        )
        return await index.indexed_ids(workspace_id), int(counted["count"])
    finally:
        await index.close()
