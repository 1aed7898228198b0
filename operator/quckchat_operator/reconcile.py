"""One pass over a QuckChatCluster: read what is live, render, apply in order, prune, observe.

Level-based: every pass starts from the live objects and the spec, never from what an earlier
pass did, so a deleted or hand-edited child is simply applied again. The order is the one the
platform needs: stores (and everything without pods) first; then, once every managed store is
ready, the version's schema-migration Job; then, once it succeeded, the services. During an
upgrade the services' groups roll one at a time in catalog.UPGRADE_ORDER, each waiting for the
one before it to finish its rollout.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes.dynamic.exceptions import DynamicApiError
from pydantic import ValidationError

from quckchat import catalog
from quckchat.catalog import Group, Store
from quckchat_operator import naming, status
from quckchat_operator.apply import Applier, Key, adopt, child_selector, is_subset, key
from quckchat_operator.models import DeletionPolicy, Phase, ServiceGroupSpec, ServiceGroupStatus
from quckchat_operator.naming import Component
from quckchat_operator.render.cluster import render_cluster
from quckchat_operator.render.meta import Cluster, Manifest
from quckchat_operator.render.notifications import secret_uses
from quckchat_operator.render.servicegroups import scaling_for
from quckchat_operator.render.stores import STORE_KINDS, is_managed
from quckchat_operator.status import Observation, Problem

# Objects without pods, and the stores: everything the services need before they start.
FOUNDATION = frozenset(
    {Component.STORE, Component.CONFIG, Component.NETWORK, Component.ACCESS, Component.SCALING}
)
# What an apiserver refusal of our own object means: nothing a retry would change.
REJECTED = frozenset({400, 403, 422})


@dataclass(frozen=True)
class Outcome:
    """What one pass found: the status to store, and what the next pass should wait for."""

    status: dict[str, Any]
    phase: Phase
    waiting: Problem | None = None


def _version(text: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in (text or "").split("."))
    except ValueError:
        return ()


def _component(obj: Manifest) -> str:
    return str(obj["metadata"].get("labels", {}).get(naming.LABEL_COMPONENT, ""))


def _group(obj: Manifest) -> str | None:
    group: str | None = obj["metadata"].get("labels", {}).get(naming.LABEL_GROUP)
    return group


def _find(
    applier: Applier, live: Mapping[Key, Manifest], api_version: str, kind: str, name: str, ns: str
) -> Manifest | None:
    # A child whose labels someone removed is not listed; fetch it so it is not made anew.
    return live.get((kind, name)) or applier.get(api_version, kind, name, ns)


def live_service_groups(
    applier: Applier, cluster: Cluster, live: Mapping[Key, Manifest]
) -> dict[Group, ServiceGroupSpec]:
    """The ServiceGroups that exist: from now on they, not the cluster's spec, set replicas."""
    found = {}
    for group in Group:
        name = naming.service_group_name(cluster.name, group)
        obj = _find(
            applier, live, naming.GROUP_VERSION, naming.SERVICE_GROUP.kind, name, _ns(cluster)
        )
        if obj is None:
            continue
        try:
            found[group] = ServiceGroupSpec.model_validate(obj.get("spec") or {})
        except ValidationError:
            continue  # the CRD rejects such a spec; should one slip through, seed it again
    return found


def stored_passwords(
    applier: Applier, cluster: Cluster, live: Mapping[Key, Manifest]
) -> dict[Store, str]:
    """Each managed store's password as its credentials Secret holds it."""
    found = {}
    for store, kind in STORE_KINDS.items():
        if not kind.authenticated or not is_managed(cluster, store):
            continue
        name = naming.credentials_name(cluster.name, store)
        secret = _find(applier, live, "v1", "Secret", name, _ns(cluster))
        encoded = ((secret or {}).get("data") or {}).get("password")
        if encoded:
            try:
                found[store] = base64.b64decode(encoded).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
    return found


def outliving_credentials(cluster: Cluster) -> list[Key]:
    """With Retain, the stores' passwords stay with their volumes when the cluster goes.

    A cluster made anew under the same name then finds them and opens its old data, instead
    of writing a fresh password that the data's server would refuse.
    """
    if cluster.spec.deletion_policy == DeletionPolicy.DELETE:
        return []
    return [
        ("Secret", naming.credentials_name(cluster.name, store))
        for store, kind in STORE_KINDS.items()
        if kind.authenticated and is_managed(cluster, store)
    ]


def missing_secrets(applier: Applier, cluster: Cluster) -> list[Problem]:
    """A Problem naming each Secret (or key) that spec.notifications names and is not there:
    Secrets are the platform team's, so nothing else would tell why a pod waits."""
    problems = []
    for use in secret_uses(cluster.spec.notifications):
        found = applier.get("v1", "Secret", use.ref.name, _ns(cluster))
        problem = status.secret_problem(use.field, use.ref.name, use.ref.key, _ns(cluster), found)
        if problem is not None:
            problems.append(problem)
    return problems


