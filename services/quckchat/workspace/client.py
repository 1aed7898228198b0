"""What other services call to count a workspace's storage: one function each way.

A file service reserves bytes before it keeps them and releases them once they are gone,
each under an id of its own (lowercase letters, digits and `_.:-`; a file's id serves for
both). The calls are PUTs keyed by that id, so they are retried on a lost answer and a retry
is never counted twice.
"""

from __future__ import annotations

from typing import Any

import httpx

from quckchat.core.errors import Problem
from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime
from quckchat.workspace.schemas import StorageUsage

QUOTA_EXCEEDED = "storage-quota-exceeded"


class StorageQuotaExceeded(Problem):
    """The bytes do not fit; raised from a route it answers the caller with the same 409."""

    def __init__(self, detail: str, *, limit: int, used: int, asked: int) -> None:
        super().__init__(
            409,
            detail,
            slug=QUOTA_EXCEEDED,
            quota="max_storage_bytes",
            limit=limit,
            used=used,
            asked=asked,
        )
        self.limit, self.used, self.asked = limit, used, asked


async def reserve_storage(
    runtime: Runtime, *, workspace_id: str, reservation_id: str, size: int
) -> StorageUsage:
    """Count `size` bytes into the workspace's storage; StorageQuotaExceeded if they do not fit."""
    return await _change(runtime, workspace_id, f"reservations/{reservation_id}", size)


async def release_storage(
    runtime: Runtime, *, workspace_id: str, release_id: str, size: int
) -> StorageUsage:
    """Count `size` bytes out of the workspace's storage (it never goes below 0)."""
    return await _change(runtime, workspace_id, f"releases/{release_id}", size)


async def _change(runtime: Runtime, workspace_id: str, change: str, size: int) -> StorageUsage:
    response = await runtime.http.request(
        "workspace",
        "PUT",
        f"/internal/workspaces/{workspace_id}/storage/{change}",
        json={"bytes": size},
    )
    if response.status_code == 409 and _slug(response) == QUOTA_EXCEEDED:
        body = response.json()
        raise StorageQuotaExceeded(
            str(body["detail"]), limit=body["limit"], used=body["used"], asked=body["asked"]
        )
    raise_for_problem("workspace", response)
    return StorageUsage.model_validate(response.json())


def _slug(response: httpx.Response) -> str | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    return str(body.get("type", "")).rsplit("/", 1)[-1] if isinstance(body, dict) else None
