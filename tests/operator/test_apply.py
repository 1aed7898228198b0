"""When a live object already matches what was rendered (the subset comparison), and what apply
then sends: nothing for a match, one server-side apply for a difference."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from quckchat_operator import naming
from quckchat_operator.apply import (
    FIELD_MANAGER,
    HANDOVER_MANAGER,
    Applier,
    Recorder,
    is_subset,
    owns_replicas,
)
from quckchat_operator.render.meta import Manifest
from tests.operator.support import of_kind, render


# The subset comparison.
def test_fields_only_the_apiserver_set_do_not_count() -> None:
    desired = {"spec": {"replicas": 2, "template": {"spec": {"restartPolicy": "Always"}}}}
    live = {
        "metadata": {"uid": "u", "resourceVersion": "7", "managedFields": []},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 10,
            "template": {"spec": {"restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}},
        },
        "status": {"readyReplicas": 2},
    }
    assert is_subset(desired, live)


def test_a_different_or_missing_value_does_not_match() -> None:
    assert not is_subset({"spec": {"replicas": 3}}, {"spec": {"replicas": 2}})
    assert not is_subset({"spec": {"paused": True}}, {"spec": {}})
    assert not is_subset({"spec": {"selector": {"a": "b"}}}, {"spec": {"selector": "a=b"}})


@pytest.mark.parametrize("empty", [[], {}, None, "", 0, False])
def test_an_empty_value_the_apiserver_omitted_matches(empty: Any) -> None:
    assert is_subset({"spec": {"field": empty}}, {"spec": {}})
    assert is_subset({"spec": {"field": empty}}, {"spec": {"field": None}})


def test_an_empty_value_does_not_match_a_value_that_is_set() -> None:
    assert not is_subset({"spec": {"replicas": 0}}, {"spec": {"replicas": 3}})
    assert not is_subset({"spec": {"args": []}}, {"spec": {"args": ["serve"]}})


def test_a_list_of_scalars_is_atomic() -> None:
    assert is_subset({"args": ["serve", "auth"]}, {"args": ["serve", "auth"]})
    assert not is_subset({"args": ["serve", "auth"]}, {"args": ["serve", "auth", "--debug"]})
    assert not is_subset({"args": ["serve", "auth"]}, {"args": ["auth", "serve"]})
    assert not is_subset({"args": ["serve"]}, {"args": "serve"})


def test_a_list_of_objects_matches_its_items_in_order_among_others() -> None:
    desired = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    # Another manager's item between ours, and the apiserver's extra fields, are kept.
    live = {
        "env": [
            {"name": "A", "value": "1"},
            {"name": "INJECTED", "value": "x"},
            {"name": "B", "value": "2", "valueFrom": None},
        ]
    }
    assert is_subset(desired, live)
    swapped = {"env": [live["env"][2], live["env"][0]]}
    assert not is_subset(desired, swapped)
    assert not is_subset(desired, {"env": [{"name": "A", "value": "1"}]})
    assert not is_subset(
        desired, {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]}
    )


@pytest.mark.parametrize(
    ("wanted", "stored", "same"),
    [
        ("0.5", "500m", True),
        ("1Gi", "1024Mi", True),
        ("1", "1000m", True),
        ("1Gi", "1G", False),
        ("250m", "0.3", False),
        ("lots", "lots", True),
        ("lots", "1", False),
    ],
)
def test_resource_quantities_match_as_amounts(wanted: str, stored: str, same: bool) -> None:
    desired = {"resources": {"requests": {"cpu": wanted}, "limits": {"memory": wanted}}}
    live = {"resources": {"requests": {"cpu": stored}, "limits": {"memory": stored}}}
    assert is_subset(desired, live) is same


def test_a_size_limit_is_a_quantity_and_other_strings_are_not() -> None:
    assert is_subset(
        {"emptyDir": {"sizeLimit": "64Mi"}}, {"emptyDir": {"sizeLimit": str(64 * 2**20)}}
    )
    assert not is_subset(
        {"metadata": {"annotations": {"note": "0.5"}}},
        {"metadata": {"annotations": {"note": "500m"}}},
    )


def test_a_rendered_workload_matches_itself_as_the_apiserver_returns_it() -> None:
    (deployment, *_) = of_kind(render(), "Deployment").values()
    live = copy.deepcopy(deployment)
    live["metadata"] |= {"uid": "u", "generation": 3}
    live["spec"]["progressDeadlineSeconds"] = 600
    container = live["spec"]["template"]["spec"]["containers"][0]
    container["terminationMessagePath"] = "/dev/termination-log"
    container["env"].append({"name": "ADDED_BY_A_WEBHOOK", "value": "1"})
    live["status"] = {"replicas": 1}
    assert is_subset(deployment, live)
    container["image"] = "elsewhere/quckchat:0.9.0"
    assert not is_subset(deployment, live)


# What apply sends.
class Response:
    def __init__(self, body: Manifest) -> None:
        self.data = json.dumps(body)


class Resource:
    """One kind's API: records each server-side apply (manager and body) and create."""

    def __init__(self, calls: list[tuple[str, str, Manifest]]) -> None:
        self.calls = calls

    def server_side_apply(self, *, body: Manifest, field_manager: str, **_: Any) -> Response:
        self.calls.append(("apply", field_manager, body))
        return Response(body)

    def create(self, *, body: Manifest, **_: Any) -> Response:
        self.calls.append(("create", FIELD_MANAGER, body))
        return Response(body)


