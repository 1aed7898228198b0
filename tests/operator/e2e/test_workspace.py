"""Workspaces on a real control plane, provisioned through the real workspace service.

The organization services (auth, permission, channel, workspace) run in this process on their
own event loop, the workspace service on a real local port that the operator, running
in-process too, reaches through $QUCKCHAT_OPERATOR_WORKSPACE_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from quckchat_operator import naming
from quckchat_operator.reconcile_workspace import URL_ENV
from tests.operator.e2e.kube import claim_volumes, secret_data
from tests.support import TestKeys
from tests.worlds.clusters import EXAMPLES
from tests.worlds.kube import kubectl, kubectl_json, wait_for
from tests.worlds.mesh import serving
from tests.worlds.org import INTERNAL, SERVICES, Org, running_org

pytestmark = pytest.mark.kube

T = TypeVar("T")
CLUSTER = "quckchat"  # examples/minimal-cluster.yaml


class Services:
    """The organization services on an event loop of their own, in a thread, so they answer
    while the tests wait synchronously on kubectl."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.stop: asyncio.Event | None = None
        self.org: Org | None = None
        self.url = ""
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="org-services", daemon=True)

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the test by __enter__
            self.failure = exc
            self.started.set()

    async def _serve(self) -> None:
        self.stop = asyncio.Event()
        services = ["auth", *SERVICES]
        async with AsyncExitStack() as stack:
            org = await stack.enter_async_context(
                running_org("sqlite", self.tmp_path, TestKeys(), services=services)
            )
            port = await stack.enter_async_context(serving(org.mesh.apps["workspace"]))
            self.org, self.url = org, f"http://127.0.0.1:{port}"
            self.started.set()
            await self.stop.wait()

    def __enter__(self) -> Services:
        self.thread.start()
        self.started.wait(timeout=120)
        if self.failure is not None or self.org is None:
            raise AssertionError(f"the organization services did not start: {self.failure!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(timeout=60)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    @property
    def mesh(self) -> Org:
        assert self.org is not None
        return self.org

    def internal(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.run(self.mesh.workspace.request(method, path, headers=INTERNAL, **kwargs))
        return response.status_code, response.json() if response.content else None


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    before = os.environ.get(URL_ENV)
    with Services(tmp_path_factory.mktemp("org")) as running:
        os.environ[URL_ENV] = running.url
        yield running
    if before is None:
        os.environ.pop(URL_ENV, None)
    else:
        os.environ[URL_ENV] = before


@pytest.fixture(scope="module")
def ns(services: Services, operator: object, namespace: str) -> Iterator[str]:
    """The namespace, with every Workspace deleted while the operator still runs."""
    yield namespace
    kubectl("delete", "workspaces", "--all", "-n", namespace, "--wait=false")
    wait_for(
        "the workspaces to be deleted",
        lambda: not kubectl_json("get", "workspaces", "-n", namespace)["items"],
    )


@pytest.fixture(scope="module")
def ready_cluster(ns: str) -> str:
    claim_volumes(ns, CLUSTER)
    kubectl("apply", "-n", ns, "-f", str(EXAMPLES / "minimal-cluster.yaml"))
    wait_for(
        "the cluster to be Ready",
        lambda: (
            kubectl_json("get", "qc", CLUSTER, "-n", ns).get("status", {}).get("phase") == "Ready"
        ),
    )
    return ns


def apply_workspace(namespace: str, name: str, **spec: Any) -> None:
    document = {
        "apiVersion": naming.GROUP_VERSION,
        "kind": naming.WORKSPACE.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterRef": CLUSTER, "displayName": name.title(), **spec},
    }
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(document))


def workspace(namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = kubectl_json("get", "workspace", name, "-n", namespace)
    return found


def condition(found: dict[str, Any], kind: str) -> dict[str, Any]:
    conditions = found.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == kind), {})


