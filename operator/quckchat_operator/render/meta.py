"""The cluster being rendered, and the metadata every manifest starts from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from quckchat_operator import naming
from quckchat_operator.models import QuckChatClusterSpec, field_errors

Manifest = dict[str, Any]


class InvalidCluster(ValueError):
    """A QuckChatCluster that can never render; `errors` name each field that is wrong."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Cluster:
    """A QuckChatCluster: where it lives and what it asks for."""

    name: str
    namespace: str | None
    spec: QuckChatClusterSpec

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> Cluster:
        """Parse a QuckChatCluster object; InvalidCluster names every wrong field."""
        kind = manifest.get("kind")
        if kind != naming.CLUSTER.kind:
            raise InvalidCluster([f"kind: expected {naming.CLUSTER.kind}, got {kind!r}"])
        metadata = manifest.get("metadata") or {}
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidCluster(["metadata.name: required"])
        errors = []
        try:
            naming.check_cluster_name(name)
        except ValueError as exc:
            errors.append(str(exc))
        try:
            spec = QuckChatClusterSpec.model_validate(manifest.get("spec") or {})
        except ValidationError as exc:
            errors.extend(field_errors(exc, "spec"))
        if errors:
            raise InvalidCluster(errors)
        return cls(name=name, namespace=metadata.get("namespace"), spec=spec)


def metadata(
    cluster: Cluster,
    name: str,
    labels: dict[str, str],
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if cluster.namespace:
        meta["namespace"] = cluster.namespace
    meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return meta


def manifest(api_version: str, kind: str, meta: dict[str, Any], **body: Any) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}


def detached(value: Manifest) -> Manifest:
    """A copy sharing no dict with any other object, and proven to be plain JSON.

    Renderers reuse label dicts; apply may then add an owner reference to one object only.
    """
    result: Manifest = json.loads(json.dumps(value))
    return result
