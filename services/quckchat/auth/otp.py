"""Phone sign-in with one-time codes: 6 digits, 5 minutes, single use, 5 tries, hashed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.auth import hashing
from quckchat.auth.events import OtpFailed, OtpSent
from quckchat.auth.models import OtpCode
from quckchat.core import ratelimit
from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.core.sms import SmsProvider
from quckchat.core.sql import utcnow

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def phone_hash(phone: str) -> str:
    """How contacts are matched without sharing numbers: SHA-256 of the E.164 form."""
    return hashlib.sha256(phone.encode()).hexdigest()


async def _limit(runtime: Runtime, key: str, limit: int, what: str) -> None:
    verdict = await ratelimit.hit(
        runtime.cache, key, limit=limit, window=runtime.settings.otp_send_window_seconds
    )
    if not verdict.allowed:
        raise Problem(
            429,
            f"too many codes requested for this {what}; try again in {verdict.retry_after} s",
            slug="otp-send-limit",
            headers={"Retry-After": str(verdict.retry_after)},
        )


async def send(
    runtime: Runtime, db: AsyncSession, sms: SmsProvider, *, phone: str, ip: str | None
) -> int:
    """Issue a fresh code for the phone (older ones stop working); returns seconds to expiry."""
    settings = runtime.settings
    await _limit(runtime, f"otp:phone:{phone}", settings.otp_send_limit_per_phone, "phone")
    if ip:
        await _limit(runtime, f"otp:ip:{ip}", settings.otp_send_limit_per_ip, "address")
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    # A new code supersedes the old ones, so at most one code per phone can be guessed at.
    await db.execute(
        update(OtpCode)
        .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    db.add(
        OtpCode(
            phone=phone,
            code_hash=await hashing.hash_secret(hashing.CODES, code),
            expires_at=now + CODE_TTL,
            created_at=now,
        )
    )
    await db.flush()
    await sms.send_code(phone=phone, code=code)
    await runtime.emit(OtpSent(phone_hash=phone_hash(phone), ip=ip), tenant=None, session=db)
    return int(CODE_TTL.total_seconds())


async def verify(runtime: Runtime, *, phone: str, code: str) -> None:
    """Accept the phone's current code once; count and cap wrong tries. Raises on failure.

    Runs its own transactions: a wrong try must stay counted although the request fails.
    """
    assert runtime.db is not None
    now = utcnow()
    async with runtime.db.session() as db:
        row = (
            await db.execute(
                select(OtpCode)
                .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None))
                .order_by(OtpCode.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if row is None or row.expires_at <= now:
            raise Problem(
                401, "no valid code for this phone; request a new one", slug="otp-expired"
            )
        if row.attempts >= MAX_ATTEMPTS:
            raise Problem(
                429, "too many wrong codes; request a new one", slug="otp-attempts-exceeded"
            )
        # Read before the update, which also moves the loaded row's count.
        attempt = row.attempts + 1
        await db.execute(
            update(OtpCode).where(OtpCode.id == row.id).values(attempts=OtpCode.attempts + 1)
        )
        # Checked before the commit, so a wrong try's count and its event commit together.
        valid = await hashing.check_secret(hashing.CODES, row.code_hash, code)
        if not valid:
            failed = OtpFailed(phone_hash=phone_hash(phone), attempt=attempt)
            await runtime.emit(failed, tenant=None, session=db)
    if not valid:
        raise Problem(
            401,
            "the code is not correct",
            slug="otp-invalid",
            attempts_left=max(0, MAX_ATTEMPTS - attempt),
        )
    async with runtime.db.session() as db:
        consumed = await db.execute(
            update(OtpCode)
            .where(OtpCode.id == row.id, OtpCode.consumed_at.is_(None))
            .values(consumed_at=utcnow())
        )
        if consumed.rowcount != 1:  # type: ignore[attr-defined]
            raise Problem(401, "this code was already used", slug="otp-expired")
