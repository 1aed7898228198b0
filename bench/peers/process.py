"""A peer's server as a child process: started, awaited until it answers, stopped by its pid."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp

READY_SECONDS = 180.0


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@asynccontextmanager
async def started_server(
    name: str,
    command: list[str],
    ready_url: str,
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> AsyncIterator[int]:
    """Run `command` until the block ends; its pid, once `ready_url` answers 200."""
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdout=out,
            stderr=out,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_SECONDS
        async with aiohttp.ClientSession() as web:
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
                with suppress(aiohttp.ClientError):
                    async with web.get(ready_url) as answer:
                        if answer.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer {ready_url}:\n{_tail(log)}")
                await asyncio.sleep(0.3)
        yield proc.pid
    finally:
        if proc.returncode is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
