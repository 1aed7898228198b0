"""The workspace service's events: keyed by workspace id, each naming its workspace and actor."""

from __future__ import annotations

from typing import Any

from quckchat.core.runtime import Runtime
from quckchat.workspace.models import Workspace


async def emit(
    runtime: Runtime, type_: str, workspace: Workspace, *, actor: str | None, **data: Any
) -> None:
    await runtime.emit(
        type_,
        key=workspace.id,
        data={"workspace_id": workspace.id, "actor": actor, **data},
        tenant=workspace.tenant,
    )
