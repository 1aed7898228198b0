"""Each example renders to a complete, valid, well-labelled set of objects in a sane order."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from pydantic import ValidationError

from quckchat import catalog
from quckchat_operator import naming
from quckchat_operator.render.cluster import render_cluster
from quckchat_operator.render.meta import Manifest
from quckchat_operator.render.stores import MANAGED_STORES
from tests.operator.support import (
    container,
    make_cluster,
    of_kind,
    pod_spec,
    render,
    render_example,
    workloads,
)
from tests.worlds.clusters import CLUSTER_EXAMPLES, load_example

KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
RECOMMENDED = ("name", "instance", "component", "part-of", "managed-by")


@pytest.fixture(scope="module", params=CLUSTER_EXAMPLES)
def example(request: pytest.FixtureRequest) -> tuple[str, list[Manifest]]:
    name: str = request.param
    return load_example(name).name, render_example(name)


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
def test_every_object_is_valid_for_kubernetes(
    example: tuple[str, list[Manifest]], kubernetes: str
) -> None:
    _, objects = example
    checked = 0
    for manifest in objects:
        if manifest["apiVersion"].startswith(f"{naming.API_GROUP}/"):
            continue  # our own kinds: the CRD tests cover them
        kubernetes_validate.validate(manifest, kubernetes, strict=True)
        checked += 1
    assert checked > 50


def test_the_validator_does_reject_a_broken_object() -> None:
    (deployment, *_) = of_kind(render(), "Deployment").values()
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_the_minimal_cluster_has_every_implemented_service_and_store() -> None:
    objects = render_example("minimal-cluster")
    deployments, services = of_kind(objects, "Deployment"), of_kind(objects, "Service")
    statefulsets = of_kind(objects, "StatefulSet")
    implemented = catalog.implemented()
    for service in implemented:
        name = naming.service_name("quckchat", service.name)
        assert name in deployments and name in services
    assert len(deployments) == len(implemented)
    for store in MANAGED_STORES:
        name = naming.store_name("quckchat", store)
        assert name in statefulsets and services[name]["spec"]["clusterIP"] == "None"
    assert len(statefulsets) == len(MANAGED_STORES) == 7
    assert len(services) == len(implemented) + len(MANAGED_STORES)
    groups = of_kind(objects, "ServiceGroup")
    # A group of planned services only (storage, say) has no ServiceGroup showing READY 0/1.
    assert [g["spec"]["group"] for g in groups.values()] == catalog.deployed_groups()


def test_names_and_labels_fit_and_say_whose_object_it_is(
    example: tuple[str, list[Manifest]],
) -> None:
    cluster, objects = example
    for manifest in objects:
        meta = manifest["metadata"]
        assert len(meta["name"]) <= naming.MAX_NAME, meta["name"]
        labels = meta["labels"]
        for key in RECOMMENDED:
            assert f"app.kubernetes.io/{key}" in labels, (manifest["kind"], meta["name"], key)
        assert labels[naming.LABEL_INSTANCE] == cluster
        assert all(len(v) <= naming.MAX_NAME for v in labels.values())
        assert "ownerReferences" not in meta  # apply adopts; render stays pure
    keys = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert len(keys) == len(objects), "two objects of one kind share a name"


def test_selectors_are_name_and_instance_and_pick_one_workload_each(
    example: tuple[str, list[Manifest]],
) -> None:
    cluster, objects = example
    seen = set()
    for manifest in objects:
        if manifest["kind"] not in ("Deployment", "StatefulSet"):
            continue
        selector = manifest["spec"]["selector"]["matchLabels"]
        assert set(selector) == {naming.LABEL_NAME, naming.LABEL_INSTANCE}
        assert selector[naming.LABEL_INSTANCE] == cluster
        assert selector.items() <= manifest["spec"]["template"]["metadata"]["labels"].items()
        seen.add(selector[naming.LABEL_NAME])
    workloads_count = sum(o["kind"] in ("Deployment", "StatefulSet") for o in objects)
    assert len(seen) == workloads_count
    for service in of_kind(objects, "Service").values():
        assert set(service["spec"]["selector"]) == {naming.LABEL_NAME, naming.LABEL_INSTANCE}


def assert_restricted(workload: Manifest) -> None:
    pod = pod_spec(workload)
    where = workload["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True, where
    assert pod["securityContext"]["runAsUser"] > 0, where
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
    assert pod["automountServiceAccountToken"] is False, where
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod), where
    assert all("hostPath" not in v for v in pod.get("volumes", [])), where
    for each in pod["containers"] + pod.get("initContainers", []):
        context: dict[str, Any] = each["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["capabilities"] == {"drop": ["ALL"]}, where
        assert context["runAsNonRoot"] is True, where
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where


def test_every_pod_meets_the_restricted_profile(example: tuple[str, list[Manifest]]) -> None:
    _, objects = example
    for workload in workloads(objects):
        assert_restricted(workload)
        if workload["kind"] != "StatefulSet":
            assert container(workload)["securityContext"]["readOnlyRootFilesystem"] is True
            mounts = {m["mountPath"]: m["name"] for m in container(workload)["volumeMounts"]}
            volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]]


def test_the_service_account_has_no_token() -> None:
    (account,) = of_kind(render(), "ServiceAccount").values()
    assert account["automountServiceAccountToken"] is False
    for workload in workloads(render()):
        assert pod_spec(workload)["serviceAccountName"] == account["metadata"]["name"]


def test_objects_come_in_dependency_order() -> None:
    objects = render_example("minimal-cluster")
    kinds = [o["kind"] for o in objects]
    last_policy = max(i for i, k in enumerate(kinds) if k == "NetworkPolicy")
    first_store = kinds.index("StatefulSet")
    job = kinds.index("Job")
    first_deployment = kinds.index("Deployment")
    assert kinds.index("ServiceAccount") < last_policy < first_store < job < first_deployment
    groups = [
        d["metadata"]["labels"][naming.LABEL_GROUP] for d in objects if d["kind"] == "Deployment"
    ]
    order = list(dict.fromkeys(groups))
    assert order == [str(g) for g in catalog.UPGRADE_ORDER if catalog.implemented(g)]
    names = [
        d["metadata"]["labels"][naming.LABEL_NAME] for d in objects if d["kind"] == "Deployment"
    ]
    for service in catalog.implemented():
        for dependency in service.depends_on:
            if catalog.get(dependency).group == service.group:
                assert names.index(dependency) < names.index(service.name)


def test_the_namespace_is_set_when_the_cluster_has_one() -> None:
    assert all("namespace" not in o["metadata"] for o in render_example("minimal-cluster"))
    objects = render_cluster(make_cluster(namespace="chat"))
    assert {o["metadata"]["namespace"] for o in objects} == {"chat"}


def test_rendering_twice_gives_the_same_objects() -> None:
    first = render_example("production-cluster")
    assert render_example("production-cluster") == first


def test_no_two_objects_share_a_dict() -> None:
    objects = render()
    first = next(iter(of_kind(objects, "Deployment").values()))
    first["metadata"]["labels"]["touched"] = "yes"
    assert "touched" not in first["spec"]["template"]["metadata"]["labels"]


def test_a_planned_service_gets_nothing_until_it_is_implemented() -> None:
    """It has no code: a Deployment would crash-loop and hold the cluster out of Ready."""
    objects = render_example("minimal-cluster")
    planned = [s for s in catalog.SERVICES if not s.implemented]
    assert planned, "every service is implemented: this test has nothing left to check"
    for service in planned:
        name = naming.service_name("quckchat", service.name)
        assert not [o for o in objects if o["metadata"]["name"] == name], name
        for o in objects:
            assert o["metadata"]["labels"].get(naming.LABEL_NAME) != service.name


def test_placement_reaches_every_pod_the_cluster_runs() -> None:
    placement = {
        "nodeSelector": {"quckchat.io/node-kind": "real"},
        "tolerations": [
            {"key": "quckchat.io/node-kind", "value": "real", "effect": "NoSchedule"},
            {"key": "maintenance", "operator": "Exists"},
        ],
    }
    objects = render({"placement": placement})
    pods = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]
    assert {o["kind"] for o in pods} == {"Deployment", "StatefulSet", "Job"}
    for workload in pods:
        spec = workload["spec"]["template"]["spec"]
        assert spec["nodeSelector"] == {"quckchat.io/node-kind": "real"}
        assert spec["tolerations"] == [
            {
                "key": "quckchat.io/node-kind",
                "operator": "Equal",
                "value": "real",
                "effect": "NoSchedule",
            },
            {"key": "maintenance", "operator": "Exists"},
        ]
    # Without placement, pods carry neither field: the scheduler's defaults apply.
    for workload in render():
        if workload["kind"] in ("Deployment", "StatefulSet", "Job"):
            spec = workload["spec"]["template"]["spec"]
            assert "nodeSelector" not in spec and "tolerations" not in spec


def test_a_toleration_of_any_value_takes_none() -> None:
    with pytest.raises(ValidationError, match="Exists takes no value"):
        make_cluster({"placement": {"tolerations": [{"operator": "Exists", "value": "x"}]}})
