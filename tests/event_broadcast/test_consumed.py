"""Workspace and channel events become broadcasts for the people they concern, once."""

from __future__ import annotations

from quckchat.core import events
from quckchat.core.events import Event
from quckchat.event_broadcast import store
from quckchat.event_broadcast.consumers import on_event
from quckchat.event_broadcast.events import Membership
from quckchat.event_broadcast.rules import draft_for
from quckchat.realtime.audience import Audience, audience_of
from tests.event_broadcast.conftest import Town
from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL


async def test_a_member_joining_is_told_to_the_workspace(town: Town) -> None:
    joined = await town.event("event-broadcast.membership", user_id=town.bob)
    assert joined.data["type"] == "workspace.member.joined"
    assert joined.data["workspace_id"] == town.workspace_id
    assert joined.data["role"] == "member"
    assert audience_of(joined) == Audience(workspace_id=town.workspace_id)
    for user in (town.alice, town.bob):
        items = (await town.history(user))["items"]
        assert town.bob in [i["user_id"] for i in items if i["type"] == "workspace.member.joined"]


async def test_a_role_change_is_told_to_that_member_only(town: Town) -> None:
    response = await town.org.workspace.put(
        f"/{town.workspace_id}/members/{town.bob}/role",
        json={"role": "admin"},
        headers=town.auth(town.alice),
    )
    assert response.status_code == 200, response.text
    changed = await town.event("event-broadcast.membership", type="workspace.member.role_changed")
    assert (changed.data["user_id"], changed.data["role"]) == (town.bob, "admin")
    assert changed.data["details"] == {"previous_role": "member"}
    assert audience_of(changed) == Audience(users=frozenset({town.bob}))
    await town.settle()
    kinds = {i["type"] for i in (await town.history(town.bob))["items"]}
    assert "workspace.member.role_changed" in kinds
    kinds = {i["type"] for i in (await town.history(town.alice))["items"]}
    assert "workspace.member.role_changed" not in kinds


async def test_a_member_leaving_is_told_to_the_workspace_and_to_them(town: Town) -> None:
    response = await town.org.workspace.delete(
        f"/{town.workspace_id}/members/{town.bob}", headers=town.auth(town.bob)
    )
    assert response.status_code == 204, response.text
    left = await town.event("event-broadcast.membership", type="workspace.member.removed")
    assert left.data["details"] == {"left": True}
    assert audience_of(left) == Audience(
        workspace_id=town.workspace_id, users=frozenset({town.bob})
    )


async def test_settings_members_see_become_a_notice_quotas_do_not(town: Town) -> None:
    await town.org.set_settings(town.workspace_id, town.alice, retention_days=30)
    notice = await town.event("event-broadcast.notice", type="workspace.updated")
    assert notice.data["details"] == {"changed": ["retention_days"], "retention_days": 30}
    assert audience_of(notice) == Audience(workspace_id=town.workspace_id)

    found = await town.org.workspace.get(f"/{town.workspace_id}", headers=town.auth(town.alice))
    response = await town.org.workspace.patch(
        f"/internal/workspaces/by-slug/{found.json()['slug']}",
        json={"quotas": {"max_members": 500}},
        headers=INTERNAL,
    )
    assert response.status_code == 200, response.text
    await town.settle()
    assert [e for e in town.drain() if e.data["type"] == "workspace.updated"] == []


async def test_an_archived_channel_is_told_to_its_members(town: Town) -> None:
    channel = await town.org.create_channel(town.workspace_id, town.alice)
    response = await town.org.channel.post(
        f"/{channel['id']}/archive", headers=town.auth(town.alice)
    )
    assert response.status_code == 200, response.text
    notice = await town.event("event-broadcast.notice", type="channel.archived")
    assert notice.data["channel_id"] == channel["id"]
    assert notice.data["workspace_id"] == town.workspace_id
    assert audience_of(notice) == Audience(channel_id=channel["id"])
    await town.settle()
    mine = [i["channel_id"] for i in (await town.history(town.alice))["items"]]
    assert channel["id"] in mine
    bobs = [i["channel_id"] for i in (await town.history(town.bob))["items"]]
    assert channel["id"] not in bobs  # Bob is not in that channel


