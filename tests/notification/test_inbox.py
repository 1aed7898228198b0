"""The inbox over HTTP: the caller's own notices, newest first, in pages; unread counts; read
marks announced to the user's devices; bad input as problem+json 4xx."""

from __future__ import annotations

from typing import Any

from tests.notification.conftest import Notify
from tests.worlds.identity import new_user


async def test_the_inbox_lists_the_callers_own_newest_first_in_pages(
    notify: Notify, bob: str
) -> None:
    first = await notify.decide(bob, title="one")
    second = await notify.decide(bob, title="two", collapse_key="c2", channel_id="c2")
    third = await notify.decide(bob, title="three")
    await notify.decide(new_user(), title="someone else's")

    page = await notify.client.get("/", params={"limit": 2}, headers=notify.auth(bob))
    assert page.status_code == 200
    body = page.json()
    assert [n["id"] for n in body["items"]] == [third.notice_id, second.notice_id]
    rest = await notify.client.get(
        "/", params={"limit": 2, "cursor": body["next_cursor"]}, headers=notify.auth(bob)
    )
    assert [n["id"] for n in rest.json()["items"]] == [first.notice_id]
    assert rest.json()["next_cursor"] is None

    counts = await notify.client.get("/unread", headers=notify.auth(bob))
    assert counts.json() == {"total": 3, "by_collapse_key": {"c1": 2, "c2": 1}}


async def test_marking_read_announces_the_unread_count_to_the_user(
    notify: Notify, bob: str
) -> None:
    one = await notify.decide(bob)
    two = await notify.decide(bob, collapse_key="c2", channel_id="c2")
    created = await notify.observer.wait_for("notification.created", notification_id=two.notice_id)
    assert created.audience is not None and created.audience.users == (bob,)
    assert created.data["unread"] == 2

    read = await notify.client.post(f"/{one.notice_id}/read", headers=notify.auth(bob))
    assert read.status_code == 200 and read.json()["read_at"] is not None
    announced = await notify.observer.wait_for(
        "notification.read", notification_ids=[one.notice_id]
    )
    assert announced.data["unread"] == 1 and announced.key == bob

    unread = await notify.client.get("/", params={"unread": "true"}, headers=notify.auth(bob))
    assert [n["id"] for n in unread.json()["items"]] == [two.notice_id]
    everything = await notify.client.post("/read", json={}, headers=notify.auth(bob))
    assert everything.json() == {"read": 1, "unread": 0}


async def test_reading_one_collapse_key_leaves_the_others(notify: Notify, bob: str) -> None:
    await notify.decide(bob, collapse_key="c1")
    await notify.decide(bob, collapse_key="c1")
    await notify.decide(bob, collapse_key="c2", channel_id="c2")
    read = await notify.client.post("/read", json={"collapse_key": "c1"}, headers=notify.auth(bob))
    assert read.json() == {"read": 2, "unread": 1}


async def test_someone_elses_notice_is_not_found(notify: Notify, bob: str) -> None:
    theirs = await notify.decide(new_user())
    response = await notify.client.post(f"/{theirs.notice_id}/read", headers=notify.auth(bob))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await notify.notice(theirs.notice_id)).read_at is None  # type: ignore[union-attr]


async def test_bad_input_is_a_problem_not_a_crash(notify: Notify, bob: str) -> None:
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "/", {"params": {"limit": 0}}, 422),
        ("GET", "/", {"params": {"cursor": "not-a-cursor"}}, 400),
        ("POST", "/read", {"json": {"collapse_key": "", "extra": 1}}, 422),
        ("POST", "/bad id!/read", {}, 422),
        ("GET", "/deliveries", {"params": {"limit": 10_000}}, 422),
    ]
    for method, path, kwargs, status in cases:
        response = await notify.client.request(method, path, headers=notify.auth(bob), **kwargs)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    anonymous = await notify.client.get("/")
    assert anonymous.status_code == 401
