"""Operator figures (issue: the operator), on the testbed's control plane with kwok nodes.

Runs `quckchat-operator run` as its own process, as a Deployment would, and measures from here:
time from `kubectl apply` of the minimal example to every object created and to Ready; the
operator's RSS once it serves 10 Ready clusters; write calls per no-op reconcile (from its own
/metrics); and how many reconcile passes over an unchanged cluster one process completes a
minute.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import yaml
from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from bench.stats import figure, rss_mb
from quckchat_operator import naming
from quckchat_operator.apply import Applier, Recorder, connect
from quckchat_operator.reconcile import reconcile
from quckchat_operator.render.cluster import render_cluster
from quckchat_operator.render.meta import Cluster
from tests.operator.e2e.kube import LeaseKeeper, claim_volumes, drop_namespace
from tests.support import ROOT, load_testbed_env
from tests.worlds.clusters import EXAMPLES
from tests.worlds.kube import kubectl, wait_for

CLUSTERS = 10
# The testbed's three nodes hold 330 pods; 10 clusters of 38 pods need more room.
EXTRA_NODES = 2
NAME = "quckchat"
IDLE_SECONDS = 35.0  # the operator's timer checks each cluster every 10 s
CAPACITY_SECONDS = 20.0


@contextmanager
def _extra_nodes(run: str) -> Iterator[list[str]]:
    """kwok nodes of this run's own, removed afterwards (kwok manages every node)."""
    core = client.CoreV1Api(connect())
    names = [f"qcb-{run}-node-{i}" for i in range(EXTRA_NODES)]
    room = {"cpu": "32", "memory": "256Gi", "pods": "110"}
    for name in names:
        node: Any = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": name},
            },
            "status": {"allocatable": room, "capacity": room},
        }
        core.create_node(node)
    try:
        yield names
    finally:
        for name in names:
            core.delete_node(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _counters(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_total"):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


@contextmanager
def _operator(pattern: str, metrics_port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "quckchat_operator.cli", "run", "--standalone",
               "--namespace", pattern, "--metrics-port", str(metrics_port)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("the operator's /metrics", lambda: _up(metrics_port), timeout=60)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _phase(read: Applier, namespace: str) -> str | None:
    found = read.get(naming.GROUP_VERSION, naming.CLUSTER.kind, NAME, namespace)
    phase: str | None = ((found or {}).get("status") or {}).get("phase")
    return phase


def _create(namespace: str, read: Applier) -> None:
    kubectl("create", "namespace", namespace)
    claim_volumes(namespace, NAME)
    kubectl("apply", "-n", namespace, "-f", str(EXAMPLES / "minimal-cluster.yaml"))


def _first_cluster(namespace: str, read: Applier, expected: int) -> None:
    started = time.monotonic()
    _create(namespace, read)
    wait_for(
        "every object of the first cluster",
        lambda: len(read.children(NAME, namespace)) >= expected,
        timeout=120,
        poll=0.2,
    )
    created = time.monotonic() - started
    wait_for("the first cluster Ready", lambda: _phase(read, namespace) == "Ready", timeout=180)
    ready = time.monotonic() - started
    figure(f"kubectl apply -> all {expected} objects created", created, "s", "(target <= 10 s)")
    figure("kubectl apply -> Ready under kwok", ready, "s", "(target <= 60 s)")


def _capacity(read: Applier, namespaces: list[str]) -> tuple[float, int]:
    """Reconcile passes a minute over unchanged clusters in this process, and writes made."""
    recorder = Recorder()
    applier = Applier(connect(), recorder=recorder)
    bodies: list[dict[str, Any]] = [
        found
        for ns in namespaces
        if (found := read.get(naming.GROUP_VERSION, naming.CLUSTER.kind, NAME, ns))
    ]
    passes = 0
    started = time.monotonic()
    while time.monotonic() - started < CAPACITY_SECONDS:
        reconcile(applier, bodies[passes % len(bodies)], now=datetime.now(UTC))
        passes += 1
    return passes / (time.monotonic() - started) * 60, recorder.total_writes


def _delete_clusters(namespaces: list[str], read: Applier) -> None:
    """Delete the clusters while the operator runs, so it lets them go."""
    for namespace in namespaces:
        kubectl("delete", "quckchatclusters", "--all", "-n", namespace, "--wait=false")
    wait_for(
        "the clusters to be deleted",
        lambda: not any(_exists(read, ns) for ns in namespaces),
        timeout=120,
    )


def _exists(read: Applier, namespace: str) -> bool:
    return read.get(naming.GROUP_VERSION, naming.CLUSTER.kind, NAME, namespace) is not None


def main() -> None:
    load_testbed_env()
    kubeconfig = os.environ.get("QUCKCHAT_TEST_KUBECONFIG")
    if not kubeconfig:
        print("operator benchmarks: no local Kubernetes (run `hack/testbed up kube`); skipped")
        return
    os.environ["KUBECONFIG"] = kubeconfig
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "crds"))
    run = uuid.uuid4().hex[:6]
    namespaces = [f"qcb-{run}-{i}" for i in range(CLUSTERS)]
    manifest = yaml.safe_load((EXAMPLES / "minimal-cluster.yaml").read_text())
    expected = len(render_cluster(Cluster.from_manifest({**manifest, "metadata": {"name": NAME}})))
    read = Applier(connect(), recorder=Recorder())
    port = _free_port()
    # A SIGTERM (a CI timeout) still removes what the run created.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with _extra_nodes(run), LeaseKeeper(), _operator(f"qcb-{run}-*", port) as process:
            _first_cluster(namespaces[0], read, expected)
            for namespace in namespaces[1:]:
                _create(namespace, read)
            wait_for(
                f"all {CLUSTERS} clusters Ready",
                lambda: all(_phase(read, ns) == "Ready" for ns in namespaces),
                timeout=600,
                poll=2,
            )
            time.sleep(IDLE_SECONDS / 3)  # let the last status writes settle
            figure(
                f"operator RSS serving {CLUSTERS} Ready clusters",
                rss_mb(process.pid),
                "MB",
                "(target <= 150 MB)",
            )
            before = _counters(port)
            time.sleep(IDLE_SECONDS)
            after = _counters(port)
            name = "quckchat_operator_api_writes_total"
            writes = after.get(name, 0.0) - before.get(name, 0.0)
            passes = (
                after["quckchat_operator_reconciles_total"]
                - before["quckchat_operator_reconciles_total"]
            )
            figure(
                f"write calls per no-op reconcile ({passes:.0f} passes)",
                writes / max(passes, 1),
                "",
                "(target 0)",
            )
            per_minute, capacity_writes = _capacity(read, namespaces)
            figure(
                "unchanged clusters reconciled per minute (one process)",
                per_minute,
                "",
                f"({capacity_writes} writes)",
            )
            _delete_clusters(namespaces, read)
    finally:
        for namespace in namespaces:
            drop_namespace(namespace)
