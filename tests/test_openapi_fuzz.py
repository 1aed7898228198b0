"""Schemathesis against every identity service's own OpenAPI document.

Each service runs on its port (embedded stores, so thousands of generated requests stay
quick); every generated request, valid or not, must get an answer that is not a 5xx and
that matches the document's own response schema.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from quckchat import catalog
from quckchat.core.settings import Settings
from quckchat.runner import ServiceHost

PORT_OFFSET = 11000
IMPLEMENTED = [s.name for s in catalog.implemented()]
EXAMPLES = 20


class LivePlatform:
    """The implemented services served from a background thread's event loop."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(
            data_dir=data_dir,
            port_offset=PORT_OFFSET,
            log_level="WARNING",
            rate_limit_per_ip=10_000_000,
            rate_limit_per_user=10_000_000,
        )
        self.loop = asyncio.new_event_loop()
        self.host = ServiceHost(
            lambda spec: self.settings.model_copy(update={"service": spec.name}), "127.0.0.1"
        )
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> LivePlatform:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.host.start(catalog.implemented()), self.loop).result(
            60
        )
        self.headers = {"X-QuckChat-Caller": "schemathesis", **self._platform_admin_token()}
        return self

    def _platform_admin_token(self) -> dict[str, str]:
        """A real signed-in platform administrator, so generated requests reach past auth."""
        tokens = httpx.post(
            self.settings.service_url("auth") + "/register",
            json={"email": "fuzz@example.com", "password": "fuzzing password"},
        ).json()
        httpx.put(
            self.settings.service_url("permission")
            + f"/internal/platform-admins/{tokens['user_id']}",
            headers={"X-QuckChat-Caller": "schemathesis"},
        ).raise_for_status()
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.host.stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with LivePlatform(tmp_path_factory.mktemp("fuzz")) as platform:
        yield platform


@pytest.mark.parametrize("name", IMPLEMENTED)
def test_no_server_errors_and_responses_match_the_schema(live: LivePlatform, name: str) -> None:
    url = live.settings.service_url(name)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{name} documents no operation"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            # Signed and internal headers let generated requests reach past the first checks.
            case.call_and_validate(
                base_url=url,
                headers=live.headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        fuzz()
