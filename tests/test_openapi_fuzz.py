"""Schemathesis against every service's own OpenAPI document (the public one, through the
gateway, is tests/backend_gateway/test_public_api_fuzz.py).

Each service runs on its port (embedded stores, so thousands of generated requests stay
quick); every generated request, valid or not, must get an answer that is not a 5xx and
that matches the document's own response schema.
"""

from __future__ import annotations

import pytest

from quckchat import catalog
from tests.worlds.fuzzing import from_document, fuzz_each_operation
from tests.worlds.live import PORT_OFFSET, LivePlatform, live_fixtures

pytestmark = pytest.mark.live
IMPLEMENTED = [s.name for s in catalog.implemented()]
EXAMPLES = 20


live, headers = live_fixtures(PORT_OFFSET)


@pytest.mark.parametrize("name", IMPLEMENTED)
def test_no_server_errors_and_responses_match_the_schema(
    live: LivePlatform, headers: dict[str, str], name: str
) -> None:
    url = live.url(name)
    fuzzed = fuzz_each_operation(from_document(f"{url}/openapi.json"), url, headers, EXAMPLES)
    assert fuzzed, f"{name} documents no operation"
