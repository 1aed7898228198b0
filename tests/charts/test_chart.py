"""The chart, rendered with each value set: lint-clean, valid for Kubernetes 1.30-1.34, scanned
clean by checkov, least-privilege RBAC, a restricted pod, and a schema that refuses typos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from quckchat_operator import naming
from quckchat_operator.apply import CHILD_KINDS
from quckchat_operator.cli import build_parser
from tests.charts.support import (
    KUBERNETES_VERSIONS,
    RELEASE,
    RELEASE_NAMESPACE,
    VALUE_SETS,
    checkov,
    failed_checks,
    skip_reasons,
    validation_errors,
    write_documents,
)
from tests.worlds.kube import CHART, helm, run, tool

pytestmark = pytest.mark.helm

Objects = list[dict[str, Any]]
FULLNAME = RELEASE  # the release name already holds the chart name
CLUSTER_SCOPED = frozenset(
    {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "ClusterKopfPeering"}
)
WRITE_VERBS = ("get", "list", "watch", "create", "patch", "update", "delete")
CHECKOV_CONFIG = CHART / ".checkov.yaml"


def find(objects: Objects, kind: str) -> Objects:
    return [o for o in objects if o["kind"] == kind]


def one(objects: Objects, kind: str, name: str = FULLNAME) -> dict[str, Any]:
    (found,) = [o for o in find(objects, kind) if o["metadata"]["name"] == name]
    return found


def container(objects: Objects) -> dict[str, Any]:
    containers: list[dict[str, Any]] = one(objects, "Deployment")["spec"]["template"]["spec"][
        "containers"
    ]
    (only,) = containers
    return only


def grants(rules: list[dict[str, Any]], verb: str, group: str, resource: str) -> bool:
    return any(
        group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules
    )


def plural(kind: str) -> str:
    """A kind's resource name by the rule apimachinery guesses with (enough for CHILD_KINDS)."""
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_helm_lint_strict_is_clean(values: tuple[str, ...]) -> None:
    out = helm("lint", "--strict", str(CHART), *values)
    assert "0 chart(s) failed" in out
    assert "[WARNING]" not in out and "[ERROR]" not in out, out


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_rendered_object_is_valid_for_kubernetes(
    rendered: dict[str, Objects], value_set: str, kubernetes: str
) -> None:
    assert validation_errors(rendered[value_set], kubernetes) == []


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_namespaced_objects_name_their_namespace(
    rendered: dict[str, Objects], value_set: str
) -> None:
    for obj in rendered[value_set]:
        if obj["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in obj["metadata"], obj["kind"]
        else:
            assert obj["metadata"].get("namespace"), f"{obj['kind']}/{obj['metadata']['name']}"


def test_the_chart_ships_our_crds_and_kopfs_peering_crds(rendered: dict[str, Objects]) -> None:
    crds = {
        c["metadata"]["name"]: c
        for c in find(rendered["all-namespaces"], "CustomResourceDefinition")
    }
    assert set(crds) == {k.crd_name for k in naming.KINDS} | {
        "kopfpeerings.kopf.dev",
        "clusterkopfpeerings.kopf.dev",
    }
    for name, scope in (("kopfpeerings", "Namespaced"), ("clusterkopfpeerings", "Cluster")):
        spec = crds[f"{name}.kopf.dev"]["spec"]
        assert spec["scope"] == scope
        (version,) = spec["versions"]
        assert version["name"] == "v1" and version["served"] and version["storage"]
        status = version["schema"]["openAPIV3Schema"]["properties"]["status"]
        assert status == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


@pytest.mark.parametrize(
    ("value_set", "serves"),
    [("all-namespaces", None), ("namespaced", ["team-a", "team-b"])],
)
def test_the_operator_command_is_one_the_cli_accepts(
    rendered: dict[str, Objects], value_set: str, serves: list[str] | None
) -> None:
    objects = rendered[value_set]
    operator = container(objects)
    assert operator["image"] == "ghcr.io/quckchat/quckchat-operator:1.0.0"
    assert operator["command"] == ["quckchat-operator"]
    args = build_parser().parse_args(operator["args"])
    assert args.command == "run"
    assert args.all_namespaces is (serves is None)
    assert args.namespace == serves
    assert not args.standalone
    assert args.liveness == "http://0.0.0.0:8080/healthz"
    assert args.metrics_port == 9090
    ports = {p["name"]: p["containerPort"] for p in operator["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    assert operator["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    # Kopf peers through the object the chart creates, under the name the command gives.
    if serves is None:
        assert one(objects, "ClusterKopfPeering", args.peering)
    else:
        peerings = find(objects, "KopfPeering")
        assert sorted(p["metadata"]["namespace"] for p in peerings) == serves
        assert {p["metadata"]["name"] for p in peerings} == {args.peering}


def test_the_pod_meets_the_restricted_profile(rendered: dict[str, Objects]) -> None:
    pod = one(rendered["all-namespaces"], "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(rendered["all-namespaces"])["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    mounts = {
        m["mountPath"]: m["name"] for m in container(rendered["all-namespaces"])["volumeMounts"]
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    # The pod talks to the API server; its ServiceAccount mounts nothing elsewhere.
    assert pod["automountServiceAccountToken"] is True
    account = one(rendered["all-namespaces"], "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert set(container(rendered["all-namespaces"])["resources"]) == {"requests", "limits"}


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_no_role_uses_a_wildcard(rendered: dict[str, Objects], value_set: str) -> None:
    for role in find(rendered[value_set], "Role") + find(rendered[value_set], "ClusterRole"):
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[key], f"{role['metadata']['name']}: {rule}"


def operator_rules_cover_every_child_kind(rules: list[dict[str, Any]]) -> None:
    for api_version, kind in CHILD_KINDS:
        group = api_version.rpartition("/")[0]
        for verb in WRITE_VERBS:
            assert grants(rules, verb, group, plural(kind)), f"{verb} {kind}"
    for custom in naming.KINDS:
        for resource in (custom.plural, f"{custom.plural}/status"):
            for verb in ("get", "list", "watch", "patch", "update"):
                assert grants(rules, verb, naming.API_GROUP, resource), f"{verb} {resource}"
    assert not grants(rules, "create", naming.API_GROUP, naming.CLUSTER.plural)
    assert not grants(rules, "delete", naming.API_GROUP, naming.WORKSPACE.plural)
    assert grants(rules, "delete", "", "persistentvolumeclaims")
    assert not grants(rules, "get", "", "persistentvolumeclaims")
    assert not grants(rules, "create", "", "pods")
    # Pods are read to name a crash-looping service, never changed.
    assert grants(rules, "list", "", "pods")
    assert not grants(rules, "delete", "", "pods") and not grants(rules, "patch", "", "pods")


def test_all_namespaces_puts_everything_in_one_cluster_role(rendered: dict[str, Objects]) -> None:
    objects = rendered["all-namespaces"]
    assert find(objects, "Role") == find(objects, "RoleBinding") == []
    rules = one(objects, "ClusterRole")["rules"]
    operator_rules_cover_every_child_kind(rules)
    assert grants(rules, "patch", "kopf.dev", "clusterkopfpeerings")
    assert grants(rules, "watch", "apiextensions.k8s.io", "customresourcedefinitions")
    binding = one(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == FULLNAME
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": FULLNAME, "namespace": RELEASE_NAMESPACE}
    ]


def test_listed_namespaces_get_a_role_each_and_a_small_cluster_role(
    rendered: dict[str, Objects],
) -> None:
    objects = rendered["namespaced"]
    cluster_rules = one(objects, "ClusterRole")["rules"]
    assert [(r["apiGroups"], r["resources"], r["verbs"]) for r in cluster_rules] == [
        (["apiextensions.k8s.io"], ["customresourcedefinitions"], ["list", "watch"]),
        ([""], ["namespaces"], ["list", "watch"]),
    ]
    roles = find(objects, "Role")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["team-a", "team-b"]
    for role in roles:
        operator_rules_cover_every_child_kind(role["rules"])
        assert grants(role["rules"], "patch", "kopf.dev", "kopfpeerings")
    for binding in find(objects, "RoleBinding"):
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": FULLNAME,
        }
        assert binding["subjects"][0]["namespace"] == RELEASE_NAMESPACE


def test_the_workspace_editor_role_is_for_tenants(rendered: dict[str, Objects]) -> None:
    role = one(rendered["all-namespaces"], "ClusterRole", "quckchat-workspace-editor")
    labels = role["metadata"]["labels"]
    assert labels["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    rules = role["rules"]
    for verb in WRITE_VERBS:
        assert grants(rules, verb, naming.API_GROUP, "workspaces")
    assert grants(rules, "get", naming.API_GROUP, "workspaces/status")
    assert not grants(rules, "patch", naming.API_GROUP, "workspaces/status")
    assert not grants(rules, "get", naming.API_GROUP, "quckchatclusters")


def test_two_replicas_get_a_disruption_budget_and_a_service_monitor(
    rendered: dict[str, Objects],
) -> None:
    assert find(rendered["all-namespaces"], "PodDisruptionBudget") == []
    assert find(rendered["all-namespaces"], "ServiceMonitor") == []
    objects = rendered["ha"]
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    selector = deployment["spec"]["selector"]["matchLabels"]
    budget = one(objects, "PodDisruptionBudget")
    assert budget["spec"] == {"minAvailable": 1, "selector": {"matchLabels": selector}}
    anti = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert anti["preferredDuringSchedulingIgnoredDuringExecution"]
    service = one(objects, "Service", f"{FULLNAME}-metrics")
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
    ]
    monitor = one(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [RELEASE_NAMESPACE]}
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (("--set", "replicas=-1"), "at '/replicas': minimum"),
        (("--set", "replicas=3"), "at '/replicas': maximum"),
        (("--set", "replica=2"), "additional properties 'replica' not allowed"),
        (("--set", "rbac.workspaceEditor.aggregate=true"), "'aggregate' not allowed"),
        (("--set", "image.pullPolicy=Sometimes"), "at '/image/pullPolicy'"),
        (("--set", "metrics.serviceMonitor.enabled=yes"), "at '/metrics/serviceMonitor/enabled'"),
        (("--set", "resources.limits.memory=lots"), "at '/resources/limits/memory'"),
        (("--set", "watch.allNamespaces=false"), "at '/watch/namespaces': minItems"),
        (("--set", "watch.namespaces={team-a}"), "at '/watch/namespaces': maxItems"),
        (
            ("--set", "watch.allNamespaces=false", "--set", "watch.namespaces={Team_A}"),
            "at '/watch/namespaces/0'",
        ),
    ],
)
def test_the_values_schema_refuses_a_bad_value_by_name(values: tuple[str, ...], named: str) -> None:
    done = run(tool("helm"), "template", RELEASE, str(CHART), *values)
    assert done.returncode != 0, done.stdout
    assert "values don't meet the specifications of the schema" in done.stderr
    assert named in done.stderr


def test_every_value_is_in_the_schema() -> None:
    """values.yaml and values.schema.json name the same keys, so no value goes unchecked."""
    schema = yaml.safe_load((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(value: Any, node: dict[str, Any], path: str) -> Iterator[str]:
        node = schema["definitions"][node["$ref"].rpartition("/")[2]] if "$ref" in node else node
        if not isinstance(value, dict) or "properties" not in node:
            return
        assert node.get("additionalProperties") is False, path
        for key, child in value.items():
            if key not in node["properties"]:
                yield f"{path}.{key}"
            else:
                yield from walk(child, node["properties"][key], f"{path}.{key}")

    assert list(walk(values, schema, "")) == []


@pytest.fixture(scope="module")
def chart_report(
    rendered: dict[str, Objects], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One checkov scan over every value set's rendering (checkov takes seconds per run)."""
    directory = tmp_path_factory.mktemp("chart-rendered")
    for name, objects in rendered.items():
        write_documents(directory, name, objects)
    return checkov(CHECKOV_CONFIG, directory)


@pytest.mark.checkov
def test_checkov_finds_nothing_in_the_chart(chart_report: dict[str, Any]) -> None:
    assert failed_checks(chart_report) == []
    assert chart_report["summary"]["parsing_errors"] == 0
    scanned = {
        Path(c["file_path"]).stem
        for c in chart_report["results"]["passed_checks"]
        if c["resource"].startswith("Deployment.")
    }
    assert scanned == set(VALUE_SETS)


@pytest.mark.parametrize(
    "config",
    [CHECKOV_CONFIG, Path(__file__).parent / "operator-render.checkov.yaml"],
    ids=lambda p: p.name,
)
def test_every_skipped_checkov_check_has_a_reason(config: Path) -> None:
    skipped = yaml.safe_load(config.read_text())["skip-check"]
    reasons = skip_reasons(config)
    assert sorted(reasons) == sorted(skipped)
    for check, reason in reasons.items():
        assert reason.startswith(f"{check} ("), f"{check}: the comment above must name it"
        assert len(reason.split()) >= 12, f"{check}: say why, not only what"
