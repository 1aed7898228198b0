"""Managed stores keep their passwords; external ones render nothing and point at a Secret."""

from __future__ import annotations

import base64
from typing import Any

from quckchat.catalog import Store
from quckchat_operator.models import QuckChatClusterSpec
from quckchat_operator.render.meta import Cluster
from quckchat_operator.render.stores import MANAGED_STORES, connection_envs, render_store
from tests.operator.support import container, env, of_kind, one, render, render_example

MINIMAL = Cluster("qc", None, QuckChatClusterSpec())


def secret_values(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def cluster_of(spec: dict[str, Any]) -> Cluster:
    return Cluster("qc", None, QuckChatClusterSpec.model_validate(spec))


def never() -> str:
    raise AssertionError("a password was generated although one exists")


def test_an_existing_password_is_kept_and_none_generated() -> None:
    objects = render_store(MINIMAL, Store.MYSQL, existing_password="kept", generate_password=never)
    values = secret_values(one(objects, "Secret", "qc-mysql-credentials"))
    assert values["password"] == "kept"
    assert values["url"] == "mysql+aiomysql://quckchat:kept@qc-mysql:3306/quckchat"


def test_a_password_is_generated_only_by_the_generator_and_then_kept() -> None:
    calls = []

    def generate() -> str:
        calls.append(1)
        return "fresh"

    first = render_store(MINIMAL, Store.REDIS, generate_password=generate)
    password = secret_values(one(first, "Secret", "qc-redis-credentials"))["password"]
    assert (password, len(calls)) == ("fresh", 1)
    again = render_store(MINIMAL, Store.REDIS, existing_password=password, generate_password=never)
    assert again == first


def test_the_whole_cluster_keeps_its_passwords_across_renders() -> None:
    first = render()
    passwords = {
        store: secret_values(secret)["password"]
        for store in MANAGED_STORES
        if (secret := of_kind(first, "Secret").get(f"qc-{store}-credentials"))
    }
    assert set(passwords) == set(MANAGED_STORES) - {Store.KAFKA}
    assert render(passwords=passwords, generate_password=never) == first


def test_a_password_with_odd_characters_is_escaped_in_the_url() -> None:
    objects = render_store(MINIMAL, Store.POSTGRESQL, existing_password="p@ss/w:rd")
    url = secret_values(one(objects, "Secret", "qc-postgresql-credentials"))["url"]
    assert url == "postgresql+asyncpg://quckchat:p%40ss%2Fw%3Ard@qc-postgresql:5432/quckchat"


def test_a_managed_store_is_a_statefulset_with_a_volume_and_probes() -> None:
    objects = render_example("production-cluster")
    mysql = one(objects, "StatefulSet", "chat-prod-mysql")
    assert mysql["spec"]["serviceName"] == "chat-prod-mysql"
    (claim,) = mysql["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    main = container(mysql)
    assert main["image"] == "mysql:8.4"
    assert "readinessProbe" in main and "livenessProbe" in main
    assert main["resources"]["requests"] == {"cpu": "1", "memory": "4Gi"}
    assert env(mysql)["MYSQL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "chat-prod-mysql-credentials",
        "key": "password",
    }
    retention = mysql["spec"]["persistentVolumeClaimRetentionPolicy"]
    assert retention == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_deletion_policy_delete_lets_the_volumes_go() -> None:
    objects = render({"deletionPolicy": "Delete", "stores": {"redis": {"version": "7.4"}}})
    redis = one(objects, "StatefulSet", "qc-redis")
    assert redis["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"
    assert container(redis)["image"] == "redis:7.4"


def test_external_stores_render_no_statefulset_and_point_env_at_their_secret() -> None:
    objects = render_example("external-stores-cluster")
    assert of_kind(objects, "StatefulSet") == {}
    assert of_kind(objects, "Secret") == {}
    auth = env(one(objects, "Deployment", "chat-external-auth"))
    assert auth["QUCKCHAT_MYSQL_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "quckchat-mysql",
        "key": "url",
    }
    assert auth["QUCKCHAT_KAFKA_BOOTSTRAP"]["valueFrom"]["secretKeyRef"] == {
        "name": "quckchat-kafka",
        "key": "bootstrap",
    }
    assert {s["spec"].get("clusterIP") for s in of_kind(objects, "Service").values()} == {None}


def test_one_external_store_beside_managed_ones() -> None:
    objects = render({"stores": {"mongodb": {"mode": "external", "secretRef": {"name": "m"}}}})
    assert "qc-mongodb" not in of_kind(objects, "StatefulSet")
    assert "qc-mysql" in of_kind(objects, "StatefulSet")
    message = env(one(objects, "Deployment", "qc-message"))
    assert message["QUCKCHAT_MONGODB_URL"]["valueFrom"]["secretKeyRef"]["name"] == "m"


def test_managed_mysql_lets_the_platform_create_a_database_per_service() -> None:
    objects = render()
    init = one(objects, "ConfigMap", "qc-mysql-init")["data"]
    assert list(init.values()) == ["GRANT ALL PRIVILEGES ON `%`.* TO 'quckchat'@'%';\n"]
    mysql = one(objects, "StatefulSet", "qc-mysql")
    (mount,) = [m for m in container(mysql)["volumeMounts"] if m["name"] == "init"]
    assert mount == {"name": "init", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": True}
    volumes = mysql["spec"]["template"]["spec"]["volumes"]
    assert {"name": "init", "configMap": {"name": "qc-mysql-init"}} in volumes
    # PostgreSQL's account is the server's owner: it needs no grant.
    assert "qc-postgresql-init" not in of_kind(objects, "ConfigMap")


def test_every_managed_stores_image_can_come_from_a_private_registry() -> None:
    images = {
        str(store): f"registry.internal/mirror/{store}@sha256:{'a' * 64}"
        for store in MANAGED_STORES
    }
    objects = render({"stores": {store: {"image": image} for store, image in images.items()}})
    for store, image in images.items():
        assert container(one(objects, "StatefulSet", f"qc-{store}"))["image"] == image


def test_the_object_store_runs_versitygw_and_reaches_services_as_its_keys() -> None:
    cluster = cluster_of({"stores": {"objects": {"publicEndpoint": "https://files.example.com"}}})
    objects = render_store(cluster, Store.OBJECTS, existing_password="s3cret")
    keys = secret_values(one(objects, "Secret", "qc-objects-credentials"))
    assert keys["endpoint"] == "http://qc-objects:7070" and keys["bucket"] == "quckchat"
    assert (keys["accessKey"], keys["secretKey"]) == ("quckchat", "s3cret")
    assert keys["publicEndpoint"] == "https://files.example.com"
    gateway = one(objects, "StatefulSet", "qc-objects")
    assert container(gateway)["image"] == "versity/versitygw:v1.8.0"
    assert container(gateway)["args"][:2] == ["--access", "$(S3_ACCESS_KEY)"]
    assert env(gateway)["S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "qc-objects-credentials",
        "key": "password",
    }
    managed = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in connection_envs(cluster, Store.OBJECTS)
    }
    assert managed["QUCKCHAT_S3_ENDPOINT"] == {"name": "qc-objects-credentials", "key": "endpoint"}
    assert managed["QUCKCHAT_S3_PUBLIC_ENDPOINT"]["optional"] is True


def test_an_external_object_store_is_read_from_the_named_secrets_keys() -> None:
    cluster = cluster_of({"stores": {"objects": {"mode": "external", "secretRef": {"name": "s3"}}}})
    assert render_store(cluster, Store.OBJECTS) == []
    found = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in connection_envs(cluster, Store.OBJECTS)
    }
    assert found["QUCKCHAT_S3_ACCESS_KEY"] == {"name": "s3", "key": "accessKey"}
    assert found["QUCKCHAT_S3_REGION"] == {"name": "s3", "key": "region", "optional": True}
    assert set(found) == {
        "QUCKCHAT_S3_ENDPOINT",
        "QUCKCHAT_S3_BUCKET",
        "QUCKCHAT_S3_ACCESS_KEY",
        "QUCKCHAT_S3_SECRET_KEY",
        "QUCKCHAT_S3_REGION",
        "QUCKCHAT_S3_PUBLIC_ENDPOINT",
    }
