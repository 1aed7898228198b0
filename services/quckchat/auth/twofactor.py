"""TOTP two-factor authentication with single-use backup codes."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.auth import hashing
from quckchat.auth.models import Account, BackupCode
from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow

ISSUER = "QuckChat"
BACKUP_CODES = 10
CHALLENGE_TTL_SECONDS = 300
CHALLENGE_MAX_TRIES = 5


def setup(account: Account) -> str:
    """Start (or restart) enrolment with a new secret; returns the otpauth URI for an app."""
    if account.totp_enabled:
        raise Problem(409, "two-factor authentication is already on", slug="2fa-already-enabled")
    account.totp_secret = pyotp.random_base32()
    label = account.email or account.phone or account.id
    return pyotp.TOTP(account.totp_secret).provisioning_uri(name=label, issuer_name=ISSUER)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step a code belongs to, allowing one step of clock drift either way."""
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    for drift in (0, -1, 1):
        moment = now + timedelta(seconds=drift * totp.interval)
        if secrets.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


async def _accept_totp(db: AsyncSession, account: Account, code: str) -> bool:
    if not account.totp_secret:
        return False
    step = _matching_step(account.totp_secret, code)
    if step is None:
        return False
    # A step at or before the last accepted one replays a used code; the conditional
    # update makes two requests racing with one code accept it only once.
    result = await db.execute(
        update(Account)
        .where(Account.id == account.id, Account.totp_last_step < step)
        .values(totp_last_step=step)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def enable(db: AsyncSession, account: Account, code: str) -> list[str]:
    """Turn 2FA on after a valid code from the app; returns the 10 backup codes, shown once."""
    if account.totp_enabled:
        raise Problem(409, "two-factor authentication is already on", slug="2fa-already-enabled")
    if not account.totp_secret:
        raise Problem(409, "start with POST /2fa/setup", slug="2fa-not-set-up")
    if not await _accept_totp(db, account, code):
        raise Problem(422, "the code is not valid for this secret", slug="2fa-invalid-code")
    account.totp_enabled = True
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(BACKUP_CODES)]
    for existing in (
        await db.execute(select(BackupCode).where(BackupCode.account_id == account.id))
    ).scalars():
        await db.delete(existing)
    for code_ in codes:
        db.add(
            BackupCode(
                account_id=account.id, code_hash=await hashing.hash_secret(hashing.CODES, code_)
            )
        )
    await db.flush()
    return codes


async def check(db: AsyncSession, account: Account, code: str) -> bool:
    """Accept a fresh TOTP code or an unused backup code (which is then spent)."""
    if await _accept_totp(db, account, code):
        return True
    if len(code) != 17:
        return False
    unused = (
        await db.execute(
            select(BackupCode).where(
                BackupCode.account_id == account.id, BackupCode.used_at.is_(None)
            )
        )
    ).scalars()
    for backup in unused:
        if await hashing.check_secret(hashing.CODES, backup.code_hash, code):
            backup.used_at = utcnow()
            return True
    return False


async def disable(db: AsyncSession, account: Account, code: str) -> None:
    if not account.totp_enabled:
        raise Problem(409, "two-factor authentication is not on", slug="2fa-not-enabled")
    if not await check(db, account, code):
        raise Problem(422, "the code is not valid", slug="2fa-invalid-code")
    account.totp_enabled = False
    account.totp_secret = None
    for backup in (
        await db.execute(select(BackupCode).where(BackupCode.account_id == account.id))
    ).scalars():
        await db.delete(backup)


async def open_challenge(runtime: Runtime, *, account_id: str, method: str) -> str:
    """After the first factor: a short-lived token that the second factor must come with."""
    token = "mfa_" + secrets.token_urlsafe(24)
    await runtime.cache.set(
        f"qc:mfa:{token}",
        json.dumps({"account_id": account_id, "method": method}),
        ex=CHALLENGE_TTL_SECONDS,
    )
    return token


async def read_challenge(runtime: Runtime, token: str) -> tuple[str, str]:
    raw = await runtime.cache.get(f"qc:mfa:{token}")
    if raw is None:
        raise Problem(
            401, "the sign-in challenge has expired; sign in again", slug="mfa-challenge-expired"
        )
    tries = await runtime.cache.incr(f"qc:mfa-tries:{token}")
    await runtime.cache.expire(f"qc:mfa-tries:{token}", CHALLENGE_TTL_SECONDS)
    if tries > CHALLENGE_MAX_TRIES:
        await runtime.cache.delete(f"qc:mfa:{token}")
        raise Problem(429, "too many wrong codes; sign in again", slug="mfa-attempts-exceeded")
    data = json.loads(raw)
    return str(data["account_id"]), str(data["method"])


async def close_challenge(runtime: Runtime, token: str) -> None:
    await runtime.cache.delete(f"qc:mfa:{token}", f"qc:mfa-tries:{token}")
