"""The composed public OpenAPI document is one a client generator can trust."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from quckchat.backend_gateway.openapi import document
from quckchat.core.errors import PROBLEM_JSON, Problem
from quckchat.core.openapi import METHODS, schema_name

# Where a client gets its first token, and an invite's preview: these need none.
SIGN_IN = {
    ("post", "/api/v1/auth/otp/send"),
    ("post", "/api/v1/auth/otp/verify"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/token/refresh"),
    ("post", "/api/v1/auth/2fa/verify"),
    ("get", "/api/v1/auth/oauth/{provider}/authorize"),
    ("post", "/api/v1/auth/oauth/{provider}/callback"),
    ("get", "/api/v1/auth/.well-known/jwks.json"),
    ("get", "/api/v1/workspaces/invites/{token}"),
    # URLs that are their own permission: signed downloads, public links, proxied images.
    ("get", "/api/v1/cdn/f/{file_id}/{rendition}"),
    ("get", "/api/v1/cdn/p/{token}"),
    ("get", "/api/v1/cdn/proxy"),
}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_but_signing_in_asks_for_the_bearer_token() -> None:
    schemes = document()["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    for method, path, operation in operations():
        expected = [] if (method, path) in SIGN_IN else [{"bearerAuth": []}]
        assert operation.get("security", []) == expected, f"{method} {path}"


def test_every_error_answer_is_a_problem_and_every_success_has_a_schema() -> None:
    for method, path, operation in operations():
        for code, response in operation["responses"].items():
            if code[0] in "45":
                content = response["content"]
                assert content == {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                }
            elif code != "204":
                assert response.get("content"), f"{method} {path} {code} has no schema"


def test_only_public_schemas_and_each_one_used() -> None:
    schemas = document()["components"]["schemas"]
    assert not [name for name in schemas if "Internal" in name]
    assert "Problem" in schemas and "HTTPValidationError" not in schemas
    text = json.dumps(document())
    unused = [n for n in schemas if text.count(f'"#/components/schemas/{n}"') == 0]
    assert unused == [], "schemas no path refers to"


def test_each_schema_has_a_name_and_a_title_of_its_own() -> None:
    # Generators name a class by the title: two schemas of one title cannot both be classes.
    schemas = document()["components"]["schemas"]
    titles = [schema["title"] for schema in schemas.values()]
    assert sorted(set(titles)) == sorted(titles)
    assert [(n, s["title"]) for n, s in schemas.items() if n != schema_name(s["title"])] == []


def test_a_name_two_services_use_for_different_schemas_gets_each_service_in_front() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    assert "MemberPublic" not in schemas
    members = schemas["Page_WorkspaceMemberPublic_"]["properties"]["items"]["items"]
    assert members == {"$ref": "#/components/schemas/WorkspaceMemberPublic"}
    assert schemas["WorkspaceMemberPublic"]["title"] == "WorkspaceMemberPublic"
    joined = doc["paths"]["/api/v1/workspaces/join"]["post"]["responses"]["201"]
    assert joined["content"]["application/json"]["schema"] == members
    channel = doc["paths"]["/api/v1/channels/{channel_id}/members"]["get"]["responses"]["200"]
    page = {"$ref": "#/components/schemas/Page_ChannelMemberPublic_"}
    assert channel["content"]["application/json"]["schema"] == page


def test_a_problem_the_services_send_matches_the_problem_schema() -> None:
    doc = document()
    schema = {**doc["components"]["schemas"]["Problem"], "components": doc["components"]}
    body = Problem(409, "the channel is archived", slug="channel-archived").body("/api/v1/x")
    jsonschema.validate(body, schema)
    body.pop("detail")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, schema)


def test_every_post_takes_an_idempotency_key_with_the_answers_a_bad_or_busy_key_gets() -> None:
    for method, path, operation in operations():
        keys = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if method != "post":
            assert keys == [], f"{method} {path}"
            continue
        (key,) = keys
        assert (key["in"], key["required"]) == ("header", False), path
        assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255), path
        for code, said in (("400", "1 to 255"), ("409", "in progress"), ("422", "different")):
            assert said in operation["responses"][code]["description"], (path, code)


def test_operation_ids_are_the_route_names_under_their_prefix_and_unique() -> None:
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids))
    for _, path, operation in operations():
        prefix = path.split("/")[3]
        assert re.fullmatch(rf"{prefix}_[a-z0-9_]+", operation["operationId"]), path
