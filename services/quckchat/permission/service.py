"""The permission service: RBAC per workspace and channel, answered from each replica's memory."""

from __future__ import annotations

from quckchat.core.runtime import Runtime
from quckchat.core.service import Service
from quckchat.permission import decisions, logic
from quckchat.permission.routes import internal_router, router


async def start(runtime: Runtime) -> None:
    """Seed the default policy, then load every rule into this replica's enforcer."""
    assert runtime.db is not None
    seeded = await logic.seed_defaults(runtime.db)
    runtime.state[decisions.STATE_KEY] = decisions.Decisions(runtime.db)
    if seeded:
        await decisions.changed(runtime)
    else:
        await decisions.get(runtime).reload()


service = Service(
    routers=[router, internal_router],
    on_startup=[start],
    background=[decisions.follow_changes],
)
