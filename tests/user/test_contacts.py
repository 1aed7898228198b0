"""Contacts, blocks and contact sync between users of one tenant."""

from __future__ import annotations

from tests.user.conftest import UserApp, auth_event
from tests.worlds.identity import new_user, phone_hash
from tests.worlds.problems import assert_problem


async def test_add_rename_list_and_remove_a_contact(app: UserApp) -> None:
    alice = await app.register(new_user(), name="Alice")
    bob = await app.register(new_user(), name="Bob")

    added = await app.client.put(f"/me/contacts/{bob}", headers=app.auth(alice))
    assert added.status_code == 201, added.text
    assert added.json()["user_id"] == bob
    assert added.json()["display_name"] == "Bob"
    assert added.json()["nickname"] is None
    [event] = app.emitted()
    assert event.type == "user.contact.added"
    assert event.data == {"user_id": alice, "contact_id": bob, "actor": alice}

    renamed = await app.client.put(
        f"/me/contacts/{bob}", json={"nickname": " Bobby "}, headers=app.auth(alice)
    )
    assert renamed.status_code == 200
    assert renamed.json()["nickname"] == "Bobby"
    assert renamed.json()["added_at"] == added.json()["added_at"]
    assert app.emitted() == []

    listed = (await app.get("/me/contacts", alice)).json()
    assert listed["next_cursor"] is None
    assert [(c["user_id"], c["nickname"], c["display_name"]) for c in listed["items"]] == [
        (bob, "Bobby", "Bob")
    ]
    assert (await app.get("/me/contacts", bob)).json()["items"] == []

    removed = await app.client.delete(f"/me/contacts/{bob}", headers=app.auth(alice))
    assert removed.status_code == 204
    [event] = app.emitted()
    assert event.type == "user.contact.removed" and event.data["contact_id"] == bob
    assert_problem(await app.client.delete(f"/me/contacts/{bob}", headers=app.auth(alice)), 404)
    assert (await app.get("/me/contacts", alice)).json()["items"] == []


async def test_contacts_refuse_self_unknown_users_and_bad_nicknames(app: UserApp) -> None:
    alice = await app.register(new_user(), name="Alice")
    bob = await app.register(new_user(), name="Bob")
    own = await app.client.put(f"/me/contacts/{alice}", headers=app.auth(alice))
    assert_problem(own, 422, "self-contact")
    assert_problem(await app.client.put(f"/me/contacts/{new_user()}", headers=app.auth(alice)), 404)
    for body in ({"nickname": ""}, {"nickname": "x" * 81}, {"nick": "b"}):
        response = await app.client.put(f"/me/contacts/{bob}", json=body, headers=app.auth(alice))
        assert_problem(response, 422, "validation-error")
    assert (await app.get("/me/contacts", alice)).json()["items"] == []


