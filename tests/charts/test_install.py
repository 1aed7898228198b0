"""`helm install` against the testbed's kube-apiserver, in both modes: the CRDs get established,
the pod passes the restricted Pod Security profile, the operator's ServiceAccount can do exactly
what the operator does (asked of the API server with `kubectl auth can-i --as`), and the real
operator, run with that account's token, reconciles and deletes a cluster without a refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from quckchat import catalog
from quckchat_operator import naming
from quckchat_operator.apply import CHILD_KINDS
from quckchat_operator.render.stores import MANAGED_STORES
from tests.worlds.kube import CHART, helm, kubectl, kubectl_json, run, wait_for

pytestmark = [pytest.mark.kube, pytest.mark.helm]

CHILD_VERBS = ("get", "list", "watch", "create", "patch", "update", "delete")
PEERING_VERBS = ("get", "list", "watch", "patch")
CRDS = (
    *(k.crd_name for k in naming.KINDS),
    "kopfpeerings.kopf.dev",
    "clusterkopfpeerings.kopf.dev",
)
# (verb, resource, subresource): what the operator may not do in any mode.
NEVER = (
    ("create", "pods", ""),
    ("delete", "pods", ""),
    ("get", "pods", "log"),
    ("get", "nodes", ""),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", ""),
    ("create", f"quckchatclusters.{naming.API_GROUP}", ""),
    ("delete", f"quckchatclusters.{naming.API_GROUP}", ""),
    ("delete", f"workspaces.{naming.API_GROUP}", ""),
    ("get", "persistentvolumeclaims", ""),
    ("create", "rolebindings.rbac.authorization.k8s.io", ""),
    ("bind", "clusterroles.rbac.authorization.k8s.io", ""),
    ("escalate", "roles.rbac.authorization.k8s.io", ""),
    ("impersonate", "users", ""),
    ("*", "*", ""),
)
Permission = tuple[str, str, str]


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    notes: str

    @property
    def fullname(self) -> str:
        return f"{self.name}-quckchat-operator"

    @property
    def account(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.fullname}"


def resource_name(api_version: str, kind: str) -> str:
    """`plural.group` of a kind, as the API server's discovery names it."""
    group = api_version.rpartition("/")[0]
    path = f"/apis/{api_version}" if group else f"/api/{api_version}"
    found = json.loads(kubectl("get", "--raw", path))["resources"]
    plural = next(r["name"] for r in found if r["kind"] == kind and "/" not in r["name"])
    return f"{plural}.{group}" if group else plural


def operator_needs() -> list[Permission]:
    """What the operator does in a namespace it serves (see apply.py and the handlers)."""
    needs = [
        (verb, resource_name(api_version, kind), "")
        for api_version, kind in CHILD_KINDS
        for verb in CHILD_VERBS
    ]
    for kind in naming.KINDS:
        resource = f"{kind.plural}.{naming.API_GROUP}"
        needs += [(v, resource, "") for v in ("get", "list", "watch", "patch", "update")]
        needs += [(v, resource, "status") for v in ("get", "patch", "update")]
    needs += [("list", "persistentvolumeclaims", ""), ("delete", "persistentvolumeclaims", "")]
    needs += [("list", "pods", "")]
    needs += [(v, e, "") for v in ("create", "patch") for e in ("events", "events.events.k8s.io")]
    return needs


def kopf_cluster_needs() -> list[Permission]:
    return [
        (verb, resource, "")
        for resource in ("customresourcedefinitions.apiextensions.k8s.io", "namespaces")
        for verb in ("list", "watch")
    ]


def can(user: str, permission: Permission, *where: str) -> bool:
    """The API server's answer; a resource it does not know fails instead of reading as "no"."""
    verb, resource, subresource = permission
    extra = (f"--subresource={subresource}",) if subresource else ()
    kubectl_binary = os.environ.get("QUCKCHAT_TEST_KUBECTL", "kubectl")
    done = run(kubectl_binary, "auth", "can-i", verb, resource, *extra, *where, f"--as={user}")
    assert "doesn't have a resource type" not in done.stderr, done.stderr
    assert done.stdout.strip() in ("yes", "no"), done.stderr
    return done.stdout.strip() == "yes"


def refused(user: str, permissions: list[Permission], *where: str) -> list[Permission]:
    return [p for p in permissions if not can(user, p, *where)]


def allowed(user: str, permissions: list[Permission], *where: str) -> list[Permission]:
    return [p for p in permissions if can(user, p, *where)]


