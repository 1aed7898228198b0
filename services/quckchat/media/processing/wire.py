"""How the decoding subprocess hands its result back: one JSON line, then the renditions' bytes.

Not pickle: the parent must not run whatever a subprocess that decoded hostile input sends.
"""

from __future__ import annotations

import json
from typing import Any

from quckchat.media.processing.results import Processed, Rendition


class Malformed(ValueError):
    """The bytes are not a result this module wrote."""


def dump(processed: Processed) -> bytes:
    head = {
        "renditions": [
            {
                "kind": r.kind,
                "content_type": r.content_type,
                "width": r.width,
                "height": r.height,
                "size": len(r.data),
            }
            for r in processed.renditions
        ],
        "width": processed.width,
        "height": processed.height,
        "blurhash": processed.blurhash,
        "text": processed.text,
        "had_location": processed.had_location,
        "generic": processed.generic,
        "reason": processed.reason,
    }
    return b"".join([json.dumps(head).encode(), b"\n", *(r.data for r in processed.renditions)])


def _field(head: dict[str, Any], name: str, *kinds: type) -> Any:
    """head[name], if one of `kinds` (a bool is no int here)."""
    value = head.get(name)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise Malformed(f"{name} is not one of {kinds}")
    return value


def load(raw: bytes) -> Processed:
    """The result dump wrote; Malformed for anything else."""
    line, _, rest = raw.partition(b"\n")
    try:
        head = json.loads(line)
    except ValueError as error:
        raise Malformed("no JSON head") from error
    if not isinstance(head, dict) or not isinstance(head.get("renditions"), list):
        raise Malformed("no renditions")
    renditions = []
    at = 0
    for entry in head["renditions"]:
        if not isinstance(entry, dict):
            raise Malformed("a rendition is not an object")
        size = _field(entry, "size", int)
        data = rest[at : at + size]
        if len(data) != size or size < 0:
            raise Malformed("a rendition's bytes are cut short")
        at += size
        renditions.append(
            Rendition(
                _field(entry, "kind", str),
                _field(entry, "content_type", str),
                _field(entry, "width", int),
                _field(entry, "height", int),
                data,
            )
        )
    none = type(None)
    return Processed(
        tuple(renditions),
        width=_field(head, "width", int, none),
        height=_field(head, "height", int, none),
        blurhash=_field(head, "blurhash", str, none),
        text=_field(head, "text", str, none),
        had_location=_field(head, "had_location", bool),
        generic=_field(head, "generic", bool),
        reason=_field(head, "reason", str, none),
    )
