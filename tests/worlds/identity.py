"""Who acts in a test: fresh users and phones, their tokens, sign-ups as auth announces them."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from quckchat.auth.events import UserRegistered
from quckchat.core.events import Event
from quckchat.core.sql import new_id


def new_user() -> str:
    """The id of a user no other test knows."""
    return new_id()


def phone_number() -> str:
    """A phone number no other test uses."""
    return "+1555" + str(uuid.uuid4().int)[:7]


def phone_hash(phone: str) -> str:
    """The phone's hash, as auth announces it and the user service keeps it."""
    return hashlib.sha256(phone.encode()).hexdigest()


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    """The header that presents a sign-in's access token."""
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def registered(
    user: str,
    *,
    phone: str | None = None,
    tenant: str | None = None,
    display_name: str | None = None,
) -> Event:
    """A sign-up as the auth service announces it (by phone when one is given)."""
    event = UserRegistered(
        actor=user,
        user_id=user,
        method="otp" if phone else "password",
        phone_hash=phone_hash(phone) if phone else None,
        display_name=display_name,
    )
    return Event.of(event, source="auth", tenant=tenant)
