"""Managed stores (StatefulSet, headless Service, credentials Secret) and how services reach them.

A store is either managed here or external; an external one renders nothing, and services read
its URL from the Secret the platform team named. A managed store's password is generated once:
the caller passes the one already in the cluster's Secret, so a re-render never changes it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from quckchat import catalog
from quckchat.catalog import Store
from quckchat_operator import naming
from quckchat_operator.models import DeletionPolicy, StoreMode, StoreSpec
from quckchat_operator.naming import Component
from quckchat_operator.render import security
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata

PasswordGenerator = Callable[[], str]
USER = "quckchat"
DATABASE = "quckchat"
PORT_NAME = "client"
DATA_VOLUME = "data"
INIT_VOLUME = "init"
# Where the official database images look for first-start scripts.
INIT_PATH = "/docker-entrypoint-initdb.d"
INIT_FILE = "grants.sql"


def new_password() -> str:
    # URL-safe, so it goes into a connection URL unescaped.
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class StoreKind:
    """How one kind of store runs: image, port, user, probes and the URL services get."""

    store: Store
    image: str
    version: str
    port: int
    data_path: str
    uid: int
    url_template: str
    resources: dict[str, Any]
    readiness: dict[str, Any]
    # The container's env, given the credentials Secret's name and the store's own host name.
    env: Callable[[str, str], list[dict[str, Any]]]
    authenticated: bool = True
    read_only_root: bool = True
    scratch: tuple[str, ...] = ("/tmp",)
    args: tuple[str, ...] = ()
    # SQL the image runs once, as its superuser, when it first initialises the data volume.
    init_sql: str | None = None

    def url(self, host: str, password: str) -> str:
        return self.url_template.format(
            user=USER, password=quote(password, safe=""), host=host, port=self.port, db=DATABASE
        )


def secret_env(name: str, secret: str, key: str = "password") -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _exec(*command: str) -> dict[str, Any]:
    return {"exec": {"command": list(command)}}


def _resources(cpu: str, memory: str, limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}


def _kafka_env(secret: str, host: str) -> list[dict[str, Any]]:
    del secret  # the broker runs without authentication, behind its NetworkPolicy
    return [
        {"name": "KAFKA_NODE_ID", "value": "1"},
        {"name": "KAFKA_PROCESS_ROLES", "value": "broker,controller"},
        {"name": "KAFKA_LISTENERS", "value": "PLAINTEXT://:9092,CONTROLLER://:9093"},
        {"name": "KAFKA_ADVERTISED_LISTENERS", "value": f"PLAINTEXT://{host}-0.{host}:9092"},
        {"name": "KAFKA_CONTROLLER_LISTENER_NAMES", "value": "CONTROLLER"},
        {
            "name": "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "value": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        },
        {"name": "KAFKA_CONTROLLER_QUORUM_VOTERS", "value": "1@127.0.0.1:9093"},
        {"name": "KAFKA_LOG_DIRS", "value": "/var/lib/kafka/data/logs"},
        {"name": "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "value": "1"},
        {"name": "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "value": "1"},
        {"name": "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "value": "1"},
        {"name": "CLUSTER_ID", "value": kafka_cluster_id(host)},
    ]


def kafka_cluster_id(host: str) -> str:
    """KRaft's cluster id: 16 bytes, base64url; derived so every render agrees."""
    digest = hashlib.sha256(host.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _objects_env(secret: str, host: str) -> list[dict[str, Any]]:
    # versitygw's root account: the platform's keys (Kubernetes expands them into `args`).
    return [secret_env("S3_ACCESS_KEY", secret, "accessKey"), secret_env("S3_SECRET_KEY", secret)]


STORE_KINDS: dict[Store, StoreKind] = {
    kind.store: kind
    for kind in (
        StoreKind(
            Store.MYSQL,
            image="mysql",
            version="8.4",
            port=3306,
            data_path="/var/lib/mysql",
            uid=999,
            url_template="mysql+aiomysql://{user}:{password}@{host}:{port}/{db}",
            resources=_resources("250m", "512Mi", "1Gi"),
            # mysqladmin ping succeeds once the server answers, whatever the credentials.
            readiness=_exec("mysqladmin", "ping", "-h", "127.0.0.1"),
            scratch=("/tmp", "/var/run/mysqld"),
            # One database per service, which the platform's account creates itself.
            init_sql=f"GRANT ALL PRIVILEGES ON `%`.* TO '{USER}'@'%';\n",
            env=lambda secret, host: [
                {"name": "MYSQL_RANDOM_ROOT_PASSWORD", "value": "yes"},
                {"name": "MYSQL_DATABASE", "value": DATABASE},
                {"name": "MYSQL_USER", "value": USER},
                secret_env("MYSQL_PASSWORD", secret),
            ],
        ),
        StoreKind(
            Store.POSTGRESQL,
            image="postgres",
            version="16",
            port=5432,
            data_path="/var/lib/postgresql/data",
            uid=999,
            url_template="postgresql+asyncpg://{user}:{password}@{host}:{port}/{db}",
            resources=_resources("250m", "256Mi", "1Gi"),
            readiness=_exec("pg_isready", "-h", "127.0.0.1", "-U", USER, "-d", DATABASE),
            scratch=("/tmp", "/var/run/postgresql"),
            env=lambda secret, host: [
                {"name": "POSTGRES_USER", "value": USER},
                {"name": "POSTGRES_DB", "value": DATABASE},
                secret_env("POSTGRES_PASSWORD", secret),
                # A subdirectory: the volume's root may hold lost+found, which initdb refuses.
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
            ],
        ),
        StoreKind(
            Store.MONGODB,
            image="mongo",
            version="7.0",
            port=27017,
            data_path="/data/db",
            uid=999,
            url_template="mongodb://{user}:{password}@{host}:{port}/{db}?authSource=admin",
            resources=_resources("250m", "512Mi", "1Gi"),
            readiness=_exec("mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"),
            scratch=("/tmp", "/data/configdb"),
            env=lambda secret, host: [
                {"name": "MONGO_INITDB_ROOT_USERNAME", "value": USER},
                secret_env("MONGO_INITDB_ROOT_PASSWORD", secret),
            ],
        ),
        StoreKind(
            Store.REDIS,
            image="redis",
            version="7.2",
            port=6379,
            data_path="/data",
            uid=999,
            url_template="redis://:{password}@{host}:{port}/0",
            resources=_resources("100m", "128Mi", "512Mi"),
            readiness=_exec("redis-cli", "ping"),
            # Kubernetes expands $(REDIS_PASSWORD) from the container's env.
            args=("--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", "/data"),
            env=lambda secret, host: [
                secret_env("REDIS_PASSWORD", secret),
                # redis-cli reads it, so the readiness probe authenticates without an argument.
                secret_env("REDISCLI_AUTH", secret),
            ],
        ),
        StoreKind(
            Store.KAFKA,
            image="apache/kafka",
            version="3.8.0",
            port=9092,
            data_path="/var/lib/kafka/data",
            uid=1000,
            url_template="{host}:{port}",
            resources=_resources("250m", "768Mi", "1536Mi"),
            readiness={"tcpSocket": {"port": PORT_NAME}},
            authenticated=False,
            # The image's launcher writes server.properties into its own config directory.
            read_only_root=False,
            env=_kafka_env,
        ),
        StoreKind(
            Store.ELASTICSEARCH,
            image="docker.elastic.co/elasticsearch/elasticsearch",
            version="8.15.0",
            port=9200,
            data_path="/usr/share/elasticsearch/data",
            uid=1000,
            url_template="http://elastic:{password}@{host}:{port}",
            resources=_resources("500m", "1Gi", "2Gi"),
            readiness=_exec(
                "sh",
                "-c",
                'curl -fsS -u "elastic:$ELASTIC_PASSWORD" '
                "'http://127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=1s'",
            ),
            # Elasticsearch creates its keystore in its config directory at start.
            read_only_root=False,
            env=lambda secret, host: [
                {"name": "discovery.type", "value": "single-node"},
                {"name": "xpack.security.enabled", "value": "true"},
                {"name": "xpack.security.http.ssl.enabled", "value": "false"},
                {"name": "xpack.security.transport.ssl.enabled", "value": "false"},
                # No vm.max_map_count sysctl needed, which a restricted pod could not set.
                {"name": "node.store.allow_mmap", "value": "false"},
                {"name": "ES_JAVA_OPTS", "value": "-Xms512m -Xmx512m"},
                secret_env("ELASTIC_PASSWORD", secret),
            ],
        ),
        StoreKind(
            Store.OBJECTS,
            image="versity/versitygw",
            version="v1.8.0",
            port=7070,
            data_path="/data",
            uid=1000,
            url_template="http://{host}:{port}",
            resources=_resources("100m", "128Mi", "512Mi"),
            readiness={"tcpSocket": {"port": PORT_NAME}},
            # Its posix backend keeps each object's metadata in the volume's extended attributes.
            args=(
                "--access",
                "$(S3_ACCESS_KEY)",
                "--secret",
                "$(S3_SECRET_KEY)",
                "--port",
                ":7070",
                "posix",
                "/data",
            ),
            env=_objects_env,
        ),
    )
}
# The stores the operator runs: those some implemented service uses.
MANAGED_STORES = tuple(s for s in STORE_KINDS if s in catalog.stores_in_use())
BUCKET = "quckchat"

# The variable each store's URL reaches a service in (what quckchat.core.settings reads). A
# relational server's URL, not a database's: each service opens the database named after it.
# The object store reaches a service as several variables, each a key of its Secret (the
# managed one's or the one an external store names); the optional ones may be absent.
OBJECT_ENV = (
    ("QUCKCHAT_S3_ENDPOINT", "endpoint", False),
    ("QUCKCHAT_S3_BUCKET", "bucket", False),
    ("QUCKCHAT_S3_ACCESS_KEY", "accessKey", False),
    ("QUCKCHAT_S3_SECRET_KEY", "secretKey", False),
    ("QUCKCHAT_S3_REGION", "region", True),
    ("QUCKCHAT_S3_PUBLIC_ENDPOINT", "publicEndpoint", True),
)
ENV_VARS: dict[Store, str] = {
    Store.MYSQL: "QUCKCHAT_MYSQL_URL",
    Store.POSTGRESQL: "QUCKCHAT_POSTGRESQL_URL",
    Store.MONGODB: "QUCKCHAT_MONGODB_URL",
    Store.REDIS: "QUCKCHAT_REDIS_URL",
    Store.KAFKA: "QUCKCHAT_KAFKA_BOOTSTRAP",
    Store.ELASTICSEARCH: "QUCKCHAT_ELASTICSEARCH_URL",
}


def is_managed(cluster: Cluster, store: Store) -> bool:
    return store in MANAGED_STORES and cluster.spec.stores.get(store).mode == StoreMode.MANAGED


def port_of(cluster: Cluster, store: Store) -> int:
    """The port services connect to: the managed one, or the external one's declared port."""
    spec = cluster.spec.stores.get(store)
    return spec.port or STORE_KINDS[store].port


def connection_env(cluster: Cluster, store: Store, variable: str | None = None) -> dict[str, Any]:
    """The env entry giving a container `store`'s URL, managed or external alike."""
    name = variable or ENV_VARS[store]
    spec = cluster.spec.stores.get(store)
    if spec.mode == StoreMode.EXTERNAL and spec.secret_ref is not None:
        return secret_env(name, spec.secret_ref.name, spec.secret_ref.key)
    kind = STORE_KINDS[store]
    if not kind.authenticated:
        return {"name": name, "value": kind.url(naming.store_name(cluster.name, store), "")}
    return secret_env(name, naming.credentials_name(cluster.name, store), "url")


def connection_envs(cluster: Cluster, store: Store) -> list[dict[str, Any]]:
    """The env entries giving a container `store`: its URL, or the object store's keys."""
    if store != Store.OBJECTS:
        return [connection_env(cluster, store)]
    spec = cluster.spec.stores.get(store)
    external = spec.mode == StoreMode.EXTERNAL and spec.secret_ref is not None
    secret = (
        spec.secret_ref.name
        if external and spec.secret_ref is not None
        else naming.credentials_name(cluster.name, store)
    )
    entries = []
    for variable, key, optional in OBJECT_ENV:
        entry = secret_env(variable, secret, key)
        if optional:
            entry["valueFrom"]["secretKeyRef"]["optional"] = True
        entries.append(entry)
    return entries


def render_store(
    cluster: Cluster,
    store: Store,
    *,
    existing_password: str | None = None,
    generate_password: PasswordGenerator = new_password,
) -> list[Manifest]:
    """A managed store's credentials Secret, headless Service and StatefulSet; [] if external."""
    spec = cluster.spec.stores.get(store)
    if spec.mode == StoreMode.EXTERNAL:
        return []
    kind = STORE_KINDS[store]
    objects = []
    if kind.authenticated:
        password = existing_password or generate_password()
        objects.append(_credentials(cluster, kind, password))
    if kind.init_sql is not None:
        objects.append(_init_scripts(cluster, kind))
    objects.append(_headless_service(cluster, kind))
    objects.append(_statefulset(cluster, kind, spec))
    return objects


def _labels(cluster: Cluster, store: Store) -> dict[str, str]:
    return naming.labels(cluster.name, str(store), Component.STORE)


def _credentials(cluster: Cluster, kind: StoreKind, password: str) -> Manifest:
    host = naming.store_name(cluster.name, kind.store)
    values = {"username": USER, "password": password, "url": kind.url(host, password)}
    if kind.store == Store.OBJECTS:
        values |= {
            "endpoint": values["url"],
            "bucket": BUCKET,
            "accessKey": USER,
            "secretKey": password,
        }
        public = cluster.spec.stores.objects.public_endpoint
        if public:
            values["publicEndpoint"] = public
    return manifest(
        "v1",
        "Secret",
        metadata(
            cluster,
            naming.credentials_name(cluster.name, kind.store),
            _labels(cluster, kind.store),
        ),
        type="Opaque",
        data={k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    )


def _init_scripts(cluster: Cluster, kind: StoreKind) -> Manifest:
    return manifest(
        "v1",
        "ConfigMap",
        metadata(
            cluster, naming.store_init_name(cluster.name, kind.store), _labels(cluster, kind.store)
        ),
        data={INIT_FILE: kind.init_sql},
    )


def _headless_service(cluster: Cluster, kind: StoreKind) -> Manifest:
    return manifest(
        "v1",
        "Service",
        metadata(
            cluster, naming.store_name(cluster.name, kind.store), _labels(cluster, kind.store)
        ),
        spec={
            # Headless: the StatefulSet's pod gets a stable DNS name under it.
            "clusterIP": "None",
            "selector": naming.selector(cluster.name, str(kind.store)),
            "ports": [
                {"name": PORT_NAME, "port": kind.port, "targetPort": PORT_NAME, "protocol": "TCP"}
            ],
        },
    )


def _statefulset(cluster: Cluster, kind: StoreKind, spec: StoreSpec) -> Manifest:
    name = naming.store_name(cluster.name, kind.store)
    labels = _labels(cluster, kind.store)
    secret = naming.credentials_name(cluster.name, kind.store)
    volumes, mounts = security.scratch_volumes(kind.scratch)
    container: dict[str, Any] = {
        "name": str(kind.store),
        "image": spec.image or f"{kind.image}:{spec.version or kind.version}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "containerPort": kind.port, "protocol": "TCP"}],
        "env": kind.env(secret, name),
        "readinessProbe": {**kind.readiness, "periodSeconds": 10, "timeoutSeconds": 5},
        "livenessProbe": {
            "tcpSocket": {"port": PORT_NAME},
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
            "failureThreshold": 6,
        },
        "resources": spec.resources.as_manifest() if spec.resources else kind.resources,
        "securityContext": security.container_security(read_only_root=kind.read_only_root),
        "volumeMounts": [{"name": DATA_VOLUME, "mountPath": kind.data_path}, *mounts],
    }
    if kind.args:
        container["args"] = list(kind.args)
    if kind.init_sql is not None:
        volumes.append(
            {
                "name": INIT_VOLUME,
                "configMap": {"name": naming.store_init_name(cluster.name, kind.store)},
            }
        )
        container["volumeMounts"].append(
            {"name": INIT_VOLUME, "mountPath": INIT_PATH, "readOnly": True}
        )
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": spec.storage.size}},
    }
    if spec.storage.storage_class_name:
        claim["storageClassName"] = spec.storage.storage_class_name
    delete = cluster.spec.deletion_policy == DeletionPolicy.DELETE
    return manifest(
        "apps/v1",
        "StatefulSet",
        metadata(cluster, name, labels),
        spec={
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": naming.selector(cluster.name, str(kind.store))},
            "updateStrategy": {"type": "RollingUpdate"},
            # spec.deletionPolicy decides whether the volumes outlive the cluster.
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Delete" if delete else "Retain",
                "whenScaled": "Retain",
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    **security.pod_defaults(naming.service_account_name(cluster.name)),
                    **cluster.spec.placement.as_pod_fields(),
                    "securityContext": security.pod_security(kind.uid),
                    "terminationGracePeriodSeconds": 60,
                    "containers": [container],
                    "volumes": volumes,
                },
            },
            "volumeClaimTemplates": [
                {"metadata": {"name": DATA_VOLUME, "labels": labels}, "spec": claim}
            ],
        },
    )
