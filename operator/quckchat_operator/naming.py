"""Every name, label and selector the operator gives an object, in one place."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from quckchat import catalog
from quckchat.catalog import Group, Store

# Custom resources.
API_GROUP = "quckchat.io"
API_VERSION = "v1alpha1"
GROUP_VERSION = f"{API_GROUP}/{API_VERSION}"
CATEGORY = "quckchat"


@dataclass(frozen=True)
class Kind:
    """One custom resource kind and the names kubectl knows it by."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{API_GROUP}"


CLUSTER = Kind("QuckChatCluster", "quckchatclusters", "quckchatcluster", ("qc",))
SERVICE_GROUP = Kind("ServiceGroup", "servicegroups", "servicegroup", ("qsg",))
WORKSPACE = Kind("Workspace", "workspaces", "workspace", ("qws",))
KINDS = (CLUSTER, SERVICE_GROUP, WORKSPACE)

# Labels.
PART_OF = "quckchat"
MANAGED_BY = "quckchat-operator"
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_GROUP = f"{API_GROUP}/group"
LABEL_WORKSPACE = f"{API_GROUP}/workspace"
CONFIG_HASH_ANNOTATION = f"{API_GROUP}/config-hash"


class Component(StrEnum):
    """What an object is to the cluster: the value of app.kubernetes.io/component."""

    SERVICE = "service"
    STORE = "store"
    MIGRATION = "migration"
    CONFIG = "config"
    NETWORK = "network"
    ACCESS = "access"
    INGRESS = "ingress"
    SCALING = "scaling"


# Name limits.
MAX_NAME = 63
HASH_LENGTH = 8
# A StatefulSet's pods carry controller-revision-hash=<name>-<10 char hash>, a 63-char label.
MAX_STATEFULSET_NAME = 52
# Services are reached as "<cluster>-<service>" through a URL template, so that name must never
# be shortened: the cluster name leaves room for the longest service name.
MAX_CLUSTER_NAME = MAX_NAME - 1 - max(len(s.name) for s in catalog.SERVICES)
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def fit(name: str, limit: int = MAX_NAME) -> str:
    """`name` if it fits `limit`, else a prefix plus a short hash of the whole (stable, unique)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
    return f"{name[: limit - HASH_LENGTH - 1].rstrip('-')}-{digest}"


def check_cluster_name(name: str) -> None:
    """Raise ValueError naming metadata.name when `name` cannot prefix every service's name."""
    if len(name) > MAX_CLUSTER_NAME:
        raise ValueError(
            f"metadata.name: {name!r} is {len(name)} characters; at most {MAX_CLUSTER_NAME} "
            "leave room for the longest service name"
        )
    if not _DNS_LABEL.match(name):
        raise ValueError(
            f"metadata.name: {name!r} must be lower-case letters, digits and '-', "
            "starting with a letter"
        )


# Object names.
def service_name(cluster: str, service: str) -> str:
    """The Deployment, Service, PDB, HPA and NetworkPolicy of one catalog service."""
    return fit(f"{cluster}-{service}")


def service_url_template(cluster: str) -> str:
    """QUCKCHAT_SERVICE_URL_TEMPLATE: how a service finds another (see `service_name`)."""
    return f"http://{cluster}-{{name}}:{{port}}"


def store_name(cluster: str, store: Store) -> str:
    """The StatefulSet, headless Service and NetworkPolicy of one managed store."""
    return fit(f"{cluster}-{store}", MAX_STATEFULSET_NAME)


def credentials_name(cluster: str, store: Store) -> str:
    return fit(f"{cluster}-{store}-credentials")


def store_init_name(cluster: str, store: Store) -> str:
    """The ConfigMap of SQL a managed store runs when it first initialises its volume."""
    return fit(f"{cluster}-{store}-init")


def service_group_name(cluster: str, group: Group) -> str:
    return fit(f"{cluster}-{group}")


def config_name(cluster: str) -> str:
    return fit(f"{cluster}-config")


def settings_secret_name(cluster: str) -> str:
    """An optional Secret a platform team provides for sensitive QUCKCHAT_* settings."""
    return fit(f"{cluster}-settings")


def service_account_name(cluster: str) -> str:
    return fit(f"{cluster}-workload")


def migration_job_name(cluster: str, version: str) -> str:
    return fit(f"{cluster}-migrate-{version.replace('.', '-')}")


def policy_name(cluster: str, purpose: str) -> str:
    """A cluster-wide NetworkPolicy (default-deny, allow-dns, migrate)."""
    return fit(f"{cluster}-{purpose}")


def ingress_name(cluster: str) -> str:
    return fit(cluster)


# Workspaces.
def workspace_slug(namespace: str, name: str) -> str:
    """The workspace service's slug of a Workspace: unique per namespace and name, the same on
    every retry. A name with dots (allowed in metadata.name, not in a slug) gets a hash."""
    plain = f"{namespace}-{name}"
    if len(plain) <= MAX_NAME and _DNS_LABEL.match(plain):
        return plain
    digest = hashlib.sha256(plain.encode()).hexdigest()[:HASH_LENGTH]
    cleaned = re.sub(r"[^a-z0-9-]", "-", plain.lower())
    return f"{cleaned[: MAX_NAME - HASH_LENGTH - 1].strip('-')}-{digest}"


def owner_invite_name(workspace: str) -> str:
    """The Secret holding the owner's join link until they joined."""
    return fit(f"{workspace}-owner-invite")


def export_name(workspace: str) -> str:
    """The Secret holding a deleted workspace's export (not owned: it outlives the Workspace)."""
    return fit(f"{workspace}-export")


# Labels and selectors.
def selector(cluster: str, name: str) -> dict[str, str]:
    """What a workload selects its pods by: only name and instance, so it never changes."""
    return {LABEL_NAME: name, LABEL_INSTANCE: cluster}


def labels(
    cluster: str, name: str, component: Component, group: Group | None = None
) -> dict[str, str]:
    """The labels every object of a cluster carries."""
    result = {
        **selector(cluster, name),
        LABEL_COMPONENT: str(component),
        LABEL_PART_OF: PART_OF,
        LABEL_MANAGED_BY: MANAGED_BY,
    }
    if group is not None:
        result[LABEL_GROUP] = str(group)
    return result


def cluster_selector(cluster: str) -> dict[str, str]:
    """Every pod of one cluster (the default-deny policy's target)."""
    return {LABEL_INSTANCE: cluster, LABEL_PART_OF: PART_OF}


def group_selector(cluster: str, group: Group) -> str:
    """The pods of one ServiceGroup, as the scale subresource reports them."""
    return f"{LABEL_INSTANCE}={cluster},{LABEL_GROUP}={group}"
