"""Idempotency-Key for POST: the first request runs, retries get its stored response.

A key is claimed by inserting a row (the unique constraint decides races between replicas);
the response is saved on the row when the request completes. A retry that arrives while the
first is still running gets 409, and a key reused with a different body gets 422.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from quckchat.backend_gateway.models import IdempotentRequest
from quckchat.core.errors import Problem
from quckchat.core.sql import Database, is_unique_violation, utcnow

KEEP_FOR = timedelta(hours=24)
# A claim whose request never completed (a crash) may be retried after this long.
STALE_CLAIM = timedelta(minutes=2)
REPLAYED_HEADERS = ("content-type", "location", "retry-after")


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: bytes
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def claim(db: Database, *, owner: str, key: str, fingerprint_: str) -> Stored | None:
    """Claim the key for this request; a stored response means it ran before: replay that."""
    for _ in range(2):
        try:
            async with db.session() as session:
                session.add(
                    IdempotentRequest(
                        owner=owner, key=key, fingerprint=fingerprint_, created_at=utcnow()
                    )
                )
            return None
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
        async with db.session() as session:
            row = (
                await session.execute(
                    select(IdempotentRequest).where(
                        IdempotentRequest.owner == owner, IdempotentRequest.key == key
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                continue
            if row.fingerprint != fingerprint_:
                raise Problem(
                    422,
                    "this Idempotency-Key was used with a different request",
                    slug="idempotency-key-reused",
                )
            if row.status_code is not None:
                body = base64.b64decode(row.body) if row.body else b""
                return Stored(row.status_code, body, dict(row.headers or {}))
            if row.created_at > utcnow() - STALE_CLAIM:
                raise Problem(
                    409,
                    "a request with this Idempotency-Key is still in progress",
                    slug="idempotency-in-progress",
                    headers={"Retry-After": "1"},
                )
            await session.delete(row)
    raise Problem(
        409,
        "the Idempotency-Key could not be claimed; retry",
        slug="idempotency-in-progress",
        headers={"Retry-After": "1"},
    )


async def complete(db: Database, *, owner: str, key: str, stored: Stored) -> None:
    async with db.session() as session:
        await session.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.owner == owner, IdempotentRequest.key == key)
            .values(
                status_code=stored.status_code,
                body=base64.b64encode(stored.body).decode(),
                headers={k: v for k, v in stored.headers.items() if k in REPLAYED_HEADERS},
                completed_at=utcnow(),
            )
        )


async def release(db: Database, *, owner: str, key: str) -> None:
    """Forget a claim whose request failed before reaching a service, so a retry runs it."""
    async with db.session() as session:
        await session.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.owner == owner, IdempotentRequest.key == key
            )
        )


async def purge_expired(db: Database) -> int:
    async with db.session() as session:
        result = await session.execute(
            delete(IdempotentRequest).where(IdempotentRequest.created_at < utcnow() - KEEP_FOR)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]
