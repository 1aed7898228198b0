"""The events the auth service produces: sign-ups, sign-ins, sessions, second factors, codes.

Each names who acted (`actor`, None when nobody signed in did) and is keyed by the account it is
about; a one-time code's events by the phone's hash, and a failed sign-in to no account by the
address tried. The audit service records them all; the user service follows registrations and
suspensions. A client sees the events of its own account; those about no account, nobody.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from quckchat.core.events import AboutUser, Audience, DomainEvent


class AuthEvent(DomainEvent):
    actor: str | None = None


class AccountEvent(AuthEvent, AboutUser):
    """About one account: keyed by it, and seen by its owner's devices."""


class UserRegistered(AccountEvent):
    """A new account; `method` is how it signed up (otp, password or the identity provider)."""

    type: ClassVar[str] = "auth.user.registered"
    method: str
    phone_hash: str | None = None
    email: str | None = None
    display_name: str | None = None


class UserSuspended(AccountEvent):
    type: ClassVar[str] = "auth.user.suspended"
    reason: str | None = None


class UserReactivated(AccountEvent):
    type: ClassVar[str] = "auth.user.reactivated"
    reason: str | None = None


class LoginSucceeded(AccountEvent):
    type: ClassVar[str] = "auth.login.succeeded"
    session_id: str
    method: str
    ip: str | None = None


class LoginFailed(AuthEvent):
    """A wrong password, or an address no account has (then `user_id` is None)."""

    type: ClassVar[str] = "auth.login.failed"
    user_id: str | None = None
    method: str
    # The address tried: the key when no account has it. Not part of the data, so a consumer
    # reads such a key from the envelope (`Event.key`).
    attempted_email: str | None = Field(default=None, exclude=True)

    @property
    def key(self) -> str:
        return self.user_id or self.attempted_email or ""

    def audience(self) -> Audience | None:
        return None if self.user_id is None else Audience(users=(self.user_id,))


class SessionRevoked(AccountEvent):
    type: ClassVar[str] = "auth.session.revoked"
    session_id: str
    reason: str


class SessionReuseDetected(AccountEvent):
    """A spent refresh token was presented again: its session was ended."""

    type: ClassVar[str] = "auth.session.reuse_detected"
    session_id: str


class TwoFactorEnabled(AccountEvent):
    type: ClassVar[str] = "auth.2fa.enabled"


class TwoFactorDisabled(AccountEvent):
    type: ClassVar[str] = "auth.2fa.disabled"


class OtpEvent(AuthEvent):
    """About a phone's one-time codes, before any account: keyed by the phone's hash."""

    phone_hash: str

    @property
    def key(self) -> str:
        return self.phone_hash


class OtpSent(OtpEvent):
    type: ClassVar[str] = "auth.otp.sent"
    ip: str | None = None


class OtpFailed(OtpEvent):
    """A wrong code; `attempt` counts the tries at the phone's current code."""

    type: ClassVar[str] = "auth.otp.failed"
    attempt: int
