"""The Workspace handler's pure parts: spec to request bodies, answers to status and Secrets."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from quckchat_operator import naming, status
from quckchat_operator.models import QuckChatClusterSpec, WorkspacePhase, WorkspaceSpec
from quckchat_operator.status import WorkspaceObservation
from quckchat_operator.workspace_client import (
    CALLER_HEADER,
    URL_ENV,
    Refused,
    Unreachable,
    WorkspaceService,
    changes,
    export_secret,
    invite_secret,
    provision_body,
    public_url,
    service_url,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def workspace_spec(**overrides: Any) -> WorkspaceSpec:
    spec: dict[str, Any] = {
        "clusterRef": "quckchat",
        "displayName": "Acme",
        "owner": {"email": "owner@acme.example"},
        "quotas": {"members": 500, "storageGiB": 250},
        "settings": {"retentionDays": 365, "guestsAllowed": False},
        **overrides,
    }
    return WorkspaceSpec.model_validate(spec)


def workspace_object() -> dict[str, Any]:
    return {
        "apiVersion": naming.GROUP_VERSION,
        "kind": naming.WORKSPACE.kind,
        "metadata": {"name": "acme", "namespace": "team", "uid": "u-1", "generation": 3},
    }


def live_from(body: dict[str, Any]) -> dict[str, Any]:
    """The workspace as the service shows it after provisioning `body`."""
    return {"id": "w1", "slug": body["slug"], "name": body["name"], **body, "owner_ids": []}


def test_the_provisioning_body_carries_the_whole_spec() -> None:
    body = provision_body(workspace_spec(), "team-acme")
    assert body == {
        "tenant": "default",
        "name": "Acme",
        "slug": "team-acme",
        "owner": {"email": "owner@acme.example"},
        "quotas": {"max_members": 500, "max_storage_bytes": 250 * 2**30},
        "settings": {"retention_days": 365, "guests_allowed": False},
    }


def test_keep_forever_is_null_and_a_phone_owner_is_sent_as_phone() -> None:
    spec = workspace_spec(owner={"phone": "+4915112345678"}, settings={"retentionDays": 0})
    body = provision_body(spec, "s")
    assert body["owner"] == {"phone": "+4915112345678"}
    assert body["settings"] == {"retention_days": None, "guests_allowed": False}


def test_an_unchanged_workspace_needs_no_update() -> None:
    spec = workspace_spec()
    assert changes(spec, live_from(provision_body(spec, "s"))) == {}


def test_only_what_differs_is_sent() -> None:
    live = live_from(provision_body(workspace_spec(), "s"))
    edited = workspace_spec(
        displayName="Acme Two",
        quotas={"members": 10, "storageGiB": 250},
        settings={"retentionDays": 0, "guestsAllowed": False},
    )
    assert changes(edited, live) == {
        "name": "Acme Two",
        "quotas": {"max_members": 10},
        "settings": {"retention_days": None},
    }


def test_the_slug_is_stable_unique_and_valid() -> None:
    assert naming.workspace_slug("team", "acme") == "team-acme"
    dotted = naming.workspace_slug("team", "acme.corp")
    assert dotted == naming.workspace_slug("team", "acme.corp")
    assert dotted != naming.workspace_slug("team", "acme-corp")
    long = naming.workspace_slug("n" * 63, "w" * 200)
    for slug in (dotted, long, naming.workspace_slug("team", "Acme")):
        assert SLUG_PATTERN.match(slug), slug


def test_the_service_url_is_the_clusters_service_unless_overridden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    assert service_url("quckchat", "team") == "http://quckchat-workspace.team.svc:5004"
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:9999/")
    assert service_url("quckchat", "team") == "http://127.0.0.1:9999"


def test_the_public_url_uses_the_ingress_host_when_there_is_one() -> None:
    plain = QuckChatClusterSpec()
    assert public_url("qc", "team", plain, "w1") == (
        "http://qc-backend-gateway.team.svc:3000/api/v1/workspaces/w1"
    )
    tls = QuckChatClusterSpec.model_validate(
        {"ingress": {"enabled": True, "host": "chat.acme.example", "tlsSecretName": "tls"}}
    )
    assert public_url("qc", "team", tls, "w1") == "https://chat.acme.example/api/v1/workspaces/w1"


def ready(**found: Any) -> WorkspaceObservation:
    return WorkspaceObservation(
        WorkspacePhase.READY,
        "Provisioned",
        "workspace team-acme matches the spec",
        3,
        workspace_id="w1",
        url="http://x/api/v1/workspaces/w1",
        **found,
    )


def test_a_ready_workspace_reports_its_id_url_and_conditions() -> None:
    owner = ("False", "InviteSent", "their join link is in Secret acme-owner-invite")
    new = status.workspace_status(ready(owner=owner), None, NOW)
    assert new["phase"] == "Ready" and new["workspaceId"] == "w1"
    assert new["url"] == "http://x/api/v1/workspaces/w1" and new["observedGeneration"] == 3
    conditions = {c["type"]: c for c in new["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Ready"]["reason"] == "Provisioned"
    assert conditions["OwnerJoined"]["status"] == "False"
    assert "acme-owner-invite" in conditions["OwnerJoined"]["message"]


def test_the_same_observation_later_changes_nothing() -> None:
    first = status.workspace_status(ready(), None, NOW)
    again = status.workspace_status(ready(), first, NOW + timedelta(minutes=5))
    assert status.merge_patch(first, again) == {}


def test_without_an_answer_the_id_and_owner_condition_are_kept() -> None:
    owner = ("True", "Joined", "the owner has joined the workspace")
    first = status.workspace_status(ready(owner=owner), None, NOW)
    unreachable = WorkspaceObservation(
        WorkspacePhase.PROVISIONING, "ServiceUnreachable", "does not answer", 4
    )
    later = status.workspace_status(unreachable, first, NOW + timedelta(minutes=1))
    assert later["workspaceId"] == "w1" and later["phase"] == "Provisioning"
    conditions = {c["type"]: c for c in later["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "ServiceUnreachable"
    assert (
        conditions["Ready"]["lastTransitionTime"] != conditions["OwnerJoined"]["lastTransitionTime"]
    )
    assert conditions["OwnerJoined"]["status"] == "True"


def test_the_owner_link_goes_to_a_secret_owned_by_the_workspace() -> None:
    invite = {"token": "t" * 32, "url": "http://chat/join/" + "t" * 32}
    secret = invite_secret(workspace_object(), invite)
    assert secret["metadata"]["name"] == "acme-owner-invite"
    assert secret["metadata"]["namespace"] == "team"
    (owner,) = secret["metadata"]["ownerReferences"]
    assert owner["kind"] == "Workspace" and owner["uid"] == "u-1"
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {"token": invite["token"], "url": invite["url"]}


def test_an_export_secret_outlives_the_workspace() -> None:
    document = {"workspace": {"id": "w1", "slug": "team-acme"}, "members": [], "channels": []}
    secret = export_secret(workspace_object(), document)
    assert secret["metadata"]["name"] == "acme-export"
    assert "ownerReferences" not in secret["metadata"]
    assert json.loads(base64.b64decode(secret["data"]["export.json"])) == document


def service(handler: Any) -> WorkspaceService:
    return WorkspaceService("http://workspace", transport=httpx.MockTransport(handler))


def problem(code: int, kind: str) -> httpx.Response:
    body = {"type": f"https://quckchat.dev/problems/{kind}", "status": code, "detail": kind}
    return httpx.Response(code, json=body, headers={"content-type": "application/problem+json"})


async def test_a_taken_slug_in_our_tenant_is_read_back() -> None:
    body = provision_body(workspace_spec(), "team-acme")
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path} {request.headers[CALLER_HEADER]}")
        if request.method == "POST":
            return problem(409, "slug-taken")
        return httpx.Response(200, json=live_from(body))

    found = await service(handle).provision(body)
    assert found.workspace["id"] == "w1" and found.invite is None
    assert calls == [
        "POST /internal/workspaces quckchat-operator",
        "GET /internal/workspaces/by-slug/team-acme quckchat-operator",
    ]


async def test_a_slug_of_another_tenant_is_refused() -> None:
    body = provision_body(workspace_spec(), "team-acme")

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return problem(409, "slug-taken")
        return httpx.Response(200, json={**live_from(body), "tenant": "other"})

    with pytest.raises(Refused) as refused:
        await service(handle).provision(body)
    assert refused.value.status == 409 and refused.value.kind == "slug-taken"


async def test_failures_of_the_service_are_worth_a_retry_and_404_means_gone() -> None:
    with pytest.raises(Unreachable):
        await service(lambda request: httpx.Response(503, text="down")).get("s")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(Unreachable):
        await service(refuse).delete("s")
    assert await service(lambda request: problem(404, "not-found")).delete("s") is False
    assert await service(lambda request: httpx.Response(204)).delete("s") is True
    with pytest.raises(Refused):
        await service(lambda request: problem(422, "validation")).update("s", {})
