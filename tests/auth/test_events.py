"""The auth events as they leave the outbox: sign-ins, failures, sessions, suspensions, 2FA."""

from __future__ import annotations

import hashlib

import httpx

from quckchat.auth import events
from quckchat.core.events import Audience
from quckchat.core.runtime import Runtime
from tests.auth.conftest import Published
from tests.auth.test_otp_and_tokens import PHONE, sign_in
from tests.auth.test_second_factor import code_at, enrolled
from tests.support import OtpOutbox
from tests.worlds.identity import bearer

INTERNAL = {"X-QuckChat-Caller": "admin"}

Auth = tuple[httpx.AsyncClient, Runtime]


async def test_sign_in_and_its_failures_are_published(
    auth: Auth, outbox: OtpOutbox, published: Published
) -> None:
    client, _ = auth
    await client.post("/otp/send", json={"phone": PHONE})
    wrong = "000000" if outbox.codes[PHONE] != "000000" else "111111"
    assert (
        await client.post("/otp/verify", json={"phone": PHONE, "code": wrong})
    ).status_code == 401
    tokens = await sign_in(client, outbox)
    user = tokens["user_id"]
    await client.post("/login", json={"email": "Nobody@example.com", "password": "x"})

    got = published()
    assert [e.type for e in got] == [
        "auth.otp.sent",
        "auth.otp.failed",
        "auth.otp.sent",
        "auth.user.registered",
        "auth.login.succeeded",
        "auth.login.failed",
    ]
    digest = hashlib.sha256(PHONE.encode()).hexdigest()
    sent, failed, _, registered, succeeded, refused = got
    assert sent.key == digest and sent.data == {
        "actor": None,
        "phone_hash": digest,
        "ip": "127.0.0.1",
    }
    assert events.OtpFailed.of(failed) == events.OtpFailed(phone_hash=digest, attempt=1)
    # About a phone, not an account: no client sees a code's events.
    assert sent.audience is None and failed.audience is None
    assert registered.key == user and registered.data == {
        "actor": user,
        "user_id": user,
        "method": "otp",
        "phone_hash": digest,
        "email": None,
        "display_name": None,
    }
    assert registered.audience == Audience(users=(user,))
    login = events.LoginSucceeded.of(succeeded)
    assert (login.user_id, login.session_id, login.method) == (user, tokens["session_id"], "otp")
    # The request failed, yet its event went out; keyed by the address no account has.
    assert refused.key == "nobody@example.com" and refused.audience is None
    assert refused.data == {"actor": None, "user_id": None, "method": "password"}


async def test_the_name_given_at_sign_up_is_announced(
    auth: Auth, outbox: OtpOutbox, published: Published
) -> None:
    client, _ = auth
    body = {
        "email": "grace@example.com",
        "password": "a long passphrase",
        "display_name": " Grace ",
    }
    assert (await client.post("/register", json=body)).status_code == 201
    await client.post("/otp/send", json={"phone": "+15550004444"})
    code = outbox.codes["+15550004444"]
    verify = {"phone": "+15550004444", "code": code, "display_name": "Hopper"}
    assert (await client.post("/otp/verify", json=verify)).status_code == 200
    names = [
        events.UserRegistered.of(e).display_name
        for e in published()
        if e.type == "auth.user.registered"
    ]
    assert names == ["Grace", "Hopper"]
    blank = {"email": "blank@example.com", "password": "a long passphrase", "display_name": " "}
    assert (await client.post("/register", json=blank)).status_code == 422


async def test_session_ends_are_published(
    auth: Auth, outbox: OtpOutbox, published: Published
) -> None:
    client, _ = auth
    tokens = await sign_in(client, outbox)
    user, sid = tokens["user_id"], tokens["session_id"]
    refresh = tokens["refresh_token"]
    assert (await client.post("/token/refresh", json={"refresh_token": refresh})).is_success
    reused = await client.post("/token/refresh", json={"refresh_token": refresh})
    assert reused.status_code == 401
    other = await sign_in(client, outbox)
    assert (await client.post("/logout", headers=bearer(other))).status_code == 204

    got = [e for e in published() if e.type.startswith("auth.session.")]
    assert [(e.type, e.key, e.data["session_id"]) for e in got] == [
        ("auth.session.revoked", user, sid),
        ("auth.session.reuse_detected", user, sid),
        ("auth.session.revoked", user, other["session_id"]),
    ]
    assert [events.SessionRevoked.of(e).reason for e in (got[0], got[2])] == [
        "refresh-token-reuse",
        "logout",
    ]
    assert all(e.audience == Audience(users=(user,)) for e in got)


async def test_suspension_and_reactivation_are_published(
    auth: Auth, outbox: OtpOutbox, published: Published
) -> None:
    client, _ = auth
    user = (await sign_in(client, outbox))["user_id"]
    published()
    path = f"/internal/users/{user}"
    suspended = await client.post(f"{path}/suspend", json={"reason": "spam"}, headers=INTERNAL)
    assert suspended.status_code == 200, suspended.text
    assert (await client.post(f"{path}/reactivate", headers=INTERNAL)).status_code == 200

    got = published()
    assert [(e.type, e.data.get("reason")) for e in got] == [
        ("auth.session.revoked", "suspended"),
        ("auth.user.suspended", "spam"),
        ("auth.user.reactivated", None),
    ]
    assert events.UserSuspended.of(got[1]) == events.UserSuspended(user_id=user, reason="spam")
    assert events.UserReactivated.of(got[2]).actor is None


async def test_second_factor_changes_are_published(auth: Auth, published: Published) -> None:
    client, _ = auth
    tokens, totp, _ = await enrolled(client)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    disabled = await client.post("/2fa/disable", headers=headers, json={"code": code_at(totp, 1)})
    assert disabled.status_code == 204

    user = tokens["user_id"]
    got = [e for e in published() if e.type.startswith("auth.2fa.")]
    assert [(e.type, e.key, e.data) for e in got] == [
        ("auth.2fa.enabled", user, {"actor": user, "user_id": user}),
        ("auth.2fa.disabled", user, {"actor": user, "user_id": user}),
    ]
