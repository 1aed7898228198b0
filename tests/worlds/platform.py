"""Settings for every implemented service on the testbed's real servers, on stores of this run.

Each service gets its own SQL database on MariaDB or PostgreSQL (as its catalog entry says) and
its own document database on FerretDB; they share one Redis database (emptied first), Kafka
topics and an Elasticsearch index under a prefix of the run, a bucket on the S3 server and
clamd. Everything is dropped afterwards.
The end-to-end suite hosts the services in its own event loop; `platform_processes` runs each
as its own `quckchat serve` process with the same settings, passed as environment variables
(the gateway benchmark, and the fault test that kills one).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from quckchat import catalog
from quckchat.catalog import ServiceSpec, Store
from quckchat.core.search import ElasticsearchBackend
from quckchat.core.settings import Settings
from quckchat.search.store import index_prefix
from tests.support import drop_bucket, fresh_database, fresh_documents, s3_settings, server
from tests.worlds.mailbox import smtp_url
from tests.worlds.push import (
    FakeApns,
    FakeFcm,
    FakePushService,
    fake_apns,
    fake_fcm,
    fake_push_service,
)

SettingsFor = Callable[[ServiceSpec], Settings]
# The markers of a test that runs the platform on these servers.
EVERY_SERVER = [
    pytest.mark.mysql,
    pytest.mark.postgres,
    pytest.mark.mongodb,
    pytest.mark.redis,
    pytest.mark.kafka,
    pytest.mark.elasticsearch,
    pytest.mark.s3,
    pytest.mark.clamav,
    pytest.mark.smtp,
]


@asynccontextmanager
async def real_platform_settings(
    tmp: Path, *, label: str, port_offset: int, redis_db: int, **overrides: Any
) -> AsyncIterator[SettingsFor]:
    """Each implemented service's settings; `label` starts the run's topic and index prefix."""
    prefix = f"{label}{uuid.uuid4().hex[:8]}."
    bucket = s3_settings(f"{label}-{uuid.uuid4().hex[:12]}")
    base = Settings(
        redis_url=f"{server('redis').rsplit('/', 1)[0]}/{redis_db}",
        kafka_bootstrap=server("kafka"),
        kafka_topic_prefix=prefix,
        elasticsearch_url=server("elasticsearch"),
        clamd_url=server("clamav"),
        port_offset=port_offset,
        data_dir=tmp,
        **{**bucket, **overrides},
    )
    redis = Redis.from_url(base.redis_url or "")
    await redis.flushdb()
    await redis.aclose()
    async with AsyncExitStack() as stack:
        own: dict[str, dict[str, Any]] = {}
        for spec in catalog.implemented():
            update: dict[str, Any] = {"service": spec.name}
            store = spec.relational_store
            if store is not None:
                kind = "postgres" if store == Store.POSTGRESQL else "mysql"
                update["database_url"] = await stack.enter_async_context(fresh_database(kind, tmp))
            if Store.MONGODB in spec.stores:
                update["mongodb_url"] = await stack.enter_async_context(fresh_documents("mongodb"))
            own[spec.name] = update
        stack.push_async_callback(drop_bucket, bucket)
        index = ElasticsearchBackend(base.elasticsearch_url or "", prefix=index_prefix(base))
        stack.push_async_callback(index.close)
        stack.push_async_callback(index.drop)

        def settings_for(spec: ServiceSpec) -> Settings:
            return base.model_copy(update=own[spec.name])

        yield settings_for


@dataclass
class PushFakes:
    """The local stand-ins for the push providers the platform's notification service uses."""

    fcm: FakeFcm
    apns: FakeApns
    web: FakePushService


@asynccontextmanager
async def push_fakes(directory: Path) -> AsyncIterator[PushFakes]:
    async with (
        fake_fcm(directory) as fcm,
        fake_apns(directory) as apns,
        fake_push_service() as web,
    ):
        yield PushFakes(fcm, apns, web)


def delivery_settings(fakes: PushFakes) -> dict[str, Any]:
    """Settings that point the real push clients at the fakes and the mailer at the test
    bed's SMTP server: no code path of the service knows it is being tested."""
    return {
        "fcm_credentials_file": str(fakes.fcm.key_file()),
        "fcm_project_id": fakes.fcm.project,
        "fcm_endpoint": fakes.fcm.origin,
        "apns_key_file": str(fakes.apns.key_file()),
        "apns_key_id": fakes.apns.key_id,
        "apns_team_id": fakes.apns.team_id,
        "apns_topic": fakes.apns.topic,
        "apns_url": fakes.apns.url,
        "apns_ca_file": str(fakes.apns.ca_file()),
        "webpush_vapid_private_key": fakes.web.vapid_private_key,
        "webpush_vapid_subject": fakes.web.subject,
        # The receiver listens on loopback, which Web Push refuses outside tests.
        "webpush_allowed_networks": ["127.0.0.0/8"],
        "smtp_url": smtp_url(),
    }


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that give a `quckchat serve` process these settings."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(exclude_defaults=True).items():
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, list | dict) else str(value)
        env[f"QUCKCHAT_{name.upper()}"] = text
    return env


READY_SECONDS = 90.0


@dataclass
class ProcessPlatform:
    """Each implemented service as a `quckchat serve` process of its own; logs in `log_dir`."""

    settings_for: SettingsFor
    log_dir: Path
    procs: dict[str, Process] = field(default_factory=dict)

    @property
    def api(self) -> str:
        """The gateway's public API address."""
        return self.settings_for(catalog.get("backend-gateway")).service_url("backend-gateway") + (
            "/api/v1"
        )

    @property
    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def port(self, service: str) -> int:
        spec = catalog.get(service)
        return self.settings_for(spec).port_for(spec)

    async def start(self, service: str) -> None:
        """Start the service's process and wait until it is ready (its log named if not)."""
        spec = catalog.get(service)
        settings = self.settings_for(spec)
        log = self.log_dir / f"{spec.name}.log"
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "quckchat.cli", "serve", spec.name),
                env={**os.environ, **settings_env(settings)},
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        self.procs[service] = proc
        ready = f"http://127.0.0.1:{settings.port_for(spec)}/health/ready"
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline and proc.returncode is None:
                try:
                    if (await client.get(ready)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        proc.kill()
        raise RuntimeError(f"{spec.name} did not become ready; its log is {log}")

    async def kill(self, service: str) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed or committed (a crash)."""
        proc = self.procs.pop(service)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()

    async def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
        self.procs.clear()


@asynccontextmanager
async def platform_processes(
    log_dir: Path, *, label: str, port_offset: int, redis_db: int, **overrides: Any
) -> AsyncIterator[ProcessPlatform]:
    """Every implemented service as its own process on this run's stores, started in
    dependency order, stopped (and the stores dropped) afterwards."""
    async with real_platform_settings(
        log_dir, label=label, port_offset=port_offset, redis_db=redis_db, **overrides
    ) as settings_for:
        platform = ProcessPlatform(settings_for, log_dir)
        try:
            for spec in catalog.startup_order(catalog.implemented()):
                await platform.start(spec.name)
            yield platform
        finally:
            await platform.stop_all()