async def test_a_channel_role_change_is_told_to_that_member_only(town: Town) -> None:
    channel = await town.org.create_channel(town.workspace_id, town.alice)
    added = await town.org.channel.put(
        f"/{channel['id']}/members/{town.bob}", headers=town.auth(town.alice)
    )
    assert added.status_code == 201, added.text
    response = await town.org.channel.put(
        f"/{channel['id']}/members/{town.bob}/role",
        json={"role": "channel-admin"},
        headers=town.auth(town.alice),
    )
    assert response.status_code == 200, response.text
    changed = await town.event("event-broadcast.membership", type="channel.member.role_changed")
    assert (changed.data["user_id"], changed.data["role"]) == (town.bob, "channel-admin")
    assert changed.data["channel_id"] == channel["id"]
    assert changed.data["details"] == {"previous_role": "channel-member"}
    assert changed.audience == events.Audience(users=(town.bob,))
    told = Membership.of(changed)
    assert (told.happened, told.recipients) == ("channel.member.role_changed", changed.audience)
    assert "audience" not in changed.data  # the envelope carries it


def test_a_malformed_channel_event_makes_no_broadcast() -> None:
    for type_, data in (
        ("channel.member.role_changed", {"channel_id": "c1", "user_id": "u1", "role": "x"}),
        ("channel.archived", {"channel_id": "c1"}),
        ("channel.unarchived", {"workspace_id": "w1", "kind": "public"}),
    ):
        assert draft_for(Event(type=type_, source="channel", key="k", data=data)) is None
    unarchived = Event(
        type="channel.unarchived",
        source="channel",
        key="c1",
        data={"workspace_id": "w1", "channel_id": "c1", "kind": "public", "actor": "u1"},
    )
    draft = draft_for(unarchived)
    assert draft is not None and draft.audience.channel_id == "c1"


async def test_a_redelivered_event_makes_one_broadcast_under_one_event_id(town: Town) -> None:
    newcomer = new_user()
    event = Event(
        type="workspace.member.joined",
        source="workspace",
        key=town.workspace_id,
        data={"workspace_id": town.workspace_id, "user_id": newcomer, "role": "guest"},
        tenant="default",
    )
    town.drain()
    await on_event(town.runtime, event)
    await on_event(town.runtime, event)
    assert [e.id for e in town.drain()] == [f"broadcast.{event.id}"]
    stored = await town.runtime.document_db[store.BROADCASTS].count_documents({"user_id": newcomer})
    assert stored == 1


async def test_events_for_nobody_make_no_broadcast(town: Town) -> None:
    town.drain()
    for type_, source, data in (
        ("workspace.invite.created", "workspace", {"workspace_id": town.workspace_id}),
        ("channel.pinned", "channel", {"workspace_id": town.workspace_id, "channel_id": "c1"}),
        ("permission.role.assigned", "permission", {"user_id": "u1", "tenant": "w1"}),
        ("workspace.member.joined", "workspace", {"workspace_id": town.workspace_id}),
    ):
        await on_event(town.runtime, Event(type=type_, source=source, key="k", data=data))
    assert town.drain() == []


async def test_a_platform_role_is_told_to_the_user(town: Town) -> None:
    admin = new_user()
    response = await town.org.mesh.client("permission").put(
        f"/internal/platform-admins/{admin}", headers=INTERNAL
    )
    assert response.is_success, response.text
    told = await town.event("event-broadcast.membership", user_id=admin)
    assert told.data["role"] == "platform-admin"
    assert audience_of(told) == Audience(users=frozenset({admin}))
