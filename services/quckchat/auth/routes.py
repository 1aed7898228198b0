"""The auth service's public API (under /api/v1/auth at the gateway)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.auth import accounts, keys, otp, sessions, twofactor
from quckchat.auth.events import TwoFactorDisabled, TwoFactorEnabled
from quckchat.auth.models import Account, ExternalIdentity, Session
from quckchat.auth.oidc import OidcClient
from quckchat.auth.schemas import (
    BackupCodes,
    EmailRegister,
    Jwks,
    Me,
    MfaVerify,
    OAuthCallback,
    OAuthStart,
    OtpSend,
    OtpSent,
    OtpVerify,
    PasswordLogin,
    Revoked,
    SessionPublic,
    TokenRefresh,
    Tokens,
    TotpCode,
    TotpSetup,
)
from quckchat.core.deps import CurrentUser, OptionalUser, RuntimeDep, SessionDep, client_ip
from quckchat.core.errors import Problem, not_found
from quckchat.core.runtime import Runtime
from quckchat.core.sms import SmsProvider

router = APIRouter(tags=["auth"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in, or the credentials are wrong"},
    422: {"description": "The request is not valid"},
    429: {"description": "Too many attempts"},
}


def _client(request: Request) -> sessions.ClientInfo:
    return sessions.ClientInfo(client_ip(request), request.headers.get("user-agent"))


def _tokens(pair: sessions.TokenPair) -> Tokens:
    return Tokens(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user_id=pair.user_id,
        session_id=pair.session_id,
    )


async def _signed_in(
    runtime: Runtime, db: AsyncSession, account: Account, method: str, request: Request
) -> Tokens:
    """First factor done: finish the sign-in, or ask for the second factor when 2FA is on."""
    if account.status != "active":
        raise Problem(403, "this account is suspended", slug="account-suspended")
    if account.totp_enabled:
        token = await twofactor.open_challenge(runtime, account_id=account.id, method=method)
        return Tokens(mfa_required=True, mfa_token=token)
    return _tokens(
        await sessions.start(runtime, db, account=account, method=method, client=_client(request))
    )


@router.post(
    "/otp/send", status_code=status.HTTP_202_ACCEPTED, response_model=OtpSent, responses=PROBLEMS
)
async def send_otp(body: OtpSend, request: Request, runtime: RuntimeDep, db: SessionDep) -> OtpSent:
    sms: SmsProvider = runtime.state["sms"]
    expires = await otp.send(runtime, db, sms, phone=body.phone, ip=client_ip(request))
    return OtpSent(expires_in=expires)


@router.post("/otp/verify", response_model=Tokens, responses=PROBLEMS)
async def verify_otp(
    body: OtpVerify, request: Request, runtime: RuntimeDep, db: SessionDep
) -> Tokens:
    await otp.verify(runtime, phone=body.phone, code=body.code)
    account = await accounts.by_phone(runtime, db, body.phone, display_name=body.display_name)
    return await _signed_in(runtime, db, account, "otp", request)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=Tokens,
    responses={**PROBLEMS, 409: {"description": "The email is taken"}},
)
async def register(
    body: EmailRegister, request: Request, runtime: RuntimeDep, db: SessionDep
) -> Tokens:
    account = await accounts.register_email(
        runtime, db, email=body.email, password=body.password, display_name=body.display_name
    )
    return await _signed_in(runtime, db, account, "password", request)


@router.post("/login", response_model=Tokens, responses=PROBLEMS)
async def login(
    body: PasswordLogin, request: Request, runtime: RuntimeDep, db: SessionDep
) -> Tokens:
    account = await accounts.by_password(runtime, db, email=body.email, password=body.password)
    return await _signed_in(runtime, db, account, "password", request)


@router.post("/token/refresh", response_model=Tokens, responses=PROBLEMS)
async def refresh(body: TokenRefresh, runtime: RuntimeDep) -> Tokens:
    return _tokens(await sessions.rotate(runtime, refresh_token=body.refresh_token))


@router.post("/2fa/verify", response_model=Tokens, responses=PROBLEMS)
async def verify_second_factor(
    body: MfaVerify, request: Request, runtime: RuntimeDep, db: SessionDep
) -> Tokens:
    account_id, method = await twofactor.read_challenge(runtime, body.mfa_token)
    account = await accounts.get(db, account_id)
    if not await twofactor.check(db, account, body.code):
        raise Problem(401, "the code is not valid", slug="2fa-invalid-code")
    await twofactor.close_challenge(runtime, body.mfa_token)
    return _tokens(
        await sessions.start(
            runtime, db, account=account, method=f"{method}+totp", client=_client(request)
        )
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def logout(user: CurrentUser, runtime: RuntimeDep, db: SessionDep) -> Response:
    sess = await db.get(Session, user.session_id)
    if sess is not None:
        await sessions.revoke(runtime, db, sess, reason="logout")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sessions", response_model=list[SessionPublic], responses=PROBLEMS)
async def list_sessions(user: CurrentUser, db: SessionDep) -> list[SessionPublic]:
    return [
        SessionPublic(
            id=s.id,
            method=s.method,
            ip=s.ip,
            user_agent=s.user_agent,
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            current=s.id == user.session_id,
        )
        for s in await sessions.active(db, user.user_id)
    ]


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**PROBLEMS, 404: {"description": "No such session"}},
)
async def revoke_session(
    session_id: str, user: CurrentUser, runtime: RuntimeDep, db: SessionDep
) -> Response:
    sess = await db.get(Session, session_id)
    if sess is None or sess.account_id != user.user_id:
        raise not_found(f"session {session_id}")
    await sessions.revoke(runtime, db, sess, reason="revoked-by-user")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/sessions", response_model=Revoked, responses=PROBLEMS)
async def revoke_all_sessions(
    user: CurrentUser,
    runtime: RuntimeDep,
    db: SessionDep,
    keep_current: Annotated[bool, Query(description="keep this device signed in")] = False,
) -> Revoked:
    count = await sessions.revoke_all(
        runtime,
        db,
        account_id=user.user_id,
        reason="revoke-all",
        keep=user.session_id if keep_current else None,
    )
    return Revoked(revoked_sessions=count)


@router.get("/me", response_model=Me, responses=PROBLEMS)
async def me(user: CurrentUser, db: SessionDep) -> Me:
    account = await accounts.get(db, user.user_id)
    providers = (
        await db.execute(
            select(ExternalIdentity.provider).where(ExternalIdentity.account_id == account.id)
        )
    ).scalars()
    return Me(
        id=account.id,
        phone=account.phone,
        email=account.email,
        email_verified=account.email_verified,
        totp_enabled=account.totp_enabled,
        providers=sorted(providers),
        created_at=account.created_at,
    )


@router.post("/2fa/setup", response_model=TotpSetup, responses=PROBLEMS)
async def setup_2fa(user: CurrentUser, db: SessionDep) -> TotpSetup:
    account = await accounts.get(db, user.user_id)
    uri = twofactor.setup(account)
    assert account.totp_secret is not None
    return TotpSetup(secret=account.totp_secret, otpauth_uri=uri)


@router.post("/2fa/enable", response_model=BackupCodes, responses=PROBLEMS)
async def enable_2fa(
    body: TotpCode, user: CurrentUser, runtime: RuntimeDep, db: SessionDep
) -> BackupCodes:
    account = await accounts.get(db, user.user_id)
    codes = await twofactor.enable(db, account, body.code)
    event = TwoFactorEnabled(actor=account.id, user_id=account.id)
    await runtime.emit(event, tenant=None, session=db)
    return BackupCodes(backup_codes=codes)


@router.post("/2fa/disable", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def disable_2fa(
    body: TotpCode, user: CurrentUser, runtime: RuntimeDep, db: SessionDep
) -> Response:
    account = await accounts.get(db, user.user_id)
    await twofactor.disable(db, account, body.code)
    event = TwoFactorDisabled(actor=account.id, user_id=account.id)
    await runtime.emit(event, tenant=None, session=db)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/oauth/{provider}/authorize",
    response_model=OAuthStart,
    responses={404: {"description": "The provider is not configured"}},
)
async def oauth_authorize(provider: str, user: OptionalUser, runtime: RuntimeDep) -> OAuthStart:
    client: OidcClient = runtime.state["oidc"]
    url, state = await client.authorization_url(provider, link_to=user.user_id if user else None)
    return OAuthStart(authorization_url=url, state=state)


@router.post(
    "/oauth/{provider}/callback",
    response_model=Tokens,
    responses={
        **PROBLEMS,
        400: {"description": "The state or code is not valid"},
        404: {"description": "The provider is not configured"},
    },
)
async def oauth_callback(
    provider: str, body: OAuthCallback, request: Request, runtime: RuntimeDep, db: SessionDep
) -> Tokens:
    client: OidcClient = runtime.state["oidc"]
    external, link_to = await client.complete(provider, code=body.code, state=body.state)
    account = await accounts.by_external(runtime, db, external, link_to=link_to)
    return await _signed_in(runtime, db, account, provider, request)


@router.get("/.well-known/jwks.json", response_model=Jwks)
async def jwks(runtime: RuntimeDep, db: SessionDep) -> dict[str, Any]:
    return await keys.jwks(db, access_ttl_seconds=runtime.settings.access_token_ttl_seconds)
