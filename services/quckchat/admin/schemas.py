"""What the admin API reads and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints


class UserSearch(BaseModel):
    query: str | None = Field(None, max_length=254, description="part of a phone, email or id")
    cursor: str | None = Field(None, max_length=512)
    limit: int = Field(20, ge=1, le=100)


class AdminUser(BaseModel):
    """An account as auth keeps it, with the display name of its profile when there is one."""

    id: str
    phone: str | None = None
    email: str | None = None
    status: Literal["active", "suspended"]
    created_at: datetime
    totp_enabled: bool = False
    display_name: str | None = None


class AdminUserPage(BaseModel):
    items: list[AdminUser]
    next_cursor: str | None = None


class SuspendRequest(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class LogoutResult(BaseModel):
    revoked_sessions: int


class PlatformStats(BaseModel):
    users: int
    active_users: int
    suspended_users: int
    active_sessions: int
    profiles: int
    devices: int
