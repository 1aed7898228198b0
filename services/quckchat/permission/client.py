"""What other services ask the permission service: give and end roles (a workspace's, or a
channel's under it), and the names they ask in. The only module outside the permission service
that calls it (route guards ask through `core.authz`)."""

from __future__ import annotations

from typing import Any

from quckchat.core.http import ServiceClient, raise_for_problem
from quckchat.permission.policy import channel_object
from quckchat.permission.schemas import UserId

__all__ = ["UserId", "assign_role", "channel_object", "revoke_role"]
SERVICE = "permission"


async def assign_role(
    http: ServiceClient,
    *,
    tenant: str,
    user_id: str,
    role: str,
    actor: str | None,
    channel_id: str | None = None,
) -> None:
    """Give (or change) the user's role in the workspace `tenant`, or in one of its channels;
    the permission service keeps the last owner."""
    body: dict[str, Any] = {"user_id": user_id, "role": role, "tenant": tenant}
    if channel_id is not None:
        body["channel_id"] = channel_id
    if actor is not None:
        body["actor"] = actor
    # The same assignment again changes nothing, so a retry is harmless.
    await http.json(SERVICE, "PUT", "/internal/roles", json=body, idempotent=True)


async def revoke_role(
    http: ServiceClient,
    *,
    tenant: str,
    user_id: str,
    actor: str | None,
    channel_id: str | None = None,
    strict: bool = True,
) -> None:
    """End the user's role (a workspace role takes their channel roles with it); one gone
    already is fine. Not strict: a refusal (the last owner is kept) is accepted too."""
    params = {"user_id": user_id, "tenant": tenant}
    if channel_id is not None:
        params["channel_id"] = channel_id
    if actor is not None:
        params["actor"] = actor
    response = await http.request(SERVICE, "DELETE", "/internal/roles", params=params)
    if response.status_code == 404 or (not strict and response.status_code == 409):
        return
    raise_for_problem(SERVICE, response)
