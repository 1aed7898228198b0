"""End-to-end fixtures: the testbed's control plane, the CRDs, a namespace and the operator.

The operator runs in-process under `kopf.testing.KopfRunner`, so a test can read its write
counter (`quckchat_operator.apply.RECORDER`) directly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from kopf.testing import KopfRunner

from tests.operator.e2e.kube import LeaseKeeper, OperatorLog, drop_namespace
from tests.support import ROOT, load_testbed_env
from tests.worlds.kube import kubectl, kubectl_json, testbed_kubeconfig, wait_for

load_testbed_env()

# Figures the tests measure, printed after the run (tests/operator/conftest.py).
MEASUREMENTS: dict[str, str] = {}


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[str]:
    """The testbed's kubeconfig, as $KUBECONFIG for kubectl, Kopf and the operator's client."""
    path = testbed_kubeconfig()
    before = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = path
    yield path
    if before is None:
        os.environ.pop("KUBECONFIG", None)
    else:
        os.environ["KUBECONFIG"] = before


@pytest.fixture(scope="session")
def crds(kubeconfig: str) -> list[str]:
    """The CRDs from crds/, applied and established."""
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "crds"))
    found = kubectl_json("get", "crd", "-l", "app.kubernetes.io/part-of=quckchat")["items"]
    names = [c["metadata"]["name"] for c in found]
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])
    return names


@pytest.fixture(scope="session")
def node_leases(kubeconfig: str) -> Iterator[None]:
    with LeaseKeeper():
        yield


PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


@pytest.fixture(scope="module")
def namespace(kubeconfig: str, crds: list[str], node_leases: None) -> Iterator[str]:
    """A fresh namespace per test module, deleted with its volumes afterwards.

    It enforces Pod Security's restricted profile: a pod the operator renders that breaks it
    is refused by the apiserver, and its workload never becomes ready.
    """
    name = f"qc-e2e-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    kubectl(
        "label", "namespace", name, f"{PSA_ENFORCE}=restricted", f"{PSA_ENFORCE}-version=latest"
    )
    yield name
    drop_namespace(name)


@pytest.fixture(scope="module")
def operator(namespace: str) -> Iterator[KopfRunner]:
    """The operator, serving only this module's namespace, without peering."""
    args = ["run", "--standalone", "--namespace", namespace, "-m", "quckchat_operator.handlers"]
    with OperatorLog() as log, KopfRunner(args, timeout=60) as runner:
        wait_for(
            "the operator to start and log in",
            lambda: (
                log.seen("Activity 'configure' succeeded")
                and log.seen("Initial authentication has finished")
            ),
        )
        yield runner
        # Delete the clusters while the operator still runs, so it lets them go.
        kubectl("delete", "quckchatclusters", "--all", "-n", namespace, "--wait=false")
        wait_for(
            "the clusters to be deleted",
            lambda: not kubectl_json("get", "quckchatclusters", "-n", namespace)["items"],
        )
    assert runner.exit_code == 0, runner.output
