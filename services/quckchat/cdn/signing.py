"""Signatures on the cdn's URLs: HMAC-SHA256 over what the URL names, under one key every
replica shares. The key is the setting when one is given; else it is made once and kept in the
cdn's store, where the first replica to start puts it and the others read it."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
import time

from pymongo.errors import DuplicateKeyError

from quckchat.cdn import store
from quckchat.core.runtime import Runtime

KEY = "signing_key"  # runtime.state
SIGNING = "signing"  # the key's document id


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, *parts: str) -> str:
        message = "\n".join(parts).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def valid(self, signature: str, *parts: str) -> bool:
        return hmac.compare_digest(signature.encode(), self.sign(*parts).encode())

    def sign_until(self, expires: int, *parts: str) -> str:
        return self.sign(str(expires), *parts)

    def valid_until(self, signature: str, expires: str, *parts: str) -> bool:
        """A signature made for these parts and this expiry, which has not yet come."""
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return self.valid(signature, expires, *parts)


async def load_key(runtime: Runtime) -> None:
    """At start: the configured key, else the stored one (made by whichever replica is first)."""
    configured = runtime.settings.cdn_signing_key
    if configured:
        runtime.state[KEY] = Signer(configured.encode())
        return
    keys = runtime.document_db[store.KEYS]
    # Another replica may have made it first: then theirs is used.
    with contextlib.suppress(DuplicateKeyError):
        await keys.insert_one({"_id": SIGNING, "key": secrets.token_hex(32)})
    found = await keys.find_one({"_id": SIGNING})
    assert found is not None
    runtime.state[KEY] = Signer(bytes.fromhex(found["key"]))


def signer(runtime: Runtime) -> Signer:
    found: Signer = runtime.state[KEY]
    return found


def digest(text: str) -> str:
    """A stored stand-in for a secret or a long value: its SHA-256, hex."""
    return hashlib.sha256(text.encode()).hexdigest()
