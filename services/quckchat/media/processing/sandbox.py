"""Runs one decoding job in the worker subprocess, under RLIMIT_AS and a timeout."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
from pathlib import Path

import quckchat
from quckchat.media.processing import wire
from quckchat.media.processing.limits import SUBPROCESS_ENV, Limits, capped_memory
from quckchat.media.processing.results import Processed, generic

WORKER = "quckchat.media.processing.worker"
IMAGE_JOB = "image"
PDF_JOB = "pdf"
# Where `quckchat` is imported from, so that the worker finds the same code.
IMPORT_ROOT = str(Path(quckchat.__file__).resolve().parent.parent)
WORKER_ENV = {
    **SUBPROCESS_ENV,
    "PYTHONPATH": IMPORT_ROOT,
    # One libvips thread per job: the service runs jobs side by side, and it measured less memory.
    "VIPS_CONCURRENCY": "1",
}


def _failure(done: subprocess.CompletedProcess[bytes]) -> str:
    if done.returncode < 0:
        name = signal.strsignal(-done.returncode) or f"signal {-done.returncode}"
        return f"the decoder crashed ({name}: out of memory, or hostile input)"
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    return f"the decoder failed: {lines[-1] if lines else f'exit status {done.returncode}'}"


def decode(
    job: str, path: Path, content_type: str, limits: Limits, *, kind: str, seconds: float
) -> Processed:
    """The worker's result for one job (see `worker`), or a generic one saying why there is none."""
    request = {
        "job": job,
        "path": str(path),
        "content_type": content_type,
        "kind": kind,
        "limits": dataclasses.asdict(limits),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-s", "-m", WORKER],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=max(seconds, 0.0),
            preexec_fn=capped_memory(limits.memory_bytes),
            env=WORKER_ENV,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return generic(f"timed out after {limits.seconds:g} s")
    if done.returncode != 0:
        return generic(_failure(done))
    try:
        return wire.load(done.stdout)
    except wire.Malformed as error:
        return generic(f"the decoder's answer was unreadable: {error}")