def install(name: str, namespace: str, *values: str) -> Release:
    """The chart, installed in a fresh namespace that enforces the restricted profile."""
    kubectl("create", "namespace", namespace)
    kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    try:
        out = helm("install", name, str(CHART), "-n", namespace, "--timeout=2m", *values)
    except AssertionError:
        kubectl("delete", "namespace", namespace, "--wait=false")
        raise
    return Release(name, namespace, notes=out.partition("NOTES:")[2])


def uninstall(release: Release) -> None:
    helm("uninstall", release.name, "-n", release.namespace, "--ignore-not-found", "--wait")
    kubectl("delete", "namespace", release.namespace, "--wait=false", "--ignore-not-found")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def namespaced(kubeconfig: str) -> Iterator[Release]:
    """Serving only its own fresh namespace; it owns the cluster's workspace editor role."""
    namespace = unique("qc-chart-ns")
    release = install(
        unique("qco"),
        namespace,
        "--set=watch.allNamespaces=false",
        f"--set=watch.namespaces={{{namespace}}}",
    )
    yield release
    uninstall(release)


@pytest.fixture(scope="module")
def clusterwide(kubeconfig: str) -> Iterator[Release]:
    """Serving every namespace; the workspace editor role is the namespaced release's."""
    release = install(
        unique("qco"), unique("qc-chart-all"), "--set=rbac.workspaceEditor.create=false"
    )
    yield release
    uninstall(release)


def operator_pods_admitted(release: Release) -> bool:
    pods = kubectl_json(
        "get", "pods", "-n", release.namespace, "-l", f"app.kubernetes.io/instance={release.name}"
    )["items"]
    return len(pods) == 1


@pytest.mark.parametrize("mode", ["namespaced", "clusterwide"])
def test_the_crds_are_established_and_the_pod_admitted(
    mode: str, request: pytest.FixtureRequest
) -> None:
    release: Release = request.getfixturevalue(mode)
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{c}" for c in CRDS])
    # The namespace enforces the restricted profile: a pod exists only if it passed.
    try:
        wait_for(f"the {mode} operator's pod", lambda: operator_pods_admitted(release), timeout=60)
    except AssertionError as exc:
        events = kubectl("get", "events", "-n", release.namespace, check=False)
        raise AssertionError(f"{exc}\n{events}") from None


def test_the_notes_say_what_to_apply_and_how_to_watch(namespaced: Release) -> None:
    assert "kind: QuckChatCluster" in namespaced.notes
    assert f"kubectl apply -n {namespaced.namespace} -f -" in namespaced.notes
    assert f"kubectl get quckchat -n {namespaced.namespace} -w" in namespaced.notes


def test_namespaced_mode_grants_what_the_operator_does_there(namespaced: Release) -> None:
    here = ("-n", namespaced.namespace)
    needs = operator_needs() + [(v, "kopfpeerings.kopf.dev", "") for v in PEERING_VERBS]
    assert refused(namespaced.account, needs, *here) == []
    assert refused(namespaced.account, kopf_cluster_needs()) == []
    peering = kubectl_json("get", "kopfpeerings.kopf.dev", "-n", namespaced.namespace)["items"]
    assert [p["metadata"]["name"] for p in peering] == [namespaced.fullname]


def test_namespaced_mode_grants_nothing_elsewhere(namespaced: Release) -> None:
    here = ("-n", namespaced.namespace)
    assert allowed(namespaced.account, list(NEVER), *here) == []
    elsewhere = [
        ("get", "secrets", ""),
        ("list", "deployments.apps", ""),
        ("watch", "services", ""),
    ]
    assert allowed(namespaced.account, elsewhere, "-n", "kube-system") == []
    assert allowed(namespaced.account, elsewhere, "--all-namespaces") == []
    cluster_peering = [(v, "clusterkopfpeerings.kopf.dev", "") for v in PEERING_VERBS]
    assert allowed(namespaced.account, cluster_peering) == []


def test_tenants_with_the_edit_role_manage_workspaces_only(namespaced: Release) -> None:
    tenant, here = "tenant@example.test", ("-n", namespaced.namespace)
    workspaces = f"workspaces.{naming.API_GROUP}"
    kubectl("create", "rolebinding", "tenant-edit", "--clusterrole=edit", f"--user={tenant}", *here)
    # The controller manager aggregates quckchat-workspace-editor into edit.
    wait_for("Workspaces in the edit role", lambda: can(tenant, ("create", workspaces, ""), *here))
    assert refused(tenant, [(v, workspaces, "") for v in CHILD_VERBS], *here) == []
    assert can(tenant, ("get", workspaces, "status"), *here)
    assert not can(tenant, ("patch", workspaces, "status"), *here)
    assert not can(tenant, ("create", f"quckchatclusters.{naming.API_GROUP}", ""), *here)


