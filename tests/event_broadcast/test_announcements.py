"""Announcements by a workspace's admins and owners, platform notices, and the history."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from quckchat.core import outbox
from quckchat.core.events import Event
from quckchat.event_broadcast import publish, store
from quckchat.event_broadcast.events import Announcement
from quckchat.realtime.audience import Audience, audience_of
from tests.event_broadcast.conftest import Town
from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL
from tests.worlds.problems import assert_problem


async def _announce(town: Town, user: str, **body: Any) -> Any:
    body = {"workspace_id": town.workspace_id, "text": "Offsite on Friday", **body}
    return await town.broadcasts.post("/", json=body, headers=town.auth(user))


async def test_an_owner_announces_to_every_member(town: Town) -> None:
    response = await _announce(town, town.alice)
    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["kind"], made["type"], made["text"]) == (
        "announcement",
        "announcement",
        "Offsite on Friday",
    )
    assert (made["workspace_id"], made["actor"]) == (town.workspace_id, town.alice)
    event = await town.event("event-broadcast.announcement")
    assert event.id == f"broadcast.{made['id']}"
    assert event.data["text"] == "Offsite on Friday" and event.data["actor"] == town.alice
    assert audience_of(event) == Audience(workspace_id=town.workspace_id)
    assert event.key == town.workspace_id and "audience" not in event.data
    typed = Announcement.of(event)
    assert (typed.broadcast_id, typed.happened) == (made["id"], "announcement")
    assert typed.created_at == datetime.fromisoformat(made["created_at"])
    assert event.data["created_at"] == typed.created_at.isoformat()  # as it always went out
    newest = (await town.history(town.bob))["items"][0]
    assert newest == made


async def test_admins_announce_members_may_not_outsiders_see_nothing(town: Town) -> None:
    assert_problem(await _announce(town, town.bob), 403)
    response = await town.org.workspace.put(
        f"/{town.workspace_id}/members/{town.bob}/role",
        json={"role": "admin"},
        headers=town.auth(town.alice),
    )
    assert response.status_code == 200, response.text
    assert (await _announce(town, town.bob)).status_code == 201
    assert_problem(await _announce(town, town.eve), 404)
    assert_problem(await _announce(town, town.alice, workspace_id="missing"), 404)
    params = {"workspace_id": town.workspace_id}
    assert_problem(await town.broadcasts.get("/", params=params, headers=town.auth(town.eve)), 404)


async def test_bad_announcements_are_422_problems(town: Town) -> None:
    for body in (
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 4001},
        {"workspace_id": "bad id"},
        {"extra": True},
    ):
        assert_problem(await _announce(town, town.alice, **body), 422)
    assert_problem(await town.broadcasts.post("/", json={"text": "hi"}), 401)
    assert_problem(await town.broadcasts.get("/", headers=town.auth(town.alice)), 422)


async def test_the_history_pages_newest_first(town: Town) -> None:
    texts = [f"news {i}" for i in range(5)]
    for text in texts:
        assert (await _announce(town, town.alice, text=text)).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await town.history(town.bob, **params)
        assert len(page["items"]) <= 2
        seen += [i["text"] for i in page["items"] if i["kind"] == "announcement"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == texts[::-1]
    for bad in ("nonsense", "W10", "WyJ4IiwgMV0"):
        params = {"workspace_id": town.workspace_id, "cursor": bad}
        response = await town.broadcasts.get("/", params=params, headers=town.auth(town.bob))
        assert_problem(response, 400)


async def test_a_platform_notice_reaches_every_workspace(town: Town) -> None:
    admin = new_user()
    response = await town.org.mesh.client("permission").put(
        f"/internal/platform-admins/{admin}", headers=INTERNAL
    )
    assert response.is_success, response.text
    body = {"text": "Maintenance at 22:00 UTC"}
    assert_problem(
        await town.broadcasts.post("/system", json=body, headers=town.auth(town.alice)), 403
    )
    response = await town.broadcasts.post("/system", json=body, headers=town.auth(admin))
    assert response.status_code == 201, response.text
    notice = response.json()
    assert (notice["kind"], notice["type"], notice["workspace_id"]) == ("notice", "system", None)

    # Every workspace is told, other tests' too: these two are among them, each once.
    mine = {town.workspace_id, town.eve_workspace_id}
    told: dict[str, Event] = {}
    while set(told) != mine:
        event = await town.event("event-broadcast.notice", broadcast_id=notice["id"])
        workspace_id = event.data["workspace_id"]
        if workspace_id in mine:
            assert workspace_id not in told, "a workspace told twice"
            told[workspace_id] = event
    for workspace_id, event in told.items():
        assert event.id == f"broadcast.{notice['id']}.{workspace_id}"
        assert audience_of(event) == Audience(workspace_id=workspace_id)
    for user, workspace_id in ((town.bob, town.workspace_id), (town.eve, town.eve_workspace_id)):
        newest = (await town.history(user, workspace_id))["items"][0]
        assert (newest["id"], newest["workspace_id"]) == (notice["id"], workspace_id)


async def test_a_deleted_workspace_gets_no_notice(town: Town) -> None:
    response = await town.org.workspace.delete(
        f"/{town.eve_workspace_id}", headers=town.auth(town.eve)
    )
    assert response.status_code == 204, response.text
    await town.settle()
    assert town.eve_workspace_id not in await store.live_workspaces(town.runtime)
    assert town.workspace_id in await store.live_workspaces(town.runtime)


async def test_an_announcement_the_broker_refused_goes_out_later_once(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = town.runtime.events

    async def refuse(topic: str, event: object) -> None:
        raise ConnectionError("broker away")

    monkeypatch.setattr(bus, "publish", refuse)
    response = await _announce(town, town.alice, text="still stored")
    assert response.status_code == 201, response.text
    monkeypatch.undo()
    made = response.json()
    assert (await town.history(town.bob))["items"][0]["id"] == made["id"]
    assert [e for e in town.drain() if e.type == "event-broadcast.announcement"] == []

    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    relay = publish.OUTBOX.relay
    await asyncio.gather(relay(town.runtime), relay(town.runtime))
    ids = {e.id for e in town.drain() if e.type == "event-broadcast.announcement"}
    assert ids == {f"broadcast.{made['id']}"}
    assert await relay(town.runtime) == 0
