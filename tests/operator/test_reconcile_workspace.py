"""A Workspace's passes without an apiserver: first against a stand-in answering what the real
service can not be made to (failures, a lost answer), then against the real workspace service
in this process (on SQLite), through the same client code the services use."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat_operator import naming
from quckchat_operator.backoff import LAST_RETRY
from quckchat_operator.models import WorkspacePhase
from quckchat_operator.reconcile_workspace import (
    URL_ENV,
    Outcome,
    deprovision,
    reconcile,
    service_url,
)
from quckchat_operator.render.meta import Manifest
from quckchat_operator.render.workspace import MAX_EXPORT_BYTES
from tests.operator.support import FakeApplier
from tests.support import TestKeys
from tests.worlds.org import SERVICES, Org, running_org

NS = "team"
CALLER_HEADER = "X-QuckChat-Caller"
SLUG = naming.workspace_slug(NS, "acme")
BY_SLUG = f"/internal/workspaces/by-slug/{SLUG}"
Handler = Callable[[httpx.Request], httpx.Response]


def cluster(*, ready: bool = True, deleting: bool = False) -> Manifest:
    meta: dict[str, Any] = {"name": "quckchat", "namespace": NS, "uid": "c-1"}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-04T00:00:00Z"
    condition = {"type": "Ready", "status": "True" if ready else "False"}
    return {
        "apiVersion": naming.GROUP_VERSION,
        "kind": naming.CLUSTER.kind,
        "metadata": meta,
        "spec": {},
        "status": {"phase": "Ready" if ready else "Provisioning", "conditions": [condition]},
    }


def workspace(
    owner: str = "owner@acme.example", status: dict[str, Any] | None = None, **spec: Any
) -> Manifest:
    return {
        "apiVersion": naming.GROUP_VERSION,
        "kind": naming.WORKSPACE.kind,
        "metadata": {"name": "acme", "namespace": NS, "uid": "w-uid", "generation": 2},
        "spec": {
            "clusterRef": "quckchat",
            "displayName": "Acme",
            "owner": {"email": owner},
            **spec,
        },
        "status": status or {},
    }


def secret(applier: FakeApplier, name: str) -> dict[str, str] | None:
    found = applier.objects.get(("Secret", name))
    if found is None:
        return None
    return {k: base64.b64decode(v).decode() for k, v in found["data"].items()}


def problem(code: int, kind: str) -> httpx.Response:
    body = {"type": f"https://quckchat.io/problems/{kind}", "status": code, "detail": kind}
    return httpx.Response(code, json=body, headers={"content-type": "application/problem+json"})


def theirs() -> dict[str, Any]:
    """The workspace of `workspace()`'s spec as the service shows it, its owner joined."""
    return {
        "id": "w1",
        "slug": SLUG,
        "tenant": "default",
        "name": "Acme",
        "owner_ids": ["u1"],
        "quotas": {"max_members": 1000, "max_storage_bytes": 100 * 2**30},
        "settings": {"retention_days": None, "guests_allowed": False},
    }


