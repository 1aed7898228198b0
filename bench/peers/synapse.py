"""Synapse, the Matrix homeserver most teams try first: one process (its default, no workers)
on a database of its own on the test bed's PostgreSQL, serving only the client API on
127.0.0.1, with federation, presence and every outbound call off and its rate limits out of
the way."""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.peers.chat import sending_session
from bench.peers.install import SYNAPSE_VERSION, synapse_python
from bench.peers.matrix import MatrixChat
from bench.peers.postgres import Database, peer_database
from bench.peers.process import started_server
from bench.peers.stores import store_pids

PORT = 16808
UNLIMITED = {"per_second": 100_000, "burst_count": 100_000}
# Every rate limit Synapse reads that a benchmark's users could meet (0/0 would deny all).
RATE_LIMITS = {
    key: UNLIMITED
    for key in (
        "rc_message",
        "rc_registration",
        "rc_registration_token_validity",
        "rc_joins_per_room",
        "rc_room_creation",
        "rc_third_party_invite",
        "rc_3pid_validation",
        "rc_profile",
        "rc_user_directory",
        "rc_key_requests",
        "rc_media_create",
        "rc_delayed_event_mgmt",
        "rc_reports",
    )
} | {
    "rc_login": {"address": UNLIMITED, "account": UNLIMITED, "failed_attempts": UNLIMITED},
    "rc_joins": {"local": UNLIMITED, "remote": UNLIMITED},
    "rc_invites": {"per_room": UNLIMITED, "per_user": UNLIMITED, "per_issuer": UNLIMITED},
    "rc_presence": {"per_user": UNLIMITED},
}


def _config(home: Path, db: Database) -> dict[str, Any]:
    return {
        "server_name": "bench.local",
        "report_stats": False,
        "pid_file": str(home / "homeserver.pid"),
        "listeners": [
            {
                "port": PORT,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                # The client API only: no federation resource.
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {
            "name": "psycopg2",
            "args": {
                "user": db.user,
                "password": db.password,
                "dbname": db.name,
                "host": db.host,
                "port": db.port,
                "cp_min": 5,
                "cp_max": 10,
            },
        },
        "log_config": str(home / "log.yaml"),
        "media_store_path": str(home / "media"),
        "signing_key_path": str(home / "signing.key"),
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        "enable_registration": True,
        "enable_registration_without_verification": True,
        "bcrypt_rounds": 4,  # sign-up is set-up here, not what is measured
        # Nothing leaves the machine: no key servers, no federation, no previews, no stats.
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "enable_metrics": False,
        **RATE_LIMITS,
    }


def _log_config(home: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "plain",
                "filename": str(home / "homeserver.log"),
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


@asynccontextmanager
async def running() -> AsyncIterator[MatrixChat]:
    python = synapse_python()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        async with peer_database("synapse") as db:
            # JSON is YAML: no YAML writer needed.
            (home / "homeserver.yaml").write_text(json.dumps(_config(home, db)))
            (home / "log.yaml").write_text(json.dumps(_log_config(home)))
            command = [
                str(python),
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(home / "homeserver.yaml"),
            ]
            async with (
                started_server("synapse", command, f"http://127.0.0.1:{PORT}/health", home) as pid,
                sending_session() as web,
            ):
                chat = MatrixChat(
                    "Synapse", SYNAPSE_VERSION, f"http://127.0.0.1:{PORT}", web, {"synapse": pid}
                )
                chat.stores = store_pids(("postgres",))
                yield chat
