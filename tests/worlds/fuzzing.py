"""Schemathesis runs as the fuzz suites make them: every answer is checked to be no 5xx and
to match the document's own schemas."""

from __future__ import annotations

from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance]


# Steps in one stateful scenario: enough to make, use and change what an id names.
SCENARIO_STEPS = 10


def quick(examples: int, *, stateful: bool = False) -> settings:
    """Hypothesis settings for fuzzing a live platform: no deadline, nothing kept between runs.
    A stateful run only generates, as Schemathesis's own runner does: a scenario draws from
    what the platform answered, which a replay to shrink it cannot draw again."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate] if stateful else list(Phase),
        stateful_step_count=SCENARIO_STEPS,
    )


def fuzz_each_operation(schema: Any, base_url: str, headers: dict[str, str], examples: int) -> int:
    """Generated requests to every operation of `schema`, each answer checked; how many
    operations there were."""
    operations = [result.ok() for result in schema.get_all_operations()]
    session = requests.Session()  # one connection kept alive, not one opened a request
    for operation in operations:

        @given(case=operation.as_strategy())
        @quick(examples)
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                base_url=base_url, session=session, headers=headers, checks=CHECKS
            )

        fuzz()
    return len(operations)


def from_document(url: str) -> Any:
    return schemathesis.openapi.from_url(url)
