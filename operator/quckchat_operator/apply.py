"""The one module that writes to the apiserver: read a cluster's children, apply, prune.

Rendered objects go out by server-side apply under one field manager, but only when the live
object differs from them: an unchanged cluster costs reads only, never a write. Every write call
is counted in `RECORDER`, so tests can prove that.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client, config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError
from kubernetes.utils import parse_quantity

from quckchat_operator import naming
from quckchat_operator.render.meta import Manifest

FIELD_MANAGER = "quckchat-operator"
# Holds a Deployment's replicas while an HPA takes them over, so dropping the field from our
# apply does not reset them to 1 (the handover the Kubernetes SSA docs describe).
HANDOVER_MANAGER = "quckchat-operator-handover"
USER_AGENT = "quckchat-operator"

Key = tuple[str, str]  # (kind, name): unique among one cluster's children

# Every kind a cluster renders, listed by label on each pass to find the live objects.
CHILD_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    (naming.GROUP_VERSION, naming.SERVICE_GROUP.kind),
    ("apps/v1", "Deployment"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("networking.k8s.io/v1", "Ingress"),
)
# Created once and then left alone: a ServiceGroup belongs to whoever scales it from then on,
# and a Job's template is immutable (it is named after the version it migrates to).
CREATE_ONLY = frozenset({naming.SERVICE_GROUP.kind, "Job"})
# Kept when the spec stops wanting them: a migration Job is the record of an upgrade.
NEVER_PRUNED = frozenset({"Job"})
# Quantities, which the apiserver may rewrite ("0.5" -> 500m): the values of resource maps
# (requests, limits) and a few single fields.
QUANTITY_MAPS = frozenset({"requests", "limits"})
QUANTITY_KEYS = frozenset({"sizeLimit"})
EMPTY: tuple[Any, ...] = ([], {}, None, "", 0, False)


@dataclass
class Recorder:
    """What the operator asked of the apiserver: write calls by verb and kind, and how many
    reconcile passes completed."""

    writes: Counter[str] = field(default_factory=Counter)
    reconciles: int = 0

    def write(self, verb: str, kind: str) -> None:
        self.writes[f"{verb} {kind}"] += 1

    @property
    def total_writes(self) -> int:
        return sum(self.writes.values())


RECORDER = Recorder()


# Pure helpers.
def key(obj: Mapping[str, Any]) -> Key:
    return obj["kind"], obj["metadata"]["name"]


def child_selector(cluster: str) -> str:
    """The labels every child of one cluster carries (PVCs from templates included)."""
    return f"{naming.LABEL_INSTANCE}={cluster},{naming.LABEL_MANAGED_BY}={naming.MANAGED_BY}"


def owner_reference(owner: Mapping[str, Any]) -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def adopt(
    objects: Iterable[Manifest], owner: Mapping[str, Any], *, outliving: Iterable[Key] = ()
) -> list[Manifest]:
    """Each object with the cluster as its controlling owner, so deleting it cascades.

    Unlike kopf.adopt, nothing is added to templates: a StatefulSet's PVCs must not be owned by
    the cluster, or they would go with it whatever spec.deletionPolicy says. The `outliving`
    objects get no owner, so they stay when the cluster goes.
    """
    reference = owner_reference(owner)
    kept = set(outliving)
    adopted = []
    for obj in objects:
        if key(obj) in kept:
            adopted.append(obj)
            continue
        meta = {**obj["metadata"], "ownerReferences": [dict(reference)]}
        adopted.append({**obj, "metadata": meta})
    return adopted


def _disowning(desired: Manifest, live: Manifest) -> bool:
    """Whether `desired` no longer wants the cluster as owner that `live` still has."""
    if "ownerReferences" in desired["metadata"]:
        return False
    owners = live["metadata"].get("ownerReferences") or []
    return any(o.get("kind") == naming.CLUSTER.kind for o in owners)


def is_subset(desired: Any, live: Any, named: str = "", quantity: bool = False) -> bool:
    """Whether every field of `desired` already has its value in `live`.

    Fields only the apiserver set (defaults, status, other managers' fields) do not count, nor
    does an empty desired value the apiserver omitted. A list of objects matches when its items
    appear in the live list in order: merge-keyed lists (env, containers) keep items another
    manager added, which no apply of ours removes. A list of scalars is atomic: it must be equal.
    `named` is the field `desired` is the value of; `quantity` says it is a quantity.
    """
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return False
        return all(
            (live.get(name) is None and value in EMPTY)
            or is_subset(
                value,
                live.get(name),
                name,
                quantity=named in QUANTITY_MAPS or name in QUANTITY_KEYS,
            )
            for name, value in desired.items()
        )
    if isinstance(desired, list):
        if not isinstance(live, list):
            return False
        if all(not isinstance(item, Mapping | list) for item in desired):
            return desired == live
        remaining = iter(live)
        return all(any(is_subset(item, other) for other in remaining) for item in desired)
    if desired == live:
        return True
    return quantity and _same_quantity(desired, live)


def _same_quantity(a: Any, b: Any) -> bool:
    try:
        same = parse_quantity(a) == parse_quantity(b)  # type: ignore[no-untyped-call]
        return bool(same)
    except (ValueError, TypeError, ArithmeticError):
        return False


def owns_replicas(live: Mapping[str, Any], manager: str = FIELD_MANAGER) -> bool:
    """Whether `manager` applied spec.replicas of this live object."""
    for entry in live.get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            spec = (entry.get("fieldsV1") or {}).get("f:spec") or {}
            if "f:replicas" in spec:
                return True
    return False


def connect() -> client.ApiClient:
    """An API client from $KUBECONFIG (or ~/.kube/config), or in a pod its service account."""
    if os.environ.get("KUBECONFIG") or not os.environ.get("KUBERNETES_SERVICE_HOST"):
        api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=os.environ.get("KUBECONFIG")
        )
    else:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
        api = client.ApiClient()
    api.user_agent = USER_AGENT
    return api


class Applier:
    """Reads and writes one namespace's objects through the dynamic client (synchronous)."""

    def __init__(self, api: client.ApiClient, recorder: Recorder = RECORDER) -> None:
        self.dynamic = DynamicClient(api)  # type: ignore[no-untyped-call]
        self.recorder = recorder

    def _resource(self, api_version: str, kind: str) -> Any:
        return self.dynamic.resources.get(api_version=api_version, kind=kind)

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(response.data)
        return result

    # Reads.
    def get(self, api_version: str, kind: str, name: str, namespace: str) -> Manifest | None:
        try:
            response = self._resource(api_version, kind).get(
                name=name, namespace=namespace, serialize=False
            )
        except NotFoundError:
            return None
        return self._json(response)

    def list_objects(
        self, api_version: str, kind: str, namespace: str, selector: str
    ) -> list[Manifest]:
        response = self._resource(api_version, kind).get(
            namespace=namespace, label_selector=selector, serialize=False
        )
        items: list[Manifest] = self._json(response)["items"]
        for item in items:
            # A list's items carry neither; put them back so every object looks alike.
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def children(self, cluster: str, namespace: str) -> dict[Key, Manifest]:
        """Every live object labelled as this cluster's, by kind and name."""
        found: dict[Key, Manifest] = {}
        for api_version, kind in CHILD_KINDS:
            for item in self.list_objects(api_version, kind, namespace, child_selector(cluster)):
                found[key(item)] = item
        return found

    # Writes.
    def apply(self, desired: Manifest, live: Manifest | None) -> Manifest:
        """Make `desired` true and return the object as it now is; no call if it already is."""
        kind = desired["kind"]
        if kind in CREATE_ONLY:
            return live if live is not None else self.create(desired)
        # Applying without the owner reference drops it: this manager set it.
        if live is not None and is_subset(desired, live) and not _disowning(desired, live):
            return live
        if (
            live is not None
            and kind == "Deployment"
            and "replicas" not in desired["spec"]
            and owns_replicas(live)
        ):
            self._hand_over_replicas(desired, live)
        self.recorder.write("apply", kind)
        response = self._resource(desired["apiVersion"], kind).server_side_apply(
            body=desired,
            namespace=desired["metadata"]["namespace"],
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
            serialize=False,
        )
        return self._json(response)

    def _hand_over_replicas(self, desired: Manifest, live: Manifest) -> None:
        meta = desired["metadata"]
        self.recorder.write("apply", desired["kind"])
        self._resource(desired["apiVersion"], desired["kind"]).server_side_apply(
            body={
                "apiVersion": desired["apiVersion"],
                "kind": desired["kind"],
                "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
                "spec": {"replicas": live["spec"]["replicas"]},
            },
            namespace=meta["namespace"],
            field_manager=HANDOVER_MANAGER,
            force_conflicts=True,
            serialize=False,
        )

    def create(self, desired: Manifest) -> Manifest:
        """Create `desired`; one that appeared meanwhile (409) is taken as it is."""
        meta = desired["metadata"]
        resource = self._resource(desired["apiVersion"], desired["kind"])
        self.recorder.write("create", desired["kind"])
        try:
            response = resource.create(
                body=desired,
                namespace=meta["namespace"],
                field_manager=FIELD_MANAGER,
                serialize=False,
            )
        except ConflictError:
            existing = self.get(
                desired["apiVersion"], desired["kind"], meta["name"], meta["namespace"]
            )
            return existing if existing is not None else desired
        return self._json(response)

    def delete(self, obj: Mapping[str, Any]) -> None:
        meta = obj["metadata"]
        self.recorder.write("delete", obj["kind"])
        with contextlib.suppress(NotFoundError):  # already gone is what we wanted
            self._resource(obj["apiVersion"], obj["kind"]).delete(
                name=meta["name"],
                namespace=meta["namespace"],
                body={"propagationPolicy": "Background"},
                serialize=False,
            )

    def patch_status(self, obj: Mapping[str, Any], status: Mapping[str, Any]) -> None:
        """A merge patch of `obj`'s status subresource (for kinds kopf does not hand a patch)."""
        meta = obj["metadata"]
        resource = self._resource(obj["apiVersion"], obj["kind"]).subresources["status"]
        self.recorder.write("patch-status", obj["kind"])
        resource.patch(
            body={"status": dict(status)},
            name=meta["name"],
            namespace=meta["namespace"],
            content_type="application/merge-patch+json",
            serialize=False,
        )

    def prune(
        self, live: Mapping[Key, Manifest], wanted: Iterable[Key], owner_uid: str
    ) -> list[Key]:
        """Delete the cluster's children that the spec no longer asks for; return their keys."""
        keep = set(wanted)
        removed = []
        for found, obj in live.items():
            owners = obj["metadata"].get("ownerReferences") or []
            if found in keep or found[0] in NEVER_PRUNED:
                continue
            if not any(o.get("uid") == owner_uid for o in owners):
                continue  # labelled like ours, but not ours: leave it be
            self.delete(obj)
            removed.append(found)
        return removed

    def volumes(self, cluster: str, namespace: str) -> list[Manifest]:
        """The PersistentVolumeClaims of the cluster's managed stores (labelled by template)."""
        return self.list_objects("v1", "PersistentVolumeClaim", namespace, child_selector(cluster))

    def delete_stores(self, cluster: str, namespace: str) -> int:
        """Delete the stores' StatefulSets; return how many were still there."""
        found = self.list_objects("apps/v1", "StatefulSet", namespace, child_selector(cluster))
        for statefulset in found:
            self.delete(statefulset)
        return len(found)

    def delete_volumes(self, cluster: str, namespace: str, keep: Iterable[str] = ()) -> int:
        """Delete the stores' claims, except those of the stores named in `keep`."""
        kept = set(keep)
        removed = 0
        for claim in self.volumes(cluster, namespace):
            if claim["metadata"].get("labels", {}).get(naming.LABEL_NAME) not in kept:
                self.delete(claim)
                removed += 1
        return removed
