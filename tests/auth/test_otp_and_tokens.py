"""Phone sign-in, token rotation and reuse detection, sessions and key rotation."""

from __future__ import annotations

import httpx
import pytest

from tests.support import OtpOutbox
from tests.worlds.identity import bearer

PHONE = "+15550001111"


async def sign_in(client: httpx.AsyncClient, outbox: OtpOutbox, phone: str = PHONE) -> dict:
    sent = await client.post("/otp/send", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    verified = await client.post("/otp/verify", json={"phone": phone, "code": outbox.codes[phone]})
    assert verified.status_code == 200, verified.text
    return verified.json()


async def test_otp_sign_up_issues_tokens_the_platform_accepts(auth, outbox) -> None:
    client, runtime = auth
    tokens = await sign_in(client, outbox)
    principal = await runtime.tokens.verify(tokens["access_token"])
    assert principal.user_id == tokens["user_id"]
    assert principal.tenant == "default"
    # The phone proven by the code rides in the token: invites to it can be checked.
    assert principal.verified_phone == PHONE and principal.verified_email is None
    me = await client.get("/me", headers=bearer(tokens))
    assert me.json()["phone"] == PHONE
    # Signing in again with the same phone reaches the same account.
    again = await sign_in(client, outbox)
    assert again["user_id"] == tokens["user_id"]


async def test_otp_is_single_use_and_capped_at_five_tries(auth, outbox) -> None:
    client, _ = auth
    await client.post("/otp/send", json={"phone": PHONE})
    code = outbox.codes[PHONE]
    wrong = "000000" if code != "000000" else "111111"
    for tries in range(1, 6):
        r = await client.post("/otp/verify", json={"phone": PHONE, "code": wrong})
        assert r.status_code == 401
        assert r.json()["attempts_left"] == 5 - tries
        assert r.headers["content-type"] == "application/problem+json"
    # The sixth try is refused even with the right code: the code is burnt.
    r = await client.post("/otp/verify", json={"phone": PHONE, "code": code})
    assert r.status_code == 429
    assert r.json()["type"].endswith("/otp-attempts-exceeded")

    await client.post("/otp/send", json={"phone": PHONE})
    code = outbox.codes[PHONE]
    assert (
        await client.post("/otp/verify", json={"phone": PHONE, "code": code})
    ).status_code == 200
    reuse = await client.post("/otp/verify", json={"phone": PHONE, "code": code})
    assert reuse.status_code == 401


async def test_a_new_code_supersedes_the_old_one(auth, outbox) -> None:
    client, _ = auth
    await client.post("/otp/send", json={"phone": PHONE})
    first = outbox.codes[PHONE]
    await client.post("/otp/send", json={"phone": PHONE})
    second = outbox.codes[PHONE]
    if first != second:
        old = await client.post("/otp/verify", json={"phone": PHONE, "code": first})
        assert old.status_code == 401
    ok = await client.post("/otp/verify", json={"phone": PHONE, "code": second})
    assert ok.status_code == 200


async def test_otp_send_is_limited_per_phone(auth, outbox) -> None:
    client, runtime = auth
    limit = runtime.settings.otp_send_limit_per_phone
    for _ in range(limit):
        assert (await client.post("/otp/send", json={"phone": PHONE})).status_code == 202
    refused = await client.post("/otp/send", json={"phone": PHONE})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert (await client.post("/otp/send", json={"phone": "+15550002222"})).status_code == 202


async def test_refresh_rotates_and_reuse_ends_the_session(auth, outbox) -> None:
    client, _ = auth
    tokens = await sign_in(client, outbox)
    first_refresh = tokens["refresh_token"]
    rotated = await client.post("/token/refresh", json={"refresh_token": first_refresh})
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != first_refresh
    assert new["session_id"] == tokens["session_id"]

    reused = await client.post("/token/refresh", json={"refresh_token": first_refresh})
    assert reused.status_code == 401
    assert reused.json()["type"].endswith("/refresh-token-reused")
    # The whole family is dead: the newest refresh token and the access token too.
    assert (
        await client.post("/token/refresh", json={"refresh_token": new["refresh_token"]})
    ).status_code == 401
    assert (await client.get("/me", headers=bearer(new))).status_code == 401


async def test_sessions_list_revoke_one_and_all(auth, outbox) -> None:
    client, _ = auth
    phone_a = await sign_in(client, outbox)
    phone_b = await sign_in(client, outbox)
    listed = (await client.get("/sessions", headers=bearer(phone_a))).json()
    assert {s["id"] for s in listed} == {phone_a["session_id"], phone_b["session_id"]}
    assert [s["current"] for s in listed if s["id"] == phone_a["session_id"]] == [True]

    r = await client.delete(f"/sessions/{phone_b['session_id']}", headers=bearer(phone_a))
    assert r.status_code == 204
    assert (await client.get("/me", headers=bearer(phone_b))).status_code == 401

    phone_c = await sign_in(client, outbox)
    r = await client.delete("/sessions", params={"keep_current": True}, headers=bearer(phone_a))
    assert r.json() == {"revoked_sessions": 1}
    assert (await client.get("/me", headers=bearer(phone_c))).status_code == 401
    assert (await client.get("/me", headers=bearer(phone_a))).status_code == 200

    assert (await client.post("/logout", headers=bearer(phone_a))).status_code == 204
    assert (await client.get("/me", headers=bearer(phone_a))).status_code == 401


async def test_key_rotation_keeps_old_tokens_valid(auth, outbox) -> None:
    client, _ = auth
    before = await sign_in(client, outbox)
    old_kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    rotated = await client.post("/internal/keys/rotate", headers={"X-QuckChat-Caller": "test"})
    new_kid = rotated.json()["kid"]
    assert new_kid not in old_kids
    published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert published == old_kids | {new_kid}
    after = await sign_in(client, outbox)
    assert (await client.get("/me", headers=bearer(before))).status_code == 200
    assert (await client.get("/me", headers=bearer(after))).status_code == 200


@pytest.mark.parametrize(
    "path, body",
    [
        ("/otp/send", {"phone": "12345"}),
        ("/otp/send", {}),
        ("/otp/verify", {"phone": PHONE, "code": "12ab56"}),
        ("/register", {"email": "not-an-email", "password": "long enough pw"}),
        ("/register", {"email": "a@example.com", "password": "short"}),
        ("/token/refresh", {"refresh_token": 5}),
    ],
)
async def test_bad_input_is_a_422_problem(auth, path: str, body: dict) -> None:
    client, _ = auth
    r = await client.post(path, json=body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/validation-error")
