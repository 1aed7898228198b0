"""The default policy as a table of expected decisions, shared by the pure and the API tests."""

from __future__ import annotations

TENANT = "t1"

# user -> (workspace role in t1, {channel id: channel role})
PEOPLE: dict[str, tuple[str | None, dict[str, str]]] = {
    "u-owner": ("owner", {}),
    "u-admin": ("admin", {}),
    "u-member": ("member", {"c1": "channel-member"}),
    "u-guest": ("guest", {"c1": "channel-member"}),
    "u-chanadmin": ("member", {"c1": "channel-admin"}),
    "u-outsider": (None, {}),
}
PLATFORM_ADMIN = "u-platform"

ALL = set(PEOPLE)

# (object, action) in t1 -> who is allowed; everyone else is denied.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("workspace", "read"): ALL - {"u-outsider"},
    ("workspace", "manage"): {"u-owner"},
    ("workspace", "create-channel"): {"u-owner", "u-admin", "u-member", "u-chanadmin"},
    ("members", "read"): {"u-owner", "u-admin", "u-member", "u-chanadmin"},
    ("members", "manage"): {"u-owner", "u-admin"},
    ("settings", "read"): {"u-owner", "u-admin", "u-member", "u-chanadmin"},
    ("settings", "manage"): {"u-owner", "u-admin"},
    ("channel:c1", "read"): {"u-owner", "u-member", "u-guest", "u-chanadmin"},
    ("channel:c1", "write"): {"u-owner", "u-member", "u-guest", "u-chanadmin"},
    ("channel:c1", "manage"): {"u-owner", "u-admin", "u-chanadmin"},
    ("channel:c2", "read"): {"u-owner"},
    ("channel:c2", "write"): {"u-owner"},
    ("channel:c2", "manage"): {"u-owner", "u-admin"},
    ("platform", "administer"): set(),
}

# (tenant, object, action) -> who is allowed, for the domains other than t1.
EXPECTED_ELSEWHERE: dict[tuple[str, str, str], set[str]] = {
    ("t2", "workspace", "read"): set(),
    ("t2", "channel:c1", "read"): set(),
    ("platform", "platform", "administer"): {PLATFORM_ADMIN},
    ("platform", "platform", "audit.read"): {PLATFORM_ADMIN},
    ("platform", "workspace", "read"): set(),
}


def cases() -> list[tuple[str, str, str, str, bool]]:
    """Every (user, tenant, object, action, expected) the tables name."""
    users = [*PEOPLE, PLATFORM_ADMIN]
    rows = [
        (user, TENANT, obj, act, user in allowed)
        for (obj, act), allowed in EXPECTED.items()
        for user in users
    ]
    rows += [
        (user, tenant, obj, act, user in allowed)
        for (tenant, obj, act), allowed in EXPECTED_ELSEWHERE.items()
        for user in users
    ]
    return rows
