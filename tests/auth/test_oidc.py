"""OIDC sign-in through the generic client, against a local provider that plays Google's part.

The provider checks PKCE as a real one does and signs id_tokens with its own RSA key; the
client reaches it through an in-process transport (no provider is reachable from here).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException

from quckchat.auth.oidc import OidcClient, Provider

ISSUER, CLIENT_ID = "https://idp.test", "quckchat-client"


class FakeProvider:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "idp-key-1"
        self.grants: dict[str, dict[str, Any]] = {}
        self.app = FastAPI()
        self.app.post("/token")(self.token)
        self.app.get("/jwks")(self.jwks)

    def authorize(
        self, url: str, *, sub: str, email: str, verified: bool = True, nonce: str | None = None
    ) -> tuple[str, str]:
        """What the user's browser does at the provider: returns (code, state)."""
        query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        assert query["code_challenge_method"] == "S256" and query["client_id"] == CLIENT_ID
        code = uuid.uuid4().hex
        self.grants[code] = {
            "challenge": query["code_challenge"],
            "sub": sub,
            "email": email,
            "verified": verified,
            "nonce": nonce or query["nonce"],
        }
        return code, query["state"]

    async def token(
        self, code: str = Form(), code_verifier: str = Form(), client_id: str = Form()
    ) -> dict[str, str]:
        grant = self.grants.pop(code, None)
        digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
        if grant is None or digest.decode().rstrip("=") != grant["challenge"]:
            raise HTTPException(400, "invalid_grant")
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": client_id,
            "sub": grant["sub"],
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "email": grant["email"],
            "email_verified": grant["verified"],
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        return {"id_token": token, "access_token": "provider-token", "token_type": "Bearer"}

    async def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}


@pytest.fixture
def provider(auth) -> FakeProvider:  # type: ignore[no-untyped-def]
    _, runtime = auth
    fake = FakeProvider()
    config = Provider(
        "fake",
        ISSUER,
        f"{ISSUER}/authorize",
        f"{ISSUER}/token",
        f"{ISSUER}/jwks",
        client_id=CLIENT_ID,
        client_secret="secret",
    )
    runtime.state["oidc"] = OidcClient(
        runtime, {"fake": config}, transport=httpx.ASGITransport(app=fake.app)
    )
    return fake


async def oidc_sign_in(
    client: httpx.AsyncClient,
    provider: FakeProvider,
    *,
    sub: str,
    email: str,
    verified: bool = True,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    start = (await client.get("/oauth/fake/authorize", headers=headers or {})).json()
    code, state = provider.authorize(
        start["authorization_url"], sub=sub, email=email, verified=verified
    )
    return await client.post("/oauth/fake/callback", json={"code": code, "state": state})


async def test_first_sign_in_creates_an_account_and_the_next_finds_it(auth, provider) -> None:
    client, _ = auth
    first = await oidc_sign_in(client, provider, sub="g-1", email="grace@example.com")
    assert first.status_code == 200, first.text
    again = await oidc_sign_in(client, provider, sub="g-1", email="grace@example.com")
    assert again.json()["user_id"] == first.json()["user_id"]
    me = (
        await client.get("/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"})
    ).json()
    assert me["providers"] == ["fake"] and me["email"] == "grace@example.com"


async def test_a_signed_in_user_links_the_identity_to_their_account(auth, provider, outbox) -> None:
    client, _ = auth
    await client.post("/otp/send", json={"phone": "+15550003333"})
    phone = (
        await client.post(
            "/otp/verify", json={"phone": "+15550003333", "code": outbox.codes["+15550003333"]}
        )
    ).json()
    headers = {"Authorization": f"Bearer {phone['access_token']}"}
    linked = await oidc_sign_in(
        client, provider, sub="g-2", email="other@example.com", headers=headers
    )
    assert linked.json()["user_id"] == phone["user_id"]


async def test_verified_email_links_but_unverified_does_not(auth, provider) -> None:
    client, runtime = auth
    owner = (
        await client.post(
            "/register", json={"email": "lin@example.com", "password": "a long enough password"}
        )
    ).json()
    # An email typed at sign-up is only claimed: the token does not vouch for it.
    claimed = await runtime.tokens.verify(owner["access_token"])
    assert claimed.verified_email is None and claimed.verified_phone is None
    unverified = await oidc_sign_in(
        client, provider, sub="g-3", email="lin@example.com", verified=False
    )
    assert unverified.json()["user_id"] != owner["user_id"]
    verified = await oidc_sign_in(client, provider, sub="g-4", email="lin@example.com")
    assert verified.json()["user_id"] == owner["user_id"]
    # The provider vouched for it: from now on the account's tokens carry it.
    proven = await runtime.tokens.verify(verified.json()["access_token"])
    assert proven.verified_email == "lin@example.com"
    me = await client.get("/me", headers={"Authorization": f"Bearer {owner['access_token']}"})
    assert me.json()["email_verified"] is True


async def test_state_nonce_and_pkce_are_enforced(auth, provider) -> None:
    client, _ = auth
    start = (await client.get("/oauth/fake/authorize")).json()
    code, _ = provider.authorize(start["authorization_url"], sub="g-5", email="x@example.com")
    forged = await client.post("/oauth/fake/callback", json={"code": code, "state": "forged"})
    assert forged.status_code == 400
    assert forged.json()["type"].endswith("/oidc-state-invalid")

    start = (await client.get("/oauth/fake/authorize")).json()
    code, state = provider.authorize(
        start["authorization_url"], sub="g-5", email="x@example.com", nonce="replayed-nonce"
    )
    replay = await client.post("/oauth/fake/callback", json={"code": code, "state": state})
    assert replay.status_code == 401
    assert replay.json()["type"].endswith("/oidc-id-token-invalid")

    start = (await client.get("/oauth/fake/authorize")).json()
    _, state = provider.authorize(start["authorization_url"], sub="g-5", email="x@example.com")
    # A code that the provider never granted to this PKCE challenge is refused.
    stolen = await client.post("/oauth/fake/callback", json={"code": "stolen", "state": state})
    assert stolen.status_code == 400
    assert stolen.json()["type"].endswith("/oidc-code-refused")

    unknown = await client.get("/oauth/myspace/authorize")
    assert unknown.status_code == 404
