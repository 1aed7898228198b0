"""Identity and gateway figures (issue: foundation).

Starts `quckchat run` as a separate process on embedded stores (as a developer runs it) and
measures from this process: time to ready, idle RSS, gateway overhead over a direct call,
permission checks, OTP verify latency; and token verifications per second in-process.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO

import httpx
from httpx_aiohttp import AiohttpTransport

from bench.stats import figure, report, rss_mb, timed
from quckchat.core.tokens import TokenVerifier

PORT_OFFSET = 13000
GATEWAY = f"http://127.0.0.1:{3000 + PORT_OFFSET}"
AUTH = f"http://127.0.0.1:{8081 + PORT_OFFSET}"
PERMISSION = f"http://127.0.0.1:{8083 + PORT_OFFSET}"


def start_platform(data_dir: str) -> tuple[subprocess.Popen[str], float]:
    env = {
        **os.environ,
        "QUCKCHAT_PORT_OFFSET": str(PORT_OFFSET),
        "QUCKCHAT_RATE_LIMIT_PER_IP": "10000000",
        "QUCKCHAT_RATE_LIMIT_PER_USER": "10000000",
        "QUCKCHAT_OTP_SEND_LIMIT_PER_PHONE": "10000000",
        "QUCKCHAT_OTP_SEND_LIMIT_PER_IP": "10000000",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "quckchat.cli", "run", "--data-dir", data_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("QuckChat is ready"):
            return proc, time.perf_counter() - started
    raise RuntimeError("quckchat run exited before it was ready")


class CodeReader(threading.Thread):
    """Reads the platform's log as it runs, keeping the one-time codes the console SMS prints."""

    PATTERN = re.compile(r"OTP for (\+[0-9]+) is ([0-9]{6})")

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.codes: dict[str, str] = {}

    def run(self) -> None:
        for line in self.stream:
            match = self.PATTERN.search(line)
            if match:
                self.codes[match.group(1)] = match.group(2)

    async def code_for(self, phone: str) -> str:
        for _ in range(500):
            if phone in self.codes:
                return self.codes.pop(phone)
            await asyncio.sleep(0.002)
        raise RuntimeError(f"no code logged for {phone}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        proc, ready_s = start_platform(data_dir)
        try:
            figure("quckchat run: time to ready", ready_s * 1000, "ms", "(target <= 5000 ms)")
            await asyncio.sleep(3)
            figure("quckchat run: idle RSS", rss_mb(proc.pid), "MB", "(target <= 400 MB)")
            await _measure(proc)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


async def _measure(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    reader = CodeReader(proc.stdout)
    reader.start()
    # The same client stack the services use to call each other.
    async with httpx.AsyncClient(timeout=10, transport=AiohttpTransport()) as client:
        tokens = await _register(client)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        direct = await timed(lambda: client.get(f"{AUTH}/me", headers=headers), 1000)
        via = await timed(lambda: client.get(f"{GATEWAY}/api/v1/auth/me", headers=headers), 1000)
        report("GET /me direct to auth", direct)
        report("GET /api/v1/auth/me through the gateway", via)
        figure(
            "gateway overhead (median difference)",
            (statistics.median(via) - statistics.median(direct)) * 1000,
            "us",
            "(target <= 1500 us)",
        )

        body = {
            "subject": tokens["user_id"],
            "object": "channel:*",
            "action": "write",
            "tenant": "default",
        }
        internal = {"X-QuckChat-Caller": "bench"}
        checks = await timed(
            lambda: client.post(f"{PERMISSION}/internal/check", json=body, headers=internal), 2000
        )
        report("permission check over HTTP (from cache)", checks)

        otp = await _otp_verify_latency(client, reader)
        report("OTP verify through the gateway", otp)

        await _token_verifications(client)


async def _register(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post(
        f"{GATEWAY}/api/v1/auth/register",
        json={"email": "bench@example.com", "password": "benchmark password"},
    )
    r.raise_for_status()
    tokens: dict[str, str] = r.json()
    return tokens


async def _otp_verify_latency(client: httpx.AsyncClient, reader: CodeReader) -> list[float]:
    """Each round sends a code to a new phone and verifies it; only the verify is timed."""
    samples = []
    for i in range(200):
        phone = f"+1777{i:07d}"
        await client.post(f"{GATEWAY}/api/v1/auth/otp/send", json={"phone": phone})
        code = await reader.code_for(phone)
        started = time.perf_counter()
        r = await client.post(
            f"{GATEWAY}/api/v1/auth/otp/verify", json={"phone": phone, "code": code}
        )
        samples.append((time.perf_counter() - started) * 1000)
        r.raise_for_status()
    return samples


async def _token_verifications(client: httpx.AsyncClient) -> None:
    jwks = (await client.get(f"{AUTH}/.well-known/jwks.json")).json()
    r = await client.post(
        f"{GATEWAY}/api/v1/auth/login",
        json={"email": "bench@example.com", "password": "benchmark password"},
    )
    token = r.json()["access_token"]

    async def source() -> dict[str, object]:
        return dict(jwks)

    verifier = TokenVerifier(source, issuer="quckchat", audience="quckchat", cache=None, remember=0)
    await verifier.verify(token)
    n = 20000
    started = time.perf_counter()
    for _ in range(n):
        await verifier.verify(token)
    elapsed = time.perf_counter() - started
    figure("token verifications (signature + claims)", n / elapsed, "/s", "(one core)")
    remembered = TokenVerifier(source, issuer="quckchat", audience="quckchat", cache=None)
    await remembered.verify(token)
    started = time.perf_counter()
    for _ in range(n):
        await remembered.verify(token)
    elapsed = time.perf_counter() - started
    figure("token verifications (seen token, no revocation)", n / elapsed, "/s", "(one core)")
