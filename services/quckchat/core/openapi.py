"""The OpenAPI document a client generator can trust: every error answer is the one problem
schema, every success status has its schema, and no schema is left that no path uses.

FastAPI writes most of the document; this finishes it, for each service's own document and for
the gateway's composed one alike.
"""

from __future__ import annotations

import re
from typing import Any

from quckchat.core.errors import PROBLEM_JSON, ProblemDocument

PROBLEM_REF = "#/components/schemas/Problem"
SCHEMAS = "#/components/schemas/"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def finish(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with problem schemas, every success schema, and only schemas in use."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = ProblemDocument.model_json_schema(ref_template=SCHEMAS + "{model}")
    for operation in _operations(doc):
        responses = operation.get("responses", {})
        _problems_everywhere(responses)
        _success_schemas(responses)
    _keep_used_schemas(doc)
    return doc


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in doc.get("paths", {}).values()
        for method, operation in item.items()
        if method in METHODS
    ]


def _problems_everywhere(responses: dict[str, Any]) -> None:
    """Every 4xx and 5xx answer is problem+json, whatever FastAPI guessed (its 422 is JSON)."""
    for code, response in responses.items():
        if code[:1] in ("4", "5"):
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}


def _success_schemas(responses: dict[str, Any]) -> None:
    """A second success status (200 for a repeat of a create) answers what the first does."""
    described = [
        r["content"] for c, r in sorted(responses.items()) if c[:1] == "2" and "content" in r
    ]
    if not described:
        return
    for code, response in responses.items():
        if code[:1] == "2" and code != "204" and "content" not in response:
            response["content"] = described[0]


def _keep_used_schemas(doc: dict[str, Any]) -> None:
    """Drop the schemas no path reaches (those of routes left out, such as internal ones)."""
    schemas: dict[str, Any] = doc["components"]["schemas"]
    used: set[str] = set()
    todo = refs(doc.get("paths", {}))
    while todo:
        name = todo.pop()
        if name in used or name not in schemas:
            continue
        used.add(name)
        todo |= refs(schemas[name])
    doc["components"]["schemas"] = {n: s for n, s in schemas.items() if n in used}


def refs(part: Any) -> set[str]:
    """The names of the schemas `part` refers to."""
    if isinstance(part, list):
        return {name for item in part for name in refs(item)}
    if not isinstance(part, dict):
        return set()
    found = {name for value in part.values() for name in refs(value)}
    ref = part.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMAS):
        found.add(ref.removeprefix(SCHEMAS))
    return found


def rename_schemas(doc: dict[str, Any], titles: dict[str, str]) -> None:
    """Give each schema named in `titles` that title, and the name pydantic would make of it
    (`Page[ChannelMemberPublic]` is `Page_ChannelMemberPublic_`); every reference follows.
    Generators name their classes by the title, so the two change together."""
    schemas: dict[str, Any] = doc["components"]["schemas"]
    names = {old: schema_name(title) for old, title in titles.items()}
    moved = {old: schemas.pop(old) for old in titles}
    for old, schema in moved.items():
        schemas[names[old]] = {**schema, "title": titles[old]}
    _follow(doc, {SCHEMAS + old: SCHEMAS + new for old, new in names.items()})


def schema_name(title: str) -> str:
    """The component name for a schema of this title, as pydantic makes it."""
    return re.sub(r"[^A-Za-z0-9.\-_]", "_", title)


def _follow(part: Any, moved: dict[str, str]) -> None:
    """Point every `$ref` in `part` that `moved` names at its new place."""
    if isinstance(part, list):
        for item in part:
            _follow(item, moved)
    elif isinstance(part, dict):
        ref = part.get("$ref")
        if isinstance(ref, str) and ref in moved:
            part["$ref"] = moved[ref]
        for value in part.values():
            _follow(value, moved)
