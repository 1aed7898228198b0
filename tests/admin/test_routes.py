"""The admin API against stand-in auth and user services, with the events it emits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from quckchat.admin.events import UserLoggedOut
from quckchat.core.events import Audience, Event, InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from tests.admin.upstreams import Accounts, auth_app, user_app
from tests.support import TestKeys, running_app
from tests.worlds.stand_ins import permission_app

ADMIN_ID = "a" * 32
ALICE = "1" * 32
BOB = "2" * 32


@dataclass
class Harness:
    client: httpx.AsyncClient
    runtime: Runtime
    accounts: Accounts
    events: list[Event]
    admin: dict[str, str]

    async def emitted(self, count: int) -> list[Event]:
        """The admin events seen so far, once at least `count` arrived (the bus is async)."""
        for _ in range(100):
            if len(self.events) >= count:
                break
            await asyncio.sleep(0.01)
        return list(self.events)


def upstream_client(accounts: Accounts) -> httpx.AsyncClient:
    """One client that reaches each fake service by its host name, as in Kubernetes."""
    return httpx.AsyncClient(
        mounts={
            "http://auth": httpx.ASGITransport(app=auth_app(accounts)),
            "http://user": httpx.ASGITransport(app=user_app(accounts)),
            "http://permission": httpx.ASGITransport(
                app=permission_app({(ADMIN_ID, "administer")})
            ),
        }
    )


@pytest.fixture
async def harness(tmp_path: Path, keys: TestKeys) -> AsyncIterator[Harness]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    settings = Settings(
        service="admin",
        data_dir=tmp_path,
        service_url_template="http://{name}",
        kafka_topic_prefix=prefix,
        http_timeout_seconds=2.0,
    )
    accounts = Accounts()
    accounts.add(
        ALICE, phone="+15550001111", email="alice@example.com", display_name="Alice", sessions=3
    )
    accounts.add(BOB, phone="+15550002222")
    accounts.add(ADMIN_ID, phone="+15550009999", display_name="Root")
    events: list[Event] = []

    async def collect(event: Event) -> None:
        events.append(event)

    capture = InProcessBus(prefix=prefix)
    capture.subscribe("test-capture", ["quckchat.admin"], collect)
    await capture.start()
    async with running_app("admin", settings, keys=keys) as (_app, client, runtime):
        await runtime.http.client.aclose()
        runtime.http.client = upstream_client(accounts)
        admin = keys.header(ADMIN_ID, tenant="platform")
        yield Harness(client, runtime, accounts, events, admin)
    await capture.stop()


ROUTES = [
    ("GET", "/users", None),
    ("GET", f"/users/{ALICE}", None),
    ("POST", f"/users/{ALICE}/suspend", {"reason": "spam"}),
    ("POST", f"/users/{ALICE}/reactivate", None),
    ("POST", f"/users/{ALICE}/logout", None),
    ("GET", "/stats", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_route_is_for_platform_admins_only(
    harness: Harness, keys: TestKeys, method: str, path: str, body: object
) -> None:
    anonymous = await harness.client.request(method, path, json=body)
    assert anonymous.status_code == 401
    # The permission service decides, whatever roles a token claims.
    member = keys.header(BOB, tenant="platform", roles=["platform-admin"])
    denied = await harness.client.request(method, path, json=body, headers=member)
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    assert harness.accounts.users[ALICE]["status"] == "active"
    assert [c for c in harness.accounts.calls if c[0] == "auth"] == []


async def test_find_users_merges_display_names_and_is_audited(harness: Harness) -> None:
    r = await harness.client.get("/users", params={"query": "+1555000"}, headers=harness.admin)
    assert r.status_code == 200, r.text
    by_id = {u["id"]: u for u in r.json()["items"]}
    assert set(by_id) == {ALICE, BOB, ADMIN_ID}
    assert by_id[ALICE]["display_name"] == "Alice"
    assert by_id[ALICE]["email"] == "alice@example.com"
    assert by_id[BOB]["display_name"] is None  # no profile yet
    assert by_id[BOB]["status"] == "active"

    r = await harness.client.get("/users", params={"query": "alice@"}, headers=harness.admin)
    assert [u["id"] for u in r.json()["items"]] == [ALICE]

    events = await harness.emitted(2)
    assert [e.type for e in events] == ["admin.users.searched"] * 2
    assert events[1].data == {"actor": ADMIN_ID, "query": "alice@"}
    assert events[1].tenant == "platform"
    # Keyed by the administrator; about no account, so no client sees it.
    assert events[1].key == ADMIN_ID and events[1].audience is None
    caller = harness.accounts.calls[0][3][0]
    assert caller == "admin"


async def test_find_users_pages_through_the_auth_cursor(harness: Harness) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await harness.client.get("/users", params=params, headers=harness.admin)
        assert r.status_code == 200, r.text
        seen += [u["id"] for u in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([ALICE, BOB, ADMIN_ID])


async def test_get_user_and_unknown_user(harness: Harness) -> None:
    r = await harness.client.get(f"/users/{ALICE}", headers=harness.admin)
    assert r.status_code == 200
    assert r.json()["display_name"] == "Alice"
    assert r.json()["phone"] == "+15550001111"

    missing = await harness.client.get(f"/users/{'9' * 32}", headers=harness.admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"

    odd = await harness.client.get("/users/a.b", headers=harness.admin)
    assert odd.status_code == 422


async def test_suspend_then_reactivate_are_audited(harness: Harness) -> None:
    r = await harness.client.post(
        f"/users/{ALICE}/suspend", json={"reason": "  sent spam  "}, headers=harness.admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"
    assert r.json()["display_name"] == "Alice"
    assert harness.accounts.sessions[ALICE] == 0
    sent = [c for c in harness.accounts.calls if c[2].endswith("/suspend")]
    assert sent[0][3][1] == b'{"reason":"sent spam"}'

    r = await harness.client.post(f"/users/{ALICE}/reactivate", headers=harness.admin)
    assert r.status_code == 200
    assert r.json()["status"] == "active"

    suspended, reactivated = await harness.emitted(2)
    assert suspended.type == "admin.user.suspended"
    assert suspended.key == ALICE
    assert suspended.data == {"actor": ADMIN_ID, "user_id": ALICE, "reason": "sent spam"}
    assert reactivated.type == "admin.user.reactivated"
    assert reactivated.data == {"actor": ADMIN_ID, "user_id": ALICE}
    assert suspended.audience == reactivated.audience == Audience(users=(ALICE,))


async def test_an_admin_cannot_suspend_themselves(harness: Harness) -> None:
    r = await harness.client.post(
        f"/users/{ADMIN_ID}/suspend", json={"reason": "oops"}, headers=harness.admin
    )
    assert r.status_code == 409
    assert r.json()["type"].endswith("/self-suspend")
    assert harness.accounts.users[ADMIN_ID]["status"] == "active"
    assert not [c for c in harness.accounts.calls if c[2].endswith("/suspend")]
    await asyncio.sleep(0.05)
    assert harness.events == []


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, None])
async def test_suspend_needs_a_reason_of_1_to_500_chars(
    harness: Harness, reason: str | None
) -> None:
    r = await harness.client.post(
        f"/users/{ALICE}/suspend", json={"reason": reason}, headers=harness.admin
    )
    assert r.status_code == 422
    assert harness.accounts.users[ALICE]["status"] == "active"


async def test_suspending_an_unknown_user_is_404_and_not_audited(harness: Harness) -> None:
    r = await harness.client.post(
        f"/users/{'9' * 32}/suspend", json={"reason": "spam"}, headers=harness.admin
    )
    assert r.status_code == 404
    await asyncio.sleep(0.05)
    assert harness.events == []


async def test_force_logout_reports_revoked_sessions(harness: Harness) -> None:
    r = await harness.client.post(f"/users/{ALICE}/logout", headers=harness.admin)
    assert r.status_code == 200
    assert r.json() == {"revoked_sessions": 3}
    assert harness.accounts.sessions[ALICE] == 0
    (event,) = await harness.emitted(1)
    assert event.type == "admin.user.logged_out"
    assert UserLoggedOut.of(event) == UserLoggedOut(
        actor=ADMIN_ID, user_id=ALICE, revoked_sessions=3
    )


async def test_stats_combine_auth_and_user_counts(harness: Harness) -> None:
    await harness.client.post(
        f"/users/{BOB}/suspend", json={"reason": "abuse"}, headers=harness.admin
    )
    r = await harness.client.get("/stats", headers=harness.admin)
    assert r.status_code == 200
    assert r.json() == {
        "users": 3,
        "active_users": 2,
        "suspended_users": 1,
        "active_sessions": 4,
        "profiles": 2,
        "devices": 4,
    }


async def test_a_failing_upstream_is_a_bad_gateway_not_an_internal_error(
    harness: Harness,
) -> None:
    harness.accounts.user_service_broken = True
    r = await harness.client.get("/stats", headers=harness.admin)
    assert r.status_code == 502
    assert r.headers["content-type"] == "application/problem+json"


async def test_admin_actions_land_in_the_audit_log(
    harness: Harness, tmp_path: Path, keys: TestKeys
) -> None:
    settings = Settings(
        service="audit",
        data_dir=tmp_path / "audit",
        kafka_topic_prefix=harness.runtime.settings.kafka_topic_prefix,
    )
    async with running_app("audit", settings, keys=keys) as (_app, audit, _runtime):
        await harness.client.post(
            f"/users/{BOB}/suspend", json={"reason": "abuse"}, headers=harness.admin
        )
        await harness.client.post(f"/users/{BOB}/logout", headers=harness.admin)
        items: list[dict[str, object]] = []
        for _ in range(100):
            r = await audit.get(
                "/internal/entries", params={"actor": ADMIN_ID}, headers={"X-QuckChat-Caller": "t"}
            )
            items = r.json()["items"]
            if len(items) == 2:
                break
            await asyncio.sleep(0.02)
    assert [item["action"] for item in items] == ["admin.user.logged_out", "admin.user.suspended"]
    assert all(item["target"] == BOB for item in items)
    assert items[1]["data"] == {"actor": ADMIN_ID, "user_id": BOB, "reason": "abuse"}
