"""What other services ask the auth service about accounts: find them, read one (or only its
email), suspend, reactivate, end every session, and the platform's account counts. The only
module outside the auth service that calls it (token keys are read by the framework's
verifier in core)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from quckchat.core.http import ServiceClient, raise_for_problem

SERVICE = "auth"


def _path(user_id: str, action: str = "") -> str:
    return f"/internal/users/{quote(user_id, safe='')}{action}"


async def find_accounts(
    http: ServiceClient, *, query: str | None, limit: int, cursor: str | None = None
) -> dict[str, Any]:
    """A page of accounts whose phone, email or id match `query` (all, without one)."""
    params: dict[str, Any] = {"limit": limit}
    if query:
        params["query"] = query
    if cursor:
        params["cursor"] = cursor
    found: dict[str, Any] = await http.json(SERVICE, "GET", "/internal/users", params=params)
    return found


async def account(http: ServiceClient, user_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await http.json(SERVICE, "GET", _path(user_id))
    return found


async def suspend(http: ServiceClient, user_id: str, *, reason: str) -> dict[str, Any]:
    """Suspend the account; auth ends all its sessions at once."""
    found: dict[str, Any] = await http.json(
        SERVICE, "POST", _path(user_id, "/suspend"), json={"reason": reason}
    )
    return found


async def reactivate(http: ServiceClient, user_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await http.json(SERVICE, "POST", _path(user_id, "/reactivate"))
    return found


async def log_out_everywhere(http: ServiceClient, user_id: str) -> dict[str, Any]:
    """End every session of the account; its access tokens stop working at once."""
    found: dict[str, Any] = await http.json(SERVICE, "POST", _path(user_id, "/logout"))
    return found


async def stats(http: ServiceClient) -> dict[str, Any]:
    found: dict[str, Any] = await http.json(SERVICE, "GET", "/internal/stats")
    return found


async def email_of(http: ServiceClient, user_id: str) -> str | None:
    """The account's email address, None when it has none (or there is no such account)."""
    response = await http.request(SERVICE, "GET", _path(user_id), idempotent=True)
    if response.status_code == 404:
        return None
    raise_for_problem(SERVICE, response)
    email = response.json().get("email")
    return email if isinstance(email, str) and email else None
