"""Request and response bodies of the auth service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from quckchat.core.values import DisplayName

# E.164: a plus, then 8 to 15 digits, the first not zero.
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{7,14}$")]
OtpDigits = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
# A 6-digit TOTP code or a backup code (xxxxxxxx-xxxxxxxx hex).
SecondFactor = Annotated[str, StringConstraints(pattern=r"^([0-9]{6}|[0-9a-f]{8}-[0-9a-f]{8})$")]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]


class OtpSend(BaseModel):
    phone: Phone


class OtpSent(BaseModel):
    expires_in: int


class OtpVerify(BaseModel):
    phone: Phone
    code: OtpDigits
    display_name: DisplayName | None = Field(
        None, description="the new user's name, when this sign-in creates the account"
    )


class EmailRegister(BaseModel):
    email: EmailStr
    password: Password
    display_name: DisplayName | None = Field(None, description="the name others see")


class PasswordLogin(BaseModel):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenRefresh(BaseModel):
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class Tokens(BaseModel):
    """A signed-in result, or a request for the second factor (then tokens are absent)."""

    token_type: Literal["Bearer"] = "Bearer"
    access_token: str | None = None
    refresh_token: str | None = None
    expires_in: int | None = None
    user_id: str | None = None
    session_id: str | None = None
    mfa_required: bool = False
    mfa_token: str | None = None


class MfaVerify(BaseModel):
    mfa_token: Annotated[str, StringConstraints(min_length=10, max_length=100)]
    code: SecondFactor


class TotpSetup(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCode(BaseModel):
    code: SecondFactor


class BackupCodes(BaseModel):
    backup_codes: list[str]


class SessionPublic(BaseModel):
    id: str
    method: str
    ip: str | None
    user_agent: str | None
    created_at: datetime
    last_used_at: datetime
    current: bool


class Revoked(BaseModel):
    revoked_sessions: int


class Me(BaseModel):
    id: str
    phone: str | None
    email: str | None
    email_verified: bool = Field(description="whether invites to this email can be used")
    totp_enabled: bool
    providers: list[str]
    created_at: datetime


class OAuthStart(BaseModel):
    authorization_url: str
    state: str


class OAuthCallback(BaseModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    state: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Jwks(BaseModel):
    keys: list[dict[str, str]]


class AccountPublic(BaseModel):
    """An account as other services see it (admin, user)."""

    id: str
    phone: str | None
    email: str | None
    email_verified: bool
    status: Literal["active", "suspended"]
    created_at: datetime
    totp_enabled: bool


class AccountPage(BaseModel):
    items: list[AccountPublic]
    next_cursor: str | None


class Suspension(BaseModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        default="suspended by a platform administrator"
    )


class Stats(BaseModel):
    users: int
    active_users: int
    suspended_users: int
    active_sessions: int


class KeyRotated(BaseModel):
    kid: str
