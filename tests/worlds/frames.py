"""WebSocket frames checked against the AsyncAPI document the gateway serves: a frame of a
type the document does not name, or one that breaks its schema, is an error."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema

from quckchat.realtime.client import asyncapi_document


@cache
def _validators() -> dict[str, jsonschema.Draft202012Validator]:
    doc = asyncapi_document()
    return {
        name: jsonschema.Draft202012Validator(
            {**message["payload"], "components": doc["components"]}
        )
        for name, message in doc["components"]["messages"].items()
    }


def frame_problems(frame: dict[str, Any]) -> list[str]:
    """What is wrong with a frame the server sent, by the document; [] when nothing is."""
    validator = _validators().get(str(frame.get("type")))
    if validator is None:
        return [f"the document names no frame of type {frame.get('type')!r}"]
    return [error.message for error in validator.iter_errors(frame)]


def assert_documented(frame: dict[str, Any]) -> None:
    problems = frame_problems(frame)
    assert not problems, f"{frame} breaks the AsyncAPI document: {problems}"
