"""The container images, checked without a Docker engine.

Each Dockerfile is parsed (dockerfile-parse) and held to what runs in it: the console script of
its entrypoint, the args the operator renders for the platform's pods, the non-root uid of their
securityContext, and a build context that carries what the images copy and nothing else.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser

from quckchat import catalog
from quckchat import cli as platform_cli
from quckchat.core.app import load_service
from quckchat_operator import cli as operator_cli
from quckchat_operator.models import ImageSpec
from quckchat_operator.render.cluster import render_cluster
from quckchat_operator.render.security import PLATFORM_UID
from tests.support import ROOT, dev_tool
from tests.worlds.clusters import load_example

PLATFORM = ROOT / "images" / "platform.Dockerfile"
OPERATOR = ROOT / "images" / "operator.Dockerfile"
DOCKERFILES = [PLATFORM, OPERATOR]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SCRIPTS: dict[str, str] = PROJECT["scripts"]
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-[a-z]+$")
VENV = "/opt/quckchat"

Instruction = dict[str, Any]


@cache
def parse(dockerfile: Path) -> DockerfileParser:
    return DockerfileParser(path=str(dockerfile), cache_content=True)


def stages(dockerfile: Path) -> list[list[Instruction]]:
    """The instructions of each build stage, in order."""
    result: list[list[Instruction]] = []
    for instruction in parse(dockerfile).structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def final(dockerfile: Path, name: str) -> list[str]:
    """The last `name` instruction of the final stage, exec form, as a list."""
    found = [i["value"] for i in stages(dockerfile)[-1] if i["instruction"] == name]
    assert found, f"{dockerfile.name}: no {name} in the final stage"
    value: list[str] = json.loads(found[-1])
    return value


def argv(dockerfile: Path, args: list[str] | None = None) -> list[str]:
    """What a container of the image runs: ENTRYPOINT, then `args` or else CMD."""
    return final(dockerfile, "ENTRYPOINT") + (final(dockerfile, "CMD") if args is None else args)


def console_script(name: str) -> Callable[..., Any]:
    module, _, function = SCRIPTS[name].partition(":")
    target: Callable[..., Any] = getattr(import_module(module), function)
    return target


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_each_image_builds_in_one_stage_and_ships_another_on_one_pinned_base(
    dockerfile: Path,
) -> None:
    parser = parse(dockerfile)
    assert parser.is_multistage
    bases = parser.parent_images
    assert len(bases) == 2
    assert len(set(bases)) == 1, bases
    assert PINNED_PYTHON.match(bases[0]), bases[0]
    # The final stage takes only the venv from the builder, never the sources.
    copies = [i["value"].split() for i in stages(dockerfile)[-1] if i["instruction"] == "COPY"]
    assert copies == [["--from=builder", VENV, VENV]]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_the_final_stage_runs_as_the_pods_non_root_uid(dockerfile: Path) -> None:
    users = [i["value"] for i in stages(dockerfile)[-1] if i["instruction"] == "USER"]
    assert users, "no USER: the image would run as root"
    user, _, group = users[-1].partition(":")
    # Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
    assert user.isdigit() and group.isdigit()
    assert int(user) == int(group) == PLATFORM_UID != 0


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_the_entrypoint_is_a_console_script_on_the_venvs_path(dockerfile: Path) -> None:
    entrypoint = final(dockerfile, "ENTRYPOINT")
    assert len(entrypoint) == 1
    assert entrypoint[0] in SCRIPTS
    assert callable(console_script(entrypoint[0]))
    assert parse(dockerfile).envs["PATH"].split(":")[0] == f"{VENV}/bin"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_the_final_stage_carries_oci_labels(dockerfile: Path) -> None:
    labels = parse(dockerfile).labels
    for key in ("title", "description", "version", "revision"):
        assert labels.get(f"org.opencontainers.image.{key}"), key


def test_every_container_the_operator_renders_runs_a_platform_command() -> None:
    """Each service's `serve NAME` and the migration Job's `migrate --all`, appended to the
    platform image's ENTRYPOINT (the operator sets `args`, never `command`), parse with the
    real `quckchat` parser and pick the command they mean."""
    cluster = load_example("minimal-cluster")
    assert cluster.spec.image_ref.startswith(ImageSpec().repository + ":")
    served: dict[str, str] = {}
    migrations = 0
    for obj in render_cluster(cluster):
        if obj["kind"] not in {"Deployment", "Job"}:
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            if container["image"] != cluster.spec.image_ref:
                continue
            assert "command" not in container, obj["metadata"]["name"]
            program, *rest = argv(PLATFORM, container["args"])
            assert program == "quckchat"
            args = platform_cli.build_parser().parse_args(rest)
            if obj["kind"] == "Job":
                assert args.func is platform_cli._cmd_migrate and args.all
                migrations += 1
            else:
                assert args.func is platform_cli._cmd_serve
                served[obj["metadata"]["name"]] = args.name
    assert sorted(served.values()) == sorted(s.name for s in catalog.implemented())
    # Each served service has its code: `quckchat serve NAME` would exit at once without it.
    for name in served.values():
        assert load_service(catalog.get(name)).routers, name
    assert migrations == 1


def test_the_platform_image_alone_runs_the_whole_platform_reachable_from_outside() -> None:
    program, *rest = argv(PLATFORM)
    args = platform_cli.build_parser().parse_args(rest)
    assert program == "quckchat"
    assert args.func is platform_cli._cmd_run
    assert args.host == "0.0.0.0"
    # The one writable place when the root filesystem is read-only.
    assert args.data_dir.startswith("/tmp/")


def test_the_operator_image_serves_every_namespace_by_default() -> None:
    program, *rest = argv(OPERATOR)
    args = operator_cli.build_parser().parse_args(rest)
    assert program == "quckchat-operator"
    assert args.func is operator_cli._cmd_run
    assert args.all_namespaces


# The build context: .dockerignore, read with Docker's rules (last matching pattern wins; a
# pattern matching a directory covers everything under it; `**` spans directories).
def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


@cache
def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        rules.append((keep, _regex(line.lstrip("!").strip("/"))))
    return rules


def in_context(path: str) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    included = True
    for keep, regex in _ignore_rules():
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            included = keep
    return included


def copy_sources(dockerfile: Path) -> list[str]:
    sources = []
    for instruction in parse(dockerfile).structure:
        if instruction["instruction"] in {"COPY", "ADD"}:
            words = instruction["value"].split()
            if not any(w.startswith("--from=") for w in words):
                sources += [w for w in words[:-1] if not w.startswith("--")]
    return sources


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_copy_source_exists_and_is_in_the_build_context(dockerfile: Path) -> None:
    sources = copy_sources(dockerfile)
    assert sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), source
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            if "__pycache__" not in relative:
                assert in_context(relative), relative


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        ".mypy_cache/3.11/cache.db",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/CACHEDIR.TAG",
        ".hypothesis/examples/x",
        ".quckchat/data/auth.db",
        "quckchat.egg-info/PKG-INFO",
        "services/quckchat/__pycache__/cli.cpython-311.pyc",
        "operator/quckchat_operator/__pycache__/cli.cpython-311.pyc",
        "tests/test_images.py",
    ],
)
def test_the_build_context_leaves_out_local_state(path: str) -> None:
    assert not in_context(path)


def test_hadolint_finds_nothing_in_the_dockerfiles() -> None:
    done = subprocess.run(
        [dev_tool("hadolint"), "--no-color", *map(str, DOCKERFILES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
