"""What other services ask the workspace service: a user's role in a workspace, the workspaces
a user is in, every workspace, and counting a workspace's storage; and what the operator asks of
it for a Workspace resource (provision, update, export and delete by slug). The only module
outside the workspace service that calls it.

A file service reserves bytes before it keeps them and releases them once they are gone,
each under an id of its own (lowercase letters, digits and `_.:-`; a file's id serves for
both). The calls are PUTs keyed by that id, so they are retried on a lost answer and a retry
is never counted twice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from quckchat.core.errors import Problem, not_found
from quckchat.core.http import ServiceClient, raise_for_problem
from quckchat.core.runtime import Runtime
from quckchat.workspace.models import ADMIN, OWNER
from quckchat.workspace.schemas import InvitePreview as InvitePreview  # what callers receive
from quckchat.workspace.schemas import StorageUsage

SERVICE = "workspace"
PROVISIONING = "/internal/workspaces"
QUOTA_EXCEEDED = "storage-quota-exceeded"
BATCH = 200


async def role_of(http: ServiceClient, workspace_id: str, user_id: str) -> str | None:
    """The user's role in the workspace, or None when they are not in it."""
    response = await http.request(
        SERVICE, "GET", f"/internal/workspaces/{workspace_id}/members/{user_id}"
    )
    if response.status_code == 404:
        return None
    raise_for_problem(SERVICE, response)
    return str(response.json()["role"])


ADMINS = frozenset({OWNER, ADMIN})  # the roles that manage a workspace's content


async def is_admin(http: ServiceClient, workspace_id: str, user_id: str) -> bool:
    """Whether the user is an owner or admin of the workspace (False when not in it)."""
    return await role_of(http, workspace_id, user_id) in ADMINS


async def invite_preview(http: ServiceClient, token: str) -> InvitePreview:
    """What an invite leads to (raises the workspace service's 404 or 410 as its Problem)."""
    body = await http.json(SERVICE, "GET", f"/invites/{quote(token, safe='')}")
    return InvitePreview.model_validate(body)


async def member_role(http: ServiceClient, workspace_id: str, user_id: str) -> str:
    """The user's role in the workspace; 404 as if it did not exist when they are not in it."""
    role = await role_of(http, workspace_id, user_id)
    if role is None:
        raise not_found("workspace")
    return role


async def workspaces_of(http: ServiceClient, user_id: str) -> list[str]:
    """The ids of the workspaces the user is a member of, sorted."""
    found = await http.json(SERVICE, "GET", f"/internal/users/{user_id}/workspaces")
    return sorted({w["workspace_id"] for w in found})


async def every_workspace(http: ServiceClient) -> set[str]:
    """The id of every workspace the workspace service keeps, asked a batch at a time."""
    found: set[str] = set()
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": BATCH}
        if after is not None:
            params["after_id"] = after
        body = await http.json(SERVICE, "GET", "/internal/workspaces", params=params)
        found.update(w["id"] for w in body["items"])
        after = body["next_after_id"]
        if after is None:
            return found


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
        SERVICE,
        "PUT",
        f"/internal/workspaces/{workspace_id}/storage/{change}",
        json={"bytes": size},
    )
    if response.status_code == 409 and _slug(response) == QUOTA_EXCEEDED:
        body = response.json()
        raise StorageQuotaExceeded(
            str(body["detail"]), limit=body["limit"], used=body["used"], asked=body["asked"]
        )
    raise_for_problem(SERVICE, response)
    return StorageUsage.model_validate(response.json())


def _slug(response: httpx.Response) -> str | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    return str(body.get("type", "")).rsplit("/", 1)[-1] if isinstance(body, dict) else None


# Provisioning by slug: a repeated request finds what the first one made, so each is retried.
def _by_slug(slug: str) -> str:
    return f"{PROVISIONING}/by-slug/{slug}"


async def _found(
    http: ServiceClient, method: str, path: str, **kwargs: Any
) -> dict[str, Any] | None:
    """The answer's JSON ({} when it has none); None on 404; the service's problem otherwise."""
    response = await http.request(SERVICE, method, path, idempotent=True, **kwargs)
    if response.status_code == 404:
        return None
    raise_for_problem(SERVICE, response)
    found: dict[str, Any] = response.json() if response.content else {}
    return found


async def by_slug(http: ServiceClient, slug: str) -> dict[str, Any] | None:
    """The workspace of that slug, its tenant and owner_ids included; None when there is none."""
    return await _found(http, "GET", _by_slug(slug))


async def provision(http: ServiceClient, request: dict[str, Any]) -> dict[str, Any]:
    """Create the workspace of the request's slug (tenant, name, owner, quotas, settings), or
    complete the one an earlier request made: {"workspace": ..., "owner_invite": ...}, the
    invite present while the owner has not joined. 409 `slug-taken` for another tenant's slug."""
    answer: dict[str, Any] = await http.json(
        SERVICE, "POST", PROVISIONING, json=request, idempotent=True
    )
    return answer


async def update_by_slug(
    http: ServiceClient, slug: str, changes: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply `changes` (name, quotas, settings) to the workspace of that slug; None if none."""
    return await _found(http, "PATCH", _by_slug(slug), json=changes)


async def export_by_slug(http: ServiceClient, slug: str) -> dict[str, Any] | None:
    """The workspace, its members and its channels as one document; None if there is none."""
    return await _found(http, "POST", _by_slug(slug) + "/export")


async def delete_by_slug(http: ServiceClient, slug: str) -> bool:
    """True when this call deleted the workspace, False when it was gone already."""
    return await _found(http, "DELETE", _by_slug(slug)) is not None
