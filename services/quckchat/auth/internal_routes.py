"""The auth service's internal API, for the admin and user services and the operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from quckchat.auth import accounts, keys, sessions
from quckchat.auth.models import Account
from quckchat.auth.schemas import AccountPage, AccountPublic, KeyRotated, Revoked, Stats, Suspension
from quckchat.core.deps import InternalCaller, RuntimeDep, SessionDep
from quckchat.core.pagination import Paging

router = APIRouter(prefix="/internal", tags=["internal"])


def _public(account: Account) -> AccountPublic:
    return AccountPublic(
        id=account.id,
        phone=account.phone,
        email=account.email,
        email_verified=account.email_verified,
        status="suspended" if account.status == "suspended" else "active",
        created_at=account.created_at,
        totp_enabled=account.totp_enabled,
    )


@router.get("/users", response_model=AccountPage)
async def find_users(
    _: InternalCaller,
    db: SessionDep,
    paging: Paging,
    query: Annotated[str | None, Query(max_length=254)] = None,
) -> AccountPage:
    rows, next_cursor = await accounts.search(db, query=query, paging=paging)
    return AccountPage(items=[_public(a) for a in rows], next_cursor=next_cursor)


@router.get("/users/{user_id}", response_model=AccountPublic)
async def get_user(user_id: str, _: InternalCaller, db: SessionDep) -> AccountPublic:
    return _public(await accounts.get(db, user_id))


@router.post("/users/{user_id}/suspend", response_model=AccountPublic)
async def suspend(
    user_id: str, body: Suspension, _: InternalCaller, runtime: RuntimeDep, db: SessionDep
) -> AccountPublic:
    account = await accounts.set_status(
        runtime, db, account_id=user_id, suspended=True, reason=body.reason
    )
    return _public(account)


@router.post("/users/{user_id}/reactivate", response_model=AccountPublic)
async def reactivate(
    user_id: str, _: InternalCaller, runtime: RuntimeDep, db: SessionDep
) -> AccountPublic:
    account = await accounts.set_status(
        runtime, db, account_id=user_id, suspended=False, reason=None
    )
    return _public(account)


@router.post("/users/{user_id}/logout", response_model=Revoked)
async def force_logout(
    user_id: str, _: InternalCaller, runtime: RuntimeDep, db: SessionDep
) -> Revoked:
    await accounts.get(db, user_id)
    count = await sessions.revoke_all(runtime, db, account_id=user_id, reason="forced-logout")
    return Revoked(revoked_sessions=count)


@router.get("/stats", response_model=Stats)
async def stats(_: InternalCaller, db: SessionDep) -> Stats:
    return Stats(**await accounts.stats(db))


@router.post("/keys/rotate", response_model=KeyRotated)
async def rotate_key(_: InternalCaller, db: SessionDep) -> KeyRotated:
    """Start signing with a new key; tokens signed by the old one stay valid until they expire."""
    return KeyRotated(kid=(await keys.rotate(db)).kid)
