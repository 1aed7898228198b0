"""Profiles: the caller's own, and other users' as their privacy settings and blocks allow."""

from __future__ import annotations

from typing import Any

from quckchat.user.models import Profile
from tests.user.conftest import INTERNAL, UserApp
from tests.worlds.identity import new_user
from tests.worlds.problems import assert_problem


async def test_me_is_created_on_first_access(app: UserApp) -> None:
    me = new_user()
    first = await app.get("/me", me)
    assert first.status_code == 200
    body = first.json()
    assert body["user_id"] == me
    assert body["status"] == "active"
    assert body["display_name"] is None and body["avatar_url"] is None
    second = await app.get("/me", me)
    assert second.json()["created_at"] == body["created_at"]
    stats = await app.client.get("/internal/stats", headers=INTERNAL)
    assert stats.json() == {"profiles": 1, "devices": 0}


async def test_patch_me_updates_and_emits_only_on_change(app: UserApp) -> None:
    me = new_user()
    changes = {
        "display_name": "  Alice  ",
        "status_text": "on holiday",
        "avatar_url": "https://cdn.example.com/a.png",
        "timezone": "Europe/Berlin",
        "locale": "de-DE",
    }
    response = await app.client.patch("/me", json=changes, headers=app.auth(me))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Alice"
    assert body["status_text"] == "on holiday"
    assert body["avatar_url"] == "https://cdn.example.com/a.png"
    assert body["timezone"] == "Europe/Berlin"
    assert body["locale"] == "de-DE"
    [event] = app.emitted()
    assert event.type == "user.profile.updated"
    assert event.key == me and event.tenant == "default"
    assert event.data == {
        "user_id": me,
        "changed": ["avatar_url", "display_name", "locale", "status_text", "timezone"],
        "actor": me,
    }

    again = await app.client.patch("/me", json=changes, headers=app.auth(me))
    assert again.status_code == 200
    assert app.emitted() == []

    cleared = await app.client.patch(
        "/me", json={"status_text": "", "avatar_url": None}, headers=app.auth(me)
    )
    assert cleared.json()["status_text"] is None
    assert cleared.json()["avatar_url"] is None
    assert cleared.json()["display_name"] == "Alice"
    [event] = app.emitted()
    assert event.data["changed"] == ["avatar_url", "status_text"]
    assert (await app.get("/me", me)).json()["status_text"] is None


BAD_PROFILE_PATCHES: list[dict[str, Any]] = [
    {"display_name": ""},
    {"display_name": "   "},
    {"display_name": "x" * 81},
    {"display_name": None},
    {"status_text": "x" * 141},
    {"avatar_url": "ftp://example.com/a.png"},
    {"avatar_url": "javascript:alert(1)"},
    {"avatar_url": "not a url"},
    {"avatar_url": "https://example.com/" + "a" * 2100},
    {"timezone": "Mars/Olympus_Mons"},
    {"timezone": "../etc/passwd"},
    {"timezone": "localtime"},
    {"timezone": "europe/berlin"},
    {"locale": "x"},
    {"locale": "en US"},
    {"nickname": "not a profile field"},
    {"display_name": 42},
]


async def test_patch_me_rejects_bad_input(app: UserApp) -> None:
    me = new_user()
    for body in BAD_PROFILE_PATCHES:
        response = await app.client.patch("/me", json=body, headers=app.auth(me))
        assert_problem(response, 422, "validation-error")
        assert response.json()["errors"], body
    not_json = await app.client.patch(
        "/me", content=b"{nope", headers={**app.auth(me), "content-type": "application/json"}
    )
    assert_problem(not_json, 422)
    assert (await app.get("/me", me)).json()["display_name"] is None
    assert app.emitted() == []


async def test_a_token_is_required(app: UserApp) -> None:
    assert_problem(await app.client.get("/me"), 401, "unauthorized")
    assert_problem(await app.client.get("/me", headers={"Authorization": "Bearer nonsense"}), 401)
    assert_problem(await app.client.get("/internal/stats"), 401)


async def test_privacy_settings_decide_what_another_user_sees(app: UserApp) -> None:
    alice = await app.register(new_user(), name="Alice")
    bob = await app.register(new_user(), name="Bob")
    await app.client.patch(
        "/me", json={"avatar_url": "https://cdn.example.com/alice.png"}, headers=app.auth(alice)
    )
    seen = await app.client.put(
        f"/internal/users/{alice}/last-seen",
        json={"last_seen_at": "2030-01-02T03:04:05+00:00"},
        headers=INTERNAL,
    )
    assert seen.status_code == 204

    async def bob_sees() -> dict[str, Any]:
        response = await app.get(f"/{alice}", bob)
        assert response.status_code == 200, response.text
        return dict(response.json())

    view = await bob_sees()
    assert view["display_name"] == "Alice"
    assert view["avatar_url"] == "https://cdn.example.com/alice.png"
    assert view["last_seen_at"].startswith("2030-01-02T03:04:05")
    assert view["is_contact"] is False and view["blocked"] is False

    settings = {"photo_visibility": "contacts", "last_seen": "contacts"}
    await app.client.patch("/me/settings", json=settings, headers=app.auth(alice))
    view = await bob_sees()
    assert view["avatar_url"] is None and view["last_seen_at"] is None
    assert view["display_name"] == "Alice"

    # Bob keeping Alice as a contact does not help: it is Alice's address book that counts.
    assert (await app.client.put(f"/me/contacts/{alice}", headers=app.auth(bob))).status_code == 201
    view = await bob_sees()
    assert view["is_contact"] is True
    assert view["avatar_url"] is None and view["last_seen_at"] is None

    assert (await app.client.put(f"/me/contacts/{bob}", headers=app.auth(alice))).status_code == 201
    view = await bob_sees()
    assert view["avatar_url"] == "https://cdn.example.com/alice.png"
    assert view["last_seen_at"] is not None

    settings = {"photo_visibility": "nobody", "last_seen": "nobody"}
    await app.client.patch("/me/settings", json=settings, headers=app.auth(alice))
    view = await bob_sees()
    assert view["avatar_url"] is None and view["last_seen_at"] is None

    own = (await app.get(f"/{alice}", alice)).json()
    assert own["avatar_url"] == "https://cdn.example.com/alice.png"
    assert own["last_seen_at"] is not None


