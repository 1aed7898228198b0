"""THE list of QuckChat's 32 services.

The operator, the CLI, the gateway, the Tiltfile and the chart all read this one table, so it
uses the standard library only: the operator imports it without pulling in the service runtime.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Group(StrEnum):
    IDENTITY = "identity"
    EDGE = "edge"
    REALTIME = "realtime"
    ORGANIZATION = "organization"
    STORAGE = "storage"
    INTELLIGENCE = "intelligence"


class Store(StrEnum):
    MYSQL = "mysql"
    POSTGRESQL = "postgresql"
    MONGODB = "mongodb"
    REDIS = "redis"
    KAFKA = "kafka"
    ELASTICSEARCH = "elasticsearch"
    ANALYTICS = "analytics"
    # An S3-compatible object store (a local folder under `make run`).
    OBJECTS = "objects"


RELATIONAL_STORES = frozenset({Store.MYSQL, Store.POSTGRESQL})

# Where clients open the WebSocket: the gateway's address and an Ingress's (here, so that the
# operator routes it without importing the service runtime).
WEBSOCKET_PATH = "/api/v1/realtime/ws"

# The order groups roll in during an upgrade: stores first (not a group), edge last.
UPGRADE_ORDER: tuple[Group, ...] = (
    Group.IDENTITY,
    Group.ORGANIZATION,
    Group.STORAGE,
    Group.REALTIME,
    Group.INTELLIGENCE,
    Group.EDGE,
)


@dataclass(frozen=True)
class ServiceSpec:
    """One service: where it listens, what it stores in, whom it calls, what it emits."""

    name: str
    group: Group
    port: int
    stores: tuple[Store, ...]
    purpose: str
    depends_on: tuple[str, ...] = ()
    # Services it also calls but need not start after (calls back into a dependant).
    calls: tuple[str, ...] = ()
    # Events travel on one topic per producing service ("quckchat.<name>").
    produces: bool = True
    consumes: tuple[str, ...] = ()
    # Path segment under the gateway's /api/v1/ that routes to this service; None: not public.
    public_prefix: str | None = None
    implemented: bool = False
    tags: tuple[str, ...] = field(default=())

    @property
    def module(self) -> str:
        """The Python package of the service under `quckchat.`."""
        return self.name.replace("-", "_")

    @property
    def topic(self) -> str:
        return f"quckchat.{self.name}"

    @property
    def relational_store(self) -> Store | None:
        return next((s for s in self.stores if s in RELATIONAL_STORES), None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["group"] = str(self.group)
        data["stores"] = [str(s) for s in self.stores]
        data["depends_on"] = list(self.depends_on)
        data["calls"] = list(self.calls)
        data["consumes"] = list(self.consumes)
        data["tags"] = list(self.tags)
        data["topic"] = self.topic if self.produces else None
        return data


def _s(
    name: str,
    group: Group,
    port: int,
    stores: tuple[Store, ...],
    purpose: str,
    **kw: Any,
) -> ServiceSpec:
    # Every service publishes to Kafka (at least for analytics), so Kafka is implied.
    return ServiceSpec(name, group, port, (*stores, Store.KAFKA), purpose, **kw)


_I, _E, _R, _O, _S, _N = (
    Group.IDENTITY,
    Group.EDGE,
    Group.REALTIME,
    Group.ORGANIZATION,
    Group.STORAGE,
    Group.INTELLIGENCE,
)
_MY, _PG, _MG, _RD, _ES, _AN, _OB = (
    Store.MYSQL,
    Store.POSTGRESQL,
    Store.MONGODB,
    Store.REDIS,
    Store.ELASTICSEARCH,
    Store.ANALYTICS,
    Store.OBJECTS,
)

SERVICES: tuple[ServiceSpec, ...] = (
    # identity
    _s(
        "auth",
        _I,
        8081,
        (_MY, _RD),
        "Sign-in by phone OTP, password and OIDC; tokens, sessions, 2FA",
        public_prefix="auth",
        implemented=True,
    ),
    _s(
        "user",
        _I,
        8082,
        (_MY,),
        "Profiles, privacy settings, contacts and devices",
        depends_on=("auth",),
        consumes=("auth",),
        public_prefix="users",
        implemented=True,
    ),
    _s(
        "permission",
        _I,
        8083,
        (_MY, _RD),
        "RBAC per workspace and channel, answered from cache",
        depends_on=("auth",),
        public_prefix="permissions",
        implemented=True,
    ),
    _s(
        "audit",
        _I,
        8084,
        (_MY,),
        "Hash-chained, append-only audit log of security events",
        depends_on=("auth", "permission"),
        consumes=("auth", "permission", "admin"),
        public_prefix="audit",
        implemented=True,
    ),
    _s(
        "admin",
        _I,
        8085,
        (_MY,),
        "Platform administration: find, suspend, force logout, counts",
        depends_on=("auth", "user", "permission"),
        public_prefix="admin",
        implemented=True,
    ),
    # edge
    _s(
        "backend-gateway",
        _E,
        3000,
        (_PG, _RD),
        "The public API: REST routing, tokens, rate limits, and the WebSocket's public address",
        depends_on=("auth", "user", "permission", "audit", "admin", "realtime", "workspace"),
        implemented=True,
    ),
    _s(
        "realtime",
        _E,
        4000,
        (_RD,),
        "WebSocket gateway delivering events to connected clients",
        depends_on=("auth", "channel", "workspace"),
        consumes=(
            "message",
            "channel",
            "workspace",
            "thread",
            "presence",
            "reminder",
            "event-broadcast",
            "file",
            "notification",
        ),
        public_prefix="realtime",
        implemented=True,
    ),
    _s(
        "notification",
        _E,
        3001,
        (_PG,),
        "Push, email and SMS delivery to devices",
        depends_on=("auth", "user"),
        consumes=("notification-orchestrator", "message", "channel", "thread", "workspace"),
        public_prefix="notifications",
        implemented=True,
    ),
    # realtime
    _s(
        "presence",
        _R,
        4001,
        (_MG, _RD),
        "Online, away, do-not-disturb, last seen and typing",
        depends_on=("auth", "user", "workspace", "channel"),
        consumes=("channel",),
        public_prefix="presence",
        implemented=True,
    ),
    _s(
        "call",
        _R,
        4002,
        (_MG,),
        "One-to-one and group voice and video call signalling",
        depends_on=("channel",),
    ),
    _s(
        "message",
        _R,
        4003,
        (_MG,),
        "Messages: send, edit, delete, reactions, receipts",
        depends_on=("attachment", "auth", "channel", "user"),
        consumes=("channel", "thread", "user"),
        public_prefix="messages",
        implemented=True,
    ),
    _s(
        "notification-orchestrator",
        _R,
        4004,
        (_MG,),
        "Decides who is notified of what, and how",
        depends_on=("auth", "channel", "message", "presence", "user"),
        consumes=("message", "thread", "reminder", "channel", "user"),
        implemented=True,
    ),
    _s(
        "huddle",
        _R,
        4005,
        (_MG,),
        "Drop-in audio rooms attached to channels",
        depends_on=("channel", "call"),
    ),
    _s(
        "event-broadcast",
        _R,
        4006,
        (_MG,),
        "Routes platform-wide events to their audiences",
        depends_on=("auth", "permission", "workspace", "channel"),
        consumes=("workspace", "channel", "permission"),
        public_prefix="broadcasts",
        implemented=True,
    ),
    # organization
    _s(
        "workspace",
        _O,
        5004,
        (_MY,),
        "Workspaces (tenants): members, invites, quotas, settings",
        depends_on=("auth", "user", "permission", "channel"),
        consumes=("user",),
        public_prefix="workspaces",
        implemented=True,
    ),
    _s(
        "channel",
        _O,
        5005,
        (_MY,),
        "Conversations: channels, direct and group messages",
        depends_on=("auth", "permission", "user"),
        calls=("workspace",),
        consumes=("message", "workspace", "user"),
        public_prefix="channels",
        implemented=True,
    ),
    _s(
        "search",
        _O,
        5006,
        (_MY, _ES),
        "Full-text message search scoped to what the asker can read, and channel files",
        depends_on=("auth", "channel", "workspace"),
        calls=("message",),  # only to rebuild its index
        consumes=("message", "attachment", "media"),
        public_prefix="search",
        implemented=True,
    ),
    _s(
        "thread",
        _O,
        5009,
        (_MY,),
        "Threads: replies, followers, unread per thread",
        depends_on=("auth", "channel", "message"),
        consumes=("message", "channel"),
        public_prefix="threads",
        implemented=True,
    ),
    _s(
        "bookmark",
        _O,
        5010,
        (_MY,),
        "Saved messages and channel bookmarks",
        depends_on=("auth", "permission", "channel", "message"),
        consumes=("message", "channel"),
        public_prefix="bookmarks",
        implemented=True,
    ),
    _s(
        "reminder",
        _O,
        5011,
        (_MY,),
        "Reminders about messages, once or repeating",
        depends_on=("auth", "channel", "message"),
        consumes=("channel",),
        public_prefix="reminders",
        implemented=True,
    ),
    # storage
    _s(
        "media",
        _S,
        5001,
        (_MG, _OB),
        "Previews of uploaded files: thumbnails, posters, placeholders and text for search",
        depends_on=("auth", "workspace", "file", "attachment"),
        consumes=("file",),
        public_prefix="media",
        implemented=True,
    ),
    _s(
        "file",
        _S,
        5002,
        (_MG, _OB),
        "File upload, download and quotas on object storage",
        depends_on=("auth", "workspace"),
        consumes=("workspace",),
        public_prefix="files",
        implemented=True,
    ),
    _s(
        "attachment",
        _S,
        5012,
        (_MG,),
        "Links files and media to messages",
        depends_on=("auth", "channel", "file", "search"),
        calls=("message",),  # a forward's files are those of the message forwarded
        consumes=("message", "file", "channel"),
        public_prefix="attachments",
        implemented=True,
    ),
    _s(
        "cdn",
        _S,
        5013,
        (_MG, _OB),
        "Signed, cached delivery of files and media",
        depends_on=("auth", "attachment", "file", "media", "workspace"),
        public_prefix="cdn",
        implemented=True,
    ),
    # intelligence on MySQL
    _s(
        "analytics",
        _N,
        5007,
        (_MY,),
        "Usage analytics fed by every service's events",
        consumes=("auth", "user", "message", "channel", "workspace", "call", "file"),
    ),
    _s(
        "moderation",
        _N,
        5014,
        (_MY,),
        "Content moderation: rules, reports and actions",
        depends_on=("ml",),
        consumes=("message",),
    ),
    _s(
        "export",
        _N,
        5015,
        (_MY,),
        "Workspace and compliance exports",
        depends_on=("message", "channel", "workspace"),
    ),
    _s(
        "integration",
        _N,
        5016,
        (_MY,),
        "Webhooks, bots and third-party integrations",
        depends_on=("message", "channel"),
        consumes=("message",),
    ),
    # intelligence on the analytics store
    _s("ml", _N, 5008, (_AN,), "Model serving for the other intelligence services"),
    _s(
        "sentiment",
        _N,
        5017,
        (_AN,),
        "Sentiment of messages and channels",
        depends_on=("ml",),
        consumes=("message",),
    ),
    _s("insights", _N, 5018, (_AN,), "Team insights built on analytics", depends_on=("analytics",)),
    _s("smart-reply", _N, 5019, (_AN,), "Suggested replies", depends_on=("ml", "message")),
)

_BY_NAME = {s.name: s for s in SERVICES}


def get(name: str) -> ServiceSpec:
    """The service called `name`; KeyError names the unknown service."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}; see `quckchat catalog`") from None


