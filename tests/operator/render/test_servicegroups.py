"""ServiceGroups are seeded from the cluster, then decide the Deployments' replicas."""

from __future__ import annotations

from quckchat import catalog
from quckchat.catalog import Group
from quckchat_operator.models import ServiceGroupSpec
from quckchat_operator.render.servicegroups import scaling_for, seed
from tests.operator.support import of_kind, one, render
from tests.worlds.clusters import load_example


def test_the_cluster_overrides_seed_one_group_each_with_something_deployed() -> None:
    groups = seed(load_example("production-cluster"))
    assert list(groups) == catalog.deployed_groups()
    assert groups[Group.IDENTITY].replicas == 3
    assert groups[Group.IDENTITY].services["auth"].replicas == 4
    edge = groups[Group.EDGE].autoscaling
    assert edge is not None and edge.enabled and edge.max_replicas == 30
    assert groups[Group.ORGANIZATION].services == {}


def test_a_service_setting_beats_its_groups() -> None:
    group = ServiceGroupSpec.model_validate(
        {
            "cluster": "qc",
            "group": "edge",
            "replicas": 2,
            "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4},
            "services": {
                "notification": {"autoscaling": {"enabled": False}, "replicas": 5},
                "realtime": {"replicas": 7},
            },
        }
    )
    assert scaling_for(group, "notification").replicas == 5
    assert scaling_for(group, "notification").autoscaling is None
    realtime = scaling_for(group, "realtime")
    assert realtime.autoscaling is not None and realtime.autoscaling.max_replicas == 4
    assert scaling_for(group, "backend-gateway").floor == 2


def test_a_scaled_service_group_reaches_the_deployments() -> None:
    live = ServiceGroupSpec(cluster="qc", group=Group.REALTIME, replicas=5)
    objects = render(
        {"groups": {"realtime": {"replicas": 2}}}, service_groups={Group.REALTIME: live}
    )
    assert one(objects, "Deployment", "qc-presence")["spec"]["replicas"] == 5
    assert one(objects, "ServiceGroup", "qc-realtime")["spec"]["replicas"] == 5
    assert one(objects, "Deployment", "qc-auth")["spec"]["replicas"] == 1


def test_a_rendered_service_group_is_a_valid_spec_with_its_selector_labels() -> None:
    for name, group in of_kind(render(), "ServiceGroup").items():
        spec = ServiceGroupSpec.model_validate(group["spec"])
        assert name == f"qc-{spec.group}"
        assert group["apiVersion"] == "quckchat.io/v1alpha1"
        assert group["metadata"]["labels"]["quckchat.io/group"] == spec.group
