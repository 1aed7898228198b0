"""Which children the cluster owns: with Retain, the stores' passwords outlive it."""

from __future__ import annotations

from quckchat_operator.apply import adopt, key
from quckchat_operator.reconcile import outliving_credentials
from tests.operator.support import make_cluster, render

OWNER = {
    "apiVersion": "quckchat.io/v1alpha1",
    "kind": "QuckChatCluster",
    "metadata": {"name": "qc", "uid": "0f0f"},
}
CREDENTIALS = {
    ("Secret", f"qc-{store}-credentials")
    for store in ("mysql", "postgresql", "mongodb", "redis", "elasticsearch")
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
