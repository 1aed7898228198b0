"""The platform on the test bed's real node: figures, not pass/fail.

What a platform team would see on a small real cluster (2 shared cores): image sizes, the time
from `kubectl apply` of a QuckChatCluster to every pod Running and Ready, each pod's idle memory
(working set, from the kubelet's summary API) with the operator's among them, and the time an
upgrade takes (migration Job, then each group's rollout). Needs `hack/testbed up kube node`.
"""

from __future__ import annotations

import json
import os
import time

import httpx

from bench.stats import figure
from quckchat import catalog
from quckchat_operator import naming
from tests.operator.e2e.kube import drop_namespace
from tests.operator.real_node import platform
from tests.support import load_testbed_env
from tests.worlds.kube import kubectl, kubectl_json, wait_for

IDLE_SECONDS = 30.0
KUBELET_SUMMARY = "https://127.0.0.1:10250/stats/summary"
MIB = 2**20


def _pod_memory(namespace: str) -> dict[str, float]:
    """Each pod's working set in MiB, as the node's kubelet reports it.

    Straight from the kubelet on 127.0.0.1 (the API server refuses to proxy to a loopback
    node address); its certificate is self-signed, and nothing leaves the machine.
    """
    summary = httpx.get(KUBELET_SUMMARY, verify=False, timeout=10).json()
    return {
        pod["podRef"]["name"]: pod.get("memory", {}).get("workingSetBytes", 0) / MIB
        for pod in summary.get("pods", [])
        if pod["podRef"]["namespace"] == namespace
    }


def _image_sizes(node: str, images: list[str]) -> dict[str, float]:
    found = kubectl_json("get", "node", node)["status"].get("images", [])
    sizes = {}
    for image in images:
        for entry in found:
            if any(name.endswith(image.split("/", 1)[1]) for name in entry.get("names") or []):
                sizes[image] = entry["sizeBytes"] / MIB
    return sizes


def _upgrade(namespace: str) -> float:
    started = time.monotonic()
    patch = {"spec": {"version": platform.NEXT_VERSION}}
    kubectl("patch", "quckchatcluster", platform.CLUSTER, "-n", namespace, "--type=merge",
            "-p", json.dumps(patch))  # fmt: skip

    wait_for(
        "the upgrade",
        lambda: platform.ready_at(namespace, platform.NEXT_VERSION),
        timeout=platform.READY_TIMEOUT,
        poll=1,
    )
    return time.monotonic() - started


def main() -> None:
    load_testbed_env()
    node = os.environ.get("QUCKCHAT_TEST_REAL_NODE")
    urls = platform.store_urls()
    if not node or not all(urls.values()):
        print("real-node benchmarks: no real node (run `hack/testbed up kube node`); skipped")
        return
    os.environ["KUBECONFIG"] = os.environ["QUCKCHAT_TEST_KUBECONFIG"]
    platform.drop_leftovers()
    started = time.monotonic()
    images = platform.build_images(platform.VERSION)
    figure("images of this tree (built, or found cached)", time.monotonic() - started, "s")
    platform.build_images(platform.NEXT_VERSION)
    for image, size in _image_sizes(node, [images.platform, images.operator]).items():
        figure(f"image {image}", size, "MiB")
    namespace = platform.restricted_namespace("qcb-real")
    try:
        release = platform.install_operator(namespace, images)
        ready = platform.deploy(namespace, images, urls)
        pods = platform.service_pods(namespace)
        figure("kubectl apply -> every pod Running and Ready", ready, "s", f"({len(pods)} pods)")
        time.sleep(IDLE_SECONDS)
        memory = _pod_memory(namespace)
        operator = [name for name in memory if name.startswith(release)]
        for name in operator:
            figure("operator pod, idle", memory[name], "MiB")
        by_service: dict[str, list[float]] = {}
        for pod in pods:
            service = pod["metadata"]["labels"][naming.LABEL_NAME]
            by_service.setdefault(service, []).append(memory.get(pod["metadata"]["name"], 0.0))
        for spec in catalog.implemented():
            values = by_service.get(spec.name, [])
            each = sum(values) / len(values) if values else 0.0
            figure(f"{spec.name} pod, idle", each, "MiB", f"({len(values)} pods)")
        total = sum(sum(v) for v in by_service.values())
        figure("all service pods, idle", total, "MiB", f"({len(pods)} pods)")
        figure(
            f"upgrade {platform.VERSION} -> {platform.NEXT_VERSION} (migrate, then roll)",
            _upgrade(namespace),
            "s",
        )
        platform.uninstall_operator(namespace, release)
    finally:
        drop_namespace(namespace)


if __name__ == "__main__":
    main()
