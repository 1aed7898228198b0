"""The platform on the test bed's real node, as a platform team would run it: the images built
here, `helm install` of the chart (the operator in a pod, under the chart's RBAC), then a
QuckChatCluster whose stores are the test bed's servers, reached from the pods at the node
bridge's address. Shared by tests/operator/real_node and bench/real_node.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pymongo import MongoClient
from redis import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from quckchat import catalog
from quckchat_operator import naming
from tests.operator.e2e.conftest import PSA_ENFORCE
from tests.operator.e2e.kube import drop_namespace
from tests.support import ROOT, load_testbed_env, server
from tests.worlds.kube import CHART, helm, kubectl, kubectl_json, wait_for

VERSION = "1.0.0"
NEXT_VERSION = "1.0.1"
NODE_SCRIPT = ROOT / "hack" / "testbed-node"
CLUSTER = "chat"
REALTIME_REPLICAS = 2
# A Redis database of its own, apart from the other suites' database 0.
REDIS_DB = 13
# 16 Python processes start on two shared cores: be patient with the first Ready.
READY_TIMEOUT = 900.0
# What the test bed's node is labelled and tainted with (hack/testbed-node).
NODE_KIND = "quckchat.io/node-kind"
PLACEMENT = {
    "nodeSelector": {NODE_KIND: "real"},
    "tolerations": [
        {"key": NODE_KIND, "operator": "Equal", "value": "real", "effect": "NoSchedule"}
    ],
}
# The test bed's servers as pods reach them (`hack/testbed-node env` writes these).
STORE_VARS = {
    "mysql": "QUCKCHAT_TEST_NODE_MYSQL_URL",
    "postgresql": "QUCKCHAT_TEST_NODE_POSTGRES_URL",
    "mongodb": "QUCKCHAT_TEST_NODE_MONGODB_URL",
    "redis": "QUCKCHAT_TEST_NODE_REDIS_URL",
    "kafka": "QUCKCHAT_TEST_NODE_KAFKA_BOOTSTRAP",
    "elasticsearch": "QUCKCHAT_TEST_NODE_ELASTICSEARCH_URL",
    "objects": "QUCKCHAT_TEST_NODE_S3_URL",
}
# The test bed's SMTP server (Mailpit) as pods reach it, and the Secret that names it.
SMTP_VAR = "QUCKCHAT_TEST_NODE_SMTP_URL"
SMTP_SECRET = f"{CLUSTER}-smtp"
MAIL_FROM = "QuckChat on real pods <chat@quckchat.example>"


@dataclass(frozen=True)
class Images:
    platform: str
    operator: str


def build_images(version: str) -> Images:
    """Both images of this tree at `version`, built here and imported into the node (cached:
    an unchanged tree is not built again)."""
    done = subprocess.run(
        [str(NODE_SCRIPT), "images", version], capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        raise AssertionError(f"hack/testbed-node images {version} failed:\n{done.stderr[-3000:]}")
    platform = os.environ.get("QUCKCHAT_TEST_NODE_PLATFORM_IMAGE", "localhost/quckchat/quckchat")
    operator = os.environ.get(
        "QUCKCHAT_TEST_NODE_OPERATOR_IMAGE", "localhost/quckchat/quckchat-operator"
    )
    return Images(platform=f"{platform}:{version}", operator=f"{operator}:{version}")


def store_urls() -> dict[str, str]:
    """The servers' URLs as pods use them; empty values where the env file names none."""
    urls = {store: os.environ.get(var, "") for store, var in STORE_VARS.items()}
    if urls["redis"]:
        urls["redis"] = urls["redis"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    return urls


# Namespaces of the real-pod suite and its benchmark; one left by an interrupted run keeps its
# pods running on the node (and its finalizers, with no operator to lift them).
RUN_PREFIXES = ("qc-real-", "qcb-real-")


def drop_leftovers() -> list[str]:
    """Delete what earlier, interrupted runs left on the node; the namespaces dropped."""
    names = kubectl("get", "namespaces", "-o=jsonpath={.items[*].metadata.name}").split()
    left = [n for n in names if n.startswith(RUN_PREFIXES)]
    for name in left:
        drop_namespace(name)
    return left


def restricted_namespace(prefix: str, *, exact: bool = False) -> str:
    """A namespace enforcing Pod Security's restricted profile: `prefix` and a random suffix."""
    name = prefix if exact else f"{prefix}-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    kubectl(
        "label", "namespace", name, f"{PSA_ENFORCE}=restricted", f"{PSA_ENFORCE}-version=latest"
    )
    return name


