"""The AsyncAPI document of the WebSocket names every event a client can be sent, every frame
either way, and resolves: read from the producers' source, not from the document's own code."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat import catalog
from quckchat.core.events import DomainEvent
from quckchat.core.settings import Settings
from quckchat.realtime.client import PUBLIC_PATH, asyncapi_document
from tests.support import running_app
from tests.worlds.frames import frame_problems


def declared_types(module: str) -> dict[str, str]:
    """`type: ClassVar[str] = "..."` in an events module's source: event type -> class name."""
    path = Path(importlib.import_module(module).__file__ or "")
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (
                    isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and item.target.id == "type"
                    and isinstance(item.value, ast.Constant)
                ):
                    found[str(item.value.value)] = node.name
    return found


def test_every_event_a_client_can_be_sent_is_in_the_document() -> None:
    messages = asyncapi_document()["components"]["messages"]
    for name in catalog.get("realtime").consumes:
        module = f"quckchat.{catalog.get(name).module}.events"
        for kind, class_name in declared_types(module).items():
            event = getattr(importlib.import_module(module), class_name)
            told = event.audience is not DomainEvent.audience
            assert (kind in messages) == told, f"{kind} ({module}.{class_name})"


def test_every_frame_either_way_and_each_reference_resolves() -> None:
    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["realtime"]["address"] == PUBLIC_PATH
    channel_messages = doc["channels"]["realtime"]["messages"]
    sent = {ref["$ref"].rsplit("/", 1)[1] for ref in doc["operations"]["receive"]["messages"]}
    taken = {ref["$ref"].rsplit("/", 1)[1] for ref in doc["operations"]["send"]["messages"]}
    assert {"hello", "pong", "error", "resync", "message.created"} <= sent
    assert taken == {"ping", "typing"}
    assert sent | taken == set(channel_messages) and not sent & taken
    for ref in _refs(doc):
        _resolve(doc, ref)
    for code in ("4401", "4402", "4008", "1013", "last_event_id"):
        assert code in doc["info"]["description"]


@pytest.mark.parametrize(
    ("frame", "allowed"),
    [
        ({"type": "hello", "connection_id": "c", "user_id": "u", "last_event_id": None}, True),
        ({"type": "hello", "user_id": "u"}, False),
        ({"type": "pong"}, True),
        ({"type": "nonsense"}, False),
        ({"id": "1-0", "type": "message.read", "channel_id": "c", "data": {}}, False),
        ({"id": "x", "type": "presence.typing", "channel_id": "c", "data": {}}, False),
    ],
)
def test_frames_are_checked_against_the_document(frame: dict[str, Any], allowed: bool) -> None:
    assert (frame_problems(frame) == []) is allowed


async def test_the_gateway_serves_it(tmp_path: Path) -> None:
    settings = Settings(
        service="backend-gateway", database_url=f"sqlite+aiosqlite:///{tmp_path}/gw.db"
    )
    async with running_app("backend-gateway", settings) as (_, client, _):
        served = await client.get("/api/v1/asyncapi.json")
    assert served.status_code == 200
    assert served.json() == httpx.Response(200, json=asyncapi_document()).json()


def _refs(part: Any) -> list[str]:
    if isinstance(part, dict):
        own = [part["$ref"]] if isinstance(part.get("$ref"), str) else []
        return own + [r for value in part.values() for r in _refs(value)]
    if isinstance(part, list):
        return [r for item in part for r in _refs(item)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for key in ref[2:].split("/"):
        assert isinstance(node, dict) and key in node, f"{ref} does not resolve"
        node = node[key]
    return node