def names() -> list[str]:
    return [s.name for s in SERVICES]


def implemented(group: Group | None = None) -> list[ServiceSpec]:
    """The services that exist (of one group): all the operator deploys and counts."""
    return [s for s in SERVICES if s.implemented and (group is None or s.group == group)]


def stores_in_use() -> frozenset[Store]:
    """The stores some implemented service uses: the only ones the operator runs."""
    return frozenset(store for s in implemented() for store in s.stores)


def deployed_groups() -> list[Group]:
    """The groups with at least one implemented service, in upgrade order: the only groups the
    operator makes a ServiceGroup for."""
    return [g for g in UPGRADE_ORDER if implemented(g)]


def by_group(group: Group) -> list[ServiceSpec]:
    return [s for s in SERVICES if s.group == group]


def startup_order(specs: list[ServiceSpec] | None = None) -> list[ServiceSpec]:
    """Services ordered so each comes after the services it calls (a topological sort)."""
    chosen = {s.name: s for s in (specs if specs is not None else list(SERVICES))}
    ordered: list[ServiceSpec] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name not in chosen:
            return
        if name in path:
            raise ValueError(f"dependency cycle: {' -> '.join((*path, name))}")
        for dep in chosen[name].depends_on:
            visit(dep, (*path, name))
        done.add(name)
        ordered.append(chosen[name])

    for name in chosen:
        visit(name, ())
    return ordered


def startup_tiers(specs: list[ServiceSpec] | None = None) -> list[list[ServiceSpec]]:
    """The services in tiers: each calls only services of earlier tiers, so the services of one
    tier may start together, and stop together in reverse order."""
    tier_of: dict[str, int] = {}
    for spec in startup_order(specs):
        earlier = [tier_of[d] for d in spec.depends_on if d in tier_of]
        tier_of[spec.name] = 1 + max(earlier, default=-1)
    tiers: list[list[ServiceSpec]] = [[] for _ in range(1 + max(tier_of.values(), default=-1))]
    for spec in startup_order(specs):
        tiers[tier_of[spec.name]].append(spec)
    return tiers


def to_json() -> str:
    return json.dumps([s.as_dict() for s in SERVICES], indent=2)


def to_table() -> str:
    rows = [("NAME", "GROUP", "PORT", "STORES", "DEPENDS ON", "STATUS")]
    for s in SERVICES:
        rows.append(
            (
                s.name,
                str(s.group),
                str(s.port),
                ",".join(str(x) for x in s.stores),
                ",".join(s.depends_on) or "-",
                "implemented" if s.implemented else "planned",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )
