"""Sessions and the tokens that carry them: issue, rotate, detect reuse, revoke."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.auth import keys
from quckchat.auth.events import LoginSucceeded, SessionReuseDetected, SessionRevoked
from quckchat.auth.models import Account, RefreshToken, Session
from quckchat.core.errors import Problem, unauthorized
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.core.tokens import ALGORITHM, revoked_session_key


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str
    user_id: str


def _hash(token: str) -> str:
    # Refresh tokens carry 256 random bits, so a fast hash is enough to make a leaked table useless.
    return hashlib.sha256(token.encode()).hexdigest()


def contact_claims(account: Account) -> dict[str, object]:
    """The account's verified addresses (OIDC claim names): what invites are bound to."""
    claims: dict[str, object] = {}
    # A phone is stored only once its one-time code was entered.
    if account.phone:
        claims |= {"phone_number": account.phone, "phone_number_verified": True}
    if account.email and account.email_verified:
        claims |= {"email": account.email, "email_verified": True}
    return claims


async def _mint(runtime: Runtime, db: AsyncSession, sess: Session, amr: str) -> TokenPair:
    settings = runtime.settings
    key = await keys.active_key(db)
    account = await db.get(Account, sess.account_id)
    assert account is not None
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": sess.account_id,
        "sid": sess.id,
        "tid": settings.default_tenant,
        "iat": now,
        "exp": now + settings.access_token_ttl_seconds,
        "jti": secrets.token_hex(8),
        "typ": "access",
        "amr": [amr],
        **contact_claims(account),
    }
    access = jwt.encode(
        claims, keys.private_key(key), algorithm=ALGORITHM, headers={"kid": key.kid}
    )
    refresh = "rt_" + secrets.token_urlsafe(32)
    db.add(RefreshToken(session_id=sess.id, token_hash=_hash(refresh)))
    await db.flush()
    return TokenPair(access, refresh, settings.access_token_ttl_seconds, sess.id, sess.account_id)


async def start(
    runtime: Runtime, db: AsyncSession, *, account: Account, method: str, client: ClientInfo
) -> TokenPair:
    """Open a session for a fully authenticated account and issue its first token pair."""
    if account.status != "active":
        raise Problem(403, "this account is suspended", slug="account-suspended")
    now = utcnow()
    sess = Session(
        account_id=account.id,
        method=method,
        ip=client.ip,
        user_agent=(client.user_agent or "")[:255] or None,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=runtime.settings.refresh_token_ttl_seconds),
    )
    db.add(sess)
    await db.flush()
    pair = await _mint(runtime, db, sess, method)
    event = LoginSucceeded(
        actor=account.id, user_id=account.id, session_id=sess.id, method=method, ip=client.ip
    )
    await runtime.emit(event, tenant=None, session=db)
    return pair


async def rotate(runtime: Runtime, *, refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair. Presenting a spent one ends its whole session.

    Runs its own transactions, so ending the session on reuse stays done although the
    request itself is refused.
    """
    assert runtime.db is not None
    async with runtime.db.session() as db:
        row = (
            await db.execute(
                select(RefreshToken).where(RefreshToken.token_hash == _hash(refresh_token))
            )
        ).scalar_one_or_none()
        if row is None:
            raise unauthorized("the refresh token is not valid")
        sess = await db.get(Session, row.session_id)
        if sess is None or sess.revoked_at is not None or sess.expires_at <= utcnow():
            raise unauthorized("the session of this refresh token has ended; sign in again")
        # Only one caller can flip spent_at: a concurrent second use counts as reuse.
        spent = await db.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.spent_at.is_(None))
            .values(spent_at=utcnow())
        )
        if spent.rowcount == 1:  # type: ignore[attr-defined]
            account = await db.get(Account, sess.account_id)
            if account is None or account.status != "active":
                raise Problem(403, "this account is suspended", slug="account-suspended")
            sess.last_used_at = utcnow()
            return await _mint(runtime, db, sess, "refresh")
    async with runtime.db.session() as db:
        reused = await db.get(Session, row.session_id)
        assert reused is not None
        await revoke(runtime, db, reused, reason="refresh-token-reuse")
        event = SessionReuseDetected(
            actor=reused.account_id, user_id=reused.account_id, session_id=reused.id
        )
        await runtime.emit(event, tenant=None, session=db)
    raise Problem(
        401,
        "this refresh token was already used; the session has been ended for safety",
        slug="refresh-token-reused",
    )


async def revoke(runtime: Runtime, db: AsyncSession, sess: Session, *, reason: str) -> None:
    """End a session: its refresh tokens stop working and its access tokens are refused at once."""
    if sess.revoked_at is None:
        sess.revoked_at = utcnow()
        sess.revoked_reason = reason
        await db.flush()
    await runtime.cache.set(
        revoked_session_key(sess.id), reason, ex=runtime.settings.access_token_ttl_seconds + 60
    )
    event = SessionRevoked(
        actor=sess.account_id, user_id=sess.account_id, session_id=sess.id, reason=reason
    )
    await runtime.emit(event, tenant=None, session=db)


async def active(db: AsyncSession, account_id: str) -> list[Session]:
    rows = await db.execute(
        select(Session)
        .where(
            Session.account_id == account_id,
            Session.revoked_at.is_(None),
            Session.expires_at > utcnow(),
        )
        .order_by(Session.last_used_at.desc())
    )
    return list(rows.scalars())


async def revoke_all(
    runtime: Runtime, db: AsyncSession, *, account_id: str, reason: str, keep: str | None = None
) -> int:
    sessions = [s for s in await active(db, account_id) if s.id != keep]
    for sess in sessions:
        await revoke(runtime, db, sess, reason=reason)
    return len(sessions)
