"""`quckchat-operator run`: the command a Deployment of the operator starts, against a real
apiserver, and stopped the way Kubernetes stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.worlds.kube import wait_for

pytestmark = pytest.mark.kube


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_run_logs_in_serves_a_namespace_and_stops_on_sigterm(namespace: str) -> None:
    metrics_port, liveness_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "quckchat_operator.cli", "run", "--standalone",
               "--namespace", namespace, "--metrics-port", str(metrics_port),
               "--liveness", f"http://127.0.0.1:{liveness_port}/healthz"]  # fmt: skip
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
        # What the chart's probe and ServiceMonitor read.
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert "quckchat_operator_reconciles_total" in metrics
        assert "quckchat_operator_reconcile_duration_seconds_count" in metrics
        assert httpx.get(f"http://127.0.0.1:{liveness_port}/healthz").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, "".join(log)
    assert any("Activity 'configure' succeeded" in line for line in log), "".join(log)
