"""The CRDs on a real apiserver: accepted, served, and refusing bad specs by field name."""

from __future__ import annotations

import pytest
import yaml

from tests.worlds.clusters import EXAMPLES
from tests.worlds.kube import kubectl, kubectl_json

pytestmark = pytest.mark.kube

KINDS = {"QuckChatCluster": "qc", "ServiceGroup": "qsg", "Workspace": "qws"}


def test_the_crds_are_established_and_served(crds: list[str], namespace: str) -> None:
    for name in crds:
        crd = kubectl_json("get", "crd", name)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions["Established"] == "True" and conditions["NamesAccepted"] == "True"
    served = kubectl("api-resources", "--api-group=quckchat.io", "-o", "name").split()
    assert sorted(served) == sorted(crds)
    # `kubectl get quckchat` lists all three kinds at once.
    in_category = kubectl("api-resources", "--categories=quckchat", "-o", "name").split()
    assert sorted(in_category) == sorted(crds)
    for short in KINDS.values():
        assert kubectl_json("get", short, "-n", namespace)["items"] == []


@pytest.mark.parametrize(
    "example", ["minimal-cluster", "production-cluster", "external-stores-cluster", "workspace"]
)
def test_every_example_is_accepted(example: str, namespace: str) -> None:
    out = kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", str(EXAMPLES / f"{example}.yaml")
    )
    assert "(server dry run)" in out


def cluster(spec: dict[str, object]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "quckchat.io/v1alpha1",
            "kind": "QuckChatCluster",
            "metadata": {"name": "bad"},
            "spec": spec,
        }
    )


def service_group(spec: dict[str, object]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "quckchat.io/v1alpha1",
            "kind": "ServiceGroup",
            "metadata": {"name": "bad"},
            "spec": {"cluster": "qc", "group": "edge", **spec},
        }
    )


@pytest.mark.parametrize(
    ("manifest", "field", "words"),
    [
        (cluster({"groups": {"edge": {"replicas": -1}}}), "spec.groups.edge.replicas",
         "greater than or equal to 0"),
        (service_group({"replicas": -3}), "spec.replicas", "greater than or equal to 0"),
        (cluster({"stores": {"kafka": {"mode": "rented"}}}), "spec.stores.kafka.mode",
         'Unsupported value: "rented"'),
        (cluster({"version": "1.0"}), "spec.version", "should match"),
        (cluster({"stores": {"mysql": {"mode": "external"}}}), "spec.stores.mysql",
         "secretRef is required when mode is external"),
        (cluster({"services": {"chat": {"replicas": 1}}}), "spec.services",
         "keys must be service names"),
        (cluster({"groups": {"edge": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}}),
         "spec.groups[edge].autoscaling", "minReplicas must not exceed maxReplicas"),
        (cluster({"placement": {"tolerations": [{"operator": "Exists", "value": "x"}]}}),
         "spec.placement.tolerations[0]", "a toleration with operator Exists takes no value"),
    ],
    ids=["negative-replicas", "negative-group-replicas", "unknown-store-mode", "bad-version",
         "external-without-secret", "unknown-service", "min-above-max", "toleration-exists-value"],
)  # fmt: skip
def test_an_invalid_resource_is_rejected_naming_the_field(
    manifest: str, field: str, words: str, namespace: str
) -> None:
    refusal = kubectl("create", "-n", namespace, "-f", "-", stdin=manifest, check=False)
    assert "is invalid" in refusal, refusal
    assert field in refusal and words in refusal, refusal
    assert kubectl_json("get", "quckchat", "-n", namespace)["items"] == []
