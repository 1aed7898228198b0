"""The minimal example on a real control plane, the operator running in-process.

One cluster goes through its life in order: it becomes Ready, idles without a single write,
is scaled through a ServiceGroup's scale subresource, has a deleted and an edited child put
back, is paused, hands replicas to HPAs and takes them back, and is deleted with everything it
owns (but not its volumes).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from quckchat import catalog
from quckchat.catalog import Group, Store
from quckchat_operator import naming
from quckchat_operator.apply import RECORDER, Applier, Key, child_selector
from quckchat_operator.reconcile import outliving_credentials
from quckchat_operator.render.cluster import render_cluster
from quckchat_operator.render.stores import MANAGED_STORES
from tests.operator.e2e.conftest import MEASUREMENTS
from tests.operator.e2e.kube import audit_log, audited_writes, claim_volumes, reader, secret_data
from tests.worlds.clusters import EXAMPLES, load_example
from tests.worlds.kube import kubectl, kubectl_json, wait_for

pytestmark = pytest.mark.kube

NAME = "quckchat"  # examples/minimal-cluster.yaml
OPERATOR_AGENTS = ("quckchat-operator", "kopf/")


@pytest.fixture(scope="module")
def read() -> Applier:
    return reader()


def cluster(namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = kubectl_json("get", "quckchatcluster", NAME, "-n", namespace)
    return found


def phase(namespace: str) -> str | None:
    result: str | None = cluster(namespace).get("status", {}).get("phase")
    return result


def condition(namespace: str, kind: str) -> dict[str, Any]:
    conditions = cluster(namespace).get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == kind), {})


def deployments(read: Applier, namespace: str, group: Group | None = None) -> dict[str, Any]:
    selector = child_selector(NAME)
    if group is not None:
        selector += f",{naming.LABEL_GROUP}={group}"
    items = read.list_objects("apps/v1", "Deployment", namespace, selector)
    return {d["metadata"]["name"]: d for d in items}


def settled(deployment: dict[str, Any], replicas: int) -> bool:
    status = deployment.get("status", {})
    return bool(
        deployment["spec"].get("replicas") == replicas
        and status.get("readyReplicas", 0) == replicas
        and status.get("replicas") == replicas
        and status.get("observedGeneration") == deployment["metadata"]["generation"]
    )


def group_members(group: Group) -> list[str]:
    return [naming.service_name(NAME, s.name) for s in catalog.implemented(group)]


def wait_for_group(read: Applier, namespace: str, group: Group, replicas: int) -> None:
    def done() -> bool:
        found = deployments(read, namespace, group)
        return sorted(found) == sorted(group_members(group)) and all(
            settled(d, replicas) for d in found.values()
        )

    wait_for(f"group {group} at {replicas} ready replicas", done)


def wait_until_ready(namespace: str) -> None:
    wait_for("the cluster to be Ready", lambda: phase(namespace) == "Ready")


@pytest.fixture(scope="module")
def ready_cluster(operator: object, namespace: str, read: Applier) -> str:
    """The minimal example applied and Ready; measures how long each step took."""
    claim_volumes(namespace, NAME)
    expected: set[Key] = {
        (o["kind"], o["metadata"]["name"]) for o in render_cluster(load_example("minimal-cluster"))
    }
    started = time.monotonic()
    kubectl("apply", "-n", namespace, "-f", str(EXAMPLES / "minimal-cluster.yaml"))
    wait_for("every object", lambda: expected <= set(read.children(NAME, namespace)))
    created = time.monotonic() - started
    wait_until_ready(namespace)
    ready = time.monotonic() - started
    MEASUREMENTS["kubectl apply -> all objects created"] = f"{created:.1f} s ({len(expected)})"
    MEASUREMENTS["kubectl apply -> Ready"] = f"{ready:.1f} s"
    return namespace


def test_the_minimal_example_becomes_ready(ready_cluster: str, read: Applier) -> None:
    namespace = ready_cluster
    live = read.children(NAME, namespace)
    kinds = [kind for kind, _ in live]
    deployed = len(catalog.implemented())
    assert kinds.count("Deployment") == deployed
    assert kinds.count("StatefulSet") == len(MANAGED_STORES) == 7
    assert kinds.count("Service") == deployed + len(MANAGED_STORES)
    assert kinds.count("ServiceGroup") == len(catalog.deployed_groups())
    for (kind, name), obj in live.items():
        if kind == "Deployment" or kind == "StatefulSet":
            assert obj["status"].get("readyReplicas") == obj["spec"]["replicas"] == 1, name
    for group in catalog.deployed_groups():
        name = naming.service_group_name(NAME, group)

        def group_ready(name: str = name) -> bool:
            found = kubectl_json("get", "servicegroup", name, "-n", namespace).get("status", {})
            return bool(found.get("readyReplicas") == found.get("replicas") == 1)

        wait_for(f"ServiceGroup {name} to read 1/1", group_ready)
    uid = cluster(namespace)["metadata"]["uid"]
    # With Retain, the stores' credentials outlive the cluster; everything else is its own.
    outliving = set(outliving_credentials(load_example("minimal-cluster")))
    for (kind, name), obj in live.items():
        owners = obj["metadata"].get("ownerReferences", [])
        owner = [] if (kind, name) in outliving else [uid]
        assert [o["uid"] for o in owners if o.get("controller")] == owner, (kind, name)
    # kwok runs no containers but plays the kubelet: every pod is Running and Ready, and each
    # was admitted under the namespace's restricted Pod Security profile.
    labels = kubectl_json("get", "namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", child_selector(NAME))["items"]
    running = [p for p in pods if p["status"]["phase"] == "Running"]
    assert len(running) == deployed + len(MANAGED_STORES)
    for pod in running:
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert ready["Ready"] == "True", pod["metadata"]["name"]
    job = live[("Job", naming.migration_job_name(NAME, "1.0.0"))]
    assert job["status"].get("succeeded") == 1

    header, row = kubectl("get", "quckchat", "-n", namespace).splitlines()[:2]
    assert header.split()[:5] == ["NAME", "READY", "VERSION", "PHASE", "AGE"]
    counted = f"{deployed}/{deployed}"
    assert row.split()[:4] == [f"quckchatcluster.quckchat.io/{NAME}", counted, "1.0.0", "Ready"]
    status = cluster(namespace)["status"]
    stores = len(MANAGED_STORES)
    assert status["readyStores"] == f"{stores}/{stores}" and status["targetVersion"] == "1.0.0"
    assert condition(namespace, "Ready")["reason"] == "AllReady"
    assert condition(namespace, "Degraded")["status"] == "False"
    events = kubectl_json(
        "get", "events", "-n", namespace, "--field-selector", "involvedObject.kind=QuckChatCluster"
    )["items"]
    assert {"Provisioning", "Ready"} <= {e["reason"] for e in events}


def test_an_unchanged_cluster_is_reconciled_without_a_write(ready_cluster: str) -> None:
    namespace = ready_cluster
    # One full pass first, so whatever the pass that saw Ready wrote is behind us.
    first = RECORDER.reconciles
    wait_for("a periodic check", lambda: RECORDER.reconciles >= first + 1, timeout=60)
    since, writes, passes = datetime.now(UTC), RECORDER.total_writes, RECORDER.reconciles
    wait_for("two periodic checks", lambda: RECORDER.reconciles >= passes + 2, timeout=60)
    by_timer = RECORDER.total_writes - writes
    audit = audit_log()
    timer_writes = audited_writes(audit, namespace, since, OPERATOR_AGENTS) if audit else []

    # A change the operator has no use for: an annotation. Its handler reconciles too.
    touched, before = datetime.now(UTC), RECORDER.reconciles
    kubectl("annotate", "quckchatcluster", NAME, "-n", namespace, "e2e.quckchat.io/touched=yes")
    wait_for("the update handler", lambda: RECORDER.reconciles >= before + 1, timeout=60)
    by_change = RECORDER.total_writes - writes - by_timer
    change_writes = audited_writes(audit, namespace, touched, OPERATOR_AGENTS) if audit else []

    passes_seen = RECORDER.reconciles - passes
    MEASUREMENTS["write calls per no-op reconcile"] = (
        f"{RECORDER.total_writes - writes} in {passes_seen} passes"
        + (" (apiserver audit log agrees)" if audit else " (no audit log to cross-check)")
    )
    assert by_timer == 0 and by_change == 0, RECORDER.writes
    assert timer_writes == []
    # Kopf records the annotation it handled (its own bookkeeping); nothing else is written.
    assert [w for w in change_writes if w != f"patch quckchatclusters/{NAME}"] == []
    assert phase(namespace) == "Ready"


def test_scaling_a_service_group_reaches_its_deployments(ready_cluster: str, read: Applier) -> None:
    namespace = ready_cluster
    group = naming.service_group_name(NAME, Group.REALTIME)
    started = time.monotonic()
    kubectl("scale", f"servicegroup/{group}", "--replicas=3", "-n", namespace)
    wait_for_group(read, namespace, Group.REALTIME, 3)
    MEASUREMENTS["kubectl scale servicegroup -> 3 ready replicas each"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    budgets = read.list_objects("policy/v1", "PodDisruptionBudget", namespace, child_selector(NAME))
    assert sorted(b["metadata"]["name"] for b in budgets) == sorted(group_members(Group.REALTIME))
    # What `kubectl scale` and an HPA read back through the scale subresource.
    wait_for(
        "the scale subresource to report 3",
        lambda: (
            kubectl_json("get", "servicegroup", group, "-n", namespace, "--subresource=scale")[
                "status"
            ].get("replicas")
            == 3
        ),
    )
    scale = kubectl_json("get", "servicegroup", group, "-n", namespace, "--subresource=scale")
    assert scale["status"]["selector"] == naming.group_selector(NAME, Group.REALTIME)
    others = deployments(read, namespace, Group.IDENTITY)
    assert all(d["spec"]["replicas"] == 1 for d in others.values())

    kubectl("scale", f"servicegroup/{group}", "--replicas=1", "-n", namespace)
    wait_for_group(read, namespace, Group.REALTIME, 1)
    # Below two replicas a disruption budget would block every drain: they are gone again.
    wait_for(
        "the disruption budgets to be pruned",
        lambda: (
            not read.list_objects(
                "policy/v1", "PodDisruptionBudget", namespace, child_selector(NAME)
            )
        ),
    )
    wait_until_ready(namespace)


def test_a_deleted_or_edited_child_is_put_back(ready_cluster: str, read: Applier) -> None:
    namespace = ready_cluster
    auth, user = naming.service_name(NAME, "auth"), naming.service_name(NAME, "user")
    uid = deployments(read, namespace)[auth]["metadata"]["uid"]
    started = time.monotonic()
    kubectl("delete", "deployment", auth, "-n", namespace)
    kubectl("scale", "deployment", user, "--replicas=4", "-n", namespace)
    wait_for(
        "the deleted Deployment to come back",
        lambda: (
            (found := deployments(read, namespace).get(auth))
            and found["metadata"]["uid"] != uid
            and settled(found, 1)
        ),
    )
    MEASUREMENTS["deleted Deployment -> back and ready"] = f"{time.monotonic() - started:.1f} s"
    wait_for(
        "the edited Deployment to be put back",
        lambda: settled(deployments(read, namespace)[user], 1),
    )
    wait_until_ready(namespace)


def test_a_paused_cluster_changes_nothing(ready_cluster: str, read: Applier) -> None:
    namespace = ready_cluster
    kubectl("patch", "quckchatcluster", NAME, "-n", namespace, "--type=merge",
            "-p", '{"spec": {"paused": true}}')  # fmt: skip
    wait_for("phase Paused", lambda: phase(namespace) == "Paused")
    progressing = condition(namespace, "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "Paused")
    assert "spec.paused" in progressing["message"]

    group = naming.service_group_name(NAME, Group.EDGE)
    kubectl("scale", f"servicegroup/{group}", "--replicas=2", "-n", namespace)
    passes = RECORDER.reconciles
    wait_for("two passes while paused", lambda: RECORDER.reconciles >= passes + 2, timeout=60)
    assert all(
        d["spec"]["replicas"] == 1 for d in deployments(read, namespace, Group.EDGE).values()
    )

    kubectl("patch", "quckchatcluster", NAME, "-n", namespace, "--type=merge",
            "-p", '{"spec": {"paused": false}}')  # fmt: skip
    wait_for_group(read, namespace, Group.EDGE, 2)
    wait_until_ready(namespace)
    kubectl("scale", f"servicegroup/{group}", "--replicas=1", "-n", namespace)
    wait_for_group(read, namespace, Group.EDGE, 1)


def test_with_autoscaling_the_hpa_owns_replicas(ready_cluster: str, read: Applier) -> None:
    namespace = ready_cluster
    group = naming.service_group_name(NAME, Group.EDGE)
    on = {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4}}
    kubectl("patch", "servicegroup", group, "-n", namespace, "--type=merge",
            "-p", json.dumps({"spec": on}))  # fmt: skip
    members = group_members(Group.EDGE)

    def autoscalers() -> list[str]:
        found = read.list_objects(
            "autoscaling/v2", "HorizontalPodAutoscaler", namespace, child_selector(NAME)
        )
        return sorted(h["metadata"]["name"] for h in found)

    wait_for("an HPA per edge service", lambda: autoscalers() == sorted(members))
    # No metrics server here, but an HPA still lifts a Deployment to its minReplicas.
    wait_for_group(read, namespace, Group.EDGE, 2)
    applied = RECORDER.writes["apply Deployment"]
    passes = RECORDER.reconciles
    wait_for("two passes", lambda: RECORDER.reconciles >= passes + 2, timeout=60)
    assert RECORDER.writes["apply Deployment"] == applied, "the operator fought the HPA"
    assert all(settled(d, 2) for d in deployments(read, namespace, Group.EDGE).values())
    wait_until_ready(namespace)

    kubectl("patch", "servicegroup", group, "-n", namespace, "--type=merge",
            "-p", '{"spec": {"autoscaling": null}}')  # fmt: skip
    wait_for("the HPAs to be pruned", lambda: autoscalers() == [])
    wait_for_group(read, namespace, Group.EDGE, 1)
    wait_until_ready(namespace)


def test_deleting_the_cluster_removes_what_it_owns(ready_cluster: str, read: Applier) -> None:
    namespace = ready_cluster
    kept = set(outliving_credentials(load_example("minimal-cluster")))
    assert kept, "Retain keeps the managed stores' credentials"
    passwords = {name: secret_data(namespace, name)["password"] for _, name in kept}
    started = time.monotonic()
    kubectl("delete", "quckchatcluster", NAME, "-n", namespace, "--wait=false")
    wait_for("every owned child to be gone", lambda: set(read.children(NAME, namespace)) == kept)
    MEASUREMENTS["delete cluster -> every child gone"] = f"{time.monotonic() - started:.1f} s"
    wait_for("the cluster itself to be gone", lambda: not kubectl_json(
        "get", "quckchatclusters", "-n", namespace)["items"])  # fmt: skip
    # spec.deletionPolicy is Retain: the stores' data stays for a cluster made anew, and so do
    # the passwords that data was written with.
    claims = read.volumes(NAME, namespace)
    assert len(claims) == len(MANAGED_STORES)
    assert all(c["status"]["phase"] == "Bound" for c in claims)
    kubectl("apply", "-n", namespace, "-f", str(EXAMPLES / "minimal-cluster.yaml"))
    uid = wait_for("the cluster made anew", lambda: cluster(namespace)["metadata"].get("uid"))
    wait_for("its stores", lambda: ("StatefulSet", naming.store_name(NAME, Store.MYSQL)) in set(
        read.children(NAME, namespace)))  # fmt: skip
    assert {name: secret_data(namespace, name)["password"] for _, name in kept} == passwords
    kubectl("delete", "quckchatcluster", NAME, "-n", namespace, "--wait=false")
    wait_for("the new cluster's children to be gone", lambda: set(
        read.children(NAME, namespace)) == kept)  # fmt: skip
    assert uid
