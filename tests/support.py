"""Test helpers shared by every suite: real-server URLs, fresh databases, apps, tokens."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from quckchat.core.app import create_app
from quckchat.core.objects import S3Objects
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings

# The repository's root.
ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Tools a test installs for itself, each in a virtualenv of its own (never in the project's).
TOOLS_DIR = Path.home() / ".cache/quckchat/tools"
TESTBED_ENV = (
    Path(os.environ.get("QUCKCHAT_TESTBED_DIR", Path.home() / ".cache/quckchat/testbed")) / "env"
)

# The backends each store-backed service is tested on; all but the first are real servers.
SQL_BACKENDS = ["sqlite", "mysql", "postgres"]
DOCUMENT_BACKENDS = ["embedded", "mongodb"]

SERVER_VARS = {
    "postgres": "QUCKCHAT_TEST_POSTGRES_URL",
    "mysql": "QUCKCHAT_TEST_MYSQL_URL",
    "redis": "QUCKCHAT_TEST_REDIS_URL",
    "kafka": "QUCKCHAT_TEST_KAFKA_BOOTSTRAP",
    "mongodb": "QUCKCHAT_TEST_MONGODB_URL",
    "elasticsearch": "QUCKCHAT_TEST_ELASTICSEARCH_URL",
    "s3": "QUCKCHAT_TEST_S3_URL",
    "clamav": "QUCKCHAT_TEST_CLAMD_URL",
    "smtp": "QUCKCHAT_TEST_SMTP_URL",
    # Not a server: ffmpeg (and libmagic), which hack/testbed installs from Debian.
    "ffmpeg": "QUCKCHAT_TEST_FFMPEG",
}


def load_testbed_env() -> None:
    """Take the addresses `hack/testbed up` wrote, unless the environment already names them."""
    if not TESTBED_ENV.exists():
        return
    for line in TESTBED_ENV.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name, value)


def unavailable(message: str) -> NoReturn:
    """What a test does without a server or tool it needs: fail under CI=true, else skip."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


# The test being set up or run (tests/conftest.py keeps it), so `server` can check its markers.
CURRENT_TEST: list[pytest.Item] = []


def require_marker(kind: str) -> None:
    """Fail the running test unless it carries `kind`'s marker: `pytest -m "not server"`
    selects the pure tests by these markers, so every user of a server must have one."""
    if CURRENT_TEST and CURRENT_TEST[-1].get_closest_marker(kind) is None:
        pytest.fail(
            f"{CURRENT_TEST[-1].nodeid} uses hack/testbed's {kind} but lacks "
            f"@pytest.mark.{kind} (pytestmark on its module or class, or on the test)"
        )


# The Redis database each xdist worker's tests use by default (the suites that run a whole
# platform name their own): one worker's flush never empties the other's.
WORKER_REDIS_DB = {"gw0": 6, "gw1": 7, "gw2": 8, "gw3": 9}


def server(kind: str) -> str:
    """The address of a real server; a missing one fails under CI=true and skips elsewhere."""
    require_marker(kind)
    value = os.environ.get(SERVER_VARS[kind])
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if value and kind == "redis" and worker in WORKER_REDIS_DB:
        return f"{value.rsplit('/', 1)[0]}/{WORKER_REDIS_DB[worker]}"
    if value:
        return value
    unavailable(
        f"real {kind} server not available: run `hack/testbed up` ({SERVER_VARS[kind]} unset)"
    )


@asynccontextmanager
async def fresh_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database on `kind` (sqlite, mysql or postgres), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.db"
        return
    base = server(kind)
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {name}"))
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            if kind == "postgres":
                await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                await conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await admin.dispose()


@asynccontextmanager
async def fresh_documents(kind: str) -> AsyncIterator[str | None]:
    """The MongoDB URL of a new, empty database (None for the embedded store), dropped after."""
    if kind == "embedded":
        yield None
        return
    base = server(kind)
    name = f"t_{uuid.uuid4().hex[:16]}"
    client: Any = AsyncMongoClient(base)
    try:
        yield f"{base.rstrip('/')}/{name}"
    finally:
        await client.drop_database(name)
        await client.close()


def s3_settings(bucket: str) -> dict[str, Any]:
    """Settings that put a service's objects in `bucket` on the real S3 server."""
    return {
        "s3_endpoint": server("s3"),
        "s3_bucket": bucket,
        "s3_access_key": os.environ["QUCKCHAT_TEST_S3_ACCESS_KEY"],
        "s3_secret_key": os.environ["QUCKCHAT_TEST_S3_SECRET_KEY"],
    }


