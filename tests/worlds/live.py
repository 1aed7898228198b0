"""Every implemented service on its own port, on embedded stores as `quckchat run` keeps them,
served from a background thread's event loop so that blocking clients can call them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat import catalog
from quckchat.core.settings import Settings
from quckchat.runner import ServiceHost

STARTUP_SECONDS = 60
# Where the suites that serve the embedded platform put it: one suite at a time (they carry the
# `live` marker, and `--dist loadgroup` keeps them on one worker), and at least the span of the
# catalog's ports (3000 to 8085) away from the e2e suites' offsets, so the two never collide.
PORT_OFFSET = 18000


class LivePlatform:
    """The implemented services on the catalog's ports shifted by `port_offset` (one a suite,
    so suites can run side by side); data under `data_dir`."""

    def __init__(self, data_dir: Path, *, port_offset: int) -> None:
        self.settings = Settings(
            data_dir=data_dir,
            port_offset=port_offset,
            log_level="WARNING",
            # Every request comes from one address and a few users.
            rate_limit_per_ip=10_000_000,
            rate_limit_per_user=10_000_000,
        )
        self.loop = asyncio.new_event_loop()
        self.host = ServiceHost(
            lambda spec: self.settings.model_copy(update={"service": spec.name}), "127.0.0.1"
        )
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def url(self, service: str) -> str:
        return self.settings.service_url(service)

    def __enter__(self) -> LivePlatform:
        self.thread.start()
        started = asyncio.run_coroutine_threadsafe(
            self.host.start(catalog.implemented()), self.loop
        )
        started.result(STARTUP_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.host.stop(), self.loop).result(STARTUP_SECONDS)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def signed_in_admin(live: LivePlatform) -> dict[str, str]:
    """Headers of a real signed-in platform administrator (and of an internal caller), so
    generated requests reach past the first checks."""
    caller = {"X-QuckChat-Caller": "schemathesis"}
    tokens = httpx.post(
        live.url("auth") + "/register",
        json={"email": "fuzz@example.com", "password": "fuzzing password"},
    ).json()
    httpx.put(
        live.url("permission") + f"/internal/platform-admins/{tokens['user_id']}", headers=caller
    ).raise_for_status()
    return {**caller, "Authorization": f"Bearer {tokens['access_token']}"}


def live_fixtures(port_offset: int) -> tuple[Any, Any]:
    """The `live` platform (once per module, on `port_offset`) and the admin's `headers`
    fixtures of a suite: its module assigns them to those two names."""

    @pytest.fixture(scope="module", name="live")
    def live_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
        data = tmp_path_factory.mktemp("platform")
        with LivePlatform(data, port_offset=port_offset) as platform:
            yield platform

    @pytest.fixture(scope="module", name="headers")
    def headers_fixture(live: LivePlatform) -> dict[str, str]:
        return signed_in_admin(live)

    return live_fixture, headers_fixture