def wait_for_phase(namespace: str, name: str, phase: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = workspace(namespace, name)
        return found if found.get("status", {}).get("phase") == phase else None

    return wait_for(f"workspace {name} to be {phase}", probe)


def gone(namespace: str, name: str) -> bool:
    return "NotFound" in kubectl("get", "workspace", name, "-n", namespace, check=False)


def event_reasons(namespace: str, name: str) -> list[str]:
    events = kubectl_json(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={name}"
    )["items"]
    return [e["reason"] for e in events if e["involvedObject"]["kind"] == "Workspace"]


def register(services: Services) -> tuple[str, str]:
    """A person with an account and a verified email: (email, user id)."""
    email = f"{uuid.uuid4().hex[:8]}@acme.example"
    response = services.run(
        services.mesh.mesh.client("auth").post(
            "/register", json={"email": email, "password": "correct horse battery"}
        )
    )
    assert response.status_code == 201, response.text
    user_id = str(response.json()["user_id"])
    # Only a verified email finds its account: an owner named by email must have proven it.
    services.run(services.mesh.verify_email(user_id))
    return email, user_id


def test_a_workspace_of_a_missing_cluster_waits(ns: str) -> None:
    apply_workspace(ns, "orphan", clusterRef="nowhere", owner={"email": "o@acme.example"})
    found = wait_for_phase(ns, "orphan", "Pending")
    ready = condition(found, "Ready")
    assert ready["status"] == "False" and ready["reason"] == "ClusterNotFound"
    assert "nowhere" in ready["message"]
    kubectl("delete", "workspace", "orphan", "-n", ns, "--wait=false")
    wait_for("the pending workspace to go", lambda: gone(ns, "orphan"))


def test_a_workspace_is_provisioned_with_its_owner_channels_and_quotas(
    ready_cluster: str, services: Services
) -> None:
    ns = ready_cluster
    email, owner = register(services)
    apply_workspace(
        ns,
        "acme",
        owner={"email": email},
        quotas={"members": 500, "storageGiB": 250},
        settings={"retentionDays": 365, "guestsAllowed": False},
    )
    status = wait_for_phase(ns, "acme", "Ready")["status"]
    workspace_id = status["workspaceId"]
    assert status["url"].endswith(f"/api/v1/workspaces/{workspace_id}")
    assert condition({"status": status}, "OwnerJoined")["status"] == "True"
    code, live = services.internal("GET", f"/internal/workspaces/by-slug/{ns}-acme")
    assert code == 200 and live["id"] == workspace_id and live["owner_ids"] == [owner]
    assert live["quotas"] == {"max_members": 500, "max_storage_bytes": 250 * 2**30}
    assert live["settings"] == {"retention_days": 365, "guests_allowed": False}
    channels = services.run(services.mesh.channels(workspace_id, owner))
    assert set(channels) == {"general", "random"}


def test_spec_changes_reach_the_service(ready_cluster: str, services: Services) -> None:
    ns = ready_cluster
    change = {
        "spec": {
            "displayName": "Acme Two",
            "quotas": {"members": 10},
            "settings": {"retentionDays": 0, "guestsAllowed": True},
        }
    }
    kubectl("patch", "workspace", "acme", "-n", ns, "--type=merge", "-p", json.dumps(change))

    def applied() -> dict[str, Any] | None:
        _, live = services.internal("GET", f"/internal/workspaces/by-slug/{ns}-acme")
        return live if live["quotas"]["max_members"] == 10 else None

    live = wait_for("the new quota in the service", applied)
    assert live["name"] == "Acme Two"
    assert live["settings"] == {"retention_days": None, "guests_allowed": True}
    assert live["quotas"]["max_storage_bytes"] == 250 * 2**30
    found = workspace(ns, "acme")
    wait_for(
        "the status to observe the change",
        lambda: (
            workspace(ns, "acme")["status"].get("observedGeneration")
            == found["metadata"]["generation"]
        ),
    )


def test_an_owner_without_an_account_gets_a_link_in_a_secret(
    ready_cluster: str, services: Services
) -> None:
    ns = ready_cluster
    apply_workspace(ns, "beta", owner={"email": "new-owner@beta.example"}, exportOnDelete=True)
    found = wait_for_phase(ns, "beta", "Ready")
    owner = condition(found, "OwnerJoined")
    assert owner["status"] == "False" and "beta-owner-invite" in owner["message"]
    link = secret_data(ns, "beta-owner-invite")
    assert link["url"].endswith("/join/" + link["token"])
    assert link["token"] not in json.dumps(found["status"])
    secret = kubectl_json("get", "secret", "beta-owner-invite", "-n", ns)
    assert secret["metadata"]["ownerReferences"][0]["uid"] == found["metadata"]["uid"]
    # The owner follows the link; the next pass sees them and drops the link.
    user = uuid.uuid4().hex
    joined = services.run(
        services.mesh.workspace.post(
            "/join",
            json={"token": link["token"]},
            headers=services.mesh.auth(user, email="new-owner@beta.example", email_verified=True),
        )
    )
    assert joined.status_code == 201 and joined.json()["role"] == "owner"
    kubectl("annotate", "workspace", "beta", "-n", ns, "quckchat.io/e2e-check=1")
    wait_for(
        "the owner to be seen joined",
        lambda: condition(workspace(ns, "beta"), "OwnerJoined").get("status") == "True",
    )
    assert "NotFound" in kubectl("get", "secret", "beta-owner-invite", "-n", ns, check=False)


def test_deletion_deprovisions_behind_the_finalizer(ready_cluster: str, services: Services) -> None:
    ns = ready_cluster
    assert workspace(ns, "acme")["metadata"]["finalizers"]
    kubectl("delete", "workspace", "acme", "-n", ns, "--wait=false")
    wait_for("acme to be deleted", lambda: gone(ns, "acme"))
    code, _ = services.internal("GET", f"/internal/workspaces/by-slug/{ns}-acme")
    assert code == 404
    assert "NotFound" in kubectl("get", "secret", "acme-export", "-n", ns, check=False)


def test_export_on_delete_exports_before_deleting(ready_cluster: str, services: Services) -> None:
    ns = ready_cluster
    workspace_id = workspace(ns, "beta")["status"]["workspaceId"]
    kubectl("delete", "workspace", "beta", "-n", ns, "--wait=false")
    wait_for("beta to be deleted", lambda: gone(ns, "beta"))
    code, _ = services.internal("GET", f"/internal/workspaces/by-slug/{ns}-beta")
    assert code == 404
    # The export still holds the workspace and its owner: it was taken before the deletion.
    document = json.loads(secret_data(ns, "beta-export")["export.json"])
    assert document["workspace"]["id"] == workspace_id
    assert [m["role"] for m in document["members"]] == ["owner"]
    assert {c["name"] for c in document["channels"]} == {"general", "random"}
    wait_for(
        "the export and deletion events",
        lambda: {"Exported", "Deprovisioned"} <= set(event_reasons(ns, "beta")),
    )


def test_a_slug_held_by_another_tenant_fails_and_is_left_alone(
    ready_cluster: str, services: Services
) -> None:
    ns = ready_cluster
    slug = naming.workspace_slug(ns, "taken")
    body = {"tenant": "other", "name": "Theirs", "slug": slug, "owner": {"user_id": "u1"}}
    code, theirs = services.internal("POST", "/internal/workspaces", json=body)
    assert code == 201, theirs
    apply_workspace(ns, "taken", owner={"email": "o@acme.example"})
    ready = condition(wait_for_phase(ns, "taken", "Failed"), "Ready")
    assert ready["reason"] == "SlugTaken" and slug in ready["message"]
    kubectl("delete", "workspace", "taken", "-n", ns, "--wait=false")
    wait_for("the failed workspace to go", lambda: gone(ns, "taken"))
    code, still = services.internal("GET", f"/internal/workspaces/by-slug/{slug}")
    assert code == 200 and still["id"] == theirs["workspace"]["id"]
