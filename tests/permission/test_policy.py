"""The model and default policy, decided by casbin alone (no database, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from quckchat.permission.models import rule_key
from quckchat.permission.policy import (
    DEFAULT_POLICIES,
    PLATFORM,
    build_enforcer,
    channel_domain,
)
from tests.permission import matrix


def enforcer() -> Any:
    rules: list[tuple[str, ...]] = [("p", *rule) for rule in DEFAULT_POLICIES]
    for user, (role, channels) in matrix.PEOPLE.items():
        if role is not None:
            rules.append(("g", user, role, matrix.TENANT))
        for channel_id, channel_role in channels.items():
            rules.append(("g", user, channel_role, channel_domain(matrix.TENANT, channel_id)))
    rules.append(("g", matrix.PLATFORM_ADMIN, "platform-admin", PLATFORM))
    return build_enforcer(rules)


ENFORCER = enforcer()


@pytest.mark.parametrize(("user", "tenant", "obj", "act", "expected"), matrix.cases())
def test_default_policy_matrix(user: str, tenant: str, obj: str, act: str, expected: bool) -> None:
    assert ENFORCER.enforce(user, tenant, obj, act) is expected


def test_a_channel_role_grants_on_its_channel_only() -> None:
    e = build_enforcer(
        [("p", *rule) for rule in DEFAULT_POLICIES]
        + [("g", "bob", "channel-admin", channel_domain("t1", "c1"))]
    )
    assert e.enforce("bob", "t1", "channel:c1", "manage")
    assert not e.enforce("bob", "t1", "channel:c10", "manage")
    assert not e.enforce("bob", "t1", "channel:*", "manage")
    assert not e.enforce("bob", "t2", "channel:c1", "read")
    assert not e.enforce("bob", "t1", "workspace", "read")


def test_an_owner_rules_only_its_own_workspace() -> None:
    e = build_enforcer([("p", *rule) for rule in DEFAULT_POLICIES] + [("g", "ann", "owner", "t1")])
    assert e.enforce("ann", "t1", "settings", "manage")
    assert not e.enforce("ann", "t2", "settings", "manage")
    assert not e.enforce("ann", PLATFORM, PLATFORM, "administer")


def test_an_assignment_key_holds_one_role_per_user_and_domain() -> None:
    assert rule_key("g", "u", "admin", "t1") == rule_key("g", "u", "member", "t1")
    assert rule_key("g", "u", "admin", "t1") != rule_key("g", "u", "admin", "t2")
    assert rule_key("p", "admin", "*", "members", "read") != rule_key(
        "p", "admin", "*", "members", "manage"
    )
