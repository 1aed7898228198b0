"""The WebSocket protocol as an AsyncAPI 3 document, made from the models that build the frames.

Every event frame carries a producer's typed event (each `events.py` of the services realtime
consumes: those with an audience can reach a client), under the replay log's id; the control
frames and the client's frames are the models below. So the document cannot drift from what
is sent: both come from the same classes.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from quckchat import __version__, catalog
from quckchat.core.events import DomainEvent
from quckchat.realtime.client import (
    CLOSE_BAD_TOKEN,
    CLOSE_TOKEN_EXPIRED,
    CLOSE_TOO_SLOW,
    CLOSE_UNAVAILABLE,
    PUBLIC_PATH,
)

SCHEMAS = "#/components/schemas/"
EVENT_ID_PATTERN = r"^[0-9]+-[0-9]+$"

# Why a connection ends, as the close frame's code says.
CLOSE_CODES = {
    CLOSE_BAD_TOKEN: "no valid access token: sign in again",
    CLOSE_TOKEN_EXPIRED: "the access token expired: reconnect with a fresh one and last_event_id",
    CLOSE_TOO_SLOW: (
        "the client read too slowly and fell too far behind: reconnect with last_event_id"
    ),
    CLOSE_UNAVAILABLE: "the service cannot serve the connection now: try again shortly",
}


class Hello(BaseModel):
    """The first frame on every connection."""

    type: Literal["hello"] = "hello"
    connection_id: str
    user_id: str
    last_event_id: str | None = Field(description="the newest event id; resume after it later")


class Pong(BaseModel):
    """The answer to a ping."""

    type: Literal["pong"] = "pong"


class Error(BaseModel):
    """A frame the client sent that could not be used; the connection stays."""

    type: Literal["error"] = "error"
    detail: str


class Resync(BaseModel):
    """The replay log no longer reaches back to last_event_id: reload from the REST API."""

    type: Literal["resync"] = "resync"
    detail: str


class Ping(BaseModel):
    """Client to server: answered with a pong."""

    type: Literal["ping"] = "ping"


class TypingFrame(BaseModel):
    """Client to server: the user types in a channel they are in (at most every 2 s counts)."""

    type: Literal["typing"] = "typing"
    channel_id: str


CONTROL_FRAMES: tuple[type[BaseModel], ...] = (Hello, Pong, Error, Resync)
CLIENT_FRAMES: tuple[type[BaseModel], ...] = (Ping, TypingFrame)


def delivered_events() -> list[type[DomainEvent]]:
    """The typed events of the services realtime consumes that can have an audience."""
    found: dict[str, type[DomainEvent]] = {}
    for name in catalog.get("realtime").consumes:
        module = importlib.import_module(f"quckchat.{catalog.get(name).module}.events")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DomainEvent)
                and isinstance(getattr(value, "type", None), str)
                and value.audience is not DomainEvent.audience
            ):
                found[value.type] = value
    return [found[kind] for kind in sorted(found)]


def _event_message(event: type[DomainEvent], data_ref: str) -> dict[str, Any]:
    frame = {
        "type": "object",
        "required": ["id", "type", "data"],
        "properties": {
            "id": {"type": "string", "pattern": EVENT_ID_PATTERN, "description": "resume after"},
            "type": {"const": event.type},
            "channel_id": {"type": ["string", "null"]},
            "data": {"$ref": data_ref},
        },
    }
    summary = (event.__doc__ or event.type).strip().splitlines()[0]
    return {"name": event.type, "summary": summary, "payload": frame}


def kind_of(model: type[BaseModel]) -> str:
    """A control or client frame's `type`."""
    kind = model.model_fields["type"].default
    assert isinstance(kind, str), model
    return kind


def _frame_message(model: type[BaseModel], ref: str) -> dict[str, Any]:
    summary = (model.__doc__ or kind_of(model)).strip().splitlines()[0]
    return {"name": kind_of(model), "summary": summary, "payload": {"$ref": ref}}


@cache
def document() -> dict[str, Any]:
    """The AsyncAPI 3 document of /api/v1/realtime/ws."""
    events = delivered_events()
    models: list[type[BaseModel]] = [*events, *CONTROL_FRAMES, *CLIENT_FRAMES]
    refs, defs = models_json_schema(
        [(m, "serialization") for m in models], ref_template=SCHEMAS + "{model}"
    )

    def ref(model: type[BaseModel]) -> str:
        return str(refs[(model, "serialization")]["$ref"])

    messages: dict[str, Any] = {}
    for event in events:
        messages[event.type] = _event_message(event, ref(event))
    for model in (*CONTROL_FRAMES, *CLIENT_FRAMES):
        message = _frame_message(model, ref(model))
        messages[message["name"]] = message

    def channel_refs(names: list[str]) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/realtime/messages/{n}"} for n in names]

    from_server = [e.type for e in events] + [kind_of(m) for m in CONTROL_FRAMES]
    from_client = [kind_of(m) for m in CLIENT_FRAMES]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "QuckChat realtime",
            "version": __version__,
            "description": _DESCRIPTION,
        },
        "channels": {
            "realtime": {
                "address": PUBLIC_PATH,
                "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in messages},
                "bindings": {"ws": {"query": _QUERY}},
            }
        },
        "operations": {
            "receive": {
                "action": "receive",
                "channel": {"$ref": "#/channels/realtime"},
                "summary": "events and control frames the server sends",
                "messages": channel_refs(from_server),
            },
            "send": {
                "action": "send",
                "channel": {"$ref": "#/channels/realtime"},
                "summary": "frames the client may send",
                "messages": channel_refs(from_client),
            },
        },
        "components": {"messages": messages, "schemas": defs.get("$defs", {})},
    }


_QUERY = {
    "type": "object",
    "properties": {
        "token": {"type": "string", "description": "the access token (or send Authorization)"},
        "last_event_id": {
            "type": "string",
            "pattern": EVENT_ID_PATTERN,
            "description": "resume: every event after this id is sent first, then live ones",
        },
    },
}

_DESCRIPTION = "\n".join(
    [
        "One WebSocket per device at /api/v1/realtime/ws, signed in with `?token=`. The first "
        "frame is `hello`. Then each event the user may see arrives once and in order per "
        "channel, as `{id, type, channel_id, data}`: `data` is the producing service's event.",
        "",
        "Resume: keep the `id` of the last event handled and reconnect with "
        "`?last_event_id=<id>`: what was missed comes first, with no gap and no duplicate; "
        "`resync` says the log no longer reaches that far back.",
        "",
        "Close codes: " + "; ".join(f"{code}: {why}" for code, why in CLOSE_CODES.items()) + ".",
    ]
)