def _ns(cluster: Cluster) -> str:
    if not cluster.namespace:
        raise ValueError(f"QuckChatCluster {cluster.name} has no namespace")
    return cluster.namespace


class _Pass:
    """The objects of one pass, as they are live once each was applied."""

    def __init__(self, applier: Applier, live: Mapping[Key, Manifest]) -> None:
        self.applier = applier
        self.state: dict[Key, Manifest] = dict(live)

    def apply(self, objects: Iterable[Manifest]) -> None:
        for obj in objects:
            self.state[key(obj)] = self.applier.apply(obj, self.state.get(key(obj)))

    def rollout(self, kind: str, name: str, fallback: Manifest | None) -> status.Rollout | None:
        obj = self.state.get((kind, name)) or fallback
        return status.rollout(obj) if obj is not None else None


def _stores(
    cluster: Cluster, current: _Pass, desired: Mapping[Key, Manifest]
) -> dict[str, status.Rollout]:
    rollouts = {}
    for store in STORE_KINDS:
        if is_managed(cluster, store):
            name = naming.store_name(cluster.name, store)
            found = current.rollout("StatefulSet", name, desired.get(("StatefulSet", name)))
            if found is not None:
                rollouts[str(store)] = found
    return rollouts


def _services(
    cluster: Cluster, current: _Pass, desired: Mapping[Key, Manifest]
) -> dict[str, status.Rollout]:
    rollouts = {}
    for service in catalog.implemented():
        name = naming.service_name(cluster.name, service.name)
        found = current.rollout("Deployment", name, desired.get(("Deployment", name)))
        if found is not None:
            rollouts[service.name] = found
    return rollouts


def _pod_trouble(
    applier: Applier, cluster: Cluster, services: Mapping[str, status.Rollout]
) -> dict[str, status.Rollout]:
    """Each service's rollout with what keeps its pods from running: a service that crashes
    after the cluster was Ready is named, not only one whose rollout missed its deadline."""
    by_service: dict[str, list[Manifest]] = {}
    for pod in applier.list_objects("v1", "Pod", _ns(cluster), child_selector(cluster.name)):
        name = pod["metadata"].get("labels", {}).get(naming.LABEL_NAME, "")
        by_service.setdefault(name, []).append(pod)
    return {
        name: status.with_trouble(rollout, by_service.get(name, []))
        for name, rollout in services.items()
    }


def _apply_stores(current: _Pass, statefulsets: list[Manifest]) -> list[str]:
    """Apply the stores' StatefulSets; a change to one waits while another store rolls.

    New stores start together. Returns the stores whose change is held back.
    """
    rolling = False
    held = []
    for obj in statefulsets:
        live = current.state.get(key(obj))
        if live is not None and rolling and not is_subset(obj, live):
            held.append(obj["metadata"]["name"])
            continue
        current.apply([obj])
        if live is not None and not status.rollout(current.state[key(obj)]).complete:
            rolling = True
    return held


def _apply_in_order(
    cluster: Cluster, current: _Pass, desired: list[Manifest], *, upgrading: bool
) -> Problem | None:
    """Apply as far as the cluster is ready for; the Problem says where it stopped."""
    by_key = {key(o): o for o in desired}
    foundation = [o for o in desired if _component(o) in FOUNDATION]
    current.apply(o for o in foundation if o["kind"] != "StatefulSet")
    held = _apply_stores(current, [o for o in foundation if o["kind"] == "StatefulSet"])
    if held:
        rolling = {k: r for k, r in _stores(cluster, current, by_key).items() if not r.complete}
        return Problem(
            "RollingOut",
            f"changing stores one at a time: waiting for the rollout of "
            f"{status.listed(rolling, counts=False)}; then {', '.join(held)}",
            backoff=False,
        )
    if problem := status.stores_problem(_stores(cluster, current, by_key)):
        return problem
    migration = [o for o in desired if _component(o) == Component.MIGRATION]
    current.apply(migration)
    for job in migration:
        if problem := status.migration_problem(current.state.get(key(job))):
            return problem
    workloads = [o for o in desired if _component(o) not in FOUNDATION | {Component.MIGRATION}]
    for group in catalog.UPGRADE_ORDER:
        current.apply(o for o in workloads if _group(o) == group)
        if not upgrading:
            continue
        services = _services(cluster, current, by_key)
        rolling = {
            s.name: r
            for s in catalog.implemented(group)
            if (r := services.get(s.name)) and not r.complete
        }
        if rolling:
            later = ", ".join(catalog.UPGRADE_ORDER[catalog.UPGRADE_ORDER.index(group) + 1 :])
            return Problem(
                "RollingOut",
                f"upgrading group {group} to {cluster.spec.version}: waiting for the rollout "
                f"of {status.listed(rolling, counts=False)}; then {later or 'done'}",
                backoff=False,
            )
    current.apply(o for o in workloads if _group(o) is None)
    return None