async def test_contacts_page_by_cursor_newest_first(app: UserApp) -> None:
    alice = await app.register(new_user())
    friends = [await app.register(new_user(), name=f"Friend {n}") for n in range(5)]
    for friend in friends:
        response = await app.client.put(f"/me/contacts/{friend}", headers=app.auth(alice))
        assert response.status_code == 201

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = (await app.get("/me/contacts", alice, params=params)).json()
        pages += 1
        assert len(body["items"]) <= 2
        seen += [item["user_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(friends) and len(set(seen)) == 5
    added = [item["added_at"] for item in (await app.get("/me/contacts", alice)).json()["items"]]
    assert added == sorted(added, reverse=True)

    for cursor in ("garbage!", "WzEsMl0", "WyIyMDMwLTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgNV0"):
        response = await app.get("/me/contacts", alice, params={"cursor": cursor})
        assert_problem(response, 400, "bad-cursor")
    for limit in (0, 201, "many"):
        assert_problem(await app.get("/me/contacts", alice, params={"limit": limit}), 422)


async def test_block_list_and_unblock(app: UserApp) -> None:
    alice = await app.register(new_user())
    bob = await app.register(new_user())
    carol = await app.register(new_user())

    first = await app.client.post(f"/me/blocks/{bob}", headers=app.auth(alice))
    assert first.status_code == 201 and first.json()["user_id"] == bob
    again = await app.client.post(f"/me/blocks/{bob}", headers=app.auth(alice))
    assert again.status_code == 200 and again.json() == first.json()
    await app.client.post(f"/me/blocks/{carol}", headers=app.auth(alice))
    events = app.emitted()
    assert [(e.type, e.data["blocked_id"]) for e in events] == [
        ("user.blocked", bob),
        ("user.blocked", carol),
    ]

    blocks = (await app.get("/me/blocks", alice)).json()
    assert {b["user_id"] for b in blocks["items"]} == {bob, carol}
    one = (await app.get("/me/blocks", alice, params={"limit": 1})).json()
    assert len(one["items"]) == 1 and one["next_cursor"]
    rest = (await app.get("/me/blocks", alice, params={"cursor": one["next_cursor"]})).json()
    assert {b["user_id"] for b in one["items"] + rest["items"]} == {bob, carol}

    assert_problem(
        await app.client.post(f"/me/blocks/{alice}", headers=app.auth(alice)), 422, "self-block"
    )
    assert_problem(await app.client.post(f"/me/blocks/{new_user()}", headers=app.auth(alice)), 404)

    assert (
        await app.client.delete(f"/me/blocks/{bob}", headers=app.auth(alice))
    ).status_code == 204
    assert [e.type for e in app.emitted()] == ["user.unblocked"]
    assert_problem(await app.client.delete(f"/me/blocks/{bob}", headers=app.auth(alice)), 404)
    blocks = (await app.get("/me/blocks", alice)).json()
    assert [b["user_id"] for b in blocks["items"]] == [carol]


async def test_sync_finds_users_by_phone_hash_with_exclusions(app: UserApp) -> None:
    me = await app.register(new_user(), phone="+4915100000000", name="Me")
    bob = await app.register(new_user(), phone="+4915100000001", name="Bob")
    blocker = await app.register(new_user(), phone="+4915100000002", name="Blocker")
    suspended = await app.register(new_user(), phone="+4915100000003", name="Gone")
    outsider = await app.register(
        new_user(), phone="+4915100000004", name="Outsider", tenant="other"
    )
    quiet = await app.register(new_user(), phone="+4915100000005")
    await app.client.post(f"/me/blocks/{me}", headers=app.auth(blocker))
    await app.deliver(auth_event("auth.user.suspended", suspended, reason="spam"))

    book = [phone_hash(f"+491510000000{n}") for n in range(8)]
    response = await app.client.post(
        "/me/contacts/sync", json={"phone_hashes": book + book[:2]}, headers=app.auth(me)
    )
    assert response.status_code == 200, response.text
    matches = response.json()
    assert sorted(matches, key=lambda m: m["user_id"]) == sorted(
        [
            {"phone_hash": book[1], "user_id": bob, "display_name": "Bob"},
            {"phone_hash": book[5], "user_id": quiet, "display_name": None},
        ],
        key=lambda m: m["user_id"],
    )
    assert outsider not in {m["user_id"] for m in matches}
    # The blocker still finds the user they blocked: only being blocked hides.
    found = await app.client.post(
        "/me/contacts/sync", json={"phone_hashes": [book[0]]}, headers=app.auth(blocker)
    )
    assert [m["user_id"] for m in found.json()] == [me]
    empty = await app.client.post(
        "/me/contacts/sync", json={"phone_hashes": []}, headers=app.auth(me)
    )
    assert empty.json() == []


async def test_sync_refuses_bad_hashes(app: UserApp) -> None:
    me = await app.register(new_user())
    good = phone_hash("+15550000000")
    bad_bodies = [
        {"phone_hashes": [good.upper()]},
        {"phone_hashes": [good[:-1]]},
        {"phone_hashes": ["+15550000000"]},
        {"phone_hashes": [good] * 1001},
        {"phone_hashes": good},
        {},
    ]
    for body in bad_bodies:
        response = await app.client.post("/me/contacts/sync", json=body, headers=app.auth(me))
        assert_problem(response, 422, "validation-error")
    many = [phone_hash(f"+1555{n:07d}") for n in range(1000)]
    response = await app.client.post(
        "/me/contacts/sync", json={"phone_hashes": many}, headers=app.auth(me)
    )
    assert response.status_code == 200 and response.json() == []
