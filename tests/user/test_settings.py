"""Privacy and notification settings: defaults, partial updates, and what is refused."""

from __future__ import annotations

from typing import Any

from tests.user.conftest import INTERNAL, UserApp
from tests.worlds.identity import new_user
from tests.worlds.problems import assert_problem

DEFAULTS = {
    "last_seen": "everyone",
    "read_receipts": True,
    "photo_visibility": "everyone",
    "notifications": {
        "messages": True,
        "mentions": True,
        "calls": True,
        "reactions": True,
        "sound": True,
        "email_digest": "off",
        "quiet_hours": None,
        "keywords": [],
        "push_delay_seconds": 0,
        "push": "all",
        "email": True,
    },
}


async def test_settings_start_at_defaults_and_update_partially(app: UserApp) -> None:
    me = new_user()
    assert (await app.get("/me/settings", me)).json() == DEFAULTS

    patch = {
        "last_seen": "nobody",
        "notifications": {"reactions": False, "quiet_hours": {"start": "22:00", "end": "07:30"}},
    }
    response = await app.client.patch("/me/settings", json=patch, headers=app.auth(me))
    assert response.status_code == 200, response.text
    expected = {
        **DEFAULTS,
        "last_seen": "nobody",
        "notifications": {
            **DEFAULTS["notifications"],  # type: ignore[dict-item]
            "reactions": False,
            "quiet_hours": {"start": "22:00", "end": "07:30"},
        },
    }
    assert response.json() == expected
    assert (await app.get("/me/settings", me)).json() == expected
    [event] = app.emitted()
    assert event.type == "user.settings.updated"
    assert event.data["changed"] == [
        "last_seen",
        "notifications.quiet_hours",
        "notifications.reactions",
    ]

    response = await app.client.patch(
        "/me/settings",
        json={"notifications": {"quiet_hours": None, "email_digest": "weekly"}},
        headers=app.auth(me),
    )
    notifications = response.json()["notifications"]
    assert notifications["quiet_hours"] is None
    assert notifications["email_digest"] == "weekly"
    assert notifications["reactions"] is False

    await app.client.patch("/me/settings", json={"read_receipts": True}, headers=app.auth(me))
    assert [e.type for e in app.emitted()] == ["user.settings.updated"]


BAD_SETTINGS: list[dict[str, Any]] = [
    {"last_seen": "friends"},
    {"photo_visibility": "EVERYONE"},
    {"read_receipts": "yes"},
    {"read_receipts": None},
    {"notifications": None},
    {"notifications": {"email_digest": "monthly"}},
    {"notifications": {"keywords": ["x"] * 21}},
    {"notifications": {"keywords": [""]}},
    {"notifications": {"keywords": ["k" * 41]}},
    {"notifications": {"push_delay_seconds": -1}},
    {"notifications": {"push_delay_seconds": 3601}},
    {"notifications": {"sound": 1}},
    {"notifications": {"push": "some"}},
    {"notifications": {"push": None}},
    {"notifications": {"email": "off"}},
    {"notifications": {"quiet_hours": {"start": "24:00", "end": "07:00"}}},
    {"notifications": {"quiet_hours": {"start": "7:00", "end": "08:00"}}},
    {"notifications": {"quiet_hours": {"start": "22:00", "end": "22:00"}}},
    {"notifications": {"quiet_hours": {"start": "22:00"}}},
    {"notifications": {"vibrate": True}},
    {"theme": "dark"},
]


async def test_bad_settings_are_refused(app: UserApp) -> None:
    me = new_user()
    for body in BAD_SETTINGS:
        response = await app.client.patch("/me/settings", json=body, headers=app.auth(me))
        assert_problem(response, 422, "validation-error")
    assert (await app.get("/me/settings", me)).json() == DEFAULTS


async def test_keywords_push_delay_and_the_shorter_digests_are_kept(app: UserApp) -> None:
    me = new_user()
    patch = {
        "notifications": {
            "keywords": [" deploy ", "outage"],
            "push_delay_seconds": 120,
            "email_digest": "15m",
        }
    }
    response = await app.client.patch("/me/settings", json=patch, headers=app.auth(me))
    assert response.status_code == 200, response.text
    notifications = response.json()["notifications"]
    assert notifications["keywords"] == ["deploy", "outage"]
    assert notifications["push_delay_seconds"] == 120
    assert notifications["email_digest"] == "15m"
    for digest in ("off", "immediately", "15m", "hourly", "daily", "weekly"):
        body = {"notifications": {"email_digest": digest}}
        response = await app.client.patch("/me/settings", json=body, headers=app.auth(me))
        assert response.json()["notifications"]["email_digest"] == digest


async def test_the_push_and_email_switches_are_kept_and_told_to_the_orchestrator(
    app: UserApp,
) -> None:
    me = new_user()
    await app.register(me)
    for push in ("mentions", "none", "all"):
        body = {"notifications": {"push": push, "email": push != "none"}}
        response = await app.client.patch("/me/settings", json=body, headers=app.auth(me))
        assert response.status_code == 200, response.text
        assert response.json()["notifications"]["push"] == push
        assert response.json()["notifications"]["email"] is (push != "none")
    body = {"notifications": {"push": "mentions", "email": False}}
    await app.client.patch("/me/settings", json=body, headers=app.auth(me))
    response = await app.client.post(
        "/internal/users/notify-settings", json={"user_ids": [me]}, headers=INTERNAL
    )
    notifications = response.json()["users"][me]["notifications"]
    assert (notifications["push"], notifications["email"]) == ("mentions", False)


async def test_the_notify_settings_of_many_users_with_their_blocks_of_the_actor(
    app: UserApp,
) -> None:
    actor, blocker, quiet, stranger = new_user(), new_user(), new_user(), new_user()
    for user in (actor, blocker, quiet):
        await app.register(user)
    response = await app.client.post(f"/me/blocks/{actor}", headers=app.auth(blocker))
    assert response.status_code in (200, 201, 204), response.text
    body = {"notifications": {"mentions": False, "keywords": ["release"]}}
    await app.client.patch("/me/settings", json=body, headers=app.auth(quiet))
    response = await app.client.post(
        "/internal/users/notify-settings",
        json={"user_ids": [blocker, quiet, stranger], "actor_id": actor},
        headers=INTERNAL,
    )
    assert response.status_code == 200, response.text
    users = response.json()["users"]
    assert set(users) == {blocker, quiet}
    assert response.json()["blockers"] == [blocker]
    assert users[quiet]["notifications"]["mentions"] is False
    assert users[quiet]["notifications"]["keywords"] == ["release"]
    too_many = {"user_ids": [new_user() for _ in range(501)]}
    response = await app.client.post(
        "/internal/users/notify-settings", json=too_many, headers=INTERNAL
    )
    assert_problem(response, 422, "validation-error")
