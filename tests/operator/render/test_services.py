"""A service's Deployment, Service, PDB and HPA."""

from __future__ import annotations

from typing import Any

import pytest

from quckchat import catalog
from quckchat_operator import naming
from quckchat_operator.render.services import DEFAULT_RESOURCES
from tests.operator.support import container, env, of_kind, one, render, render_example


def test_each_deployment_runs_the_one_image_as_its_service() -> None:
    objects = render({"version": "1.4.2"})
    for service in catalog.implemented():
        deployment = one(objects, "Deployment", f"qc-{service.name}")
        main = container(deployment)
        assert main["image"] == "ghcr.io/quckchat/quckchat:1.4.2"
        assert main["args"] == ["serve", service.name]
        assert main["ports"] == [{"name": "http", "containerPort": service.port, "protocol": "TCP"}]
        assert main["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert main["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert main["resources"] == DEFAULT_RESOURCES
        spec = deployment["spec"]
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        assert spec["progressDeadlineSeconds"] == 600
        assert len(deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]) == 2
        port = one(objects, "Service", f"qc-{service.name}")["spec"]["ports"][0]
        assert (port["port"], port["targetPort"]) == (service.port, "http")


def test_settings_come_from_the_config_map_and_store_urls_from_secrets() -> None:
    objects = render()
    data = one(objects, "ConfigMap", "qc-config")["data"]
    assert data["QUCKCHAT_HOST"] == "0.0.0.0"
    assert data["QUCKCHAT_AUTO_MIGRATE"] == "false"
    assert data["QUCKCHAT_SERVICE_URL_TEMPLATE"] == "http://qc-{name}:{port}"
    auth = one(objects, "Deployment", "qc-auth")
    assert container(auth)["envFrom"][0] == {"configMapRef": {"name": "qc-config"}}
    variables = env(auth)
    # The server's URL: each service opens the database named after it there.
    assert "QUCKCHAT_DATABASE_URL" not in variables
    assert variables["QUCKCHAT_MYSQL_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "qc-mysql-credentials",
        "key": "url",
    }
    assert variables["QUCKCHAT_REDIS_URL"]["valueFrom"]["secretKeyRef"]["name"] == (
        "qc-redis-credentials"
    )
    assert variables["QUCKCHAT_KAFKA_BOOTSTRAP"] == {
        "name": "QUCKCHAT_KAFKA_BOOTSTRAP",
        "value": "qc-kafka:9092",
    }
    gateway = env(one(objects, "Deployment", "qc-backend-gateway"))
    assert gateway["QUCKCHAT_POSTGRESQL_URL"]["valueFrom"]["secretKeyRef"]["name"] == (
        "qc-postgresql-credentials"
    )
    assert "QUCKCHAT_MYSQL_URL" not in gateway
    assert "QUCKCHAT_ELASTICSEARCH_URL" in env(one(objects, "Deployment", "qc-search"))


def test_a_settings_change_rolls_the_pods() -> None:
    def digest(version: str) -> str:
        auth = one(render({"version": version}), "Deployment", "qc-auth")
        annotations: dict[str, str] = auth["spec"]["template"]["metadata"]["annotations"]
        return annotations[naming.CONFIG_HASH_ANNOTATION]

    assert digest("1.0.0") == digest("1.0.0") != digest("1.0.1")


def test_with_an_hpa_no_deployment_sets_replicas() -> None:
    objects = render_example("production-cluster")
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    assert {a["spec"]["scaleTargetRef"]["name"] for a in autoscalers.values()} == {
        f"chat-prod-{s.name}"
        for s in catalog.implemented()
        if s.group in (catalog.Group.EDGE, catalog.Group.REALTIME)
    }
    for name, deployment in of_kind(objects, "Deployment").items():
        assert ("replicas" in deployment["spec"]) == (name not in autoscalers), name
    realtime = autoscalers["chat-prod-realtime"]["spec"]
    assert (realtime["minReplicas"], realtime["maxReplicas"]) == (3, 30)
    target = realtime["metrics"][0]["resource"]["target"]
    assert target == {"type": "Utilization", "averageUtilization": 60}


@pytest.mark.parametrize(
    ("override", "budget"),
    [
        ({"replicas": 1}, False),
        ({"replicas": 2}, True),
        ({"replicas": 0}, False),
        ({"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 5}}, False),
        ({"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5}}, True),
        ({"autoscaling": {"enabled": False, "minReplicas": 2}, "replicas": 1}, False),
    ],
)
def test_a_pdb_only_when_at_least_two_pods_run(override: dict[str, Any], budget: bool) -> None:
    objects = render({"services": {"auth": override}})
    assert ("qc-auth" in of_kind(objects, "PodDisruptionBudget")) is budget
    assert "qc-user" not in of_kind(objects, "PodDisruptionBudget")


def test_every_production_service_has_a_budget_of_one() -> None:
    budgets = of_kind(render_example("production-cluster"), "PodDisruptionBudget")
    assert len(budgets) == len(catalog.implemented())
    assert {b["spec"]["maxUnavailable"] for b in budgets.values()} == {1}


def test_resources_come_from_the_service_then_its_group_then_the_default() -> None:
    objects = render(
        {
            "groups": {"identity": {"resources": {"requests": {"cpu": "200m"}}}},
            "services": {"auth": {"resources": {"limits": {"memory": "2Gi"}}}},
        }
    )
    assert container(one(objects, "Deployment", "qc-auth"))["resources"] == {
        "limits": {"memory": "2Gi"}
    }
    assert container(one(objects, "Deployment", "qc-user"))["resources"] == {
        "requests": {"cpu": "200m"}
    }
    assert container(one(objects, "Deployment", "qc-channel"))["resources"] == DEFAULT_RESOURCES
