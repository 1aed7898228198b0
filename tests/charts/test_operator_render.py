"""What `quckchat-operator render` makes of the example clusters: valid for Kubernetes 1.30-1.34,
and clean under checkov apart from the design choices tests/charts/operator-render.checkov.yaml
names. (Here rather than under tests/operator: it needs checkov, as the chart's tests do.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from quckchat import catalog
from tests.charts.support import (
    KUBERNETES_VERSIONS,
    checkov,
    documents,
    failed_checks,
    validation_errors,
    write_documents,
)
from tests.worlds.clusters import EXAMPLES

CHECKOV_CONFIG = Path(__file__).parent / "operator-render.checkov.yaml"
Objects = list[dict[str, Any]]


def cluster_examples() -> list[Path]:
    """Every example that holds a QuckChatCluster (workspace.yaml holds a Workspace)."""
    return [
        path
        for path in sorted(EXAMPLES.glob("*.yaml"))
        if any(d.get("kind") == "QuckChatCluster" for d in documents(path.read_text()))
    ]


@pytest.fixture(scope="module")
def operator_rendered() -> dict[str, Objects]:
    """`quckchat-operator render -f` of each cluster example, through the real command."""
    rendered = {}
    for path in cluster_examples():
        done = subprocess.run(
            [sys.executable, "-m", "quckchat_operator.cli", "render", "-f", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        rendered[path.stem] = documents(done.stdout)
    return rendered


def test_every_cluster_example_renders(operator_rendered: dict[str, Objects]) -> None:
    assert set(operator_rendered) >= {"minimal-cluster", "production-cluster"}
    for objects in operator_rendered.values():
        assert sum(o["kind"] == "Deployment" for o in objects) == len(catalog.implemented())


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid_for_kubernetes(
    operator_rendered: dict[str, Objects], kubernetes: str
) -> None:
    for name, objects in operator_rendered.items():
        assert validation_errors(objects, kubernetes) == [], name


@pytest.fixture(scope="module")
def render_report(
    operator_rendered: dict[str, Objects], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One checkov scan over every example's rendering (checkov takes seconds per run)."""
    directory = tmp_path_factory.mktemp("operator-rendered")
    for name, objects in operator_rendered.items():
        write_documents(directory, name, objects)
    return checkov(CHECKOV_CONFIG, directory)


@pytest.mark.checkov
def test_checkov_finds_nothing_beyond_the_design_choices(
    operator_rendered: dict[str, Objects], render_report: dict[str, Any]
) -> None:
    assert failed_checks(render_report) == []
    assert render_report["summary"]["parsing_errors"] == 0
    # Every workload was scanned; rendered objects carry no namespace, which checkov calls default.
    scanned = {c["resource"] for c in render_report["results"]["passed_checks"]}
    workloads = {
        f"{o['kind']}.default.{o['metadata']['name']}"
        for objects in operator_rendered.values()
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet", "Job")
    }
    assert workloads - scanned == set()
