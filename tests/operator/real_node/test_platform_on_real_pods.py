"""A QuckChatCluster on real pods: every implemented service a real container, Ready for real.

The stores are the test bed's servers (external, through Secrets), and its SMTP server the
cluster's relay (spec.notifications.smtp); each service finds its own database there. A client
talks only to the cluster's Services: phone sign-up (the code read from the auth pod's log, as
the console SMS provider leaves it), a workspace, a channel, a message that reaches a WebSocket
on the other realtime replica and not an outsider's, an invite by email that arrives in Mailpit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import websockets

from quckchat import catalog
from quckchat.core import migrations
from quckchat_operator import naming
from quckchat_operator.render import network
from tests.operator.e2e.conftest import MEASUREMENTS
from tests.operator.real_node.platform import (
    CLUSTER,
    MAIL_FROM,
    NEXT_VERSION,
    READY_TIMEOUT,
    REALTIME_REPLICAS,
    VERSION,
    Images,
    build_images,
    databases_of,
    deploy,
    is_ready,
    job_succeeded,
    phase,
    ready_at,
    run_sql,
    service_address,
    service_pods,
    store_port,
)
from tests.worlds.files import EICAR
from tests.worlds.identity import phone_number
from tests.worlds.kube import kubectl, kubectl_json, wait_for
from tests.worlds.mailbox import Mailbox, mailpit_url
from tests.worlds.platform import EVERY_SERVER

# Building the images and starting 22 Python processes on two shared cores takes minutes; with
# other suites beside it the pods starved (health checks and calls timed out): it runs alone.
pytestmark = [
    pytest.mark.solo,
    pytest.mark.kube,
    pytest.mark.helm,
    *EVERY_SERVER,
    pytest.mark.smtp,
    pytest.mark.timeout(2400),
]


DEPLOYED_GROUPS = catalog.deployed_groups()


@pytest.fixture(scope="module")
def ready_cluster(
    namespace: str, operator_release: str, images: Images, store_urls: dict[str, str]
) -> Iterator[str]:
    seconds = deploy(namespace, images, store_urls)
    MEASUREMENTS["real node: kubectl apply -> Ready"] = f"{seconds:.1f} s"
    yield namespace
    kubectl("delete", "quckchatcluster", CLUSTER, "-n", namespace, "--wait=false")


def test_every_implemented_service_is_a_ready_container_and_ready_counts_them(
    ready_cluster: str, real_node: str
) -> None:
    namespace = ready_cluster
    pods = service_pods(namespace)
    ready = [p for p in pods if is_ready(p)]
    assert {p["spec"]["nodeName"] for p in pods} == {real_node}
    served = {p["metadata"]["labels"][naming.LABEL_NAME] for p in ready}
    assert served == {s.name for s in catalog.implemented()}
    expected = len(catalog.implemented()) + REALTIME_REPLICAS - 1
    assert len(ready) == expected
    status = kubectl_json("get", "quckchatcluster", CLUSTER, "-n", namespace)["status"]
    deployed = len(catalog.implemented())
    assert status["readyServices"] == f"{deployed}/{deployed}"
    for pod in ready:
        (container,) = pod["status"]["containerStatuses"]
        assert container["ready"] and "running" in container["state"], pod["metadata"]["name"]
    with httpx.Client(timeout=10) as client:
        for spec in catalog.implemented():
            health = client.get(service_address(namespace, spec.name) + "/health").json()
            assert health["status"] == "healthy", (spec.name, health)
            assert health["version"] == VERSION


def test_each_service_has_its_own_database_on_its_own_server(ready_cluster: str) -> None:
    on_mysql = {row[0] for row in run_sql("mysql", "SHOW DATABASES")}
    on_postgres = {row[0] for row in run_sql("postgres", "SELECT datname FROM pg_database")}
    for name in databases_of(catalog.Store.MYSQL):
        assert name in on_mysql and name not in on_postgres, name
    for name in databases_of(catalog.Store.POSTGRESQL):
        assert name in on_postgres and name not in on_mysql, name
    # The migration Job put each schema in its own database: auth's tables are in `auth`.
    tables = {row[0] for row in run_sql("mysql", "SHOW TABLES FROM `auth`")}
    assert {"accounts", "sessions"} <= tables


def otp_code(namespace: str, phone: str) -> str:
    """The code the console SMS provider logged in an auth pod."""
    selector = f"{naming.LABEL_INSTANCE}={CLUSTER},{naming.LABEL_NAME}=auth"

    def read() -> str | None:
        logs = kubectl("logs", "-n", namespace, "-l", selector, "--tail=-1", "--prefix=false")
        codes = re.findall(rf"OTP for {re.escape(phone)} is (\d{{6}})", logs)
        return codes[-1] if codes else None

    return wait_for(f"the code for {phone} in the auth pod's log", read, timeout=30)


def sign_up(client: httpx.Client, namespace: str) -> dict[str, Any]:
    phone = phone_number()
    sent = client.post("/api/v1/auth/otp/send", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    code = otp_code(namespace, phone)
    verified = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": code})
    assert verified.status_code == 200, verified.text
    body: dict[str, Any] = verified.json()
    return body


async def listen(
    url: str, frames: list[dict[str, Any]], done: asyncio.Event, words: str, seen: asyncio.Event
) -> None:
    """Keep every frame one WebSocket receives in `frames` until `done`; `seen` once one
    mentions `words`."""
    async with websockets.connect(url) as socket:
        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello", hello
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                frames.append(json.loads(await asyncio.wait_for(socket.recv(), 0.5)))
                if mentions(frames[-1:], words):
                    seen.set()


def mentions(frames: list[dict[str, Any]], words: str) -> bool:
    return any(words in json.dumps(f) for f in frames)


def test_a_client_through_the_services_only(ready_cluster: str) -> None:
    namespace = ready_cluster
    gateway = service_address(namespace, "backend-gateway")
    with httpx.Client(base_url=gateway, timeout=30) as client:
        alice, bob, eve = (sign_up(client, namespace) for _ in range(3))

        def call(method: str, path: str, who: dict[str, Any], **kw: Any) -> Any:
            headers = {"Authorization": f"Bearer {who['access_token']}"}
            response = client.request(method, "/api/v1" + path, headers=headers, **kw)
            assert response.status_code < 300, f"{method} {path}: {response.text}"
            return response.json() if response.content else None

        workspace = call(
            "POST", "/workspaces", alice, json={"name": "Real " + uuid.uuid4().hex[:6]}
        )
        invite = call(
            "POST",
            f"/workspaces/{workspace['id']}/invites",
            alice,
            json={"kind": "link", "max_uses": 1},
        )
        call("POST", "/workspaces/join", bob, json={"token": invite["token"]})
        call("POST", "/workspaces", eve, json={"name": "Elsewhere " + uuid.uuid4().hex[:6]})
        name = "real-" + uuid.uuid4().hex[:6]
        body = {"workspace_id": workspace["id"], "kind": "public", "name": name}
        channel = call("POST", "/channels", alice, json=body)
        call("POST", f"/channels/{channel['id']}/join", bob)

        realtime = [
            p
            for p in service_pods(namespace)
            if p["metadata"]["labels"][naming.LABEL_NAME] == "realtime"
        ]
        assert len(realtime) == REALTIME_REPLICAS
        port = catalog.get("realtime").port
        bob_url = f"ws://{realtime[1]['status']['podIP']}:{port}/ws?token={bob['access_token']}"
        eve_url = f"ws://{realtime[0]['status']['podIP']}:{port}/ws?token={eve['access_token']}"
        text_sent = "on real pods " + uuid.uuid4().hex[:6]

        async def story() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            done, bob_got, eve_got = asyncio.Event(), asyncio.Event(), asyncio.Event()
            bob_seen: list[dict[str, Any]] = []
            eve_seen: list[dict[str, Any]] = []
            listeners = [
                asyncio.create_task(listen(bob_url, bob_seen, done, text_sent, bob_got)),
                asyncio.create_task(listen(eve_url, eve_seen, done, text_sent, eve_got)),
            ]
            await asyncio.sleep(1)
            body = {"channel_id": channel["id"], "text": text_sent}
            await asyncio.to_thread(call, "POST", "/messages", alice, json=body)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bob_got.wait(), 30)
            # A little longer, so a frame wrongly sent to the outsider would arrive too.
            await asyncio.sleep(2)
            done.set()
            await asyncio.gather(*listeners)
            return bob_seen, eve_seen

        bob_seen, eve_seen = asyncio.run(story())

        # Files go to the S3 server and are scanned by clamd, as the cluster's spec says.
        def upload(data: bytes, name: str) -> dict[str, Any]:
            body = {"workspace_id": workspace["id"], "name": name, "size": len(data)}
            created = call("POST", "/files", alice, json=body)
            plan = created["upload"]
            sent = httpx.put(plan["url"], content=data, headers=plan["headers"], timeout=30)
            assert sent.status_code == 200, sent.text
            done: dict[str, Any] = call("POST", f"/files/{created['file']['id']}/complete", alice)
            return done

        clean = upload(b"minutes of the meeting\n", "minutes.txt")
        assert (clean["state"], clean["scanned"]) == ("clean", True)
        infected = upload(EICAR, "invoice.txt")
        assert infected["state"] == "infected" and infected["signature"].startswith("Eicar")
    assert mentions(bob_seen, text_sent), [f.get("type") for f in bob_seen]
    assert not mentions(eve_seen, text_sent)


def test_an_invite_by_email_arrives_through_the_clusters_relay(ready_cluster: str) -> None:
    """The workspace service announces the invite; the notification pod sends it through the
    relay spec.notifications.smtp names (Mailpit, reached by its forwarder on the node)."""
    namespace = ready_cluster
    gateway = service_address(namespace, "backend-gateway")
    invitee = Mailbox.address()
    workspace_name = "Mailed " + uuid.uuid4().hex[:6]
    with httpx.Client(base_url=gateway, timeout=30) as client:
        alice = sign_up(client, namespace)
        headers = {"Authorization": f"Bearer {alice['access_token']}"}
        made = client.post("/api/v1/workspaces", headers=headers, json={"name": workspace_name})
        assert made.status_code == 201, made.text
        invited = client.post(
            f"/api/v1/workspaces/{made.json()['id']}/invites",
            headers=headers,
            json={"email": invitee},
        )
        assert invited.status_code == 201, invited.text

    async def arrived() -> list[Any]:
        mailbox = Mailbox(mailpit_url())
        try:
            return await mailbox.wait_for(invitee, within=60)
        finally:
            await mailbox.aclose()

    (mail,) = asyncio.run(arrived())
    assert workspace_name in mail.subject
    # From the sender the cluster's spec set, not the service's default.
    assert mail.sender == MAIL_FROM.rpartition("<")[2].rstrip(">")


PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
    print("open")
except OSError as error:
    print("refused", type(error).__name__, error)
"""


