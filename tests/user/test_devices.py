"""Push devices: idempotent registration, removal, and the notification service's view."""

from __future__ import annotations

from typing import Any

from quckchat.core.events import Audience
from quckchat.user.events import DeviceRemoved
from tests.user.conftest import INTERNAL, UserApp
from tests.worlds.identity import new_user
from tests.worlds.problems import assert_problem

IOS = {"platform": "ios", "push_token": "apns-token-1", "app_version": "2.3.0"}


async def test_registering_a_device_twice_changes_nothing(app: UserApp) -> None:
    me = new_user()
    first = await app.client.put("/me/devices/iphone-1", json=IOS, headers=app.auth(me))
    assert first.status_code == 201, first.text
    assert first.json()["device_id"] == "iphone-1"
    assert "push_token" not in first.json()
    [event] = app.emitted()
    assert event.type == "user.device.registered"
    assert event.data == {
        "user_id": me,
        "device_id": "iphone-1",
        "platform": "ios",
        "app_version": "2.3.0",
        "actor": me,
    }

    again = await app.client.put("/me/devices/iphone-1", json=IOS, headers=app.auth(me))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert app.emitted() == []
    devices = (await app.get("/me/devices", me)).json()
    assert [d["device_id"] for d in devices] == ["iphone-1"]

    new_token = {**IOS, "push_token": "apns-token-2", "app_version": None}
    updated = await app.client.put("/me/devices/iphone-1", json=new_token, headers=app.auth(me))
    assert updated.status_code == 200
    assert updated.json()["app_version"] is None
    assert [e.type for e in app.emitted()] == ["user.device.registered"]

    internal = await app.client.get(f"/internal/users/{me}/devices", headers=INTERNAL)
    assert [(d["device_id"], d["push_token"]) for d in internal.json()] == [
        ("iphone-1", "apns-token-2")
    ]
    stats = (await app.client.get("/internal/stats", headers=INTERNAL)).json()
    assert stats["devices"] == 1


async def test_removing_devices(app: UserApp) -> None:
    me = new_user()
    await app.client.put("/me/devices/web-1", json={**IOS, "platform": "web"}, headers=app.auth(me))
    await app.client.put(
        "/me/devices/pixel",
        json={"platform": "android", "push_token": "fcm-1"},
        headers=app.auth(me),
    )
    app.emitted()
    # Another user's device of the same name is theirs alone.
    other = new_user()
    await app.client.put(
        "/me/devices/web-1", json={**IOS, "push_token": "x"}, headers=app.auth(other)
    )
    app.emitted()

    assert (await app.client.delete("/me/devices/web-1", headers=app.auth(me))).status_code == 204
    [event] = app.emitted()
    assert event.type == "user.device.removed"
    assert event.data == {"user_id": me, "device_id": "web-1", "reason": "removed", "actor": me}
    assert_problem(await app.client.delete("/me/devices/web-1", headers=app.auth(me)), 404)
    assert [d["device_id"] for d in (await app.get("/me/devices", me)).json()] == ["pixel"]
    assert [d["device_id"] for d in (await app.get("/me/devices", other)).json()] == ["web-1"]


async def test_a_push_token_moves_with_the_phone(app: UserApp) -> None:
    alice, bob = new_user(), new_user()
    await app.client.put("/me/devices/phone", json=IOS, headers=app.auth(alice))
    app.emitted()
    moved = await app.client.put("/me/devices/handset", json=IOS, headers=app.auth(bob))
    assert moved.status_code == 201
    events = {e.type: e for e in app.emitted()}
    removed = DeviceRemoved.of(events["user.device.removed"])
    assert (removed.user_id, removed.reason, removed.actor) == (alice, "push-token-reused", bob)
    # Alice's change, in Alice's order, for Alice's other devices to see.
    assert events["user.device.removed"].key == alice
    assert events["user.device.removed"].audience == Audience(users=(alice,))
    assert events["user.device.registered"].data["user_id"] == bob
    assert (await app.get("/me/devices", alice)).json() == []
    alice_devices = await app.client.get(f"/internal/users/{alice}/devices", headers=INTERNAL)
    assert alice_devices.json() == []


BAD_DEVICES: list[tuple[str, dict[str, Any]]] = [
    ("d1", {"platform": "symbian", "push_token": "t"}),
    ("d1", {"platform": "ios", "push_token": ""}),
    ("d1", {"platform": "ios", "push_token": "t" * 4097}),
    ("d1", {"platform": "ios"}),
    ("d1", {"platform": "ios", "push_token": "t", "app_version": "v" * 65}),
    ("d1", {"platform": "ios", "push_token": "t", "owner": "someone"}),
    ("d" * 129, {"platform": "ios", "push_token": "t"}),
    ("d%20space", {"platform": "ios", "push_token": "t"}),
]


async def test_bad_device_registrations_are_refused(app: UserApp) -> None:
    me = new_user()
    for device_id, body in BAD_DEVICES:
        response = await app.client.put(f"/me/devices/{device_id}", json=body, headers=app.auth(me))
        assert_problem(response, 422, "validation-error")
    longest = await app.client.put(
        "/me/devices/" + "d" * 128,
        json={"platform": "ios", "push_token": "t" * 4096},
        headers=app.auth(me),
    )
    assert longest.status_code == 201
    assert len((await app.get("/me/devices", me)).json()) == 1
    assert_problem(await app.client.get(f"/internal/users/{me}/devices"), 401)
