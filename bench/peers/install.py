"""Install or build each peer once into ~/.cache/quckchat/peers; a second run finds it there.

Synapse goes into a virtualenv of its own (its pins are not the platform's). Dendrite and
Centrifugo are built from their Go modules with the installed toolchain only, on the module
and build caches the test bed's Go servers use (hack/lib/go.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path.home() / ".cache" / "quckchat"
PEERS = CACHE / "peers"
SYNAPSE_VERSION = "1.163.2"
DENDRITE_VERSION = "0.13.8"
CENTRIFUGO_VERSION = "6.9.1"


def _run(what: str, command: list[str], log: Path, **kw: object) -> None:
    """Run an install step, its output in `log`; say how long it took, or where it failed."""
    started = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        done = subprocess.run(command, stdout=out, stderr=out, stdin=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"peers: {what} failed (log: {log}):\n{tail}")
    print(f"peers: {what} took {time.monotonic() - started:.0f} s")


def _stamped(path: Path, stamp: str) -> bool:
    marker = path.with_name(path.name + ".stamp")
    return path.exists() and marker.exists() and marker.read_text() == stamp


def _stamp(path: Path, stamp: str) -> None:
    path.with_name(path.name + ".stamp").write_text(stamp)


def synapse_python() -> Path:
    """The Python of Synapse's own virtualenv, with its PostgreSQL driver."""
    home = PEERS / f"synapse-{SYNAPSE_VERSION}"
    python = home / "bin" / "python"
    # psycopg2-binary rather than the `postgres` extra's psycopg2, which pip would compile: it
    # gives the same module, which is all Synapse imports.
    requirements = [f"matrix-synapse=={SYNAPSE_VERSION}", "psycopg2-binary"]
    stamp = " ".join(requirements)
    if _stamped(python, stamp):
        return python
    log = PEERS / "logs" / "synapse-install.log"
    _run("a virtualenv for Synapse", [sys.executable, "-m", "venv", "--clear", str(home)], log)
    _run(f"pip install {stamp}", [str(python), "-m", "pip", "install", *requirements], log)
    _stamp(python, stamp)
    return python


def _go_install(name: str, package: str, ldflags: str) -> Path:
    """`go install PACKAGE@VERSION` into the peers' bin, rebuilt only when either changes."""
    binary = PEERS / "bin" / name
    stamp = f"{package} {ldflags}"
    if _stamped(binary, stamp):
        return binary
    go_cache = CACHE / "go"
    env = {
        **os.environ,
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
        "GOFLAGS": "-buildvcs=false",
        "GOMODCACHE": str(go_cache / "mod"),
        "GOCACHE": str(go_cache / "build"),
        "GOBIN": str(binary.parent),
    }
    command = ["go", "install", "-trimpath", f"-ldflags={ldflags}", package]
    _run(f"go install {package}", command, PEERS / "logs" / f"{name}-build.log", env=env)
    _stamp(binary, stamp)
    return binary


def centrifugo_binary() -> Path:
    version = f"github.com/centrifugal/centrifugo/v6/internal/build.Version={CENTRIFUGO_VERSION}"
    return _go_install(
        "centrifugo",
        f"github.com/centrifugal/centrifugo/v6@v{CENTRIFUGO_VERSION}",
        f"-s -w -X {version}",
    )


def dendrite_binaries() -> tuple[Path, Path]:
    """Dendrite's server, and its key generator."""
    module = "github.com/matrix-org/dendrite"
    flags = "-s -w"
    server = _go_install("dendrite", f"{module}/cmd/dendrite@v{DENDRITE_VERSION}", flags)
    keys = _go_install("generate-keys", f"{module}/cmd/generate-keys@v{DENDRITE_VERSION}", flags)
    return server, keys