def _group_statuses(applier: Applier, cluster: Cluster, current: _Pass) -> None:
    """Each ServiceGroup's status for the scale subresource, written where it changed."""
    for group in Group:
        obj = current.state.get(
            (naming.SERVICE_GROUP.kind, naming.service_group_name(cluster.name, group))
        )
        if obj is None:
            continue
        try:
            spec = ServiceGroupSpec.model_validate(obj.get("spec") or {})
        except ValidationError:
            continue
        members = catalog.implemented(group)
        followers = [
            naming.service_name(cluster.name, s.name)
            for s in members
            if scaling_for(spec, s.name).autoscaling is None
            and (spec.services.get(s.name) is None or spec.services[s.name].replicas is None)
        ]
        rollouts = [
            r
            for s in members
            if (r := current.rollout("Deployment", naming.service_name(cluster.name, s.name), None))
        ]
        new = status.service_group_status(
            obj, rollouts, followers, naming.group_selector(cluster.name, group)
        )
        changes = status.merge_patch(status.normalized(ServiceGroupStatus, obj.get("status")), new)
        if changes:
            applier.patch_status(obj, changes)


def _converge(
    applier: Applier,
    cluster: Cluster,
    body: Mapping[str, Any],
    live: Mapping[Key, Manifest],
    current: _Pass,
    desired: list[Manifest],
) -> list[Problem]:
    """Apply what the cluster is ready for, delete what it no longer wants; say what stopped."""
    running = (body.get("status") or {}).get("currentVersion")
    if running and _version(cluster.spec.version) < _version(running):
        return [
            Problem(
                "DowngradeRefused",
                f"spec.version {cluster.spec.version} is older than the running {running}; "
                f"schemas only migrate forward. Set spec.version back to {running} or newer",
                degraded=True,
            )
        ]
    problems = []
    try:
        upgrading = bool(running) and running != cluster.spec.version
        if problem := _apply_in_order(cluster, current, desired, upgrading=upgrading):
            problems.append(problem)
        applier.prune(live, [key(o) for o in desired], body["metadata"]["uid"])
        if cluster.spec.deletion_policy == DeletionPolicy.DELETE:
            managed = [str(s) for s in STORE_KINDS if is_managed(cluster, s)]
            applier.delete_volumes(cluster.name, _ns(cluster), keep=managed)
        _group_statuses(applier, cluster, current)
    except DynamicApiError as exc:
        if exc.status not in REJECTED:
            raise
        refusal = exc.summary()  # type: ignore[no-untyped-call]
        problems.append(
            Problem(
                "ApplyRejected",
                f"the apiserver refused a child: {refusal}; change the spec so it can be "
                "applied (some fields, such as a store's storage size, are immutable)",
                degraded=True,
            )
        )
    return problems


def reconcile(applier: Applier, body: Mapping[str, Any], *, now: datetime) -> Outcome:
    """Bring the cluster's children to its spec (unless paused) and describe the result.

    Synchronous: the handlers run it in a thread. Raises InvalidCluster for a spec the models
    reject, and lets unexpected API errors through for Kopf to retry.
    """
    cluster = Cluster.from_manifest(body)
    live = applier.children(cluster.name, _ns(cluster))
    rendered = render_cluster(
        cluster,
        service_groups=live_service_groups(applier, cluster, live),
        passwords=stored_passwords(applier, cluster, live),
    )
    desired = adopt(rendered, body, outliving=outliving_credentials(cluster))
    current = _Pass(applier, live)
    paused = cluster.spec.paused
    problems = (
        []
        if paused
        else [
            *_converge(applier, cluster, body, live, current, desired),
            *missing_secrets(applier, cluster),
        ]
    )
    by_key = {key(o): o for o in desired}
    observed = Observation(
        version=cluster.spec.version,
        generation=body["metadata"].get("generation", 1),
        services=_pod_trouble(applier, cluster, _services(cluster, current, by_key)),
        stores=_stores(cluster, current, by_key),
        paused=paused,
        problems=problems,
    )
    new = status.cluster_status(observed, body.get("status"), now)
    waiting = next((p for p in problems if not p.degraded), None)
    applier.recorder.reconciles += 1
    return Outcome(status=new, phase=Phase(new["phase"]), waiting=waiting)