def install_operator(namespace: str, images: Images, release: str | None = None) -> str:
    """The chart's operator, as a pod on the real node, serving `namespace`; its release."""
    repository, _, tag = images.operator.rpartition(":")
    release = release or f"qco-{uuid.uuid4().hex[:6]}"
    # Helm installs a chart's CRDs only where none exist: this tree's, as an upgrade applies them.
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CHART / "crds"))
    helm(
        "install", release, str(CHART), "-n", namespace, "--wait", "--timeout=5m",
        f"--set=image.repository={repository}", f"--set=image.tag={tag}",
        "--set=image.pullPolicy=Never",
        "--set=watch.allNamespaces=false", f"--set=watch.namespaces={{{namespace}}}",
        # Cluster-wide and one per cluster: the chart's own tests cover it.
        "--set=rbac.workspaceEditor.create=false",
        f"--set-json=nodeSelector={json.dumps(PLACEMENT['nodeSelector'])}",
        f"--set-json=tolerations={json.dumps(PLACEMENT['tolerations'])}",
    )  # fmt: skip
    return release


def uninstall_operator(namespace: str, release: str) -> None:
    helm("uninstall", release, "-n", namespace, "--ignore-not-found", "--wait")


def store_port(url: str) -> int:
    port = urlsplit(url if "://" in url else f"tcp://{url}").port
    assert port is not None, url
    return port


def cluster_manifest(images: Images, urls: dict[str, str], version: str) -> dict[str, Any]:
    repository = images.platform.rpartition(":")[0]
    return {
        "apiVersion": f"{naming.API_GROUP}/{naming.API_VERSION}",
        "kind": "QuckChatCluster",
        "metadata": {"name": CLUSTER},
        "spec": {
            "version": version,
            "image": {"repository": repository, "pullPolicy": "Never"},
            "stores": {
                store: {
                    "mode": "external",
                    "secretRef": {"name": f"{CLUSTER}-store-{store}", "key": "url"},
                    "port": store_port(url),
                }
                for store, url in urls.items()
            },
            "services": {"realtime": {"replicas": REALTIME_REPLICAS}},
            "placement": PLACEMENT,
            "files": {"clamd": os.environ["QUCKCHAT_TEST_NODE_CLAMD_URL"]},
            "notifications": {
                "smtp": {
                    "urlSecret": {"name": SMTP_SECRET, "key": "url"},
                    "from": MAIL_FROM,
                    "port": store_port(os.environ[SMTP_VAR]),
                }
            },
        },
    }


def apply(manifest: dict[str, Any], namespace: str) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))


def run_sql(kind: str, *statements: str) -> list[Any]:
    """Run statements on the test bed's `kind` server; the rows of the last one."""

    async def go() -> list[Any]:
        engine = create_async_engine(server(kind), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                rows: list[Any] = []
                for statement in statements:
                    result = await conn.execute(text(statement))
                    rows = list(result.all()) if result.returns_rows else []
                return rows
        finally:
            await engine.dispose()

    return asyncio.run(go())


def databases_of(store: catalog.Store) -> list[str]:
    return [s.module for s in catalog.implemented() if s.relational_store == store]


def fresh_stores() -> None:
    """Drop what an earlier run left in the test bed under the services' database names."""
    run_sql("mysql", *(f"DROP DATABASE IF EXISTS `{d}`" for d in databases_of(catalog.Store.MYSQL)))
    run_sql(
        "postgres",
        *(
            f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)'
            for d in databases_of(catalog.Store.POSTGRESQL)
        ),
    )
    cache = Redis.from_url(server("redis").rsplit("/", 1)[0] + f"/{REDIS_DB}")
    cache.flushdb()
    cache.close()
    mongo: Any = MongoClient(server("mongodb"))
    for spec in catalog.implemented():
        if catalog.Store.MONGODB in spec.stores:
            mongo.drop_database(spec.module)
    mongo.close()


def create_secrets(namespace: str, urls: dict[str, str]) -> None:
    """A Secret per store, and settings that keep this cluster's Kafka topics and search index
    apart from the other suites' on the shared servers."""
    for store, url in urls.items():
        values = {"url": url}
        if store == catalog.Store.OBJECTS:
            # The S3 server's keys, and a bucket of this run's own.
            values = {
                "endpoint": url,
                "bucket": namespace,
                "accessKey": os.environ["QUCKCHAT_TEST_S3_ACCESS_KEY"],
                "secretKey": os.environ["QUCKCHAT_TEST_S3_SECRET_KEY"],
            }
        kubectl(
            "create", "secret", "generic", f"{CLUSTER}-store-{store}", "-n", namespace,
            *(f"--from-literal={key}={value}" for key, value in values.items()),
        )  # fmt: skip
    kubectl(
        "create", "secret", "generic", SMTP_SECRET, "-n", namespace,
        f"--from-literal=url={os.environ[SMTP_VAR]}",
    )  # fmt: skip
    kubectl(
        "create", "secret", "generic", naming.settings_secret_name(CLUSTER), "-n", namespace,
        f"--from-literal=QUCKCHAT_KAFKA_TOPIC_PREFIX={namespace}.",
        f"--from-literal=QUCKCHAT_SEARCH_INDEX_PREFIX={namespace}-",
    )  # fmt: skip


