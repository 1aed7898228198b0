"""Argon2id for passwords, and a cheaper Argon2id for short-lived or single-use codes."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PASSWORDS = PasswordHasher()
# Codes live minutes (OTP) or are single-use behind a password (backup codes), and are
# checked at most a few times each, so a lighter cost keeps sign-in fast.
CODES = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def verify(hasher: PasswordHasher, hashed: str, secret: str) -> bool:
    try:
        return hasher.verify(hashed, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_secret(hasher: PasswordHasher, secret: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await asyncio.to_thread(hasher.hash, secret)


async def check_secret(hasher: PasswordHasher, hashed: str, secret: str) -> bool:
    return await asyncio.to_thread(verify, hasher, hashed, secret)
