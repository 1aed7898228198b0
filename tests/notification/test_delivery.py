"""Deliveries: one push per (notice, device) however often the decision arrives and however
many replicas consume it; read elsewhere drops what waits and clears what was shown; dead
tokens leave the user service; retries wait at least the provider's Retry-After; every
attempt is stored, and shown to its owner only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from quckchat.core.events import Event
from quckchat.core.settings import Settings
from quckchat.core.sql import utcnow
from quckchat.notification import channels, worker
from quckchat.notification.consumers import on_decision
from quckchat.notification.models import (
    DELIVERED,
    DROPPED,
    FAILED,
    GONE,
    PENDING,
    Delivery,
    ReadPointer,
)
from quckchat.notification.push.base import Outcome, Result
from quckchat.notification_orchestrator.events import NoticeWithdrawn
from tests.notification.conftest import Notify, pushes_to
from tests.worlds.mesh import replica
from tests.worlds.waiting import eventually


async def test_one_push_per_device_under_redelivery_and_two_replicas(
    notify: Notify, bob: str
) -> None:
    await notify.device(bob, "phone", "tok-phone-" + bob)
    await notify.device(bob, "tablet", "tok-tablet-" + bob, platform="android")
    decided = await notify.decide(bob)
    # Kafka redelivers it; another replica takes the same decision at the same moment.
    again = Event.of(decided, source="notification-orchestrator", tenant="t1")
    async with replica(notify.mesh, "notification", notify.keys) as (_, _, other):
        other.state[channels.STATE_KEY] = notify.runtime.state[channels.STATE_KEY]
        await asyncio.gather(on_decision(notify.runtime, again), on_decision(other, again))
        await notify.publish("notification-orchestrator", decided)
        sent = await asyncio.gather(notify.deliver(), worker.deliver_due(other))
    assert sum(sent) == 2
    assert len(pushes_to(notify, "tok-phone-" + bob)) == 1
    assert len(pushes_to(notify, "tok-tablet-" + bob)) == 1
    assert sorted(d.status for d in await notify.deliveries(decided.notice_id)) == [
        DELIVERED,
        DELIVERED,
    ]


async def test_read_elsewhere_drops_the_held_push_and_clears_the_shown_one(
    notify: Notify, bob: str
) -> None:
    phone, tablet = "tok-p-" + bob, "tok-t-" + bob
    await notify.device(bob, "phone", phone)
    await notify.device(bob, "tablet", tablet)
    shown = await notify.decide(bob, seq=5)
    assert await notify.deliver() == 2
    held = await notify.decide(bob, seq=6, push_after=utcnow() + timedelta(hours=1))

    await notify.read_channel(bob, "c1", 6)

    await eventually(lambda: notify.settled(held.notice_id))
    assert {d.status for d in await notify.deliveries(held.notice_id)} == {DROPPED}
    assert await notify.deliver() == 2
    for token in (phone, tablet):
        pushes = pushes_to(notify, token)
        assert [p.clear for p in pushes] == [False, True]
        assert pushes[1].collapse_key == "c1"
    read = await notify.observer.wait_for("notification.read")
    assert set(read.data["notification_ids"]) == {shown.notice_id, held.notice_id}
    # Read again (another device's mark, a redelivery): nothing more is cleared.
    await notify.read_channel(bob, "c1", 6)
    await notify.decide(bob, seq=4)  # already read when it arrives: no push at all
    await asyncio.sleep(0.2)
    assert await notify.deliver() == 0


async def test_the_pointer_is_checked_again_just_before_sending(notify: Notify, bob: str) -> None:
    await notify.device(bob, "phone", "tok-" + bob)
    decided = await notify.decide(bob, seq=3)
    # The read mark lands in the pointer copy only (as if the consumer were mid-way).
    assert notify.runtime.db is not None
    async with notify.runtime.db.session() as session:
        session.add(ReadPointer(user_id=bob, scope="c1", seq=3))
    assert await notify.deliver() == 0
    assert notify.push.sent == []
    assert {d.status for d in await notify.deliveries(decided.notice_id)} == {DROPPED}


async def test_withdrawn_drops_what_waits_and_clears_what_was_shown(
    notify: Notify, bob: str
) -> None:
    await notify.device(bob, "phone", "tok-w-" + bob)
    shown = await notify.decide(bob)
    await notify.deliver()
    await notify.publish(
        "notification-orchestrator", NoticeWithdrawn(notice_id=shown.notice_id, user_id=bob)
    )
    await eventually(lambda: notify.settled(shown.notice_id))
    assert await notify.deliver() == 1
    assert [p.clear for p in pushes_to(notify, "tok-w-" + bob)] == [False, True]
    inbox = await notify.client.get("/", headers=notify.auth(bob))
    assert inbox.json()["items"] == []


async def test_a_dead_token_leaves_the_user_service(notify: Notify, bob: str) -> None:
    dead, alive = "tok-dead-" + bob, "tok-alive-" + bob
    await notify.device(bob, "old", dead)
    await notify.device(bob, "new", alive)
    notify.push.answers[dead] = [Result(Outcome.GONE, status=410, detail="Unregistered")]
    decided = await notify.decide(bob)
    await notify.deliver()
    assert await notify.devices(bob) == ["new"]
    statuses = {d.device_id: d.status for d in await notify.deliveries(decided.notice_id)}
    assert statuses == {"old": GONE, "new": DELIVERED}


async def test_a_retry_waits_at_least_retry_after_and_gives_up_in_the_end(
    notify: Notify, bob: str
) -> None:
    token = "tok-busy-" + bob
    await notify.device(bob, "phone", token)
    attempts = notify.runtime.settings.notification_max_attempts
    notify.push.answers[token] = [
        Result(Outcome.RETRY, status=429, detail="busy", retry_after=120.0)
    ] * attempts
    decided = await notify.decide(bob)
    before = utcnow()
    await notify.deliver()
    (delivery,) = await notify.deliveries(decided.notice_id)
    assert delivery.status == PENDING and delivery.attempts == 1
    assert delivery.due_at >= before + timedelta(seconds=120)
    # Nothing is due before then: the next tick sends nothing.
    assert await notify.deliver() == 0 and len(pushes_to(notify, token)) == 1
    for _ in range(attempts - 1):
        await make_due(notify, delivery.id)
        await notify.deliver()
    (delivery,) = await notify.deliveries(decided.notice_id)
    assert delivery.status == FAILED and delivery.attempts == attempts

    mine = await notify.client.get("/deliveries", headers=notify.auth(bob))
    items = mine.json()["items"]
    assert len(items) == attempts
    assert {i["outcome"] for i in items} == {"retry"}
    assert items[0]["retry_after"] == 120.0 and items[0]["provider_status"] == 429
    assert items[0]["notification_id"] == decided.notice_id
    others = await notify.client.get("/deliveries", headers=notify.auth("someone-else"))
    assert others.json()["items"] == []


async def test_an_urgent_notice_is_pushed_again_until_read_then_cleared(
    notify: Notify, bob: str
) -> None:
    token = "tok-urgent-" + bob
    await notify.device(bob, "phone", token)
    settings = notify.runtime.settings
    urgent = await notify.decide(bob, seq=7, urgent=True)
    calm = await notify.decide(bob, seq=7)
    before = utcnow()
    assert await notify.deliver() == 2
    repeat = next(d for d in await notify.deliveries(urgent.notice_id) if not d.clear)
    assert repeat.status == PENDING and repeat.repeats == 1 and repeat.attempts == 0
    assert repeat.due_at >= before + timedelta(seconds=settings.notification_urgent_repeat_seconds)
    assert {d.status for d in await notify.deliveries(calm.notice_id)} == {DELIVERED}
    await make_due(notify, repeat.id)
    assert await notify.deliver() == 1  # shown again, still unread
    await notify.read_channel(bob, "c1", 7)
    await eventually(lambda: notify.settled(urgent.notice_id))
    assert await notify.deliver() == 2  # the clears of both, the repeat dropped
    shown = [(p.title != "", p.clear) for p in pushes_to(notify, token)]
    assert shown == [(True, False), (True, False), (True, False), (False, True), (False, True)]
    by_kind = {d.clear: d.status for d in await notify.deliveries(urgent.notice_id)}
    assert by_kind == {False: DROPPED, True: DELIVERED}


async def test_an_urgent_push_stops_after_its_last_repeat(notify: Notify, bob: str) -> None:
    token = "tok-urgent-end-" + bob
    await notify.device(bob, "phone", token)
    urgent = await notify.decide(bob, urgent=True)
    await notify.deliver()
    for _ in range(notify.runtime.settings.notification_urgent_repeats):
        (delivery,) = await notify.deliveries(urgent.notice_id)
        await make_due(notify, delivery.id)
        await notify.deliver()
    (delivery,) = await notify.deliveries(urgent.notice_id)
    assert delivery.status == DELIVERED
    assert delivery.repeats == notify.runtime.settings.notification_urgent_repeats
    assert len(pushes_to(notify, token)) == delivery.repeats + 1


async def make_due(notify: Notify, delivery_id: str) -> None:
    assert notify.runtime.db is not None
    async with notify.runtime.db.session() as session:
        await session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(due_at=utcnow())
        )


def test_backoff_doubles_with_jitter_is_capped_and_never_beats_retry_after() -> None:
    settings = Settings(notification_retry_base_seconds=2.0, notification_retry_max_seconds=60.0)
    for attempts, ceiling in ((1, 2.0), (3, 8.0), (10, 60.0)):
        waits = {worker.backoff(settings, attempts, None) for _ in range(20)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits) and len(waits) > 1
    assert worker.backoff(settings, 1, 300.0) == 300.0


async def test_devices_are_sent_to_side_by_side_and_each_device_in_order(
    notify: Notify, bob: str
) -> None:
    phone, tablet = "tok-order-p-" + bob, "tok-order-t-" + bob
    await notify.device(bob, "phone", phone)
    await notify.device(bob, "tablet", tablet, platform="android")
    first = await notify.decide(bob, body="first", push_after=utcnow() - timedelta(seconds=2))
    second = await notify.decide(bob, body="second", push_after=utcnow() - timedelta(seconds=1))

    assert await notify.deliver() == 4
    for token in (phone, tablet):
        assert [p.body for p in pushes_to(notify, token)] == [first.body, second.body]