def deploy(namespace: str, images: Images, urls: dict[str, str]) -> float:
    """Fresh stores, the Secrets and the cluster; the seconds from `kubectl apply` to Ready."""
    fresh_stores()
    create_secrets(namespace, urls)
    started = time.monotonic()
    apply(cluster_manifest(images, urls, VERSION), namespace)
    wait_for("the cluster on real pods to be Ready", lambda: phase(namespace) == "Ready",
             timeout=READY_TIMEOUT)  # fmt: skip
    return time.monotonic() - started


def phase(namespace: str) -> str | None:
    found = kubectl_json("get", "quckchatcluster", CLUSTER, "-n", namespace)
    value: str | None = found.get("status", {}).get("phase")
    return value


def ready_at(namespace: str, version: str) -> bool:
    """The cluster is Ready and reports `version` as current."""
    found = kubectl_json("get", "quckchatcluster", CLUSTER, "-n", namespace).get("status", {})
    return bool(found.get("phase") == "Ready" and found.get("currentVersion") == version)


def job_succeeded(namespace: str, job: str) -> bool:
    """The Job ran to success (False while it runs, and while it does not exist)."""
    succeeded = "jsonpath={.status.succeeded}"
    return kubectl("get", "job", job, "-n", namespace, "-o", succeeded, check=False) == "1"


def service_pods(namespace: str) -> list[dict[str, Any]]:
    selector = f"{naming.LABEL_INSTANCE}={CLUSTER},{naming.LABEL_COMPONENT}=service"
    items: list[dict[str, Any]] = kubectl_json("get", "pods", "-n", namespace, "-l", selector)[
        "items"
    ]
    return items


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
    return pod["status"].get("phase") == "Running" and conditions.get("Ready") == "True"


def service_address(namespace: str, name: str) -> str:
    found = kubectl_json("get", "service", naming.service_name(CLUSTER, name), "-n", namespace)
    return f"http://{found['spec']['clusterIP']}:{catalog.get(name).port}"


LOCAL_RELEASE = "quckchat-operator"


def local_up(namespace: str) -> None:
    """What `hack/local-cluster up` runs on the real node: the platform, left running."""
    node = os.environ.get("QUCKCHAT_TEST_REAL_NODE")
    urls = store_urls()
    if not node or not all(urls.values()) or not os.environ.get(SMTP_VAR):
        raise SystemExit("no real node in the test bed's env file: run hack/testbed up kube node")
    print(f"building the images of this tree (cached when unchanged) for {node}", flush=True)
    images = build_images(VERSION)
    restricted_namespace(namespace, exact=True)
    install_operator(namespace, images, release=LOCAL_RELEASE)
    print(f"operator running as a pod (helm release {LOCAL_RELEASE} in {namespace})", flush=True)
    seconds = deploy(namespace, images, urls)
    print(kubectl("get", "quckchat", "-n", namespace), end="")
    print(f"Ready {seconds:.0f}s after kubectl apply, every service a container on {node}")
    print(f"Public API: {service_address(namespace, 'backend-gateway')}/api/v1/")
    realtime = service_address(namespace, "realtime").replace("http://", "ws://")
    print(f"WebSocket:  {realtime}/ws?token=<access token>")


def local_down(namespace: str) -> None:
    """What `hack/local-cluster down` runs: the cluster while its operator still runs, then
    the operator, then the namespace."""
    kubectl("delete", "quckchatcluster", CLUSTER, "-n", namespace, "--ignore-not-found")
    helm("uninstall", LOCAL_RELEASE, "-n", namespace, "--ignore-not-found", "--wait")
    kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


if __name__ == "__main__":
    import sys

    load_testbed_env()
    os.environ.setdefault("KUBECONFIG", os.environ.get("QUCKCHAT_TEST_KUBECONFIG", ""))
    command, namespace = sys.argv[1], sys.argv[2]
    (local_up if command == "up" else local_down)(namespace)
