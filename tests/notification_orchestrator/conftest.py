"""The notification orchestrator with the real user, channel, workspace, permission and presence
services: Alice owns a workspace, Bob and Carol are members of its #general.

Messages are not sent through the message service: their events are made here and published
as it publishes them, so a test says exactly what was delivered, and how often.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quckchat.core.events import DomainEvent, Event, KafkaBus
from quckchat.core.runtime import Runtime
from quckchat.message.events import MessageCreated, MessageDeleted, MessageEdited
from quckchat.user.consumers import on_auth_event
from tests.support import TestKeys, server
from tests.worlds.identity import new_user, registered
from tests.worlds.messages import message_body
from tests.worlds.org import Org, running_org

SERVICES = ["permission", "user", "channel", "workspace", "presence", "notification-orchestrator"]
ORCHESTRATOR = "notification-orchestrator"


def message(
    channel_id: str, workspace_id: str, sender: str, *, text: str = "hi", **fields: Any
) -> dict[str, Any]:
    """A message as its events carry it."""
    body = message_body(
        channel_id=channel_id, workspace_id=workspace_id, sender_id=sender, text=text, **fields
    )
    return body.model_dump(mode="json")


def change(kind: type[DomainEvent], body: dict[str, Any], actor: str) -> Event:
    """The message service's event of that kind about `body`."""
    data = {
        "workspace_id": body["workspace_id"],
        "channel_id": body["channel_id"],
        "message_id": body["id"],
        "seq": body["seq"],
        "actor": actor,
        "message": body,
    }
    return Event.of(kind.model_validate(data), source="message", tenant="default")


CREATED, EDITED, DELETED = MessageCreated, MessageEdited, MessageDeleted


@dataclass
class World:
    org: Org
    alice: str
    bob: str
    carol: str
    workspace_id: str
    general: str
    producer: KafkaBus
    received: asyncio.Queue[Event]
    seen: list[Event] = field(default_factory=list)

    @property
    def runtime(self) -> Runtime:
        return self.org.runtime(ORCHESTRATOR)

    async def publish(self, event: Event) -> None:
        await self.producer.publish("quckchat.message", event)

    async def notices(
        self, count: int, *, within: float = 60.0, settle: float = 3.0
    ) -> list[Event]:
        """The orchestrator's events since the last call: at least `count`, then whatever else
        comes in `settle` seconds (a duplicate would)."""
        async with asyncio.timeout(within):
            while len(self.seen) < count:
                self.seen.append(await self.received.get())
        await asyncio.sleep(settle)
        while not self.received.empty():
            self.seen.append(self.received.get_nowait())
        taken, self.seen = self.seen, []
        return taken


@asynccontextmanager
async def kafka_world(
    tmp_path: Path, keys: TestKeys, mongodb_url: str | None
) -> AsyncIterator[World]:
    bootstrap = server("kafka")
    async with running_org(
        "sqlite",
        tmp_path,
        keys,
        services=SERVICES,
        kafka_bootstrap=bootstrap,
        mongodb_url=mongodb_url,
    ) as org:
        bus = org.runtime(ORCHESTRATOR).events
        assert isinstance(bus, KafkaBus)
        received: asyncio.Queue[Event] = asyncio.Queue()
        watcher = KafkaBus(bootstrap, client_id="orchestrator-test", prefix=bus.prefix)
        watcher.subscribe(
            f"watch-{new_user()}", ["quckchat.notification-orchestrator"], received.put
        )
        await watcher.start()
        try:
            alice, bob, carol = new_user(), new_user(), new_user()
            for user in (alice, bob, carol):
                await on_auth_event(org.runtime("user"), registered(user))
            workspace = await org.create_workspace(alice)
            await org.add(workspace["id"], alice, bob)
            await org.add(workspace["id"], alice, carol)
            general = (await org.channels(workspace["id"], alice))["general"]["id"]
            yield World(org, alice, bob, carol, workspace["id"], general, watcher, received)
        finally:
            await watcher.stop()
