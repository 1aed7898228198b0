"""The signing key ring: Ed25519 keys with a `kid`, rotated without logging anyone out.

The newest unretired key signs. A rotated-out key stays in the JWKS until every access
token it signed has expired, so verifiers accept old and new tokens through the change.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.auth.models import SigningKey
from quckchat.core.sql import utcnow
from quckchat.core.tokens import ALGORITHM

# Keys stay published this much longer than the access token lifetime, for clock skew.
PUBLISH_MARGIN = timedelta(minutes=5)


def _new_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    kid = secrets.token_hex(8)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig", alg=ALGORITHM)
    return SigningKey(kid=kid, private_pem=pem, public_jwk=jwk, created_at=utcnow())


async def active_key(session: AsyncSession) -> SigningKey:
    """The key that signs now, created on first use."""
    key = (
        await session.execute(
            select(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .order_by(SigningKey.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if key is None:
        key = _new_key()
        session.add(key)
        await session.flush()
    return key


async def rotate(session: AsyncSession) -> SigningKey:
    """Retire every signing key and start signing with a fresh one."""
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=utcnow())
    )
    key = _new_key()
    session.add(key)
    await session.flush()
    return key


async def jwks(session: AsyncSession, *, access_ttl_seconds: int) -> dict[str, Any]:
    """The public keys verifiers need: the signing ones and those whose tokens may still live."""
    cutoff = utcnow() - timedelta(seconds=access_ttl_seconds) - PUBLISH_MARGIN
    rows = (
        await session.execute(
            select(SigningKey).where(
                or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > cutoff)
            )
        )
    ).scalars()
    return {"keys": [dict(row.public_jwk) for row in rows]}


_LOADED: dict[str, Ed25519PrivateKey] = {}


def private_key(key: SigningKey) -> Ed25519PrivateKey:
    """The key's private half, parsed once per process (parsing PEM on every sign is slow)."""
    loaded = _LOADED.get(key.kid)
    if loaded is None:
        parsed = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
        if not isinstance(parsed, Ed25519PrivateKey):
            raise ValueError(f"signing key {key.kid} is not an Ed25519 key")
        loaded = _LOADED[key.kid] = parsed
    return loaded
