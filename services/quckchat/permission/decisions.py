"""Decisions from memory: each replica holds an enforcer and a decision cache.

Every policy change is written to SQL first, then announced on the Redis channel
`qc:permission:changed`; every replica (this one included, at once) reloads the rules from
SQL and drops its cached decisions. A replica also reloads when it (re)subscribes and every
`RESYNC_SECONDS`, so an announcement lost while Redis was unreachable heals by itself.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy import select

from quckchat.core import logging as qlog
from quckchat.core.runtime import Runtime
from quckchat.core.sql import Database
from quckchat.permission.models import PolicyRule
from quckchat.permission.policy import build_enforcer

log = qlog.get("permission")

CHANGED_CHANNEL = "qc:permission:changed"
STATE_KEY = "permission.decisions"
MAX_CACHED_DECISIONS = 65_536
# casbin keeps a role manager per domain asked about; bounded so unknown channels cannot pile up.
MAX_DOMAIN_MANAGERS = 16_384
RESYNC_SECONDS = 30.0
RETRY_SECONDS = 1.0

DecisionKey = tuple[str, str, str, str]


class Decisions:
    """The replica's enforcer over the SQL rules, and the decisions it already made."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Announcements carry the sender's id so a replica skips the reload it already did.
        self.instance = uuid.uuid4().hex
        self.enforcer: Any = build_enforcer([])
        self.cache: dict[DecisionKey, bool] = {}
        self.max_cached_decisions = MAX_CACHED_DECISIONS
        self.max_domain_managers = MAX_DOMAIN_MANAGERS
        self.loaded_at = 0.0
        self._lock = asyncio.Lock()
        self._requested = 0
        self._covered = 0

    def allowed(self, *, subject: str, tenant: str, obj: str, action: str) -> bool:
        """Synchronous on purpose: no await between reading the enforcer and caching."""
        key = (subject, tenant, obj, action)
        decision = self.cache.get(key)
        if decision is None:
            decision = bool(self.enforcer.enforce(subject, tenant, obj, action))
            if len(self.cache) >= self.max_cached_decisions:
                self.cache.clear()
            self.cache[key] = decision
            managers = self.enforcer.get_role_manager().rm_map
            if len(managers) > self.max_domain_managers:
                managers.clear()
        return decision

    async def reload(self) -> None:
        """Read every rule and swap in a new enforcer; concurrent calls share one read."""
        self._requested += 1
        wanted = self._requested
        async with self._lock:
            if self._covered >= wanted:
                return
            covers = self._requested
            async with self.db.session() as session:
                rows = (await session.scalars(select(PolicyRule))).all()
            enforcer = build_enforcer([row.values() for row in rows])
            self.enforcer, self.cache = enforcer, {}
            self._covered = covers
            self.loaded_at = time.monotonic()


def get(runtime: Runtime) -> Decisions:
    decisions: Decisions = runtime.state[STATE_KEY]
    return decisions


async def changed(runtime: Runtime) -> None:
    """After a committed change: reload here, then tell the other replicas."""
    decisions = get(runtime)
    await decisions.reload()
    try:
        await runtime.cache.publish(CHANGED_CHANNEL, decisions.instance)
    except Exception:
        log.warning("policy change not announced; replicas catch up on resync", exc_info=True)


async def follow_changes(runtime: Runtime) -> None:
    """Background loop: reload on every announcement from another replica, and on resync."""
    decisions = get(runtime)
    # Checking `stopping` too: a read timeout racing the cancellation can swallow it.
    while not runtime.stopping:
        try:
            async with runtime.cache.pubsub() as pubsub:
                await pubsub.subscribe(CHANGED_CHANNEL)
                # Changes made while this replica was not subscribed were never heard.
                await decisions.reload()
                await _listen(runtime, pubsub, decisions)
        except Exception:
            log.warning("policy change feed lost; resubscribing", exc_info=True)
            await asyncio.sleep(RETRY_SECONDS)


async def _listen(runtime: Runtime, pubsub: Any, decisions: Decisions) -> None:
    while not runtime.stopping:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        stale = time.monotonic() - decisions.loaded_at >= RESYNC_SECONDS
        if message is not None:
            # A burst of announcements costs one reload.
            foreign = message["data"] != decisions.instance
            while (message := await pubsub.get_message(ignore_subscribe_messages=True)) is not None:
                foreign = foreign or message["data"] != decisions.instance
            stale = stale or foreign
        if stale:
            await decisions.reload()