def reaches(namespace: str, pod: str, host: str, port: int) -> bool:
    """Whether a TCP connection from inside `pod` to host:port is accepted."""
    answer = kubectl("exec", "-n", namespace, pod, "--", "python", "-c", PROBE, host, str(port))
    return answer.strip() == "open"


def test_network_policies_refuse_every_edge_the_code_does_not_have(
    ready_cluster: str, store_urls: dict[str, str]
) -> None:
    """The node enforces the rendered policies: a pod reaches the services its code calls and
    its own stores, and nothing else (another service, another store, the API server)."""
    namespace = ready_cluster
    pods = {p["metadata"]["labels"][naming.LABEL_NAME]: p for p in service_pods(namespace)}
    # A service that calls others, but never permission; and one it does call.
    caller = next(
        s for s in catalog.implemented()
        if s.name not in network.PUBLIC_SERVICES
        and network.calls(s) and "permission" not in network.calls(s)
    )  # fmt: skip
    callee = network.calls(caller)[0]
    pod = pods[caller.name]["metadata"]["name"]

    def ip_port(service: str) -> tuple[str, int]:
        host, port = service_address(namespace, service).removeprefix("http://").split(":")
        return host, int(port)

    assert reaches(namespace, pod, *ip_port(callee)), f"{caller.name} -> {callee} (allowed)"
    assert not reaches(namespace, pod, *ip_port("permission")), f"{caller.name} -> permission"
    # Its own store is open; a store it has no business with is not, nor is the API server.
    node_ip = os.environ["QUCKCHAT_TEST_NODE_IP"]
    own, other = (
        ("mysql", "postgresql")
        if caller.relational_store == catalog.Store.MYSQL
        else ("postgresql", "mysql")
    )
    assert reaches(namespace, pod, node_ip, store_port(store_urls[own])), f"{caller.name} -> {own}"
    assert not reaches(namespace, pod, node_ip, store_port(store_urls[other])), other
    api = kubectl("get", "service", "kubernetes", "-n", "default", "-o=jsonpath={.spec.clusterIP}")
    assert not reaches(namespace, pod, api, 443), "the API server"
    # So permission is up, and open to the service whose code calls it.
    gateway = pods["backend-gateway"]["metadata"]["name"]
    assert reaches(namespace, gateway, *ip_port("permission")), "gateway -> permission"