async def test_last_seen_only_moves_forward(app: UserApp) -> None:
    alice = await app.register(new_user())
    for moment in ("2030-01-02T10:00:00Z", "2030-01-02T09:00:00Z"):
        response = await app.client.put(
            f"/internal/users/{alice}/last-seen", json={"last_seen_at": moment}, headers=INTERNAL
        )
        assert response.status_code == 204
    assert (await app.get("/me", alice)).json()["last_seen_at"].startswith("2030-01-02T10:00")
    naive = await app.client.put(
        f"/internal/users/{alice}/last-seen",
        json={"last_seen_at": "2030-01-02T11:00:00"},
        headers=INTERNAL,
    )
    assert_problem(naive, 422)
    unknown = await app.client.put(
        f"/internal/users/{new_user()}/last-seen",
        json={"last_seen_at": "2030-01-02T11:00:00Z"},
        headers=INTERNAL,
    )
    assert_problem(unknown, 404)


async def test_a_user_who_blocked_the_caller_does_not_exist_for_them(app: UserApp) -> None:
    alice = await app.register(new_user(), name="Alice")
    bob = await app.register(new_user(), name="Bob")
    block = await app.client.post(f"/me/blocks/{bob}", headers=app.auth(alice))
    assert block.status_code == 201

    assert_problem(await app.get(f"/{alice}", bob), 404, "not-found")
    assert_problem(await app.client.put(f"/me/contacts/{alice}", headers=app.auth(bob)), 404)
    # The blocker still sees the blocked user, flagged.
    view = await app.get(f"/{bob}", alice)
    assert view.status_code == 200 and view.json()["blocked"] is True
    # A blocked user may still block back.
    assert (await app.client.post(f"/me/blocks/{alice}", headers=app.auth(bob))).status_code == 201

    assert (
        await app.client.delete(f"/me/blocks/{bob}", headers=app.auth(alice))
    ).status_code == 204
    view = await app.get(f"/{alice}", bob)
    assert view.status_code == 200 and view.json()["blocked"] is True


async def test_unknown_users_and_other_tenants_are_not_found(app: UserApp) -> None:
    alice = await app.register(new_user(), name="Alice")
    carol = await app.register(new_user(), name="Carol", tenant="other")
    assert_problem(await app.get(f"/{new_user()}", alice), 404)
    assert_problem(await app.get(f"/{carol}", alice), 404)
    assert_problem(await app.client.put(f"/me/contacts/{carol}", headers=app.auth(alice)), 404)
    assert_problem(await app.client.post(f"/me/blocks/{carol}", headers=app.auth(alice)), 404)
    assert_problem(await app.get("/" + "a" * 65, alice), 422)
    assert_problem(await app.get("/bad%20id", alice), 422)


async def test_internal_profile_has_everything_for_services(app: UserApp) -> None:
    alice = await app.register(new_user(), name="Alice")
    await app.client.patch("/me/settings", json={"read_receipts": False}, headers=app.auth(alice))
    response = await app.client.get(f"/internal/users/{alice}", headers=INTERNAL)
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Alice"
    assert body["tenant"] == "default"
    assert body["settings"]["read_receipts"] is False
    assert "phone_hash" not in body
    assert_problem(await app.client.get(f"/internal/users/{new_user()}", headers=INTERNAL), 404)
    assert_problem(await app.client.get(f"/internal/users/{alice}"), 401)


async def test_health_and_metrics_are_not_taken_for_user_ids(app: UserApp) -> None:
    health = await app.client.get("/health")
    assert health.status_code == 200
    assert health.json()["dependencies"]["database"] == "healthy"
    assert (await app.client.get("/metrics")).status_code == 200
    healthy = await app.register(new_user())
    assert_problem(await app.get("/healthy", healthy), 404)


async def test_a_write_is_committed_before_the_answer_leaves(app: UserApp) -> None:
    """A client that reads right after a write sees it (the session ends before sending)."""
    me = new_user()
    seen_when_sent: list[str | None] = []
    assert app.runtime.db is not None
    db = app.runtime.db

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b'{"display_name": "Quick"}', "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            async with db.session() as session:
                profile = await session.get(Profile, me)
                seen_when_sent.append(profile.display_name if profile else None)

    headers = [(k.lower().encode(), v.encode()) for k, v in app.auth(me).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": "/me",
        "raw_path": b"/me",
        "root_path": "",
        "query_string": b"",
        "headers": [*headers, (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "state": {},
    }
    await app.asgi(scope, receive, send)
    assert seen_when_sent == ["Quick"]
