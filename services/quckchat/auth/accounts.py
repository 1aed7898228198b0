"""Accounts: sign-up by phone, email or an external identity; suspension; lookups."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.auth import hashing, sessions
from quckchat.auth.events import LoginFailed, UserReactivated, UserRegistered, UserSuspended
from quckchat.auth.models import Account, ExternalIdentity, Session
from quckchat.auth.oidc import ExternalUser
from quckchat.auth.otp import phone_hash
from quckchat.core import pagination
from quckchat.core.errors import Problem, not_found
from quckchat.core.runtime import Runtime
from quckchat.core.sql import is_unique_violation, utcnow


async def _registered(
    runtime: Runtime,
    db: AsyncSession,
    account: Account,
    method: str,
    display_name: str | None = None,
) -> None:
    event = UserRegistered(
        actor=account.id,
        user_id=account.id,
        method=method,
        phone_hash=phone_hash(account.phone) if account.phone else None,
        email=account.email,
        display_name=display_name,
    )
    await runtime.emit(event, tenant=None, session=db)


async def _insert(db: AsyncSession, account: Account) -> bool:
    """Insert unless a concurrent request created the same phone or email first."""
    try:
        async with db.begin_nested():
            db.add(account)
    except IntegrityError as exc:
        if is_unique_violation(exc):
            return False
        raise
    return True


async def by_phone(
    runtime: Runtime, db: AsyncSession, phone: str, *, display_name: str | None = None
) -> Account:
    """The account of a verified phone, created on first sign-in (sign-up by OTP), then with
    `display_name` for the user's profile."""
    query = select(Account).where(Account.phone == phone)
    account = (await db.execute(query)).scalar_one_or_none()
    if account is not None:
        return account
    account = Account(phone=phone, created_at=utcnow())
    if not await _insert(db, account):
        return (await db.execute(query)).scalar_one()
    await _registered(runtime, db, account, "otp", display_name)
    return account


async def register_email(
    runtime: Runtime,
    db: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str | None = None,
) -> Account:
    account = Account(
        email=email.lower(),
        password_hash=await hashing.hash_secret(hashing.PASSWORDS, password),
        created_at=utcnow(),
    )
    if not await _insert(db, account):
        raise Problem(409, "an account with this email exists; sign in instead", slug="email-taken")
    await _registered(runtime, db, account, "password", display_name)
    return account


async def by_password(runtime: Runtime, db: AsyncSession, *, email: str, password: str) -> Account:
    account = (
        await db.execute(select(Account).where(Account.email == email.lower()))
    ).scalar_one_or_none()
    valid = (
        account is not None
        and account.password_hash is not None
        and (await hashing.check_secret(hashing.PASSWORDS, account.password_hash, password))
    )
    if account is None or not valid:
        failed = LoginFailed(
            actor=account.id if account else None,
            user_id=account.id if account else None,
            method="password",
            attempted_email=None if account else email.lower(),
        )
        # The request fails and its transaction rolls back: the failure is recorded on its own.
        assert runtime.db is not None
        async with runtime.db.session() as own:
            await runtime.emit(failed, tenant=None, session=own)
        raise Problem(401, "the email or password is not correct", slug="invalid-credentials")
    return account


async def by_external(
    runtime: Runtime, db: AsyncSession, user: ExternalUser, *, link_to: str | None
) -> Account:
    """The account an external identity signs in to: linked before, linked now, or new.

    An existing account is linked only when the caller is signed in to it, or the provider
    vouches for the email (email_verified), so nobody takes over an account by its address.
    """
    linked = (
        await db.execute(
            select(ExternalIdentity).where(
                ExternalIdentity.provider == user.provider, ExternalIdentity.subject == user.subject
            )
        )
    ).scalar_one_or_none()
    if linked is not None:
        account = await db.get(Account, linked.account_id)
        assert account is not None
        return account
    account = await db.get(Account, link_to) if link_to else None
    if account is None and user.email and user.email_verified:
        account = (
            await db.execute(select(Account).where(Account.email == user.email.lower()))
        ).scalar_one_or_none()
    if account is None:
        taken = (
            user.email
            and (
                await db.execute(select(Account.id).where(Account.email == user.email.lower()))
            ).first()
        )
        account = Account(
            email=None if taken or not user.email else user.email.lower(), created_at=utcnow()
        )
        db.add(account)
        await db.flush()
        await _registered(runtime, db, account, user.provider, user.display_name)
    if user.email_verified and user.email and account.email == user.email.lower():
        # The provider vouches for the address this account claims: invites to it now apply.
        account.email_verified = True
    db.add(
        ExternalIdentity(
            account_id=account.id, provider=user.provider, subject=user.subject, email=user.email
        )
    )
    await db.flush()
    return account


async def get(db: AsyncSession, account_id: str) -> Account:
    account = await db.get(Account, account_id)
    if account is None:
        raise not_found(f"user {account_id}")
    return account


async def search(
    db: AsyncSession, *, query: str | None, paging: pagination.PageQuery
) -> tuple[list[Account], str | None]:
    stmt = select(Account)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(Account.id == query, Account.phone.like(f"%{query}%"), Account.email.like(like))
        )
    return await pagination.read_page(
        db,
        stmt,
        Account.created_at,
        Account.id,
        paging=paging,
        parse=pagination.parse_datetime,
    )


async def set_status(
    runtime: Runtime, db: AsyncSession, *, account_id: str, suspended: bool, reason: str | None
) -> Account:
    """Suspend (ending every session at once) or reactivate an account."""
    account = await get(db, account_id)
    account.status = "suspended" if suspended else "active"
    account.suspended_reason = reason if suspended else None
    if suspended:
        await sessions.revoke_all(runtime, db, account_id=account.id, reason="suspended")
    kind = UserSuspended if suspended else UserReactivated
    await runtime.emit(kind(actor=None, user_id=account.id, reason=reason), tenant=None, session=db)
    return account


async def stats(db: AsyncSession) -> dict[str, int]:
    total = (await db.execute(select(func.count()).select_from(Account))).scalar_one()
    suspended = (
        await db.execute(
            select(func.count()).select_from(Account).where(Account.status == "suspended")
        )
    ).scalar_one()
    live = (
        await db.execute(
            select(func.count())
            .select_from(Session)
            .where(Session.revoked_at.is_(None), Session.expires_at > utcnow())
        )
    ).scalar_one()
    return {
        "users": total,
        "active_users": total - suspended,
        "suspended_users": suspended,
        "active_sessions": live,
    }
