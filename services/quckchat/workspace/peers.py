"""Who an owner or invitee named by address is: the auth account verified at it."""

from __future__ import annotations

from quckchat.auth import client as auth_client
from quckchat.core.runtime import Runtime


async def find_account(runtime: Runtime, *, email: str | None, phone: str | None) -> str | None:
    """The id of the auth account verified at exactly this email or phone, else None.

    A merely claimed email (a password sign-up) does not count: whoever typed it first would
    otherwise be handed the workspace.
    """
    wanted = (email or phone or "").lower()
    field = "email" if email is not None else "phone"
    page = await auth_client.find_accounts(runtime.http, query=wanted, limit=200)
    for account in page["items"]:
        verified = field == "phone" or account.get("email_verified") is True
        if verified and str(account.get(field) or "").lower() == wanted:
            return str(account["id"])
    return None