class RecordingApplier(Applier):
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.calls: list[tuple[str, str, Manifest]] = []

    def _resource(self, api_version: str, kind: str) -> Any:
        return Resource(self.calls)


def config_map(data: dict[str, str], **meta: Any) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "qc-config", "namespace": "team", **meta},
        "data": data,
    }


CLUSTER_OWNER = {"kind": naming.CLUSTER.kind, "name": "qc", "uid": "0f0f"}


def test_a_matching_object_costs_no_write() -> None:
    applier = RecordingApplier()
    live = config_map({"A": "1"}, uid="u", resourceVersion="4")
    assert applier.apply(config_map({"A": "1"}), live) is live
    assert applier.calls == [] and applier.recorder.total_writes == 0


def test_a_difference_or_a_missing_object_is_applied_once_by_our_manager() -> None:
    applier = RecordingApplier()
    applier.apply(config_map({"A": "2"}), config_map({"A": "1"}))
    applier.apply(config_map({"A": "1"}), None)
    assert [(verb, manager) for verb, manager, _ in applier.calls] == [
        ("apply", FIELD_MANAGER),
        ("apply", FIELD_MANAGER),
    ]
    assert applier.recorder.writes["apply ConfigMap"] == 2


def test_dropping_the_cluster_as_owner_is_a_change() -> None:
    applier = RecordingApplier()
    live = config_map({"A": "1"}, ownerReferences=[CLUSTER_OWNER])
    applier.apply(config_map({"A": "1"}), live)
    assert len(applier.calls) == 1


def test_a_create_only_object_is_created_once_and_then_left_alone() -> None:
    applier = RecordingApplier()
    group = {
        "apiVersion": naming.GROUP_VERSION,
        "kind": naming.SERVICE_GROUP.kind,
        "metadata": {"name": "qc-edge", "namespace": "team"},
        "spec": {"replicas": 1},
    }
    scaled = {**group, "spec": {"replicas": 5}}
    assert applier.apply(group, scaled) is scaled
    applier.apply(group, None)
    assert [verb for verb, _, _ in applier.calls] == ["create"]


def deployment(replicas: int | None, managers: list[dict[str, Any]] | None = None) -> Manifest:
    spec: dict[str, Any] = {"template": {"spec": {"containers": [{"name": "a", "image": "i"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    meta: dict[str, Any] = {"name": "qc-auth", "namespace": "team"}
    if managers is not None:
        meta["managedFields"] = managers
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def replicas_applied_by(manager: str) -> dict[str, Any]:
    return {"manager": manager, "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}}


def test_replicas_dropped_for_an_autoscaler_are_handed_over_first() -> None:
    applier = RecordingApplier()
    live = deployment(3, [replicas_applied_by(FIELD_MANAGER)])
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "old"
    applier.apply(deployment(None), live)
    (handover, applied) = applier.calls
    # The live count goes to a second manager, so our apply without it does not reset it.
    assert handover[:2] == ("apply", HANDOVER_MANAGER)
    assert handover[2]["spec"] == {"replicas": 3}
    assert applied[:2] == ("apply", FIELD_MANAGER)


def test_who_applied_the_replicas_is_read_from_managed_fields() -> None:
    assert owns_replicas(deployment(3, [replicas_applied_by(FIELD_MANAGER)]))
    assert not owns_replicas(deployment(3, [replicas_applied_by("kubectl")]))
    update = {**replicas_applied_by(FIELD_MANAGER), "operation": "Update"}
    assert not owns_replicas(deployment(3, [update]))
    assert not owns_replicas(deployment(3))