@asynccontextmanager
async def fresh_bucket() -> AsyncIterator[dict[str, Any]]:
    """The settings of a new bucket on the real S3 server, emptied and dropped afterwards."""
    settings = s3_settings(f"t-{uuid.uuid4().hex[:16]}")
    try:
        yield settings
    finally:
        await drop_bucket(settings)


def s3_store(settings: dict[str, Any], **more: Any) -> S3Objects:
    """The object store of the bucket the settings name (not started)."""
    return S3Objects(
        settings["s3_endpoint"],
        bucket=settings["s3_bucket"],
        access_key=settings["s3_access_key"],
        secret_key=settings["s3_secret_key"],
        **more,
    )


async def drop_bucket(settings: dict[str, Any]) -> None:
    """Empty the bucket the settings name (objects and unfinished uploads) and drop it."""
    store = s3_store(settings)
    await store.start()
    try:
        client = store.client
        await store.delete_prefix("")
        uploads = await client.list_multipart_uploads(Bucket=store.bucket)
        for upload in uploads.get("Uploads", []):
            await store.abort_multipart(upload["Key"], upload["UploadId"])
        await client.delete_bucket(Bucket=store.bucket)
    finally:
        await store.close()


class TestKeys:
    """A signing key that stands in for the auth service in tests of other services."""

    __test__ = False

    def __init__(self) -> None:
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self.private = Ed25519PrivateKey.generate()
        jwk = jwt.PyJWK.from_json(
            jwt.algorithms.OKPAlgorithm.to_jwk(self.private.public_key())  # type: ignore[attr-defined]
        )
        self.public_jwk = {**jwk._jwk_data, "kid": self.kid, "use": "sig", "alg": "EdDSA"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    def mint(
        self,
        user_id: str,
        *,
        tenant: str = "default",
        session_id: str | None = None,
        ttl: int = 900,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": "quckchat",
            "aud": "quckchat",
            "sub": user_id,
            "sid": session_id or uuid.uuid4().hex,
            "tid": tenant,
            "iat": now,
            "exp": now + ttl,
            "typ": "access",
            **claims,
        }
        return jwt.encode(payload, self.private, algorithm="EdDSA", headers={"kid": self.kid})

    def header(self, user_id: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(user_id, **kw)}"}


@asynccontextmanager
async def running_app(
    service: str, settings: Settings, *, keys: TestKeys | None = None
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Runtime]]:
    """The service's app with its lifespan run, and a client that talks to it in-process."""
    app = create_app(service, settings)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        if settings.redis_url is None:
            # The embedded Redis lives as long as the process: start each test from empty.
            await runtime.cache.flushall()
        if keys is not None:

            async def source() -> dict[str, Any]:
                return keys.jwks()

            runtime.tokens.source = source
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client, runtime


class OtpOutbox(logging.Handler):
    """Reads one-time codes from the console SMS provider's log, as a developer would."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.codes: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        phone, code = getattr(record, "phone", None), getattr(record, "otp_code", None)
        if phone and code:
            self.codes[phone] = code

    def __enter__(self) -> OtpOutbox:
        logger = logging.getLogger("quckchat.sms")
        logger.addHandler(self)
        logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("quckchat.sms").removeHandler(self)


def dev_tool(name: str) -> str:
    """A linter from the venv (its PyPI wheel) or PATH; missing: fail under CI, else skip."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found:
        return found
    unavailable(f"{name} not installed (pip install -e '.[dev]')")


def tool_virtualenv(package: str, version: str) -> Path:
    """The bin directory of a virtualenv that holds only `package==version` from PyPI, made on
    first use; failing to make it fails under CI=true, else skips."""
    home = TOOLS_DIR / f"{package}-{version}"
    # A virtualenv cannot be moved once made, so it is built in place and marked complete at
    # the end; an unmarked one (an interrupted install) is started over.
    done = home / ".installed"
    if not done.exists():
        shutil.rmtree(home, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(home)],
            [str(home / "bin/pip"), "install", "--no-input", "--quiet", f"{package}=={version}"],
        ]
        for step in steps:
            run = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
            if run.returncode != 0:
                unavailable(f"{package} {version} could not be installed: {run.stderr[-2000:]}")
        done.touch()
    return home / "bin"
