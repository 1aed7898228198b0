"""Every implemented service on its own port, on embedded stores as `quckchat run` keeps them,
served from a background thread's event loop so that blocking clients can call them."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from quckchat import catalog
from quckchat.core.settings import Settings
from quckchat.runner import ServiceHost

STARTUP_SECONDS = 60


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
