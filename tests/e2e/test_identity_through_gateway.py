"""The identity platform end to end, through the gateway only (except the operator's bootstrap).

One story, in order: sign-up by OTP, token rotation and reuse detection, 2FA and a TOTP
sign-in, profile and contacts, a device, a permission check, audit entries that came
through Kafka, and an admin suspension after which the user's tokens are refused.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from quckchat import catalog
from tests.e2e.conftest import PATIENCE, Platform
from tests.worlds.identity import bearer, phone_number
from tests.worlds.platform import EVERY_SERVER
from tests.worlds.waiting import eventually

pytestmark = [pytest.mark.e2e, *EVERY_SERVER]


async def otp_sign_in(
    platform: Platform, phone: str, display_name: str | None = None
) -> dict[str, Any]:
    sent = await platform.gateway.post("/auth/otp/send", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    body = {"phone": phone, "code": platform.outbox.codes[phone]}
    if display_name is not None:
        body["display_name"] = display_name
    verified = await platform.gateway.post("/auth/otp/verify", json=body)
    assert verified.status_code == 200, verified.text
    body: dict[str, Any] = verified.json()
    return body


async def test_identity_story(platform: Platform) -> None:
    gw = platform.gateway
    alice_phone, bob_phone, admin_phone = phone_number(), phone_number(), phone_number()

    # Sign-up by OTP, with a name; the code comes from the console SMS provider's log.
    alice = await otp_sign_in(platform, alice_phone, display_name="Alice A.")
    assert alice["access_token"] and alice["refresh_token"]

    async def named() -> Any:
        return (await gw.get("/users/me", headers=bearer(alice))).json().get("display_name")

    assert await eventually(named, until="Alice A.", **PATIENCE) == "Alice A."

    # Refresh rotates; presenting the spent token again ends the session.
    rotated = (
        await gw.post("/auth/token/refresh", json={"refresh_token": alice["refresh_token"]})
    ).json()
    assert rotated["refresh_token"] != alice["refresh_token"]
    reuse = await gw.post("/auth/token/refresh", json={"refresh_token": alice["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["type"].endswith("/refresh-token-reused")
    assert (await gw.get("/auth/me", headers=bearer(rotated))).status_code == 401

    # 2FA: set up, enable with a code, then sign in with OTP + TOTP.
    alice = await otp_sign_in(platform, alice_phone)
    setup = (await gw.post("/auth/2fa/setup", headers=bearer(alice))).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(setup["secret"])
    enabled = await gw.post("/auth/2fa/enable", headers=bearer(alice), json={"code": totp.now()})
    assert enabled.status_code == 200, enabled.text
    assert len(enabled.json()["backup_codes"]) == 10
    first_factor = await otp_sign_in(platform, alice_phone)
    assert first_factor["mfa_required"] is True and first_factor["access_token"] is None
    # The enabling code's time step is spent: use the next step's code (allowed drift).
    next_code = totp.at(datetime.now(UTC) + timedelta(seconds=30))
    alice = (
        await gw.post(
            "/auth/2fa/verify", json={"mfa_token": first_factor["mfa_token"], "code": next_code}
        )
    ).json()
    assert alice["access_token"], alice

    # Profile and contacts.
    patched = await gw.patch(
        "/users/me",
        headers=bearer(alice),
        json={"display_name": "Alice", "timezone": "Europe/Berlin"},
    )
    assert patched.status_code == 200, patched.text
    assert (await gw.get("/users/me", headers=bearer(alice))).json()["display_name"] == "Alice"
    bob = await otp_sign_in(platform, bob_phone)
    await gw.patch("/users/me", headers=bearer(bob), json={"display_name": "Bob"})
    added = await gw.put(f"/users/me/contacts/{bob['user_id']}", headers=bearer(alice), json={})
    assert added.status_code in (200, 201), added.text
    contacts = (await gw.get("/users/me/contacts", headers=bearer(alice))).json()
    assert [c["user_id"] for c in contacts["items"]] == [bob["user_id"]]
    bob_hash = hashlib.sha256(bob_phone.encode()).hexdigest()
    stranger_hash = hashlib.sha256(b"+15550000000").hexdigest()

    async def synced() -> list[dict[str, Any]]:
        r = await gw.post(
            "/users/me/contacts/sync",
            headers=bearer(alice),
            json={"phone_hashes": [bob_hash, stranger_hash]},
        )
        assert r.status_code == 200, r.text
        matches: list[dict[str, Any]] = r.json()
        return matches

    # Bob's phone hash reaches the user service through Kafka (auth.user.registered).
    matches = await eventually(synced, **PATIENCE)
    assert [(m["phone_hash"], m["user_id"]) for m in matches] == [(bob_hash, bob["user_id"])]

    # A device's push token.
    device = await gw.put(
        "/users/me/devices/phone-1",
        headers=bearer(alice),
        json={"platform": "ios", "push_token": "apns-token-1"},
    )
    assert device.status_code in (200, 201), device.text
    devices = (await gw.get("/users/me/devices", headers=bearer(alice))).json()
    assert [d["device_id"] for d in devices] == ["phone-1"]

    # A permission check: Alice has no role in the default workspace yet, then gets one.
    check = {"object": "workspace", "action": "read"}
    denied = await gw.post("/permissions/check", headers=bearer(alice), json=check)
    assert denied.status_code == 200 and denied.json()["allowed"] is False
    async with platform.internal("permission") as perm:
        r = await perm.put(
            "/internal/roles",
            json={"user_id": alice["user_id"], "role": "member", "tenant": "default"},
        )
        assert r.status_code in (200, 201, 204), r.text
    allowed = await gw.post("/permissions/check", headers=bearer(alice), json=check)
    assert allowed.json()["allowed"] is True

    # A platform admin (bootstrapped as the operator would) reads the audit log.
    admin = await otp_sign_in(platform, admin_phone)
    assert (await gw.get("/admin/stats", headers=bearer(admin))).status_code == 403
    async with platform.internal("permission") as perm:
        r = await perm.put(f"/internal/platform-admins/{admin['user_id']}")
        assert r.status_code in (200, 201, 204), r.text

    async def alice_logins() -> list[dict[str, Any]]:
        r = await gw.get(
            "/audit/entries",
            headers=bearer(admin),
            params={"actor": alice["user_id"], "action": "auth.login.succeeded"},
        )
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    # Alice signed in four times (two OTP, one OTP+TOTP, plus the refresh is not a login).
    logins = await eventually(lambda: _at_least(alice_logins, 3), **PATIENCE)
    assert len(logins) >= 3
    verified = (await gw.get("/audit/verify", headers=bearer(admin))).json()
    assert verified["valid"] is True and verified["entries"] > 0

    # Suspension: Alice's live token is refused at once, and she cannot sign in again.
    stats = (await gw.get("/admin/stats", headers=bearer(admin))).json()
    assert stats["users"] >= 3
    suspended = await gw.post(
        f"/admin/users/{alice['user_id']}/suspend", headers=bearer(admin), json={"reason": "e2e"}
    )
    assert suspended.status_code == 200, suspended.text
    assert (await gw.get("/users/me", headers=bearer(alice))).status_code == 401
    assert (
        await gw.post("/auth/token/refresh", json={"refresh_token": alice["refresh_token"]})
    ).status_code in (401, 403)
    await gw.post("/auth/otp/send", json={"phone": alice_phone})
    again = await gw.post(
        "/auth/otp/verify", json={"phone": alice_phone, "code": platform.outbox.codes[alice_phone]}
    )
    assert again.status_code == 403
    assert again.json()["type"].endswith("/account-suspended")

    async def suspension_audited() -> bool:
        r = await gw.get(
            "/audit/entries", headers=bearer(admin), params={"action": "admin.user.suspended"}
        )
        return any(e["target"] == alice["user_id"] for e in r.json()["items"])

    assert await eventually(suspension_audited, **PATIENCE)


async def _at_least(fetch: Any, n: int) -> list[Any] | None:
    items: list[Any] = await fetch()
    return items if len(items) >= n else None


async def test_gateway_edge_rules(platform: Platform) -> None:
    gw = platform.gateway
    # Internal APIs are not reachable from outside.
    assert (await gw.get("/auth/internal/stats")).status_code == 404
    assert (await gw.get("/nowhere/at-all")).status_code == 404
    # A forged token is refused at the edge with a problem document.
    r = await gw.get("/users/me", headers={"Authorization": "Bearer not.a.token"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    # Health of the platform and of one service.
    health = await gw.get("/health")
    assert health.status_code == 200, health.text
    assert set(health.json()["services"]) == {
        s.name for s in catalog.implemented() if s.name != "backend-gateway"
    }
    one = (await gw.get("/health/auth")).json()
    assert one["status"] == "healthy"
    assert one["dependencies"] == {"database": "healthy", "redis": "healthy", "kafka": "healthy"}
    # One OpenAPI document for the public API, without internal routes.
    doc = (await gw.get("/openapi.json")).json()
    paths = set(doc["paths"])
    assert "/api/v1/auth/otp/send" in paths and "/api/v1/users/me" in paths
    assert not any("/internal" in p for p in paths)


async def test_idempotency_key_replays_instead_of_redoing(platform: Platform) -> None:
    gw = platform.gateway
    email = f"idem-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "correct horse battery"}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = await gw.post("/auth/register", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await gw.post("/auth/register", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["user_id"] == first.json()["user_id"]
    # Without the key, the same request is a second registration, refused as a conflict.
    assert (await gw.post("/auth/register", json=body)).status_code == 409
    # The same key with another body is a client error.
    other = await gw.post("/auth/register", json={**body, "email": "x" + email}, headers=headers)
    assert other.status_code == 422