def test_a_service_crashing_after_ready_turns_the_cluster_degraded_naming_it(
    ready_cluster: str,
) -> None:
    """bookmark loses its tables; pods never migrate, so its new pod exits at every start."""
    namespace = ready_cluster
    run_sql("mysql", "DROP DATABASE `bookmark`", "CREATE DATABASE `bookmark`")
    selector = f"{naming.LABEL_INSTANCE}={CLUSTER},{naming.LABEL_NAME}=bookmark"
    kubectl("delete", "pod", "-n", namespace, "-l", selector, "--wait=false")
    started = time.monotonic()

    def degraded() -> dict[str, Any] | None:
        status = kubectl_json("get", "quckchatcluster", CLUSTER, "-n", namespace)["status"]
        found = {c["type"]: c for c in status.get("conditions", [])}.get("Degraded", {})
        return found if found.get("status") == "True" else None

    condition = wait_for("the cluster to turn Degraded", degraded, timeout=300)
    MEASUREMENTS["real node: crash loop -> Degraded"] = f"{time.monotonic() - started:.1f} s"
    assert condition["reason"] == "ServiceFailing"
    assert "service bookmark" in condition["message"] and "CrashLoopBackOff" in condition["message"]
    assert phase(namespace) == "Degraded"
    # The remedy the message points to: migrate again (the operator re-creates the Job).
    job = naming.migration_job_name(CLUSTER, VERSION)
    kubectl("delete", "job", job, "-n", namespace, "--wait=true")

    # Until the operator has made the Job again, it is not found.
    wait_for("the migration to run again", lambda: job_succeeded(namespace, job), timeout=300)
    # Skip the crash loop's back-off: a fresh pod starts on the migrated schema at once.
    kubectl("delete", "pod", "-n", namespace, "-l", selector, "--wait=false")
    wait_for("the cluster to be Ready again", lambda: phase(namespace) == "Ready", timeout=600)


