"""Helpers for the operator's pure tests: clusters rendered, and ways to look inside them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

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
