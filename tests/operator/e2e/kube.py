"""Helpers for the operator's end-to-end tests: volumes, node leases, its log and its writes."""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client

from quckchat_operator import naming
from quckchat_operator.apply import Applier, Recorder, connect
from quckchat_operator.render.stores import DATA_VOLUME, MANAGED_STORES
from tests.worlds.kube import kubectl, kubectl_json

LEASE_NAMESPACE = "kube-node-lease"


def reader() -> Applier:
    """Reads through the operator's own client code, counted apart from the operator's."""
    return Applier(connect(), recorder=Recorder())


def claim_volumes(namespace: str, cluster: str) -> list[str]:
    """A PersistentVolume pre-bound to each managed store's claim.

    The testbed has no storage provisioner; the PV controller binds these, then the scheduler
    places the store pods and kwok makes them ready.
    """
    core = client.CoreV1Api(connect())
    names = []
    for store in MANAGED_STORES:
        sts = naming.store_name(cluster, store)
        name = f"{namespace}-{store}"
        volume: Any = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": {"quckchat.io/e2e": namespace}},
            "spec": {
                "capacity": {"storage": "10Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": f"/tmp/quckchat-e2e/{name}"},
                "claimRef": {"namespace": namespace, "name": f"{DATA_VOLUME}-{sts}-0"},
            },
        }
        core.create_persistent_volume(volume)
        names.append(name)
    return names


def release_volumes(namespace: str) -> None:
    core = client.CoreV1Api(connect())
    core.delete_collection_persistent_volume(label_selector=f"quckchat.io/e2e={namespace}")


def drop_namespace(namespace: str) -> None:
    """Delete a test namespace and its volumes, even with the operator already stopped."""
    # Anything the operator could no longer finalize must not block the deletion.
    for kind in ("quckchatclusters", "servicegroups", "workspaces"):
        for item in kubectl_json("get", kind, "-n", namespace)["items"]:
            if item["metadata"].get("finalizers"):
                kubectl(
                    "patch", kind, item["metadata"]["name"], "-n", namespace,
                    "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
                )  # fmt: skip
    kubectl("delete", "namespace", namespace, "--wait=false")
    release_volumes(namespace)


class LeaseKeeper:
    """Renews each kwok node's Lease, as a kubelet would, while the tests run.

    The testbed starts kwok without --node-lease-duration-seconds: its nodes then report only
    through status heartbeats about 50 s apart, the node controller's grace period runs out now
    and then, and it marks every pod on the node unready for good (kwok readies a pod once).
    Until hack/testbed passes that flag, the tests keep the leases fresh themselves.
    """

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self.api = client.CoordinationV1Api(connect())
        # Only kwok's: a real node's kubelet renews its own, and a kept lease would hide it dead.
        nodes = client.CoreV1Api(connect()).list_node(label_selector="type=kwok").items
        self.nodes: list[str] = [n.metadata.name for n in nodes if n.metadata and n.metadata.name]
        self.created: set[str] = set()

    def __enter__(self) -> LeaseKeeper:
        self.renew()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        for node in self.created:  # leave the testbed as we found it
            self.api.delete_namespaced_lease(node, LEASE_NAMESPACE)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.renew()
            except Exception as exc:  # a hiccup must not end the keeper; the next round retries
                print(f"lease keeper: {exc}")

    def renew(self) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for node in self.nodes:
            body: Any = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": node, "namespace": LEASE_NAMESPACE},
                "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now},
            }
            try:
                self.api.patch_namespaced_lease(node, LEASE_NAMESPACE, body)
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
                self.api.create_namespaced_lease(LEASE_NAMESPACE, body)
                self.created.add(node)


class OperatorLog(logging.Handler):
    """The operator's log lines (Kopf's and ours), as they come, for tests to wait on."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def seen(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def __enter__(self) -> OperatorLog:
        logging.getLogger("kopf").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("kopf").removeHandler(self)


def audit_log() -> Path | None:
    """The testbed apiserver's audit log (writes only, at Metadata level), if it keeps one."""
    kubeconfig = os.environ.get("QUCKCHAT_TEST_KUBECONFIG")
    if not kubeconfig:
        return None
    path = Path(kubeconfig).parent / "audit" / "audit.log"
    return path if path.exists() else None


def audited_writes(
    path: Path, namespace: str, since: datetime, agents: tuple[str, ...]
) -> list[str]:
    """Write requests in `namespace` after `since` by a client whose user agent starts with one
    of `agents`, as 'verb resource/name'."""
    found = []
    with path.open() as log:
        for line in log:
            if f'"namespace":"{namespace}"' not in line:
                continue
            entry = json.loads(line)
            stamp = datetime.fromisoformat(entry["requestReceivedTimestamp"].replace("Z", "+00:00"))
            if stamp < since or not entry.get("userAgent", "").startswith(agents):
                continue
            ref = entry["objectRef"]
            sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
            found.append(f"{entry['verb']} {ref.get('resource')}/{ref.get('name')}{sub}")
    return found


def secret_data(namespace: str, name: str) -> dict[str, str]:
    """A Secret's values, decoded."""
    secret = kubectl_json("get", "secret", name, "-n", namespace)
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