class StandIn:
    """The workspace service's internal API as `answer` says, every request recorded."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        assert request.headers[CALLER_HEADER] == naming.MANAGED_BY
        return self.answer(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def test_the_service_url_is_the_clusters_service_unless_overridden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    assert service_url("quckchat", "team") == "http://quckchat-workspace.team.svc:5004"
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:9999/")
    assert service_url("quckchat", "team") == "http://127.0.0.1:9999"


async def test_a_workspace_waits_for_its_cluster_to_exist_and_be_ready() -> None:
    missing = await reconcile(FakeApplier(), workspace())
    assert missing.observed is not None and missing.observed.reason == "ClusterNotFound"
    assert missing.observed.phase == WorkspacePhase.PENDING and missing.retry is not None
    waiting = await reconcile(FakeApplier([cluster(ready=False)]), workspace())
    assert waiting.observed is not None and waiting.observed.reason == "ClusterNotReady"
    assert "Provisioning" in waiting.observed.message and waiting.retry is not None


async def test_an_invalid_spec_fails_without_a_retry() -> None:
    body = workspace()
    body["spec"]["owner"] = {}
    outcome = await reconcile(FakeApplier([cluster()]), body)
    assert outcome.observed is not None and outcome.observed.phase == WorkspacePhase.FAILED
    assert outcome.observed.reason == "InvalidSpec" and outcome.retry is None


def refuse_connections(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    "answer", [refuse_connections, lambda request: httpx.Response(503, text="down")]
)
async def test_a_service_without_an_answer_is_tried_again(answer: Handler) -> None:
    service = StandIn(answer)
    outcome = await reconcile(FakeApplier([cluster()]), workspace(), transport=service.transport)
    assert outcome.observed is not None and outcome.observed.phase == WorkspacePhase.PROVISIONING
    assert outcome.observed.reason == "ServiceUnreachable" and outcome.retry is not None
    assert "quckchat-workspace.team.svc:5004" in outcome.observed.message
    # A read is retried within the pass (the services' client), then left to the next pass.
    assert len(service.calls) > 1 and set(service.calls) == {f"GET {BY_SLUG}"}


async def test_a_slug_of_another_tenant_fails_and_nothing_is_sent() -> None:
    service = StandIn(lambda request: httpx.Response(200, json={**theirs(), "tenant": "other"}))
    outcome = await reconcile(FakeApplier([cluster()]), workspace(), transport=service.transport)
    assert outcome.observed is not None and outcome.observed.phase == WorkspacePhase.FAILED
    assert outcome.observed.reason == "SlugTaken" and SLUG in outcome.observed.message
    assert outcome.retry is None and service.calls == [f"GET {BY_SLUG}"]


async def test_a_refused_spec_fails_with_the_services_reason() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return problem(404, "not-found") if request.method == "GET" else problem(422, "bad-quota")

    outcome = await reconcile(
        FakeApplier([cluster()]), workspace(), transport=StandIn(answer).transport
    )
    assert outcome.observed is not None and outcome.observed.phase == WorkspacePhase.FAILED
    assert outcome.observed.reason == "BadQuota" and "(422)" in outcome.observed.message
    assert outcome.retry is None


async def test_a_taken_slug_in_our_tenant_is_the_workspace_a_lost_answer_made() -> None:
    reads = iter([problem(404, "not-found"), httpx.Response(200, json=theirs())])

    def answer(request: httpx.Request) -> httpx.Response:
        return problem(409, "slug-taken") if request.method == "POST" else next(reads)

    service = StandIn(answer)
    outcome = await reconcile(FakeApplier([cluster()]), workspace(), transport=service.transport)
    assert outcome.observed is not None and outcome.observed.phase == WorkspacePhase.READY
    assert outcome.observed.workspace_id == "w1" and outcome.observed.owner is not None
    assert outcome.observed.owner[1] == "Joined"
    assert service.calls == [f"GET {BY_SLUG}", "POST /internal/workspaces", f"GET {BY_SLUG}"]


PROVISIONED = {"workspaceId": "w1", "phase": "Ready"}


async def test_a_workspace_never_provisioned_or_whose_cluster_went_is_just_released() -> None:
    assert await deprovision(FakeApplier(), workspace(status={"phase": "Pending"})) == Outcome(None)
    gone = await deprovision(FakeApplier(), workspace(status=PROVISIONED))
    going = await deprovision(FakeApplier([cluster(deleting=True)]), workspace(status=PROVISIONED))
    for outcome in (gone, going):
        assert [n.reason for n in outcome.notes] == ["Released"] and outcome.retry is None


async def test_a_workspace_that_is_not_this_ones_is_kept() -> None:
    service = StandIn(lambda request: httpx.Response(200, json={**theirs(), "id": "w2"}))
    outcome = await deprovision(
        FakeApplier([cluster()]), workspace(status=PROVISIONED), transport=service.transport
    )
    assert [(n.reason, n.warning) for n in outcome.notes] == [("NotOwned", True)]
    assert service.calls == [f"GET {BY_SLUG}"]


async def test_an_export_too_large_for_a_secret_holds_the_deletion() -> None:
    members = [{"user_id": f"u{i}", "role": "member"} for i in range(MAX_EXPORT_BYTES // 30)]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/export"):
            return httpx.Response(200, json={"workspace": theirs(), "members": members})
        return httpx.Response(200, json=theirs())

    service = StandIn(answer)
    applier = FakeApplier([cluster()])
    body = workspace(status=PROVISIONED, exportOnDelete=True)
    outcome = await deprovision(applier, body, transport=service.transport)
    assert outcome.retry is not None and "exportOnDelete" in outcome.retry
    assert outcome.delay == LAST_RETRY
    assert not any(c.startswith("DELETE") for c in service.calls)
    assert applier.applied() == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [(refuse_connections, "ServiceUnreachable"), (lambda r: problem(409, "busy"), "DeleteRefused")],
)
async def test_a_deletion_the_service_does_not_take_is_tried_again(
    answer: Handler, reason: str
) -> None:
    def reads_then(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=theirs()) if request.method == "GET" else answer(request)

    outcome = await deprovision(
        FakeApplier([cluster()]),
        workspace(status=PROVISIONED),
        transport=StandIn(reads_then).transport,
    )
    assert outcome.observed is not None and outcome.observed.phase == WorkspacePhase.DELETING
    assert outcome.observed.reason == reason and outcome.retry is not None
    assert outcome.delay is None


# Against the real workspace service.
@pytest.fixture(scope="module")
async def org(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Org]:
    path: Path = tmp_path_factory.mktemp("org")
    async with running_org("sqlite", path, TestKeys(), services=["auth", *SERVICES]) as org:
        yield org


async def test_a_workspace_lives_and_goes_through_the_real_service(org: Org) -> None:
    transport = httpx.ASGITransport(app=org.mesh.apps["workspace"])
    applier = FakeApplier([cluster()])
    owner = f"{uuid.uuid4().hex[:8]}@acme.example"
    body = workspace(owner, quotas={"members": 50, "storageGiB": 2}, exportOnDelete=True)
    invite_name = naming.owner_invite_name("acme")

    async def pass_over(spec: Manifest) -> Outcome:
        outcome = await reconcile(applier, spec, transport=transport)
        assert outcome.observed is not None
        spec["status"] = {"workspaceId": outcome.observed.workspace_id}
        return outcome

    first = await pass_over(body)
    assert first.observed is not None and first.observed.phase == WorkspacePhase.READY
    assert first.observed.owner is not None and first.observed.owner[:2] == ("False", "InviteSent")
    workspace_id = first.observed.workspace_id
    assert first.observed.url == (
        f"http://quckchat-backend-gateway.team.svc:3000/api/v1/workspaces/{workspace_id}"
    )
    link = secret(applier, invite_name)
    assert link is not None and link["url"].endswith("/join/" + link["token"])
    (owned,) = applier.objects[("Secret", invite_name)]["metadata"]["ownerReferences"]
    assert (owned["kind"], owned["uid"], owned["controller"]) == ("Workspace", "w-uid", True)

    # Unchanged: the kept link is not replaced, and nothing is written.
    applier.writes.clear()
    again = await pass_over(body)
    assert again.observed is not None and again.observed.owner == first.observed.owner
    assert applier.writes == [] and secret(applier, invite_name) == link

    headers = org.auth(uuid.uuid4().hex, email=owner, email_verified=True)
    joined = await org.workspace.post("/join", json={"token": link["token"]}, headers=headers)
    assert joined.status_code == 201, joined.text
    body["spec"]["quotas"] = {"members": 10, "storageGiB": 2}
    after = await pass_over(body)
    assert after.observed is not None and after.observed.owner is not None
    assert after.observed.owner[:2] == ("True", "Joined")
    assert secret(applier, invite_name) is None
    live = (await org.workspace.get(BY_SLUG, headers={CALLER_HEADER: "test"})).json()
    assert live["quotas"] == {"max_members": 10, "max_storage_bytes": 2 * 2**30}

    body["status"] = PROVISIONED | {"workspaceId": workspace_id}
    gone = await deprovision(applier, body, transport=transport)
    assert [n.reason for n in gone.notes] == ["Exported", "Deprovisioned"]
    assert gone.observed is not None and gone.observed.reason == "Deleting"
    exported = secret(applier, naming.export_name("acme"))
    assert exported is not None
    document = json.loads(exported["export.json"])
    assert document["workspace"]["id"] == workspace_id
    assert [m["role"] for m in document["members"]] == ["owner"]
    assert "ownerReferences" not in applier.objects[("Secret", "acme-export")]["metadata"]
    missing = await org.workspace.get(BY_SLUG, headers={CALLER_HEADER: "test"})
    assert missing.status_code == 404

    twice = await deprovision(applier, body, transport=transport)
    assert [n.message for n in twice.notes] == [f"workspace {SLUG} was gone already"]
