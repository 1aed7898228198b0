"""Calls to the services a workspace relies on: channel (defaults), auth."""

from __future__ import annotations

from typing import Any

from quckchat.core.runtime import Runtime

DEFAULT_CHANNELS = (("general", True), ("random", False))


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
