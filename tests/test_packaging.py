"""How QuckChat is packaged for a cluster: kind-config.yaml, the Tiltfile, the GitHub workflows
and the hack scripts that tie them together.

The Tiltfile runs in starlark-go, the interpreter Tilt embeds, with Tilt's functions replaced by
ones that record their calls; the tests then hold those calls to the repository.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import starlark_go
import yaml
from dockerfile_parse import DockerfileParser

from quckchat import catalog
from quckchat import cli as platform_cli
from quckchat_operator import naming
from quckchat_operator.render.meta import Cluster
from tests.support import ROOT, dev_tool
from tests.worlds.kube import KUBECONFIG_VAR

WORKFLOWS = ROOT / ".github" / "workflows"
# Every shell script under hack/: the executables (a bash shebang) and the sourced helpers.
SCRIPTS = sorted(
    p
    for p in (ROOT / "hack").rglob("*")
    if p.is_file() and (p.suffix == ".sh" or p.read_bytes()[:40].startswith(b"#!/usr/bin/env bash"))
)
EXECUTABLES = [p for p in SCRIPTS if p.suffix != ".sh"]
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+@v\d+(\.\d+)*$")
NODE_IMAGE = re.compile(r"^kindest/node:v1\.34\.\d+@sha256:[0-9a-f]{64}$")


# kind-config.yaml
def test_kind_config_has_one_control_plane_and_two_workers_on_a_pinned_node_image() -> None:
    config = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    nodes = config["nodes"]
    assert [n["role"] for n in nodes] == ["control-plane", "worker", "worker"]
    images = {n["image"] for n in nodes}
    assert len(images) == 1
    assert NODE_IMAGE.match(images.pop())
    zones = {n.get("labels", {}).get("topology.kubernetes.io/zone") for n in nodes[1:]}
    assert len(zones) == 2 and None not in zones


# The Tiltfile
TILT_STUBS = """
CALLS = []

def _record(fn, args, kwargs):
    CALLS.append({"fn": fn, "args": list(args), "kwargs": kwargs})

def docker_build(*args, **kwargs):
    _record("docker_build", args, kwargs)

def helm(*args, **kwargs):
    _record("helm", args, kwargs)
    return "<rendered chart>"

def k8s_yaml(*args, **kwargs):
    _record("k8s_yaml", args, kwargs)

def k8s_resource(*args, **kwargs):
    _record("k8s_resource", args, kwargs)

def k8s_kind(*args, **kwargs):
    _record("k8s_kind", args, kwargs)

def local_resource(*args, **kwargs):
    _record("local_resource", args, kwargs)

def local(command, **kwargs):
    _record("local", [command], kwargs)
    return CATALOG_JSON

def decode_json(text):
    return CATALOG if text == CATALOG_JSON else None

def read_yaml(path):
    _record("read_yaml", [path], {})
    return FILES[path]

def encode_yaml(value):
    return value

def blob(value):
    return value

def sync(local_path, remote_path):
    return {"step": "sync", "local": local_path, "remote": remote_path}

def run(command, **kwargs):
    return {"step": "run", "command": command}

def fall_back_on(paths):
    return {"step": "fall_back_on", "paths": paths}
