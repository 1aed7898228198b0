"""TOTP 2FA: enrolment, sign-in with a second factor, no replay, single-use backup codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

EMAIL, PASSWORD = "ada@example.com", "a long enough password"


def code_at(totp: pyotp.TOTP, steps: int) -> str:
    return totp.at(datetime.now(UTC) + timedelta(seconds=30 * steps))


async def enrolled(client) -> tuple[dict, pyotp.TOTP, list[str]]:  # type: ignore[no-untyped-def]
    tokens = (await client.post("/register", json={"email": EMAIL, "password": PASSWORD})).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    setup = (await client.post("/2fa/setup", headers=headers)).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/QuckChat:ada%40example.com?")
    totp = pyotp.TOTP(setup["secret"])
    wrong = await client.post(
        "/2fa/enable",
        headers=headers,
        json={"code": "000000" if totp.now() != "000000" else "111111"},
    )
    assert wrong.status_code == 422
    enabled = await client.post("/2fa/enable", headers=headers, json={"code": totp.now()})
    assert enabled.status_code == 200, enabled.text
    return tokens, totp, enabled.json()["backup_codes"]


async def test_password_sign_in_asks_for_and_accepts_a_fresh_totp(auth) -> None:
    client, _ = auth
    _, totp, codes = await enrolled(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    first = (await client.post("/login", json={"email": EMAIL, "password": PASSWORD})).json()
    assert first["mfa_required"] is True and first["access_token"] is None
    # The enrolment code's step is spent; the next step's code is fresh.
    fresh = code_at(totp, 1)
    ok = await client.post("/2fa/verify", json={"mfa_token": first["mfa_token"], "code": fresh})
    assert ok.status_code == 200 and ok.json()["access_token"]
    # The same code is never accepted twice, even in a new sign-in.
    again = (await client.post("/login", json={"email": EMAIL, "password": PASSWORD})).json()
    replay = await client.post("/2fa/verify", json={"mfa_token": again["mfa_token"], "code": fresh})
    assert replay.status_code == 401
    # A used challenge token cannot be used again either.
    reused = await client.post(
        "/2fa/verify", json={"mfa_token": first["mfa_token"], "code": code_at(totp, -1)}
    )
    assert reused.status_code == 401


async def test_backup_codes_work_once(auth) -> None:
    client, _ = auth
    _, _, codes = await enrolled(client)
    for expected in (200, 401):
        challenge = (
            await client.post("/login", json={"email": EMAIL, "password": PASSWORD})
        ).json()
        r = await client.post(
            "/2fa/verify", json={"mfa_token": challenge["mfa_token"], "code": codes[0]}
        )
        assert r.status_code == expected


async def test_wrong_codes_end_the_challenge_after_five_tries(auth) -> None:
    client, _ = auth
    _, totp, _ = await enrolled(client)
    challenge = (await client.post("/login", json={"email": EMAIL, "password": PASSWORD})).json()
    statuses = []
    for _ in range(6):
        r = await client.post(
            "/2fa/verify", json={"mfa_token": challenge["mfa_token"], "code": "999999"}
        )
        statuses.append(r.status_code)
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    late = await client.post(
        "/2fa/verify", json={"mfa_token": challenge["mfa_token"], "code": code_at(totp, 1)}
    )
    assert late.status_code == 401


async def test_disable_needs_a_valid_code(auth) -> None:
    client, _ = auth
    tokens, totp, _ = await enrolled(client)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    bad = await client.post(
        "/2fa/disable",
        headers=headers,
        json={"code": "123456" if code_at(totp, 1) != "123456" else "654321"},
    )
    assert bad.status_code == 422
    ok = await client.post("/2fa/disable", headers=headers, json={"code": code_at(totp, 1)})
    assert ok.status_code == 204
    plain = (await client.post("/login", json={"email": EMAIL, "password": PASSWORD})).json()
    assert plain["access_token"] and not plain["mfa_required"]


async def test_password_rules(auth) -> None:
    client, _ = auth
    assert (
        await client.post("/register", json={"email": EMAIL, "password": PASSWORD})
    ).status_code == 201
    taken = await client.post("/register", json={"email": EMAIL.upper(), "password": PASSWORD})
    assert taken.status_code == 409
    wrong = await client.post("/login", json={"email": EMAIL, "password": "not the password"})
    assert wrong.status_code == 401
    assert wrong.json()["type"].endswith("/invalid-credentials")
