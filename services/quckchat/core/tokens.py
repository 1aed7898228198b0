"""Verifying the platform's access tokens locally, against the auth service's JWKS.

Keys are cached and refetched when a token names an unknown `kid` (at most once a second),
so a key rotation at the auth service is picked up without a restart. Revocations (a session
logged out, a user suspended) are read from Redis, where the auth service writes them.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from redis.asyncio import Redis

from quckchat.core.errors import unauthorized

ALGORITHM = "EdDSA"
JwksSource = Callable[[], Awaitable[dict[str, Any]]]


def revoked_session_key(session_id: str) -> str:
    return f"qc:revoked:session:{session_id}"


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for. The tenant comes from the token, never from the client."""

    user_id: str
    session_id: str
    tenant: str
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def verified_phone(self) -> str | None:
        """The phone number the auth service verified for this user, if any."""
        return self._verified_claim("phone_number")

    @property
    def verified_email(self) -> str | None:
        """The email address verified for this user (lower case), if any."""
        email = self._verified_claim("email")
        return email.lower() if email is not None else None

    def _verified_claim(self, name: str) -> str | None:
        value = self.claims.get(name)
        if isinstance(value, str) and self.claims.get(f"{name}_verified") is True:
            return value
        return None


class TokenVerifier:
    def __init__(
        self,
        source: JwksSource,
        *,
        issuer: str,
        audience: str,
        cache: Redis | None,
        refetch_interval: float = 1.0,
        remember: int = 10_000,
    ) -> None:
        self.source = source
        self.issuer = issuer
        self.audience = audience
        self.cache = cache
        self.refetch_interval = refetch_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        # Tokens already verified, until they expire: a signature check costs ~0.1 ms and
        # a client sends the same token many times. Revocation is still checked every time.
        self.remember = remember
        self._verified: OrderedDict[str, Principal] = OrderedDict()

    async def _key(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if (
                kid not in self._keys
                and time.monotonic() - self._fetched_at >= self.refetch_interval
            ):
                await self.refresh()
        key = self._keys.get(kid)
        if key is None:
            raise unauthorized("the token was signed with an unknown key")
        return key

    async def refresh(self) -> None:
        try:
            document = await self.source()
        except Exception as exc:
            raise unauthorized("token keys are unavailable right now; try again") from exc
        keys = {}
        for jwk in document.get("keys", []):
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except (KeyError, jwt.PyJWKError):
                continue
        self._keys = keys
        self._fetched_at = time.monotonic()

    def decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise unauthorized(f"the access token is not valid: {exc}") from exc

    async def verify(self, token: str) -> Principal:
        """The principal of a valid, unrevoked access token; 401 problem otherwise."""
        principal = self._verified.get(token)
        if principal is None or principal.claims["exp"] <= time.time():
            principal = await self._verify_signed(token)
            if self.remember:
                if len(self._verified) >= self.remember:
                    self._verified.popitem(last=False)
                self._verified[token] = principal
        # A logged-out or suspended session is refused at once, not when its token expires.
        if self.cache is not None and await self.cache.exists(
            revoked_session_key(principal.session_id)
        ):
            raise unauthorized("the session of this token has ended; sign in again")
        return principal

    async def _verify_signed(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise unauthorized("the access token is malformed") from exc
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") != ALGORITHM:
            raise unauthorized("the access token has no usable key id")
        claims = self.decode(token, await self._key(kid))
        if claims.get("typ") != "access":
            raise unauthorized("this is not an access token")
        return Principal(
            user_id=str(claims["sub"]),
            session_id=str(claims.get("sid", "")),
            tenant=str(claims.get("tid", "")),
            claims=claims,
        )


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()
