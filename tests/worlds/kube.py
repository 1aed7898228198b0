"""The testbed's Kubernetes: its kubeconfig, kubectl and helm against it, patient waits on it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.support import ROOT, require_marker, unavailable

T = TypeVar("T")
KUBECONFIG_VAR = "QUCKCHAT_TEST_KUBECONFIG"
# The tools hack/testbed builds or installs, by the variable that holds each one's path.
TOOL_VARS = {"helm": "QUCKCHAT_TEST_HELM", "checkov": "QUCKCHAT_TEST_CHECKOV"}
CHART = ROOT / "charts" / "quckchat-operator"
# kwok and the controllers share two cores with the tests: be patient.
TIMEOUT = 120.0
POLL = 0.5


def testbed_kubeconfig() -> str:
    """The path of the testbed's kubeconfig, once its apiserver answers; without one, the
    running test fails under CI=true and is skipped elsewhere."""
    require_marker("kube")
    path = os.environ.get(KUBECONFIG_VAR)
    if not (path and Path(path).exists()):
        unavailable(
            "the testbed's Kubernetes is not available: run `hack/testbed up kube` "
            f"({KUBECONFIG_VAR} {'points nowhere' if path else 'unset'})"
        )
    reachable = kubectl(f"--kubeconfig={path}", "version", "--request-timeout=10s", check=False)
    if "Server Version" not in reachable:
        unavailable(f"the testbed's kube-apiserver does not answer: {reachable.strip()}")
    return path


def kubectl(*args: str, check: bool = True, stdin: str | None = None) -> str:
    """Run the testbed's kubectl against the testbed's kubeconfig; return its stdout."""
    binary = os.environ.get("QUCKCHAT_TEST_KUBECTL", "kubectl")
    done = subprocess.run(
        [binary, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout if done.returncode == 0 else done.stderr


def kubectl_json(*args: str) -> Any:
    return json.loads(kubectl(*args, "-o", "json"))


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float = TIMEOUT, poll: float = POLL
) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def tool(name: str) -> str:
    """The path of a tool from hack/testbed; missing, it fails under CI=true and skips elsewhere."""
    require_marker(name)
    value = os.environ.get(TOOL_VARS[name])
    if value and Path(value).is_file():
        return value
    unavailable(
        f"{name} not available: run `hack/testbed up kube` "
        f"({TOOL_VARS[name]} {'points nowhere' if value else 'unset'})"
    )


def run(
    *command: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def helm(*args: str, env: dict[str, str] | None = None) -> str:
    """Run the testbed's helm; its stdout, or an AssertionError carrying its stderr."""
    done = run(tool("helm"), *args, env=env)
    if done.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
