"""`quckchat run` and `quckchat serve` as processes, started and stopped the way people do."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from quckchat import catalog

# Far from the catalog ports and from the other suites' offsets, so it runs beside them.
PORT_OFFSET = 12000
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
GATEWAY = f"http://127.0.0.1:{3000 + PORT_OFFSET}"

pytestmark = pytest.mark.e2e


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any QUCKCHAT_* setting, so the embedded defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUCKCHAT_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


class Process:
    """A `quckchat` command line in a subprocess, its output collected as it comes."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str]) -> None:
        self.args, self.cwd, self.env = args, cwd, env
        self.proc: asyncio.subprocess.Process | None = None
        self.stdout: list[str] = []
        self.stderr = ""
        self.ready = asyncio.Event()
        self.readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "quckchat.cli",
            *self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self.readers = [
            asyncio.create_task(self._read_lines()),
            asyncio.create_task(self._read_stderr()),
        ]

    async def _read_lines(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.stdout.append(line)
            if line.startswith("QuckChat is ready"):
                self.ready.set()

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        # Progress is drawn with carriage returns, not lines: read chunks.
        while chunk := await self.proc.stderr.read(4096):
            self.stderr += chunk.decode(errors="replace")

    async def wait_ready(self) -> None:
        assert self.proc is not None
        exited = asyncio.create_task(self.proc.wait())
        ready = asyncio.create_task(self.ready.wait())
        await asyncio.wait({exited, ready}, timeout=START_TIMEOUT, return_when="FIRST_COMPLETED")
        exited.cancel()
        ready.cancel()
        assert self.ready.is_set(), f"not ready:\n{self.output()}"

    async def stop(self, sig: signal.Signals) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
        await asyncio.gather(*self.readers)
        return code

    async def kill(self) -> None:
        """After a failed test: end the process this test started, and its readers."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)

    def output(self) -> str:
        return "\n".join(self.stdout) + "\n--- stderr ---\n" + self.stderr


@pytest.fixture
async def processes() -> AsyncIterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        await process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def assert_ports_free() -> None:
    """Fixed ports: a second run of this suite on the machine would take them first."""
    for spec in catalog.implemented():
        port = spec.port + PORT_OFFSET
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                raise AssertionError(f"port {port} for {spec.name} is taken: {exc}") from exc


async def run_platform(data_dir: Path, processes: list[Process]) -> Process:
    assert_ports_free()
    process = Process(
        "run",
        "--data-dir",
        str(data_dir),
        cwd=data_dir.parent,
        env=clean_env(QUCKCHAT_PORT_OFFSET=str(PORT_OFFSET)),
    )
    processes.append(process)
    await process.start()
    await process.wait_ready()
    return process


async def test_run_serves_the_platform_and_keeps_its_data_across_restarts(
    tmp_path: Path, processes: list[Process]
) -> None:
    data_dir = tmp_path / "data"
    platform = await run_platform(data_dir, processes)
    for spec in catalog.implemented():
        url = f"http://127.0.0.1:{spec.port + PORT_OFFSET}"
        row = rf"^{re.escape(spec.name)}\s+{spec.group}\s+{re.escape(url)}$"
        assert any(re.match(row, line) for line in platform.stdout), platform.output()
    # The ready table names the gateway's port as served, not the catalog's.
    assert f"Public API: {GATEWAY}/api/v1/  (docs: /api/v1/docs)" in platform.stdout

    email, password = f"{uuid.uuid4().hex[:12]}@example.com", "a long enough passphrase"
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=30) as client:
        health = await client.get("/api/v1/health")
        assert health.status_code == 200, health.text
        assert set(health.json()["services"]) == {
            s.name for s in catalog.implemented() if s.name != "backend-gateway"
        }
        registered = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        )
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["user_id"]
    # The WebSocket at the public address, on the gateway's port.
    token = registered.json()["access_token"]
    socket_url = GATEWAY.replace("http", "ws", 1) + f"/api/v1/realtime/ws?token={token}"
    async with websockets.connect(socket_url) as socket:
        hello = json.loads(await socket.recv())
        assert (hello["type"], hello["user_id"]) == ("hello", user_id)

    assert await platform.stop(signal.SIGINT) == 0, platform.output()
    assert "stopped cleanly" in platform.stderr
    assert (data_dir / "auth.db").exists()

    again = await run_platform(data_dir, processes)
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=30) as client:
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        assert login.json()["user_id"] == user_id
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email
        wrong = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": "not the passphrase"}
        )
        assert wrong.status_code == 401
    assert await again.stop(signal.SIGTERM) == 0, again.output()
    assert "stopped cleanly" in again.stderr


async def serve_auth(tmp_path: Path, processes: list[Process]) -> tuple[Process, int]:
    """`quckchat serve auth` on a free port, once it answers its liveness probe."""
    port = free_port()
    process = Process(
        "serve",
        "auth",
        "--port",
        str(port),
        cwd=tmp_path,
        env=clean_env(QUCKCHAT_DATA_DIR=str(tmp_path / "data")),
    )
    processes.append(process)
    await process.start()
    assert process.proc is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while process.proc.returncode is None and asyncio.get_running_loop().time() < deadline:
            try:
                live = await client.get("/health/live")
            except httpx.TransportError:
                await asyncio.sleep(0.2)
                continue
            assert live.status_code == 200 and live.json() == {"status": "alive"}
            return process, port
    raise AssertionError(f"serve did not answer on port {port}:\n{process.output()}")


async def test_serve_runs_one_service_and_shuts_down_gracefully_on_sigterm(
    tmp_path: Path, processes: list[Process]
) -> None:
    process, port = await serve_auth(tmp_path, processes)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        health = await client.get("/health")
        jwks = await client.get("/.well-known/jwks.json")
    assert health.status_code == 200 and health.json()["status"] == "healthy"
    assert jwks.status_code == 200 and jwks.json()["keys"]
    assert await process.stop(signal.SIGTERM) == 0
    messages = [json.loads(line)["message"] for line in process.stdout if line.startswith("{")]
    assert "auth stopped" in messages, process.output()
    assert "Application shutdown complete." in messages
    assert (tmp_path / "data" / "auth.db").exists()