def test_clusterwide_mode_grants_what_the_operator_does_everywhere(clusterwide: Release) -> None:
    needs = operator_needs() + kopf_cluster_needs()
    assert refused(clusterwide.account, needs, "--all-namespaces") == []
    peering = [(v, "clusterkopfpeerings.kopf.dev", "") for v in PEERING_VERBS]
    assert refused(clusterwide.account, peering) == []
    kubectl("get", "clusterkopfpeerings.kopf.dev", clusterwide.fullname)


def test_clusterwide_mode_grants_nothing_more(clusterwide: Release) -> None:
    assert allowed(clusterwide.account, list(NEVER), "--all-namespaces") == []
    cluster_wide = [("update", "clusterroles.rbac.authorization.k8s.io", ""), ("list", "nodes", "")]
    assert allowed(clusterwide.account, cluster_wide) == []


def service_account_kubeconfig(release: Release, directory: Path) -> Path:
    """The testbed's kubeconfig with a short-lived token of the operator's ServiceAccount."""
    token = kubectl("create", "token", release.fullname, "-n", release.namespace, "--duration=15m")
    config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    config["users"] = [{"name": "operator", "user": {"token": token.strip()}}]
    for context in config["contexts"]:
        context["context"]["user"] = "operator"
    path = directory / "operator.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def count(kind: str, namespace: str, selector: str) -> int:
    return len(kubectl_json("get", kind, "-n", namespace, "-l", selector)["items"])


def all_deleted(kind: str, namespace: str, selector: str) -> bool:
    """Each object gone or being deleted: a volume claim a pod on the real node still mounts
    stays, marked, until the kubelet lets the pod go (pvc-protection), which is not the
    operator's doing."""
    items = kubectl_json("get", kind, "-n", namespace, "-l", selector)["items"]
    return all(item["metadata"].get("deletionTimestamp") for item in items)


def test_the_operator_runs_under_its_service_account(namespaced: Release, tmp_path: Path) -> None:
    ns, selector = namespaced.namespace, "app.kubernetes.io/instance=rbac"
    log = tmp_path / "operator.log"
    env = {
        **os.environ,
        "KUBECONFIG": str(service_account_kubeconfig(namespaced, tmp_path)),
        "POD_ID": "chart-test",
    }
    args = ["run", f"--namespace={ns}", f"--peering={namespaced.fullname}"]
    with log.open("w") as out:
        operator = subprocess.Popen(
            [sys.executable, "-m", "quckchat_operator.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        cluster = {
            "apiVersion": naming.GROUP_VERSION,
            "kind": naming.CLUSTER.kind,
            "metadata": {"name": "rbac"},
            "spec": {"version": "1.0.0", "deletionPolicy": "Delete"},
        }
        kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(cluster))

        def reconciled() -> bool:
            status = kubectl_json("get", "quckchatcluster", "rbac", "-n", ns).get("status", {})
            return (
                count("statefulsets", ns, selector) == len(MANAGED_STORES)
                and count("servicegroups", ns, selector) == len(catalog.deployed_groups())
                and bool(status.get("phase"))
            )

        wait_for("the cluster's stores, groups and status", reconciled)
        wait_for(
            "the stores' volume claims",
            lambda: count("pvc", ns, selector) == len(MANAGED_STORES),
        )
        peers = kubectl_json("get", "kopfpeerings.kopf.dev", namespaced.fullname, "-n", ns)
        assert set(peers["status"]) == {"chart-test"}
        # Deleting goes through the operator: volumes deleted, the finalizer released.
        kubectl("delete", "quckchatcluster", "rbac", "-n", ns, "--wait=false")
        wait_for("the volumes to be deleted", lambda: all_deleted("pvc", ns, selector))
        # Stopped before it drops its finalizer, the operator would leave the namespace
        # terminating for good.
        wait_for(
            "the cluster to be gone",
            lambda: not kubectl("get", "quckchatcluster", "rbac", "-n", ns, "--ignore-not-found"),
        )
    finally:
        operator.terminate()
        operator.wait(timeout=30)
    text = log.read_text()
    assert "forbidden" not in text.lower(), text
    assert " 403" not in text, text


def test_uninstall_leaves_only_the_crds(clusterwide: Release) -> None:
    uninstall(clusterwide)
    for kind in ("clusterrole", "clusterrolebinding", "clusterkopfpeerings.kopf.dev"):
        gone = kubectl("get", kind, clusterwide.fullname, "--ignore-not-found", "-o", "name")
        assert gone == "", kind
    kubectl("get", *[f"crd/{c}" for c in CRDS])
