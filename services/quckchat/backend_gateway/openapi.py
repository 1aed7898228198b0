"""One OpenAPI document for the public API, composed from the services' own routers."""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from quckchat import __version__
from quckchat.backend_gateway.proxy import ROUTES
from quckchat.catalog import ServiceSpec
from quckchat.core.app import load_service
from quckchat.core.errors import PROBLEM_JSON
from quckchat.core.openapi import PROBLEM_REF, finish, refs, rename_schemas

Document = dict[str, Any]


@cache
def document() -> Document:
    """Every public route of each routed service under /api/v1/<prefix>, internal ones left out.
    A schema name that two services use for different schemas gets each one's service in front
    (`ChannelMemberPublic`, `WorkspaceMemberPublic`), so every name stands for one schema."""
    doc = FastAPI(
        title="QuckChat public API",
        version=__version__,
        description=(
            "The public REST API of QuckChat. Send `Authorization: Bearer <access token>` "
            "(from /api/v1/auth/otp/verify or /api/v1/auth/login). Errors are "
            "application/problem+json. A POST may carry an `Idempotency-Key`: its repeat "
            "answers as the first did."
        ),
    ).openapi()
    parts = {spec.name: _public_part(prefix, spec) for prefix, spec in sorted(ROUTES.items())}
    clashing = _clashing(parts)
    for service, part in parts.items():
        rename_schemas(part, _qualified_titles(service, part["components"]["schemas"], clashing))
        _merge(doc, part, service)
    for item in doc["paths"].values():
        if "post" in item:
            _idempotent(item["post"])
    return doc


# The gateway keeps a POST's answer by the caller's key for a day (see proxy.forward).
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": (
        "Send a POST again under the same key (for a day, with the same body) and get the "
        "first answer again, with `Idempotent-Replayed: true`, instead of a second effect."
    ),
}
IDEMPOTENCY_PROBLEMS = {
    "400": "the Idempotency-Key is not 1 to 255 characters",
    "409": "a request with this Idempotency-Key is still in progress; retry after Retry-After",
    "422": "this Idempotency-Key was used with a different request",
}


def _idempotent(operation: Document) -> None:
    """A POST's key header, and the answers a bad or busy key gets."""
    operation.setdefault("parameters", []).append(copy.deepcopy(IDEMPOTENCY_KEY))
    responses = operation.setdefault("responses", {})
    for code, why in IDEMPOTENCY_PROBLEMS.items():
        if code in responses:  # the service's own meaning of the status, and the key's
            responses[code]["description"] += f"; or {why}"
            continue
        problem = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
        responses[code] = {"description": why, "content": problem}


def _public_part(prefix: str, spec: ServiceSpec) -> Document:
    """The service's public routes under /api/v1/<prefix>, finished as its own document is."""
    # Operation ids a generated client turns into names: `channels_list_members`, not FastAPI's
    # `list_members_api_v1_channels__channel_id__members_get`.
    # Internal routes (left out below) keep names apart from the public ones they mirror.
    app = FastAPI(generate_unique_id_function=lambda route: _operation_id(prefix, route))
    for router in load_service(spec).routers:
        app.include_router(router, prefix=f"/api/v1/{prefix}")
    part = app.openapi()
    part["paths"] = {p: ops for p, ops in part["paths"].items() if "/internal" not in p}
    return finish(part)


def _operation_id(prefix: str, route: APIRoute) -> str:
    internal = "internal_" if "/internal" in route.path else ""
    return f"{internal}{prefix}_{route.name}"


def _clashing(parts: dict[str, Document]) -> set[str]:
    """The schema names that stand for different schemas in different services, and those that
    services share but that refer to one of them (each one's `Page_MemberPublic_`)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for part in parts.values():
        for name, schema in part["components"]["schemas"].items():
            texts[name].append(json.dumps(schema, sort_keys=True))
    shared = {name for name, found in texts.items() if len(found) > 1}
    clashing = {name for name in shared if len(set(texts[name])) > 1}
    while more := {
        name
        for part in parts.values()
        for name, schema in part["components"]["schemas"].items()
        if name in shared - clashing and refs(schema) & clashing
    }:
        clashing |= more
    return clashing


def _qualified_titles(service: str, schemas: Document, clashing: set[str]) -> dict[str, str]:
    """New titles for the service's clashing schemas: the service's name in front, or for a
    generic one (`Page[MemberPublic]`) its parameters' new titles (`Page[ChannelMemberPublic]`)."""
    owner = "".join(word.capitalize() for word in re.split(r"[-_]", service))
    own = clashing & schemas.keys()
    generic = {name for name in own if "[" in schemas[name].get("title", "")}
    titles = {name: owner + schemas[name].get("title", name) for name in own - generic}
    for name in generic:
        title = schemas[name]["title"]
        for old in refs(schemas[name]) & titles.keys():
            title = re.sub(rf"\b{re.escape(schemas[old]['title'])}\b", titles[old], title)
        titles[name] = title if title != schemas[name]["title"] else owner + title
    return titles


def _merge(doc: Document, part: Document, service: str) -> None:
    """Add the service's paths and components to the document; a name both use must mean the
    same there (the same schema, the same security scheme)."""
    doc["paths"].update(part["paths"])
    for kind, found in part["components"].items():
        known = doc.setdefault("components", {}).setdefault(kind, {})
        for name, value in found.items():
            if known.setdefault(name, value) != value:
                raise ValueError(
                    f"{service}'s {kind} {name!r} differs from another service's of that name"
                )
