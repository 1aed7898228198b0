"""One pass over a cluster without an apiserver: which children it owns (with Retain, the
stores' passwords outlive it), and the order it applies them in (stores, the migration, then the
groups from identity to edge), stopping where the cluster is not ready to go on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from quckchat import catalog
from quckchat.catalog import Group
from quckchat_operator import naming
from quckchat_operator.apply import adopt, key
from quckchat_operator.models import Phase
from quckchat_operator.reconcile import Outcome, outliving_credentials, reconcile
from quckchat_operator.render.meta import Manifest
from tests.operator.support import FakeApplier, make_cluster, render

NOW = datetime(2026, 12, 4, tzinfo=UTC)

OWNER = {
    "apiVersion": "quckchat.io/v1alpha1",
    "kind": "QuckChatCluster",
    "metadata": {"name": "qc", "uid": "0f0f"},
}
CREDENTIALS = {
    ("Secret", f"qc-{store}-credentials")
    for store in ("mysql", "postgresql", "mongodb", "redis", "elasticsearch", "objects")
}


def owned(spec: dict[str, object]) -> dict[tuple[str, str], bool]:
    cluster = make_cluster(spec)
    objects = adopt(render(spec), OWNER, outliving=outliving_credentials(cluster))
    return {key(o): bool(o["metadata"].get("ownerReferences")) for o in objects}


def test_with_retain_the_credentials_outlive_the_cluster_and_nothing_else_does() -> None:
    children = owned({"deletionPolicy": "Retain"})
    assert {k for k, is_owned in children.items() if not is_owned} == CREDENTIALS
    # Kafka runs without a password: it has no credentials to keep.
    assert ("Secret", "qc-kafka-credentials") not in children


def test_with_delete_everything_goes_with_the_cluster() -> None:
    assert all(owned({"deletionPolicy": "Delete"}).values())


def test_an_external_store_has_no_credentials_of_ours_to_keep() -> None:
    spec = {"stores": {"mysql": {"mode": "external", "secretRef": {"name": "db"}}}}
    assert ("Secret", "qc-mysql-credentials") not in set(outliving_credentials(make_cluster(spec)))


# The order of a pass.
def cluster_body(spec: dict[str, Any] | None = None, running: str | None = None) -> Manifest:
    body: Manifest = {
        **OWNER,
        "metadata": {"name": "qc", "namespace": "team", "uid": "0f0f"},
        "spec": spec or {},
    }
    if running is not None:
        body["status"] = {"currentVersion": running}
    return body


def finished(obj: Manifest) -> Manifest:
    """The object once the cluster caught up with it: rollouts done, Jobs succeeded."""
    live = {**obj, "metadata": {**obj["metadata"], "uid": "u-" + obj["metadata"]["name"]}}
    live["metadata"]["generation"] = 1
    if obj["kind"] in ("Deployment", "StatefulSet"):
        n = obj["spec"].get("replicas", 1)
        live["status"] = {
            "observedGeneration": 1,
            "replicas": n,
            "readyReplicas": n,
            "updatedReplicas": n,
            "availableReplicas": n,
        }
    elif obj["kind"] == "Job":
        live["status"] = {"succeeded": 1}
    return live


def started(obj: Manifest) -> Manifest:
    """The object just applied: its pods not ready yet, its Job still running."""
    live = finished(obj)
    if obj["kind"] in ("Deployment", "StatefulSet"):
        live["status"] = {"observedGeneration": 1, "replicas": 1, "readyReplicas": 0}
    elif obj["kind"] == "Job":
        live["status"] = {"active": 1}
    return live


def unless(kind: str, still: Callable[[Manifest], bool] = lambda _: True) -> Callable[..., Any]:
    """Every object finishes, except those of `kind` (that `still` picks), which only start."""
    return lambda obj: started(obj) if obj["kind"] == kind and still(obj) else finished(obj)


def group_of(applier: FakeApplier, kind: str, name: str) -> str:
    return str(applier.objects[(kind, name)]["metadata"]["labels"].get(naming.LABEL_GROUP))


def groups_applied(applier: FakeApplier) -> list[str]:
    """The groups of the Deployments applied, each once, in the order they were first applied."""
    found: list[str] = []
    for name in applier.applied("Deployment"):
        group = group_of(applier, "Deployment", name)
        if group not in found:
            found.append(group)
    return found


def run(applier: FakeApplier, body: Manifest) -> Outcome:
    applier.writes.clear()
    return reconcile(applier, body, now=NOW)


def test_a_new_cluster_applies_stores_then_the_migration_then_groups_with_edge_last() -> None:
    applier = FakeApplier(settle=finished)
    outcome = run(applier, cluster_body({"ingress": {"enabled": True}}))
    assert outcome.phase == Phase.READY and outcome.waiting is None
    kinds = [entry.split(" ")[0] for entry in applier.applied()]
    stores = [i for i, kind in enumerate(kinds) if kind == "StatefulSet"]
    deployments = [i for i, kind in enumerate(kinds) if kind == "Deployment"]
    # What has no pods (config, secrets, policies, accounts) comes before any store starts.
    for kind in ("ConfigMap", "Secret", "ServiceAccount", "NetworkPolicy", "ServiceGroup"):
        assert max(i for i, k in enumerate(kinds) if k == kind) < stores[0], kind
    assert stores[-1] < kinds.index("Job") < deployments[0]
    assert groups_applied(applier) == catalog.deployed_groups()
    assert groups_applied(applier)[0] == Group.IDENTITY
    assert groups_applied(applier)[-1] == Group.EDGE
    # A group's Services go out with its Deployments, before the next group's.
    services = applier.applied("Service")
    auth, gateway = (naming.service_name("qc", s) for s in ("auth", "backend-gateway"))
    assert services.index(auth) < services.index(gateway)
    assert kinds.index("Ingress") > deployments[-1]


def test_no_migration_and_no_service_before_every_store_is_ready() -> None:
    applier = FakeApplier(settle=unless("StatefulSet"))
    outcome = run(applier, cluster_body())
    assert outcome.waiting is not None and outcome.waiting.reason == "StoresNotReady"
    assert outcome.phase == Phase.PROVISIONING
    # New stores all start together; nothing that needs them does.
    rendered = [o["metadata"]["name"] for o in render() if o["kind"] == "StatefulSet"]
    assert sorted(applier.applied("StatefulSet")) == sorted(rendered)
    assert applier.applied("Job") == [] and applier.applied("Deployment") == []


def test_no_service_before_the_migration_succeeded() -> None:
    applier = FakeApplier(settle=unless("Job"))
    outcome = run(applier, cluster_body())
    assert outcome.waiting is not None and outcome.waiting.reason == "MigrationRunning"
    assert applier.applied("Job") == [naming.migration_job_name("qc", "1.0.0")]
    assert applier.applied("Deployment") == []


def test_an_upgrade_rolls_one_group_at_a_time_and_edge_last() -> None:
    applier = FakeApplier(settle=finished)
    assert run(applier, cluster_body()).phase == Phase.READY
    upgrade = cluster_body({"version": "1.1.0"}, running="1.0.0")

    organization = Group.ORGANIZATION
    applier.settle = unless(
        "Deployment", lambda o: o["metadata"]["labels"].get(naming.LABEL_GROUP) == organization
    )
    outcome = run(applier, upgrade)
    assert outcome.phase == Phase.UPGRADING
    assert outcome.waiting is not None and outcome.waiting.reason == "RollingOut"
    assert "group organization" in outcome.waiting.message
    assert applier.applied("Job") == [naming.migration_job_name("qc", "1.1.0")]
    # Identity rolled and finished; organization is rolling; nothing after it was touched.
    assert groups_applied(applier) == [Group.IDENTITY, organization]

    applier.settle = finished
    outcome = run(applier, upgrade)
    assert outcome.phase == Phase.READY
    assert groups_applied(applier) == catalog.deployed_groups()


def test_a_downgrade_applies_nothing_and_degrades() -> None:
    applier = FakeApplier(settle=finished)
    run(applier, cluster_body({"version": "1.1.0"}))
    outcome = run(applier, cluster_body({"version": "1.0.0"}, running="1.1.0"))
    assert outcome.phase == Phase.DEGRADED
    assert applier.applied() == []


def test_a_paused_cluster_applies_nothing() -> None:
    applier = FakeApplier(settle=finished)
    run(applier, cluster_body())
    outcome = run(applier, cluster_body({"paused": True}))
    assert outcome.phase == Phase.PAUSED
    assert applier.applied() == [] and not any(w.startswith("delete") for w in applier.writes)


RELAY = {
    "urlSecret": {"name": "relay", "key": "url"},
    "from": "chat@example.com",
}


def secret(name: str, **data: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data}


def degraded_condition(outcome: Outcome) -> dict[str, Any]:
    found = {c["type"]: c for c in outcome.status["conditions"]}
    condition: dict[str, Any] = found["Degraded"]
    return condition


def test_a_missing_notification_secret_is_named_and_the_rest_still_applies() -> None:
    applier = FakeApplier(settle=finished)
    body = cluster_body({"notifications": {"smtp": RELAY}})
    outcome = run(applier, body)
    assert outcome.phase == Phase.DEGRADED
    condition = degraded_condition(outcome)
    assert condition["reason"] == "SecretMissing"
    assert (
        "spec.notifications.smtp.urlSecret: Secret relay does not exist in namespace team"
        in (condition["message"])
    )
    assert "qc-notification" in applier.applied("Deployment")
    # A Secret without the key is named too; with it, the cluster turns Ready.
    applier.objects[("Secret", "relay")] = secret("relay", other="eA==")
    assert "Secret relay has no key url" in degraded_condition(run(applier, body))["message"]
    applier.objects[("Secret", "relay")] = secret("relay", url="c210cDovL3g=")
    assert run(applier, body).phase == Phase.READY
