"""Schemathesis against every identity service's own OpenAPI document.

Each service runs on its port (embedded stores, so thousands of generated requests stay
quick); every generated request, valid or not, must get an answer that is not a 5xx and
that matches the document's own response schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from quckchat import catalog
from tests.worlds.live import LivePlatform

PORT_OFFSET = 11000
IMPLEMENTED = [s.name for s in catalog.implemented()]
EXAMPLES = 20


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with LivePlatform(tmp_path_factory.mktemp("fuzz"), port_offset=PORT_OFFSET) as platform:
        yield platform


@pytest.fixture(scope="module")
def headers(live: LivePlatform) -> dict[str, str]:
    """A real signed-in platform administrator, so generated requests reach past auth."""
    caller = {"X-QuckChat-Caller": "schemathesis"}
    tokens = httpx.post(
        live.url("auth") + "/register",
        json={"email": "fuzz@example.com", "password": "fuzzing password"},
    ).json()
    httpx.put(
        live.url("permission") + f"/internal/platform-admins/{tokens['user_id']}", headers=caller
    ).raise_for_status()
    return {**caller, "Authorization": f"Bearer {tokens['access_token']}"}


@pytest.mark.parametrize("name", IMPLEMENTED)
def test_no_server_errors_and_responses_match_the_schema(
    live: LivePlatform, headers: dict[str, str], name: str
) -> None:
    url = live.url(name)
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
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
            )

        fuzz()