def pod_starts(namespace: str, version: str) -> dict[str, datetime]:
    """When each service's first pod running `version`'s image was created, by service."""
    found: dict[str, datetime] = {}
    for pod in service_pods(namespace):
        if not pod["spec"]["containers"][0]["image"].endswith(f":{version}"):
            continue
        name = pod["metadata"]["labels"][naming.LABEL_NAME]
        created = datetime.fromisoformat(
            pod["metadata"]["creationTimestamp"].replace("Z", "+00:00")
        )
        found[name] = min(found.get(name, created), created)
    return found


def test_an_upgrade_migrates_in_a_job_then_rolls_the_groups_in_order_across_an_operator_restart(
    ready_cluster: str, operator_release: str, store_urls: dict[str, str]
) -> None:
    namespace = ready_cluster
    nxt = build_images(NEXT_VERSION)
    started = time.monotonic()
    patch = {"spec": {"version": NEXT_VERSION}}
    kubectl("patch", "quckchatcluster", CLUSTER, "-n", namespace, "--type=merge", "-p",
            json.dumps(patch))  # fmt: skip
    job = naming.migration_job_name(CLUSTER, NEXT_VERSION)
    wait_for(
        "the migration Job of the new version", lambda: job_succeeded(namespace, job), timeout=300
    )
    # The operator goes away in the middle of the rollout; its Deployment brings it back.
    wait_for("the first group to roll", lambda: pod_starts(namespace, NEXT_VERSION), timeout=300)
    selector = "app.kubernetes.io/name=quckchat-operator"
    kubectl("delete", "pod", "-n", namespace, "-l", selector, "--wait=false")

    wait_for(
        "Ready at the new version", lambda: ready_at(namespace, NEXT_VERSION), timeout=READY_TIMEOUT
    )
    MEASUREMENTS["real node: upgrade 1.0.0 -> 1.0.1 (operator restarted midway)"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    # The Job migrated each service's own database on its own server.
    logs = kubectl("logs", "-n", namespace, f"job/{job}")
    for name in migrations.database_services():
        assert f"{name}: " in logs, name
    # In the order the catalog states, by the pods' creation times.
    starts = pod_starts(namespace, NEXT_VERSION)
    assert set(starts) == {s.name for s in catalog.implemented()}
    first = {g: min(starts[s.name] for s in catalog.implemented(g)) for g in DEPLOYED_GROUPS}
    last = {g: max(starts[s.name] for s in catalog.implemented(g)) for g in DEPLOYED_GROUPS}
    for earlier, later in itertools.pairwise(DEPLOYED_GROUPS):
        assert last[earlier] <= first[later], (earlier, later)

    # The old version's pods finish terminating.
    def only_new() -> list[dict[str, Any]] | None:
        pods = service_pods(namespace)
        images = {p["spec"]["containers"][0]["image"] for p in pods}
        return pods if images == {nxt.platform} else None

    pods = wait_for("the old version's pods to be gone", only_new, timeout=120)
    # No pod migrated at start: the schemas' only writer is the Job.
    for pod in pods:
        text = kubectl("logs", "-n", namespace, pod["metadata"]["name"])
        assert "Running upgrade" not in text, pod["metadata"]["name"]
    with httpx.Client(timeout=10) as client:
        for spec in catalog.implemented():
            health = client.get(service_address(namespace, spec.name) + "/health").json()
            assert health["version"] == NEXT_VERSION, spec.name