"""


@cache
def tilt_calls() -> list[dict[str, Any]]:
    """Every Tilt function the Tiltfile called, with its arguments, in order."""
    # Tilt's read_yaml takes one document, so only one-document files can be read.
    files = {}
    for path in (ROOT / "examples").glob("*.yaml"):
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        if len(documents) == 1:
            files[str(path.relative_to(ROOT))] = documents[0]
    prelude = (
        f"CATALOG_JSON = {catalog.to_json()!r}\n"
        f"CATALOG = {json.loads(catalog.to_json())!r}\n"
        f"FILES = {files!r}\n"
    )
    # As Tilt configures it: top-level `for` and reassignment are allowed.
    starlark_go.configure_starlark(allow_global_reassign=True)
    tiltfile: Any = starlark_go.Starlark()
    source = prelude + TILT_STUBS + (ROOT / "Tiltfile").read_text()
    tiltfile.exec(source, filename="Tiltfile")
    calls: list[dict[str, Any]] = tiltfile.get("CALLS")
    return calls


def calls_to(fn: str) -> list[dict[str, Any]]:
    return [c for c in tilt_calls() if c["fn"] == fn]


def built_images() -> dict[str, dict[str, Any]]:
    return {c["args"][0]: c for c in calls_to("docker_build")}


def applied_cluster() -> dict[str, Any]:
    applied = [c["args"][0] for c in calls_to("k8s_yaml")]
    clusters = [o for o in applied if isinstance(o, dict) and o.get("kind") == "QuckChatCluster"]
    assert len(clusters) == 1
    return clusters[0]


def test_the_tiltfile_reads_the_catalog_with_the_quckchat_command() -> None:
    (command,) = [c["args"][0] for c in calls_to("local")]
    program, *args = shlex.split(command)
    assert Path(program).name == "quckchat"
    parsed = platform_cli.build_parser().parse_args(args)
    assert parsed.func is platform_cli._cmd_catalog and parsed.json


def test_the_tiltfile_installs_the_operator_chart_and_applies_the_example() -> None:
    (chart,) = calls_to("helm")
    path = ROOT / chart["args"][0]
    assert path == ROOT / "charts" / "quckchat-operator"
    assert (path / "Chart.yaml").is_file(), f"{path} is not a chart"
    values = dict(v.split("=", 1) for v in chart["kwargs"]["set"])
    assert values["image.repository"] in built_images()
    assert values["watch.allNamespaces"] == "true"
    (example,) = [c["args"][0] for c in calls_to("read_yaml")]
    assert example == "examples/minimal-cluster.yaml"
    assert (ROOT / example).is_file()


def test_the_tiltfile_builds_each_image_from_its_dockerfile() -> None:
    images = built_images()
    for build in images.values():
        assert build["args"][1] == "."
        dockerfile = build["kwargs"].get("dockerfile")
        if dockerfile is not None:
            assert (ROOT / dockerfile).is_file(), dockerfile
    dev = images[applied_cluster()["spec"]["image"]["repository"]]
    # The live-updated image is the platform image with Tilt's restart wrapper on top.
    base = re.search(r"^FROM (\S+)$", dev["kwargs"]["dockerfile_contents"], re.M)
    assert base is not None
    assert images[base[1]]["kwargs"]["dockerfile"] == "images/platform.Dockerfile"


def test_live_update_puts_the_package_where_the_pods_python_imports_it_first() -> None:
    dev = built_images()[applied_cluster()["spec"]["image"]["repository"]]
    contents: str = dev["kwargs"]["dockerfile_contents"]
    steps = dev["kwargs"]["live_update"]
    (sync,) = [s for s in steps if s["step"] == "sync"]
    assert (ROOT / sync["local"] / "__init__.py").is_file()
    assert Path(sync["local"]).name == Path(sync["remote"]).name == "quckchat"
    live = str(Path(sync["remote"]).parent)
    assert f"ENV PYTHONPATH={live}" in contents
    # /tmp is a pod's one writable directory (an emptyDir: the root filesystem is read-only).
    assert live.startswith("/tmp/")
    # The rest of the package comes from the image's venv, for the Python of its base.
    platform = DockerfileParser(path=str(ROOT / "images" / "platform.Dockerfile"))
    minor = re.search(r"python:(3\.\d+)", platform.baseimage)
    assert minor is not None
    site_packages = f"/opt/quckchat/lib/python{minor[1]}/site-packages"
    runs = [s["command"] for s in steps if s["step"] == "run"]
    assert runs[0] == f"cp -rn {site_packages}/quckchat {live}/"
    restart = re.search(r"--watch_file=(\S+)", contents)
    assert restart is not None
    assert runs[-1] == f"date > {restart[1]}"


def test_the_example_runs_the_image_tilt_builds() -> None:
    (kind,) = calls_to("k8s_kind")
    assert kind["args"] == ["QuckChatCluster"]
    locator = kind["kwargs"]["image_object"]
    assert locator["json_path"] == "{.spec.image}"
    crd = yaml.safe_load((ROOT / "crds" / "quckchat.io_quckchatclusters.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    image = schema["properties"]["spec"]["properties"]["image"]["properties"]
    assert locator["repo_field"] in image and locator["tag_field"] in image
    cluster = applied_cluster()
    assert cluster["spec"]["image"]["repository"] in built_images()
    Cluster.from_manifest(cluster)


def test_each_catalog_service_is_a_tilt_resource_under_its_service_group() -> None:
    cluster = applied_cluster()["metadata"]["name"]
    resources = {c["args"][0]: c["kwargs"] for c in calls_to("local_resource")}
    assert sorted(resources) == sorted(catalog.names())
    for service in catalog.SERVICES:
        resource = resources[service.name]
        assert resource["labels"] == [str(service.group)]
        assert resource["resource_deps"] == [cluster]
        words = shlex.split(resource["serve_cmd"])
        selector = dict(kv.split("=") for kv in words[words.index("-l") + 1].split(","))
        assert selector == naming.selector(cluster, service.name)


# The GitHub workflows
def workflow(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as a boolean.
    data["on"] = data.pop(True)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = job["steps"]
    return result


def step_running(job: dict[str, Any], command: str) -> int:
    found = [i for i, s in enumerate(steps(job)) if command in s.get("run", "")]
    assert len(found) == 1, f"no single step runs {command!r}"
    return found[0]


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [s for s in steps(job) if s.get("uses", "").startswith(action + "@")]
    return step


@pytest.mark.parametrize("name", ["ci.yaml", "e2e-kind.yaml"])
def test_each_workflow_runs_on_push_and_pull_request_with_pinned_actions(name: str) -> None:
    data = workflow(name)
    assert {"push", "pull_request"} <= set(data["on"])
    for job in data["jobs"].values():
        assert job["runs-on"] and job["timeout-minutes"]
        for step in steps(job):
            if "uses" in step:
                assert PINNED_ACTION.match(step["uses"]), step["uses"]


def test_ci_runs_make_lint_and_make_test() -> None:
    jobs = workflow("ci.yaml")["jobs"]
    assert set(jobs) == {"lint", "test"}
    step_running(jobs["lint"], "make lint")
    step_running(jobs["test"], "make test")
    assert step_using(jobs["lint"], "actions/setup-python")["with"]["python-version"] == "3.11"


def test_e2e_kind_brings_the_cluster_up_then_runs_the_operator_suite_against_it() -> None:
    data = workflow("e2e-kind.yaml")
    (job,) = data["jobs"].values()
    assert step_using(job, "actions/setup-python")["with"]["python-version"] == "3.11"
    kind = step_using(job, "helm/kind-action")["with"]
    assert kind["install_only"] is True
    assert re.fullmatch(r"v\d+\.\d+\.\d+", kind["version"])
    assert re.fullmatch(r"v3\.\d+\.\d+", step_using(job, "azure/setup-helm")["with"]["version"])

    up = step_running(job, "make kind-up")
    suite = step_running(job, "pytest tests/operator/e2e")
    assert up < suite
    variable = KUBECONFIG_VAR
    run = steps(job)[suite]
    assert variable in run["env"]
    # The file the suite reads is the one kind writes the cluster's kubeconfig to.
    assert f'kind export kubeconfig --name "$KIND_CLUSTER" --kubeconfig "${variable}"' in run["run"]
    assert data["env"]["KIND_CLUSTER"] == "quckchat"

    upload = step_using(job, "actions/upload-artifact")
    assert upload["if"] == "failure()"
    collect = steps(job)[step_running(job, "kind export logs")]
    assert collect["if"] == "failure()"
    assert upload["with"]["path"] in collect["run"].replace("$RUNNER_TEMP", "${{ runner.temp }}")


# The hack scripts


@pytest.mark.parametrize("script", EXECUTABLES, ids=lambda p: p.name)
def test_each_hack_script_parses_and_is_executable(script: Path) -> None:
    assert os.access(script, os.X_OK)
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_shellcheck_finds_nothing_in_the_hack_scripts() -> None:
    assert {"testbed", "testbed-node", "netpol.sh"} <= {p.name for p in SCRIPTS}
    # -x follows the `source`s, whose paths are written relative to the repository.
    command = [dev_tool("shellcheck"), "-x", *(str(p.relative_to(ROOT)) for p in SCRIPTS)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def fake_bin(tmp_path: Path, tools: dict[str, str]) -> str:
    """A PATH of a few coreutils plus fake tools, each a script body."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for real in ("basename", "dirname", "grep", "head", "sed"):
        (bin_dir / real).symlink_to(shutil.which(real) or f"/usr/bin/{real}")
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return str(bin_dir)


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ({}, "not installed: docker kind helm kubectl"),
        ({"kind": "exit 0", "helm": "exit 0", "kubectl": "exit 0"}, "not installed: docker"),
        (
            {"docker": "exit 1", "kind": "exit 0", "helm": "exit 0", "kubectl": "exit 0"},
            "docker is installed but its daemon does not answer",
        ),
    ],
)
def test_kind_up_says_what_is_missing_and_stops(
    tmp_path: Path, tools: dict[str, str], message: str
) -> None:
    done = subprocess.run(
        ["/bin/bash", str(ROOT / "hack" / "kind-up")],
        env={"PATH": fake_bin(tmp_path, tools), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert message in done.stderr


def test_local_cluster_rejects_an_unknown_command() -> None:
    done = subprocess.run(
        [str(ROOT / "hack" / "local-cluster"), "sideways"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "usage: hack/local-cluster [up|down]" in done.stderr


def test_kind_up_loads_the_images_the_example_asks_for_and_installs_the_chart_with_them(
    tmp_path: Path,
) -> None:
    log = tmp_path / "calls.log"
    record = f'echo "$(basename "$0") $*" >>{log}'
    tools = {
        "docker": f'{record}\n[ "$1 $2" = "image inspect" ] && echo sha256:{"ab" * 32}\nexit 0',
        "kind": f"{record}\nexit 0",
        "helm": f"{record}\nexit 0",
        "kubectl": f"{record}\nexit 0",
        "git": "echo 0123abc",
    }
    done = subprocess.run(
        ["/bin/bash", str(ROOT / "hack" / "kind-up")],
        env={"PATH": fake_bin(tmp_path, tools), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    calls = [shlex.split(line) for line in log.read_text().splitlines()]

    def call(*prefix: str) -> list[str]:
        (found,) = [c for c in calls if c[: len(prefix)] == list(prefix)]
        return found

    assert str(ROOT / "kind-config.yaml") in call("kind", "create", "cluster")
    builds = {c[c.index("--file") + 1]: c[c.index("--tag") + 1] for c in calls if c[1] == "build"}
    platform = builds[str(ROOT / "images" / "platform.Dockerfile")]
    operator_repository = builds[str(ROOT / "images" / "operator.Dockerfile")].rpartition(":")[0]
    operator = f"{operator_repository}:dev-{'ab' * 6}"
    # The tag the example's pods ask for, so the loaded image serves them without a registry.
    example = yaml.safe_load((ROOT / "examples" / "minimal-cluster.yaml").read_text())
    assert platform == Cluster.from_manifest(example).spec.image_ref
    assert call("kind", "load", "docker-image")[-2:] == [platform, operator]

    helm = call("helm", "upgrade", "--install")
    assert helm[4] == str(ROOT / "charts" / "quckchat-operator")
    values = dict(helm[i + 1].split("=", 1) for i, word in enumerate(helm) if word == "--set")
    assert f"{values['image.repository']}:{values['image.tag']}" == operator
    assert values["watch.allNamespaces"] == "true"
    apply = call("kubectl", "--context", "kind-quckchat", "apply", "-n", "quckchat", "-f")
    assert apply[-1] == str(ROOT / "examples" / "minimal-cluster.yaml")
    assert calls.index(helm) < calls.index(apply)
    wait = call("kubectl", "--context", "kind-quckchat", "wait", "-n", "quckchat")
    assert "--for=condition=Ready" in wait and wait[-1] == "qc/quckchat"
