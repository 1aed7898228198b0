"""NetworkPolicies deny by default and open exactly the catalog's edges."""

from __future__ import annotations

from typing import Any

from quckchat import catalog
from quckchat_operator import naming
from quckchat_operator.render.meta import Manifest
from quckchat_operator.render.network import calls
from quckchat_operator.render.stores import STORE_KINDS
from tests.code_calls import rest_calls
from tests.operator.support import of_kind, one, render, render_example


def peers(rules: list[dict[str, Any]], key: str) -> set[str]:
    return {
        peer["podSelector"]["matchLabels"][naming.LABEL_NAME]
        for rule in rules
        for peer in rule.get(key, [])
        if "podSelector" in peer
    }


def policy(objects: list[Manifest], name: str) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects, "NetworkPolicy", name)["spec"]
    return spec


def test_everything_is_denied_unless_allowed_and_dns_is_allowed() -> None:
    objects = render()
    deny = policy(objects, "qc-default-deny")
    assert deny["podSelector"]["matchLabels"] == naming.cluster_selector("qc")
    assert (deny["policyTypes"], deny["ingress"], deny["egress"]) == (
        ["Ingress", "Egress"],
        [],
        [],
    )
    dns = policy(objects, "qc-allow-dns")
    assert {p["port"] for p in dns["egress"][0]["ports"]} == {53}


def test_every_pod_of_the_cluster_is_under_the_default_deny() -> None:
    objects = render()
    selector = naming.cluster_selector("qc")
    for workload in objects:
        if workload["kind"] in ("Deployment", "StatefulSet", "Job"):
            labels = workload["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items()


def test_each_call_the_code_makes_is_open_at_both_ends_and_nothing_else() -> None:
    """Read against the services' source (tests/code_calls.py), not the policy's own input."""
    objects = render()
    routed = {s.name for s in catalog.implemented() if s.public_prefix}
    code = {s.name: rest_calls(s.name) for s in catalog.implemented()}
    # The gateway forwards each public area to its service by name, not by a literal.
    code["backend-gateway"] |= routed
    for service in catalog.implemented():
        spec = policy(objects, f"qc-{service.name}")
        store_names = {str(s) for s in service.stores if s in STORE_KINDS}
        assert peers(spec["egress"], "to") - store_names == code[service.name], service.name
        callers = {name for name, called in code.items() if service.name in called}
        if service.name == "workspace":
            callers.add("quckchat-operator")  # provisions Workspaces
        if service.name in ("backend-gateway", "realtime"):
            assert spec["ingress"] == [{"ports": [{"protocol": "TCP", "port": service.port}]}]
        else:
            assert peers(spec["ingress"], "from") == callers, service.name


def test_a_service_that_never_calls_permission_cannot_reach_it() -> None:
    objects = render()
    assert "permission" not in rest_calls("message")
    assert "permission" not in peers(policy(objects, "qc-message")["egress"], "to")
    assert "message" not in peers(policy(objects, "qc-permission")["ingress"], "from")


def test_the_operator_reaches_the_workspace_service_from_its_own_namespace() -> None:
    ingress = policy(render(), "qc-workspace")["ingress"]
    (rule,) = [r for r in ingress if any("namespaceSelector" in p for p in r["from"])]
    assert rule["from"] == [
        {
            "namespaceSelector": {},
            "podSelector": {"matchLabels": {naming.LABEL_NAME: "quckchat-operator"}},
        }
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": catalog.get("workspace").port}]


def test_the_gateway_reaches_every_service_it_routes_to() -> None:
    gateway = catalog.get("backend-gateway")
    routed = {s.name for s in catalog.implemented() if s.public_prefix}
    assert routed <= set(calls(gateway))


def test_a_store_takes_only_its_users_and_the_migration() -> None:
    objects = render()
    users = {s.name for s in catalog.implemented() if catalog.Store.MYSQL in s.stores}
    assert peers(policy(objects, "qc-mysql")["ingress"], "from") == users | {"migrate"}
    search = peers(policy(objects, "qc-elasticsearch")["ingress"], "from")
    assert search == {"search"}
    assert peers(policy(objects, "qc-migrate")["egress"], "to") == {"mysql", "postgresql"}


def test_an_external_store_is_reached_by_its_port() -> None:
    objects = render_example("external-stores-cluster")
    assert not {"chat-external-mysql", "chat-external-redis"} & set(
        of_kind(objects, "NetworkPolicy")
    )
    realtime = policy(objects, "chat-external-realtime")
    external = [r for r in realtime["egress"] if "ipBlock" in r["to"][0]]
    assert {r["ports"][0]["port"] for r in external} == {6380, 9092}


def test_the_file_service_alone_reaches_clamd_and_is_told_where() -> None:
    objects = render({"files": {"clamd": "tcp://clamav.security.svc:3310"}})
    assert one(objects, "ConfigMap", "qc-config")["data"]["QUCKCHAT_CLAMD_URL"] == (
        "tcp://clamav.security.svc:3310"
    )
    for service in catalog.implemented():
        egress = policy(objects, f"qc-{service.name}")["egress"]
        ports = {p["port"] for rule in egress if "ipBlock" in rule["to"][0] for p in rule["ports"]}
        assert (3310 in ports) == (service.name == "file"), service.name
    assert "QUCKCHAT_CLAMD_URL" not in one(render(), "ConfigMap", "qc-config")["data"]
