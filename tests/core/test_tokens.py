"""`TokenVerifier`: who a token speaks for, every way a token is refused, key rotation."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from redis.asyncio import Redis

from quckchat.core import cache as cache_mod
from quckchat.core import tokens as tokens_mod
from quckchat.core.errors import Problem
from quckchat.core.tokens import Principal, TokenVerifier, bearer_token, revoked_session_key
from tests.support import TestKeys, server


class KeySource:
    """The auth service's JWKS as the verifier sees it: what it serves now, and how often asked."""

    def __init__(self, *keys: TestKeys) -> None:
        self.keys = list(keys)
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {"keys": [k.public_jwk for k in self.keys]}


class Clock:
    """The verifier's monotonic clock, moved by hand so refetch intervals need no sleeping."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(tokens_mod, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


def verifier(source: KeySource, cache: Redis | None = None) -> TokenVerifier:
    return TokenVerifier(
        source, issuer="quckchat", audience="quckchat", cache=cache, refetch_interval=5.0
    )


async def refused(verifier: TokenVerifier, token: str) -> Problem:
    with pytest.raises(Problem) as caught:
        await verifier.verify(token)
    assert caught.value.status == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
    return caught.value


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_a_valid_token_gives_its_principal_with_the_tenant_from_tid() -> None:
    keys = TestKeys()
    principal = await verifier(KeySource(keys)).verify(
        keys.mint("u1", tenant="acme", session_id="s1", roles=["member"])
    )
    assert principal == Principal(user_id="u1", session_id="s1", tenant="acme")
    assert principal.claims["roles"] == ["member"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"ttl": -30}, "expired"),
        ({"aud": "another-platform"}, "not valid"),
        ({"iss": "someone-else"}, "not valid"),
        ({"typ": "refresh"}, "not an access token"),
        ({"typ": None}, "not an access token"),
    ],
)
async def test_a_token_with_a_wrong_claim_is_refused(claims: dict[str, Any], reason: str) -> None:
    keys = TestKeys()
    token = keys.mint("u1", **claims)
    problem = await refused(verifier(KeySource(keys)), token)
    assert reason in problem.detail


async def test_a_token_without_a_required_claim_is_refused() -> None:
    keys = TestKeys()
    now = int(time.time())
    payload = {"iss": "quckchat", "aud": "quckchat", "iat": now, "exp": now + 60, "typ": "access"}
    token = jwt.encode(payload, keys.private, algorithm="EdDSA", headers={"kid": keys.kid})
    assert "sub" in (await refused(verifier(KeySource(keys)), token)).detail


async def test_a_tampered_token_is_refused() -> None:
    keys = TestKeys()
    source = KeySource(keys)
    header, payload, signature = keys.mint("u1").split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    await refused(verifier(source), f"{header}.{payload}.{flipped}")
    # A payload changed after signing (another user) fails the signature too.
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    await refused(verifier(source), f"{header}.{b64({**claims, 'sub': 'admin'})}.{signature}")


async def test_a_token_signed_by_another_key_with_a_known_kid_is_refused() -> None:
    trusted, forger = TestKeys(), TestKeys()
    forger.kid = trusted.kid
    problem = await refused(verifier(KeySource(trusted)), forger.mint("u1"))
    assert "not valid" in problem.detail


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "a.b.c",
        f"{b64({'alg': 'EdDSA'})}.{b64({'sub': 'u1'})}.sig",
        f"{b64({'alg': 'none', 'kid': 'k'})}.{b64({'sub': 'u1'})}.",
        f"{b64({'alg': 'HS256', 'kid': 'k'})}.{b64({'sub': 'u1'})}.sig",
        f"{b64({'alg': 'EdDSA', 'kid': 42})}.{b64({'sub': 'u1'})}.sig",
    ],
)
async def test_a_malformed_token_or_header_is_refused_without_asking_for_keys(token: str) -> None:
    source = KeySource(TestKeys())
    await refused(verifier(source), token)
    assert source.calls == 0


async def test_a_rotated_key_is_fetched_once_and_unknown_kids_do_not_hammer_the_source(
    clock: Clock,
) -> None:
    old, new = TestKeys(), TestKeys()
    source = KeySource(old)
    check = verifier(source)
    assert (await check.verify(old.mint("u1"))).user_id == "u1"
    assert (await check.verify(old.mint("u2"))).user_id == "u2"
    assert source.calls == 1

    # The auth service rotates: its JWKS now serves the new key beside the old one.
    source.keys.append(new)
    clock.now += 10
    assert (await check.verify(new.mint("u3"))).user_id == "u3"
    assert source.calls == 2

    # A kid nobody serves, right after a fetch: refused without asking again.
    stranger = TestKeys()
    clock.now += 1
    assert "unknown key" in (await refused(check, stranger.mint("u4"))).detail
    assert "unknown key" in (await refused(check, TestKeys().mint("u5"))).detail
    assert source.calls == 2
    # Known keys keep working meanwhile, from the cache.
    assert (await check.verify(old.mint("u6"))).user_id == "u6"
    assert source.calls == 2

    # Once the interval has passed, an unknown kid may ask again (and the old key is retired).
    source.keys = [new, stranger]
    clock.now += 10
    assert (await check.verify(stranger.mint("u7"))).user_id == "u7"
    assert source.calls == 3
    await refused(check, old.mint("u8"))
    assert source.calls == 3


async def test_concurrent_tokens_with_a_new_kid_share_one_fetch(clock: Clock) -> None:
    old, new = TestKeys(), TestKeys()
    source = KeySource(old)
    check = verifier(source)
    await check.verify(old.mint("u0"))
    source.keys.append(new)
    clock.now += 10
    principals = await asyncio.gather(*(check.verify(new.mint(f"u{i}")) for i in range(10)))
    assert [p.user_id for p in principals] == [f"u{i}" for i in range(10)]
    assert source.calls == 2


async def test_an_unavailable_key_source_is_a_401_not_a_crash() -> None:
    async def broken() -> dict[str, Any]:
        raise ConnectionError("auth is down")

    check = TokenVerifier(broken, issuer="quckchat", audience="quckchat", cache=None)
    problem = await refused(check, TestKeys().mint("u1"))
    assert "unavailable" in problem.detail


@pytest.fixture(params=[pytest.param("real", marks=pytest.mark.redis), "embedded"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    client = cache_mod.connect(server("redis") if request.param == "real" else None)
    yield client
    await client.aclose()


async def test_a_revoked_session_is_refused_at_once(redis: Redis) -> None:
    keys = TestKeys()
    check = verifier(KeySource(keys), cache=redis)
    ended, other = uuid.uuid4().hex, uuid.uuid4().hex
    token = keys.mint("u1", session_id=ended)
    assert (await check.verify(token)).session_id == ended
    await redis.set(revoked_session_key(ended), "logout", ex=60)
    try:
        assert "ended" in (await refused(check, token)).detail
        # Only that session: the same user's other session still works.
        assert (await check.verify(keys.mint("u1", session_id=other))).session_id == other
    finally:
        await redis.delete(revoked_session_key(ended))
    assert (await check.verify(token)).user_id == "u1"


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer  tok ", "tok")],
)
def test_bearer_token_reads_the_authorization_header(
    header: str | None, expected: str | None
) -> None:
    assert bearer_token(header) == expected


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token"])
def test_a_non_bearer_authorization_header_is_a_401(header: str) -> None:
    with pytest.raises(Problem) as caught:
        bearer_token(header)
    assert caught.value.status == 401
