"""The workspace service's typed events: their wire data, key and audience. Pure, no servers."""

from __future__ import annotations

import pytest

from quckchat.core.events import Audience, DomainEvent, Event
from quckchat.realtime import audience as realtime
from quckchat.workspace import events

WORKSPACE = Audience(workspace_id="w1")
MEMBER = Audience(workspace_id="w1", users=("u2",))

# Each event, its wire data, and the clients it is for (None: no client; an invite's data
# holds its join link, which the workspace's members must not receive).
SAMPLES: list[tuple[DomainEvent, dict[str, object], Audience | None]] = [
    (
        events.WorkspaceCreated(workspace_id="w1", actor="u1", name="Acme", retention_days=90),
        {"workspace_id": "w1", "actor": "u1", "name": "Acme", "retention_days": 90},
        WORKSPACE,
    ),
    (
        events.WorkspaceUpdated(
            workspace_id="w1",
            actor=None,
            changed=["max_members", "retention_days"],
            max_members=5,
            retention_days=None,
        ),
        {
            "workspace_id": "w1",
            "actor": None,
            "changed": ["max_members", "retention_days"],
            "retention_days": None,
            "max_members": 5,
        },
        WORKSPACE,
    ),
    (
        events.WorkspaceDeleted(workspace_id="w1", actor="u1", slug="acme"),
        {"workspace_id": "w1", "actor": "u1", "slug": "acme"},
        Audience(workspace_id="w1", membership="left"),
    ),
    (
        events.MemberJoined(workspace_id="w1", actor="u1", user_id="u2", role="member"),
        {"workspace_id": "w1", "actor": "u1", "user_id": "u2", "role": "member"},
        Audience(workspace_id="w1", users=("u2",), membership="joined"),
    ),
    (
        events.MemberRemoved(workspace_id="w1", actor="u2", user_id="u2", role="guest", left=True),
        {"workspace_id": "w1", "actor": "u2", "user_id": "u2", "role": "guest", "left": True},
        Audience(workspace_id="w1", users=("u2",), membership="left"),
    ),
    (
        events.MemberRoleChanged(
            workspace_id="w1", actor="u1", user_id="u2", role="admin", previous_role="member"
        ),
        {
            "workspace_id": "w1",
            "actor": "u1",
            "user_id": "u2",
            "role": "admin",
            "previous_role": "member",
        },
        MEMBER,
    ),
    (
        events.InviteCreated(
            workspace_id="w1",
            actor="u1",
            invite_id="i1",
            role="member",
            delivery={"email": "b@example.com", "phone": None, "url": "https://x/join/t"},
            workspace_name="Acme",
        ),
        {
            "workspace_id": "w1",
            "actor": "u1",
            "invite_id": "i1",
            "role": "member",
            "delivery": {"email": "b@example.com", "phone": None, "url": "https://x/join/t"},
            "workspace_name": "Acme",
        },
        None,
    ),
    (
        events.InviteCreated(workspace_id="w1", actor="u1", invite_id="i2", role="guest"),
        {
            "workspace_id": "w1",
            "actor": "u1",
            "invite_id": "i2",
            "role": "guest",
            "delivery": None,
            "workspace_name": None,
        },
        None,
    ),
]


@pytest.mark.parametrize(
    ("event", "data", "audience"), SAMPLES, ids=lambda v: getattr(v, "type", "")
)
def test_the_wire_data_key_and_audience_are_as_declared(
    event: DomainEvent, data: dict[str, object], audience: Audience | None
) -> None:
    envelope = Event.of(event, source="workspace", tenant="default")
    assert envelope.data == data
    assert envelope.key == "w1"
    assert envelope.audience == audience
    assert Event.from_json(envelope.to_json()).audience == audience
    assert type(event).of(Event.from_json(envelope.to_json())) == event


def test_an_invite_reaches_no_client() -> None:
    invite = events.InviteCreated(workspace_id="w1", actor="u1", invite_id="i1", role="member")
    envelope = Event.of(invite, source="workspace", tenant="default")
    assert realtime.audience_of(envelope) == realtime.Audience()


def test_members_hear_of_their_own_change() -> None:
    removed = events.MemberRemoved(workspace_id="w1", user_id="u2", role="member", left=False)
    assert removed.audience() == Audience(workspace_id="w1", users=("u2",), membership="left")
    created = events.WorkspaceCreated(workspace_id="w1", name="Acme")
    assert created.audience() == Audience(workspace_id="w1")
