"""Helpers for the operator's pure tests: clusters rendered, and ways to look inside them."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from quckchat_operator.apply import Applier, Recorder, key
from quckchat_operator.models import QuckChatClusterSpec
from quckchat_operator.render.cluster import render_cluster
from quckchat_operator.render.meta import Cluster, Manifest
from tests.worlds.clusters import load_example


def counter_passwords() -> Callable[[], str]:
    """A predictable stand-in for the random generator."""
    numbers = itertools.count(1)
    return lambda: f"generated-{next(numbers)}"


def render_example(name: str, **kwargs: Any) -> list[Manifest]:
    kwargs.setdefault("generate_password", counter_passwords())
    return render_cluster(load_example(name), **kwargs)


def make_cluster(
    spec: dict[str, Any] | None = None, name: str = "qc", namespace: str | None = None
) -> Cluster:
    return Cluster(name, namespace, QuckChatClusterSpec.model_validate(spec or {}))


def render(spec: dict[str, Any] | None = None, name: str = "qc", **kwargs: Any) -> list[Manifest]:
    kwargs.setdefault("generate_password", counter_passwords())
    return render_cluster(make_cluster(spec, name), **kwargs)


def of_kind(objects: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def one(objects: list[Manifest], kind: str, name: str) -> Manifest:
    return of_kind(objects, kind)[name]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Manifest) -> dict[str, Any]:
    (only,) = pod_spec(workload)["containers"]
    result: dict[str, Any] = only
    return result


def env(workload: Manifest) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(workload).get("env", [])}


def workloads(objects: list[Manifest]) -> Iterator[Manifest]:
    return (o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job"))


class FakeApplier(Applier):
    """The apiserver as a dict of objects by (kind, name), with every write recorded in order
    ("apply Kind name"). `settle` turns what was applied into the live object (by default: as
    applied), say with the status of a finished rollout."""

    def __init__(
        self,
        objects: Iterable[Manifest] = (),
        settle: Callable[[Manifest], Manifest] = lambda obj: obj,
    ) -> None:
        self.recorder = Recorder()
        self.objects: dict[tuple[str, str], Manifest] = {key(o): o for o in objects}
        self.writes: list[str] = []
        self.settle = settle

    def get(self, api_version: str, kind: str, name: str, namespace: str) -> Manifest | None:
        found = self.objects.get((kind, name))
        return copy.deepcopy(found) if found is not None else None

    def list_objects(
        self, api_version: str, kind: str, namespace: str, selector: str
    ) -> list[Manifest]:
        return [copy.deepcopy(o) for (k, _), o in self.objects.items() if k == kind]

    def apply(self, desired: Manifest, live: Manifest | None) -> Manifest:
        self.writes.append(f"apply {desired['kind']} {desired['metadata']['name']}")
        self.objects[key(desired)] = self.settle(copy.deepcopy(desired))
        return copy.deepcopy(self.objects[key(desired)])

    def delete(self, obj: Mapping[str, Any]) -> None:
        self.writes.append(f"delete {obj['kind']} {obj['metadata']['name']}")
        self.objects.pop(key(obj), None)

    def patch_status(self, obj: Mapping[str, Any], status: Mapping[str, Any]) -> None:
        self.writes.append(f"patch-status {obj['kind']} {obj['metadata']['name']}")

    def applied(self, kind: str | None = None) -> list[str]:
        """The names applied, in order, of `kind` or of every kind ("Kind name")."""
        found = [w.split(" ", 1)[1] for w in self.writes if w.startswith("apply ")]
        if kind is None:
            return found
        return [w.split(" ", 1)[1] for w in found if w.startswith(kind + " ")]
