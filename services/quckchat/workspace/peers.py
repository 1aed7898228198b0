"""Calls to the services a workspace relies on: permission (roles), channel (defaults), auth."""

from __future__ import annotations

from typing import Any

from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime

DEFAULT_CHANNELS = (("general", True), ("random", False))


async def assign_role(
    runtime: Runtime, *, workspace_id: str, user_id: str, role: str, actor: str | None
) -> None:
    """Give (or change) the user's workspace role; the permission service keeps the last owner."""
    body: dict[str, Any] = {"user_id": user_id, "role": role, "tenant": workspace_id}
    if actor is not None:
        body["actor"] = actor
    # The same assignment again changes nothing, so a retry is harmless.
    await runtime.http.json("permission", "PUT", "/internal/roles", json=body, idempotent=True)


async def revoke_role(
    runtime: Runtime, *, workspace_id: str, user_id: str, actor: str | None, strict: bool = True
) -> None:
    """End the user's workspace role (and with it their channel roles); gone already is fine.

    Not strict: a refusal (the permission service keeps a last owner) is accepted too.
    """
    params = {"user_id": user_id, "tenant": workspace_id}
    if actor is not None:
        params["actor"] = actor
    response = await runtime.http.request("permission", "DELETE", "/internal/roles", params=params)
    if response.status_code == 404 or (not strict and response.status_code == 409):
        return
    raise_for_problem("permission", response)


async def create_default_channels(
    runtime: Runtime, *, workspace_id: str, tenant: str, owner: str
) -> None:
    """#general (everyone joins it) and #random; the channel service opens each name once."""
    for name, default in DEFAULT_CHANNELS:
        await runtime.http.json(
            "channel",
            "POST",
            "/internal/channels",
            json={
                "workspace_id": workspace_id,
                "name": name,
                "kind": "public",
                "created_by": owner,
                "default": default,
                "tenant": tenant,
            },
            idempotent=True,
        )


async def join_default_channels(runtime: Runtime, *, workspace_id: str, user_id: str) -> None:
    await runtime.http.json(
        "channel",
        "POST",
        f"/internal/workspaces/{workspace_id}/default-members",
        json={"user_id": user_id},
        idempotent=True,
    )


async def channels_of(runtime: Runtime, *, workspace_id: str) -> list[dict[str, Any]]:
    channels: list[dict[str, Any]] = await runtime.http.json(
        "channel", "GET", f"/internal/workspaces/{workspace_id}/channels"
    )
    return channels


async def find_account(runtime: Runtime, *, email: str | None, phone: str | None) -> str | None:
    """The id of the auth account verified at exactly this email or phone, else None.

    A merely claimed email (a password sign-up) does not count: whoever typed it first would
    otherwise be handed the workspace.
    """
    wanted = (email or phone or "").lower()
    field = "email" if email is not None else "phone"
    page = await runtime.http.json(
        "auth", "GET", "/internal/users", params={"query": wanted, "limit": 200}
    )
    for account in page["items"]:
        verified = field == "phone" or account.get("email_verified") is True
        if verified and str(account.get(field) or "").lower() == wanted:
            return str(account["id"])
    return None
