"""Helpers for the chart's tests: rendering, validating, scanning."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import yaml

from tests.worlds.kube import CHART, helm, run, tool

KUBERNETES_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34")
RELEASE = "quckchat-operator"
RELEASE_NAMESPACE = "quckchat-system"
# The value sets every rendering test covers: the default (every namespace), listed namespaces,
# and an active + standby pair scraped by a ServiceMonitor.
VALUE_SETS: dict[str, tuple[str, ...]] = {
    "all-namespaces": (),
    "namespaced": ("-f", str(CHART / "ci" / "namespaced-values.yaml")),
    "ha": ("-f", str(CHART / "ci" / "ha-values.yaml")),
}
# kubernetes-validate ships only the built-in APIs' schemas; these groups' kinds come from CRDs
# (ours and Kopf's in crds/, the ServiceMonitor from the Prometheus Operator), so no schema of
# theirs exists to check against. Any other unknown kind still fails.
CUSTOM_GROUPS = frozenset({"quckchat.io", "kopf.dev", "monitoring.coreos.com"})

# kubernetes-validate reads and parses its (unchanging) schema files again for every object it
# checks; reading each once makes validating the operator's ~500 objects six times faster.
kubernetes_validate.utils.schema_contents = functools.cache(
    kubernetes_validate.utils.schema_contents
)


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def template(*values: str) -> list[dict[str, Any]]:
    """Every object the chart renders (CRDs included) with these helm value arguments."""
    return documents(
        helm("template", RELEASE, str(CHART), "-n", RELEASE_NAMESPACE, "--include-crds", *values)
    )


def group_of(obj: dict[str, Any]) -> str:
    api_version: str = obj["apiVersion"]
    return api_version.rpartition("/")[0]


def validation_errors(objects: Iterable[dict[str, Any]], version: str) -> list[str]:
    """What the official schemas of Kubernetes `version` (strict: no unknown fields) refuse."""
    errors = []
    for obj in objects:
        if group_of(obj) in CUSTOM_GROUPS:
            continue
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{where}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where}: {exc.message}")
    return errors


def write_documents(directory: Path, name: str, objects: Sequence[dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))


def checkov(config: Path, directory: Path) -> dict[str, Any]:
    """checkov's JSON report on every manifest under `directory`, with the settings in `config`."""
    done = run(
        tool("checkov"),
        "--config-file", str(config),
        "--directory", str(directory),
        "--output", "json",
        cwd=directory,
    )  # fmt: skip
    # Exit code 1 means failed checks, which the report lists; anything else is a crash.
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["check_type"] == "kubernetes", report["check_type"]
    return report


def failed_checks(report: dict[str, Any]) -> list[str]:
    return [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})"
        for c in report["results"]["failed_checks"]
    ]


def skip_reasons(config: Path) -> dict[str, str]:
    """Each check a checkov config skips, with the comment written above it."""
    reasons: dict[str, str] = {}
    comment: list[str] = []
    for line in config.read_text().splitlines():
        text = line.strip()
        if text.startswith("#"):
            comment.append(text.lstrip("# "))
        elif text.startswith("- CKV"):
            reasons[text.removeprefix("- ")] = " ".join(comment)
            comment = []
        else:
            comment = []
    return reasons
