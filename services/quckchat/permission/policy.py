"""The authorization model: who may do what, where, as casbin RBAC with domains.

A request is `(subject, domain, object, action)`: a user id, the tenant (a workspace id, or
`platform` for the platform itself), the thing acted on and the verb.

Objects:
    `workspace`       the workspace itself (its name, its existence)
    `members`         the people of the workspace and their roles
    `settings`        the workspace's settings
    `channel:<id>`    one channel; `channel:*` in a rule means every channel
    `platform`        the whole platform (domain `platform` only)

Actions:
    `read`, `write`       see, post or change content
    `manage`              administer the object (roles, archiving, settings)
    `create-channel`      on `workspace`: open a new channel
    `administer`          on `platform`: act as a platform administrator
    `audit.read`          on `platform`: read the audit log

Roles:
    workspace roles (domain = the workspace id): `owner`, `admin`, `member`, `guest`;
    channel roles `channel-admin`, `channel-member`, assigned in the domain
    `<workspace id>/channel:<channel id>` so they grant on that one channel only;
    `platform-admin` in the domain `platform`.

Policy rules (`p`) name a role, a domain (`*`: any workspace), an object pattern (keyMatch)
and an action (`*`: any). Role assignments (`g`) name a user, a role and a domain. The
defaults below are seeded at startup; a rule dropped from them later needs a migration.
"""

from __future__ import annotations

from typing import Any

import casbin
from casbin.persist import Adapter

PLATFORM = "platform"

OWNER, ADMIN, MEMBER, GUEST = "owner", "admin", "member", "guest"
CHANNEL_ADMIN, CHANNEL_MEMBER = "channel-admin", "channel-member"
PLATFORM_ADMIN = "platform-admin"
WORKSPACE_ROLES = (OWNER, ADMIN, MEMBER, GUEST)
CHANNEL_ROLES = (CHANNEL_ADMIN, CHANNEL_MEMBER)
ROLES = frozenset((*WORKSPACE_ROLES, *CHANNEL_ROLES, PLATFORM_ADMIN))

# A channel role matches when the request's domain and object together name its channel.
MODEL_TEXT = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, r.dom + "/" + r.obj)) \
&& (p.dom == r.dom || p.dom == "*") && keyMatch(r.obj, p.obj) \
&& (p.act == r.act || p.act == "*")
"""

ANY_WORKSPACE = "*"

DEFAULT_POLICIES: tuple[tuple[str, str, str, str], ...] = (
    # owner: everything in its workspace
    (OWNER, ANY_WORKSPACE, "workspace", "*"),
    (OWNER, ANY_WORKSPACE, "members", "*"),
    (OWNER, ANY_WORKSPACE, "settings", "*"),
    (OWNER, ANY_WORKSPACE, "channel:*", "*"),
    # admin: manages members, channels and settings
    (ADMIN, ANY_WORKSPACE, "workspace", "read"),
    (ADMIN, ANY_WORKSPACE, "workspace", "create-channel"),
    (ADMIN, ANY_WORKSPACE, "members", "read"),
    (ADMIN, ANY_WORKSPACE, "members", "manage"),
    (ADMIN, ANY_WORKSPACE, "settings", "read"),
    (ADMIN, ANY_WORKSPACE, "settings", "write"),
    (ADMIN, ANY_WORKSPACE, "settings", "manage"),
    (ADMIN, ANY_WORKSPACE, "channel:*", "manage"),
    # member: sees the workspace, opens channels; reads and writes through channel roles
    (MEMBER, ANY_WORKSPACE, "workspace", "read"),
    (MEMBER, ANY_WORKSPACE, "workspace", "create-channel"),
    (MEMBER, ANY_WORKSPACE, "members", "read"),
    (MEMBER, ANY_WORKSPACE, "settings", "read"),
    # guest: sees the workspace; only the channels it is a channel-member of
    (GUEST, ANY_WORKSPACE, "workspace", "read"),
    # channel roles: scoped to their channel by the assignment's domain
    (CHANNEL_ADMIN, ANY_WORKSPACE, "channel:*", "read"),
    (CHANNEL_ADMIN, ANY_WORKSPACE, "channel:*", "write"),
    (CHANNEL_ADMIN, ANY_WORKSPACE, "channel:*", "manage"),
    (CHANNEL_MEMBER, ANY_WORKSPACE, "channel:*", "read"),
    (CHANNEL_MEMBER, ANY_WORKSPACE, "channel:*", "write"),
    # platform-admin: the platform, never a workspace
    (PLATFORM_ADMIN, PLATFORM, PLATFORM, "administer"),
    (PLATFORM_ADMIN, PLATFORM, PLATFORM, "audit.read"),
)


def channel_object(channel_id: str) -> str:
    return f"channel:{channel_id}"


def channel_domain(tenant: str, channel_id: str) -> str:
    """The domain a channel role is assigned in; the matcher rebuilds it from a request."""
    return f"{tenant}/{channel_object(channel_id)}"


def channel_domain_prefix(tenant: str) -> str:
    return f"{tenant}/channel:"


class RuleAdapter(Adapter):  # type: ignore[misc]
    """Hands casbin rules already read from SQL; reading stays async, outside casbin."""

    def __init__(self, rules: list[tuple[str, ...]]) -> None:
        self.rules = rules

    def load_policy(self, model: Any) -> None:
        for ptype, *values in self.rules:
            model.model[ptype[0]][ptype].policy.append(values)


def build_enforcer(rules: list[tuple[str, ...]]) -> Any:
    """A new enforcer over `rules` (each `(ptype, v0, v1, ...)`)."""
    model = casbin.Model()
    model.load_model_from_text(MODEL_TEXT)
    return casbin.Enforcer(model, RuleAdapter(rules))
