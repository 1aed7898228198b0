"""`quckchat-operator run`: the command a Deployment of the operator starts, against a real
apiserver, and stopped the way Kubernetes stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.operator.e2e.kube import wait_for

pytestmark = pytest.mark.kube


def test_run_logs_in_serves_a_namespace_and_stops_on_sigterm(namespace: str) -> None:
    command = [sys.executable, "-m", "quckchat_operator.cli", "run", "--standalone",
               "--namespace", namespace]  # fmt: skip
    log: list[str] = []
    with subprocess.Popen(
        command, stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True, env=os.environ
    ) as process:
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)

        def started() -> bool:
            log.extend(line for line in process.stdout.readlines() if line)  # type: ignore[union-attr]
            return any("Initial authentication has finished" in line for line in log)

        wait_for("the operator to log in", started, timeout=60)
        time.sleep(1)  # let the watchers start, so stopping interrupts real work
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, "".join(log)
    assert any("Activity 'configure' succeeded" in line for line in log), "".join(log)
