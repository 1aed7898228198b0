"""`quckchat-operator render` prints a YAML stream, or names what is wrong and exits 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from quckchat import catalog
from quckchat_operator.cli import main
from tests.worlds.clusters import EXAMPLES


def test_render_prints_every_object_as_a_yaml_stream(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "-f", str(EXAMPLES / "minimal-cluster.yaml")]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    kinds = [d["kind"] for d in documents]
    assert kinds.count("Deployment") == len(catalog.implemented())
    assert kinds.count("StatefulSet") == 7
    groups = {d["spec"]["group"] for d in documents if d["kind"] == "ServiceGroup"}
    # Only groups with something deployed: a group of planned services has no ServiceGroup.
    assert groups == {s.group for s in catalog.implemented()}
    assert len(groups) < len(catalog.Group)
    assert all(d["metadata"]["name"] for d in documents)


def test_render_names_the_bad_field_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: quckchat.io/v1alpha1\nkind: QuckChatCluster\nmetadata: {name: qc}\n"
        "spec:\n  stores: {kafka: {mode: rented}}\n  groups: {edge: {replicas: -2}}\n"
    )
    assert main(["render", "-f", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "spec.stores.kafka.mode" in err
    assert "spec.groups.edge.replicas" in err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("kind: Workspace\nmetadata: {name: w}\n", "no QuckChatCluster"),
        ("kind: QuckChatCluster\nmetadata: {}\n", "metadata.name"),
        ("kind: [unclosed\n", "quckchat-operator render"),
    ],
)
def test_render_refuses_a_file_without_a_usable_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["render", "-f", str(path)]) == 2
    assert words in capsys.readouterr().err


def test_render_of_a_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "-f", "/nonexistent/cluster.yaml"]) == 2
    assert "No such file" in capsys.readouterr().err


def test_rendering_loads_no_service_code() -> None:
    """Render and its command read the catalog only: `render` starts in a fraction of a second
    and needs none of the services' runtime (only the Workspace handler calls a service)."""
    probe = (
        "import sys, pkgutil, importlib, quckchat_operator.cli, quckchat_operator.render as r\n"
        "for m in pkgutil.walk_packages(r.__path__, 'quckchat_operator.render.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted(n for n in sys.modules if n.startswith('quckchat.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["quckchat.catalog"]
