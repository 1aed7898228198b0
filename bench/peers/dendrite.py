"""Dendrite, the same protocol in Go: its monolith on a database of its own on the test bed's
PostgreSQL, serving on 127.0.0.1 with federation off, open registration (its flag) and rate
limiting off. Its NATS JetStream runs inside the process."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.peers.chat import sending_session
from bench.peers.install import DENDRITE_VERSION, dendrite_binaries
from bench.peers.matrix import MatrixChat
from bench.peers.postgres import Database, peer_database
from bench.peers.process import started_server
from bench.peers.stores import store_pids

PORT = 16809


def _config(home: Path, db: Database) -> dict[str, Any]:
    return {
        "version": 2,
        "global": {
            "server_name": "bench.local",
            "private_key": str(home / "matrix_key.pem"),
            "database": {
                "connection_string": db.url,
                "max_open_conns": 150,
                "max_idle_conns": 50,
                "conn_max_lifetime": -1,
            },
            "disable_federation": True,
            "presence": {"enable_inbound": False, "enable_outbound": False},
            "report_stats": {"enabled": False},
            "jetstream": {"storage_path": str(home / "jetstream")},
            "metrics": {"enabled": False},
        },
        "client_api": {
            "registration_disabled": False,
            "guests_disabled": True,
            "registration_shared_secret": "",
            "rate_limiting": {"enabled": False},
        },
        # No key servers: nothing leaves the machine.
        "federation_api": {"key_perspectives": []},
        "media_api": {"base_path": str(home / "media")},
        "sync_api": {"search": {"enabled": False}},
        "user_api": {"bcrypt_cost": 4},  # sign-up is set-up here, not what is measured
        "logging": [{"type": "file", "level": "warn", "params": {"path": str(home / "logs")}}],
    }


@asynccontextmanager
async def running() -> AsyncIterator[MatrixChat]:
    server, generate_keys = dendrite_binaries()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        keys = await asyncio.create_subprocess_exec(
            str(generate_keys), "--private-key", str(home / "matrix_key.pem")
        )
        if await keys.wait() != 0:
            raise RuntimeError("Dendrite's generate-keys failed")
        async with peer_database("dendrite") as db:
            (home / "dendrite.yaml").write_text(json.dumps(_config(home, db)))
            command = [
                str(server),
                "--config",
                str(home / "dendrite.yaml"),
                "--http-bind-address",
                f"127.0.0.1:{PORT}",
                "--really-enable-open-registration",
            ]
            ready = f"http://127.0.0.1:{PORT}/_matrix/client/versions"
            async with (
                started_server("dendrite", command, ready, home, cwd=home) as pid,
                sending_session() as web,
            ):
                chat = MatrixChat(
                    "Dendrite", DENDRITE_VERSION, f"http://127.0.0.1:{PORT}", web, {"dendrite": pid}
                )
                chat.stores = store_pids(("postgres",))
                yield chat
