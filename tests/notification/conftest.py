"""The notification service on each SQL backend, beside the real auth and user services:
started once per module, with scripted push, mail and SMS senders that each test resets.

The delivery worker is run by the tests (`Notify.deliver`), not by its tick, so what is sent
when is the test's to say; consumers run as they do in production, on the shared bus.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from quckchat.channel.events import ChannelRead
from quckchat.core.events import DomainEvent, Event
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id
from quckchat.notification import channels, worker
from quckchat.notification import service as service_module
from quckchat.notification.email import Email, MailUnavailable
from quckchat.notification.models import Delivery, Notice
from quckchat.notification.push.base import Outcome, Push, Result
from quckchat.notification_orchestrator.events import Medium, NoticeDecided, Reason
from tests.support import TestKeys
from tests.worlds.bus import Observer
from tests.worlds.identity import new_user
from tests.worlds.mesh import Mesh, mesh_settings, running_services
from tests.worlds.waiting import eventually

SERVICES = ["auth", "user", "notification"]


class ScriptedPush:
    """A push sender that answers what the test scripted per token (delivered otherwise)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Push]] = []
        self.answers: dict[str, list[Result]] = {}

    async def send(self, token: str, push: Push) -> Result:
        self.sent.append((token, push))
        script = self.answers.get(token)
        return script.pop(0) if script else Result(Outcome.DELIVERED, status=200)

    async def aclose(self) -> None:
        return None


@dataclass
class RecordingMail:
    sent: list[Email] = field(default_factory=list)
    unavailable: int = 0  # the next this many sends find the relay away

    async def send(self, email: Email) -> None:
        if self.unavailable:
            self.unavailable -= 1
            raise MailUnavailable("the relay is away")
        self.sent.append(email)

    async def aclose(self) -> None:
        return None


@dataclass
class RecordingText:
    sent: list[tuple[str, str]] = field(default_factory=list)
    # What the provider answers for a number instead of taking the message.
    failing: dict[str, Exception] = field(default_factory=dict)

    async def send_text(self, *, phone: str, text: str) -> None:
        if phone in self.failing:
            raise self.failing[phone]
        self.sent.append((phone, text))


@dataclass
class Notify:
    """The mesh, this test's senders, and what a test does: decide, register, read, deliver."""

    mesh: Mesh
    keys: TestKeys
    push: ScriptedPush
    mail: RecordingMail
    sms: RecordingText
    observer: Observer

    @property
    def runtime(self) -> Runtime:
        return self.mesh.runtime("notification")

    @property
    def client(self) -> httpx.AsyncClient:
        return self.mesh.client("notification")

    def auth(self, user: str) -> dict[str, str]:
        return self.keys.header(user)

    async def publish(self, source: str, event: DomainEvent, *, tenant: str = "t1") -> Event:
        envelope = Event.of(event, source=source, tenant=tenant)
        await self.runtime.events.publish(f"quckchat.{source}", envelope)
        return envelope

    async def decide(self, user: str, **fields: Any) -> NoticeDecided:
        """The orchestrator's decision to tell `user`, published; returns once it is stored."""
        values: dict[str, Any] = {
            "notice_id": new_id(),
            "user_id": user,
            "tenant": "t1",
            "reason": Reason.MENTION,
            "media": [Medium.IN_APP, Medium.PUSH],
            "title": "Alice mentioned you",
            "body": "hi @bob",
            "collapse_key": "c1",
            "channel_id": "c1",
            "seq": 1,
        }
        values.update(fields)
        decided = NoticeDecided(**values)
        await self.publish("notification-orchestrator", decided)
        await eventually(lambda: self.notice(decided.notice_id))
        return decided

    async def read_channel(self, user: str, channel_id: str, seq: int) -> None:
        read = ChannelRead(
            workspace_id="w1", channel_id=channel_id, kind="public", user_id=user, seq=seq
        )
        await self.publish("channel", read)

    async def device(self, user: str, device_id: str, token: str, platform: str = "ios") -> None:
        response = await self.mesh.client("user").put(
            f"/me/devices/{device_id}",
            json={"platform": platform, "push_token": token},
            headers=self.auth(user),
        )
        assert response.status_code < 300, response.text

    async def devices(self, user: str) -> list[str]:
        response = await self.mesh.client("user").get("/me/devices", headers=self.auth(user))
        return [d["device_id"] for d in response.json()]

    async def notice(self, notice_id: str) -> Notice | None:
        assert self.runtime.db is not None
        async with self.runtime.db.session() as session:
            return await session.get(Notice, notice_id)

    async def settled(self, notice_id: str) -> bool:
        """Whether the notice was read or withdrawn (what the consumers do in the background)."""
        notice = await self.notice(notice_id)
        return notice is not None and (notice.read_at is not None or notice.withdrawn)

    async def deliveries(self, notice_id: str) -> list[Delivery]:
        from sqlalchemy import select

        assert self.runtime.db is not None
        async with self.runtime.db.session() as session:
            query = select(Delivery).where(Delivery.notice_id == notice_id)
            return list((await session.scalars(query)).all())

    async def deliver(self) -> int:
        return await worker.deliver_due(self.runtime)


def pushes_to(notify: Notify, token: str) -> list[Push]:
    return [push for sent_to, push in notify.push.sent if sent_to == token]


@pytest.fixture(scope="module")
async def mesh(
    module_sql_url: str, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Mesh]:
    base = mesh_settings(data_dir=tmp_path_factory.mktemp("notification"))

    def settings_for(name: str, shared: Any) -> Any:
        if name == "notification":
            return shared.model_copy(update={"database_url": module_sql_url})
        return shared

    # The tests run the worker and the digest when they mean to; a tick (every replica runs
    # one at its start) would race them.
    quiet = replace(service_module.service, periodic=[])
    with ExitStack() as stack:
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setattr(service_module, "service", quiet)
        async with running_services(SERVICES, base, module_keys, settings_for) as started:
            yield started


@pytest.fixture
async def notify(mesh: Mesh, module_keys: TestKeys) -> AsyncIterator[Notify]:
    push, mail, sms = ScriptedPush(), RecordingMail(), RecordingText()
    runtime = mesh.runtime("notification")
    runtime.state[channels.STATE_KEY] = channels.Channels(
        push={"ios": push, "android": push, "web": push}, mail=mail, sms=sms
    )
    bus: Any = runtime.events
    queue = bus.hub.attach(f"observer-{uuid.uuid4().hex}", (bus.prefix + "quckchat.notification",))
    try:
        yield Notify(mesh, module_keys, push, mail, sms, Observer(queue))
    finally:
        bus.hub.detach(queue)
        # A test's leftovers are nobody's: settle what it left due, to its own senders.
        await worker.deliver_due(runtime)


@pytest.fixture
def bob() -> str:
    return new_user()
