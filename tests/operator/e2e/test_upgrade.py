"""Changing spec.version: migration first, then the groups in order; a stall stops it Degraded.

A watcher thread notes when each Deployment first runs the new image, which is the order the
operator rolled them in. A rollout is held back the way a bad release would be: its new pods
ask for more CPU than any node has, so they never start and the Deployment's progress deadline
passes. Last, the cluster is deleted with deletionPolicy Delete, which takes its volumes along.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from quckchat import catalog
from quckchat.catalog import Group, Store
from quckchat_operator import naming
from quckchat_operator.apply import Applier, child_selector
from quckchat_operator.render.stores import MANAGED_STORES
from quckchat_operator.status import rollout
from tests.operator.e2e.conftest import MEASUREMENTS
from tests.operator.e2e.kube import claim_volumes, reader
from tests.worlds.clusters import EXAMPLES
from tests.worlds.kube import kubectl, kubectl_json, wait_for

pytestmark = pytest.mark.kube

NAME = "quckchat"
# Room for six groups rolling one after another, each waiting for the last.
UPGRADE_TIMEOUT = 240.0


# Store images the version-bump test moves to, alongside the platform's version.
STORE_UPGRADES = {Store.REDIS: "7.4", Store.POSTGRESQL: "16.4"}


class Rollouts(threading.Thread):
    """When each Deployment first ran an image of `version`, when each upgraded store's
    StatefulSet started and finished its rollout, when the migration Job appeared, and the
    phases the cluster went through meanwhile."""

    def __init__(self, read: Applier, namespace: str, version: str) -> None:
        super().__init__(daemon=True)
        self.read, self.namespace, self.version = read, namespace, version
        self.first_seen: dict[str, datetime] = {}
        self.store_started: dict[Store, datetime] = {}
        self.store_done: dict[Store, datetime] = {}
        self.phases: list[str] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.25):
            items = self.read.list_objects(
                "apps/v1", "Deployment", self.namespace, child_selector(NAME)
            )
            now = datetime.now(UTC)
            for item in items:
                image = item["spec"]["template"]["spec"]["containers"][0]["image"]
                if image.endswith(f":{self.version}"):
                    self.first_seen.setdefault(item["metadata"]["name"], now)
            self._stores(now)
            job = naming.migration_job_name(NAME, self.version)
            if self.read.get("batch/v1", "Job", job, self.namespace) is not None:
                self.first_seen.setdefault(job, now)
            found = self.read.get(naming.GROUP_VERSION, "QuckChatCluster", NAME, self.namespace)
            phase = ((found or {}).get("status") or {}).get("phase")
            if phase and (not self.phases or self.phases[-1] != phase):
                self.phases.append(phase)

    def _stores(self, now: datetime) -> None:
        for item in self.read.list_objects(
            "apps/v1", "StatefulSet", self.namespace, child_selector(NAME)
        ):
            store = Store(item["metadata"]["labels"][naming.LABEL_NAME])
            image = item["spec"]["template"]["spec"]["containers"][0]["image"]
            if store not in STORE_UPGRADES or not image.endswith(f":{STORE_UPGRADES[store]}"):
                continue
            self.store_started.setdefault(store, now)
            if rollout(item).complete:
                self.store_done.setdefault(store, now)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def group_started(self, group: Group) -> datetime | None:
        names = [naming.service_name(NAME, s.name) for s in catalog.implemented(group)]
        times = [self.first_seen[n] for n in names if n in self.first_seen]
        return min(times) if times else None


@pytest.fixture(scope="module")
def read() -> Applier:
    return reader()


def status(namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = kubectl_json("get", "quckchatcluster", NAME, "-n", namespace).get(
        "status", {}
    )
    return found


def condition(namespace: str, kind: str) -> dict[str, Any]:
    return next((c for c in status(namespace).get("conditions", []) if c["type"] == kind), {})


def patch_spec(namespace: str, spec: dict[str, Any]) -> None:
    body = json.dumps({"spec": spec})
    kubectl("patch", "quckchatcluster", NAME, "-n", namespace, "--type=merge", "-p", body)


def images(read: Applier, namespace: str) -> dict[str, str]:
    items = read.list_objects("apps/v1", "Deployment", namespace, child_selector(NAME))
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in items
    }


def ready_at(namespace: str, version: str) -> bool:
    found = status(namespace)
    return found.get("phase") == "Ready" and found.get("currentVersion") == version


@pytest.fixture(scope="module")
def running(operator: object, namespace: str) -> str:
    """The minimal example, Ready at 1.0.0."""
    claim_volumes(namespace, NAME)
    kubectl("apply", "-n", namespace, "-f", str(EXAMPLES / "minimal-cluster.yaml"))
    wait_for("Ready at 1.0.0", lambda: ready_at(namespace, "1.0.0"))
    return namespace


@pytest.fixture
def watch(read: Applier, running: str, request: pytest.FixtureRequest) -> Iterator[Rollouts]:
    version: str = request.param
    watcher = Rollouts(read, running, version)
    watcher.start()
    yield watcher
    watcher.stop()


@pytest.mark.parametrize("watch", ["1.1.0"], indirect=True)
def test_a_version_bump_migrates_then_rolls_the_groups_in_order(
    running: str, read: Applier, watch: Rollouts
) -> None:
    namespace = running
    started = time.monotonic()
    stores = {str(store): {"version": version} for store, version in STORE_UPGRADES.items()}
    patch_spec(namespace, {"version": "1.1.0", "stores": stores})
    wait_for("Ready at 1.1.0", lambda: ready_at(namespace, "1.1.0"), timeout=UPGRADE_TIMEOUT)
    MEASUREMENTS["upgrade 1.0.0 -> 1.1.0 (migration + 6 groups in order)"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    assert set(images(read, namespace).values()) == {"ghcr.io/quckchat/quckchat:1.1.0"}

    job = kubectl_json("get", "job", naming.migration_job_name(NAME, "1.1.0"), "-n", namespace)
    assert job["status"]["succeeded"] == 1
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate", "--all"]
    finished = datetime.fromisoformat(job["status"]["completionTime"].replace("Z", "+00:00"))
    # Groups with nothing implemented deploy nothing, so they have nothing to roll.
    deployed = [g for g in catalog.UPGRADE_ORDER if catalog.implemented(g)]
    starts = {group: watch.group_started(group) for group in deployed}
    assert all(starts.values()), starts
    # completionTime has whole seconds: a group may start within the second the Job finished.
    assert finished <= min(t for t in starts.values() if t)
    order = sorted(deployed, key=lambda g: starts[g] or datetime.max.replace(tzinfo=UTC))
    MEASUREMENTS["upgrade order"] = " -> ".join(order)
    assert order == deployed
    assert "Upgrading" in watch.phases

    # The changed stores rolled one at a time, both before the migration Job was created.
    assert set(watch.store_done) == set(STORE_UPGRADES), watch.store_done
    first, second = sorted(STORE_UPGRADES, key=lambda s: watch.store_started[s])
    assert watch.store_started[second] >= watch.store_done[first]
    assert watch.first_seen[naming.migration_job_name(NAME, "1.1.0")] >= max(
        watch.store_done.values()
    )
    MEASUREMENTS["store upgrade order"] = f"{first} -> {second}"


def test_a_downgrade_is_refused(running: str, read: Applier) -> None:
    namespace = running
    before = images(read, namespace)
    patch_spec(namespace, {"version": "1.0.0"})
    wait_for("phase Degraded", lambda: status(namespace).get("phase") == "Degraded")
    degraded = condition(namespace, "Degraded")
    assert degraded["reason"] == "DowngradeRefused"
    assert "1.1.0" in degraded["message"]
    assert images(read, namespace) == before
    patch_spec(namespace, {"version": "1.1.0"})
    wait_for("Ready at 1.1.0 again", lambda: ready_at(namespace, "1.1.0"))


@pytest.mark.parametrize("watch", ["1.2.0"], indirect=True)
def test_a_stalled_rollout_stops_the_upgrade_degraded(
    running: str, read: Applier, watch: Rollouts
) -> None:
    namespace = running
    auth = naming.service_name(NAME, "auth")
    # More CPU than any kwok node has: the new auth pod never starts, the old one keeps serving.
    patch_spec(
        namespace,
        {
            "version": "1.2.0",
            "upgradeStrategy": {"progressDeadlineSeconds": 30},
            "services": {"auth": {"resources": {"requests": {"cpu": "500"}}}},
        },
    )
    started = time.monotonic()
    wait_for("phase Degraded", lambda: status(namespace).get("phase") == "Degraded", timeout=180)
    MEASUREMENTS["stalled rollout (30 s deadline) -> Degraded"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    degraded = condition(namespace, "Degraded")
    assert degraded["reason"] == "ProgressDeadlineExceeded"
    assert auth in degraded["message"]
    assert condition(namespace, "Progressing")["status"] == "False"
    # Identity went first and stalled; the groups after it were never touched.
    now = images(read, namespace)
    later = [g for g in catalog.UPGRADE_ORDER if g != Group.IDENTITY]
    for group in later:
        for service in catalog.implemented(group):
            assert now[naming.service_name(NAME, service.name)].endswith(":1.1.0"), service.name
    assert status(namespace)["currentVersion"] == "1.1.0"
    events = kubectl_json(
        "get", "events", "-n", namespace, "--field-selector", "involvedObject.kind=QuckChatCluster"
    )["items"]
    assert any(e["type"] == "Warning" and e["reason"] == "Degraded" for e in events)

    # Fixing the spec lets the upgrade go on, in order, to the end.
    patch_spec(namespace, {"services": None, "upgradeStrategy": {"progressDeadlineSeconds": 600}})
    wait_for("Ready at 1.2.0", lambda: ready_at(namespace, "1.2.0"), timeout=UPGRADE_TIMEOUT)
    assert set(images(read, namespace).values()) == {"ghcr.io/quckchat/quckchat:1.2.0"}


def test_deletion_policy_delete_takes_the_volumes_along(running: str, read: Applier) -> None:
    namespace = running
    assert len(read.volumes(NAME, namespace)) == len(MANAGED_STORES)
    patch_spec(namespace, {"deletionPolicy": "Delete"})
    wait_for(
        "the StatefulSets to delete their claims with them",
        lambda: all(
            s["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"
            for s in read.list_objects("apps/v1", "StatefulSet", namespace, child_selector(NAME))
        ),
    )
    kubectl("delete", "quckchatcluster", NAME, "-n", namespace, "--wait=false")
    wait_for("every child to be gone", lambda: not read.children(NAME, namespace))
    wait_for("the volumes to be gone", lambda: not read.volumes(NAME, namespace))
