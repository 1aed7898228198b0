"""The audit API on each database: filters, pages, export, verify, and who may read."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from quckchat.audit import chain, logic
from quckchat.audit.schemas import EntryQuery
from quckchat.core.events import Event
from quckchat.core.pagination import encode_cursor
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from tests.support import TestKeys, running_app
from tests.worlds.stand_ins import permission_app

AUDITOR = "auditor"
ALICE, BOB, ADMIN = "alice", "bob", "root"

# (type, actor, user_id, tenant, time)
EVENTS = [
    ("auth.login.succeeded", ALICE, ALICE, "t1", "2026-01-01T10:00:00+00:00"),
    ("auth.login.failed", BOB, BOB, "t1", "2026-01-01T11:00:00+00:00"),
    ("auth.login.succeeded", BOB, BOB, "t2", "2026-01-02T09:00:00+00:00"),
    ("permission.role.granted", ADMIN, ALICE, "t1", "2026-01-02T10:00:00+00:00"),
    ("admin.user.suspended", ADMIN, BOB, "platform", "2026-01-03T08:00:00+00:00"),
    ("auth_login.odd", ALICE, ALICE, "t1", "2026-01-03T09:00:00+00:00"),
]


@dataclass
class Audit:
    client: httpx.AsyncClient
    runtime: Runtime
    reader: dict[str, str]

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.reader)


@pytest.fixture
async def audit(sql_url: str, tmp_path: Path, keys: TestKeys) -> AsyncIterator[Audit]:
    settings = Settings(
        service="audit",
        database_url=sql_url,
        data_dir=tmp_path,
        service_url_template="http://{name}",
    )
    async with running_app("audit", settings, keys=keys) as (_app, client, runtime):
        await runtime.http.client.aclose()
        # The permission service is stood in for: only AUDITOR holds audit.read.
        runtime.http.client = httpx.AsyncClient(
            mounts={
                "http://permission": httpx.ASGITransport(
                    app=permission_app({(AUDITOR, "audit.read")})
                )
            }
        )
        assert runtime.db is not None
        for type_, actor, user_id, tenant, time in EVENTS:
            event = Event(
                type=type_,
                source=type_.split(".")[0],
                key=user_id,
                data={"actor": actor, "user_id": user_id},
                tenant=tenant,
                time=time,
            )
            await chain.append(runtime.db, event=event)
        yield Audit(client, runtime, keys.header(AUDITOR, tenant="t9"))


def seqs(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["seq"] for item in response.json()["items"]]


async def test_reading_needs_audit_read(audit: Audit, keys: TestKeys) -> None:
    for path in ("/entries", "/export", "/verify"):
        assert (await audit.client.get(path)).status_code == 401
        denied = await audit.client.get(path, headers=keys.header(ALICE, tenant="t1"))
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/problem+json"
        assert (await audit.get(path)).status_code == 200


async def test_entries_come_newest_first_with_their_chain(audit: Audit) -> None:
    r = await audit.get("/entries")
    assert seqs(r) == [6, 5, 4, 3, 2, 1]
    first = r.json()["items"][-1]
    assert first["action"] == "auth.login.succeeded"
    assert first["actor"] == ALICE
    assert first["target"] == ALICE
    assert first["tenant"] == "t1"
    assert first["source"] == "auth"
    assert first["time"].startswith("2026-01-01T10:00:00")
    assert first["prev_hash"] == "0" * 64
    assert r.json()["items"][-2]["prev_hash"] == first["hash"]
    assert r.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": BOB}, [3, 2]),
        ({"action": "auth.login.succeeded"}, [3, 1]),
        ({"action": "auth.*"}, [3, 2, 1]),  # a prefix; `_` in auth_login is no wildcard
        ({"action": "auth.login.*", "actor": ALICE}, [1]),
        ({"tenant": "t1"}, [6, 4, 2, 1]),
        ({"target": BOB}, [5, 3, 2]),
        ({"since": "2026-01-02T00:00:00Z"}, [6, 5, 4, 3]),
        ({"until": "2026-01-02T00:00:00+00:00"}, [2, 1]),
        ({"since": "2026-01-02T09:00:00", "until": "2026-01-03T08:00:00Z"}, [4, 3]),
        ({"since": "2026-01-02T11:00:00+02:00"}, [6, 5, 4, 3]),
        ({"actor": "nobody"}, []),
    ],
)
async def test_entries_filter(audit: Audit, params: dict[str, str], expected: list[int]) -> None:
    assert seqs(await audit.get("/entries", **params)) == expected


async def test_entries_page_by_cursor(audit: Audit) -> None:
    pages: list[list[int]] = []
    cursor: str | None = None
    while True:
        r = await audit.get("/entries", limit="2", **({"cursor": cursor} if cursor else {}))
        pages.append(seqs(r))
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == [[6, 5], [4, 3], [2, 1]]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"cursor": "not-a-cursor"}, 400),
        ({"cursor": encode_cursor("x", "y")}, 400),
        ({"cursor": encode_cursor(3, 4)}, 400),
        ({"since": "yesterday"}, 422),
        ({"until": "0001-01-01T00:00:00+14:00"}, 422),
        ({"limit": "0"}, 422),
        ({"limit": "1000"}, 422),
        ({"actor": "x" * 200}, 422),
    ],
)
async def test_bad_queries_are_client_errors(
    audit: Audit, params: dict[str, str], status: int
) -> None:
    r = await audit.get("/entries", **params)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"


async def test_export_jsonl_streams_the_filtered_log_in_order(audit: Audit) -> None:
    r = await audit.get("/export", format="jsonl", action="auth.*")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-ndjson"
    assert r.headers["content-disposition"] == 'attachment; filename="audit.jsonl"'
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[1]["action"] == "auth.login.failed"
    assert lines[1]["data"] == {"actor": BOB, "user_id": BOB}
    everything = await audit.get("/export")
    assert len(everything.text.splitlines()) == len(EVENTS)


async def test_export_csv(audit: Audit) -> None:
    r = await audit.get("/export", format="csv", actor=ADMIN)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["seq"] for row in rows] == ["4", "5"]
    assert rows[1]["action"] == "admin.user.suspended"
    assert json.loads(rows[1]["data"]) == {"actor": ADMIN, "user_id": BOB}
    assert list(rows[0]) == list(logic.CSV_COLUMNS)
    empty = await audit.get("/export", format="csv", actor="nobody")
    assert empty.text.splitlines() == [",".join(logic.CSV_COLUMNS)]
    assert (await audit.get("/export", format="xml")).status_code == 422


async def test_export_reads_in_batches(audit: Audit) -> None:
    assert audit.runtime.db is not None
    streamed = logic.stream_entries(audit.runtime.db, filters=EntryQuery(), batch_size=2)
    assert [entry.seq async for entry in streamed] == [1, 2, 3, 4, 5, 6]


async def test_verify_reports_tampering(audit: Audit) -> None:
    r = await audit.get("/verify")
    assert r.json() == {"valid": True, "entries": 6, "first_broken_seq": None, "reason": None}
    assert audit.runtime.db is not None
    async with audit.runtime.db.session() as session:
        await session.execute(text("UPDATE audit_entries SET target = 'carol' WHERE seq = 5"))
    r = await audit.get("/verify")
    assert r.json()["valid"] is False
    assert r.json()["first_broken_seq"] == 5
    assert r.json()["entries"] == 4


async def test_internal_entries_are_for_services(audit: Audit) -> None:
    assert (await audit.client.get("/internal/entries")).status_code == 401
    r = await audit.client.get(
        "/internal/entries",
        params={"target": BOB, "action": "admin.*"},
        headers={"X-QuckChat-Caller": "admin"},
    )
    assert seqs(r) == [5]
