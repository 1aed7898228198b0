"""What a client gets wrong, sent through the gateway: a 4xx problem document, never a 5xx.

A path holding an encoded control character reaches the service as the client encoded it; an
id that no service would mint is a 404 or 422 from the service that was asked, even when it
asked another service first.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Platform
from tests.e2e.test_identity_through_gateway import otp_sign_in
from tests.worlds.identity import bearer, phone_number
from tests.worlds.platform import EVERY_SERVER

pytestmark = [pytest.mark.e2e, *EVERY_SERVER]

ODD_PATHS = [
    "/channels/%1Cx",
    "/channels/%00",
    "/messages/%7F",
    "/workspaces/%1B%5B0m",
    "/threads/%0A",
    "/users/%1C/profile",
    "/channels/%2E%2E",
]
ODD_IDS = [".0", ".", "..", "a:b", "x" * 65]


async def test_odd_paths_and_ids_are_problems_not_server_errors(platform: Platform) -> None:
    gw = platform.gateway
    alice = await otp_sign_in(platform, phone_number())
    await gw.post(
        "/workspaces", json={"name": "Acme " + uuid.uuid4().hex[:6]}, headers=bearer(alice)
    )
    for path in ODD_PATHS:
        response = await gw.get(path, headers=bearer(alice))
        assert 400 <= response.status_code < 500, f"{path}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json"), path
        assert response.json()["instance"] == "/api/v1" + path, "not the path the client called"
    for channel_id in ODD_IDS:
        for path, extra in (
            ("/messages", {}),
            ("/messages/scheduled", {"scheduled_at": "2099-01-01T00:00:00Z"}),
            ("/messages/read", {"seq": 1}),
        ):
            body = {"channel_id": channel_id, **extra}
            if path != "/messages/read":
                body["text"] = "hello"
            response = await gw.post(path, json=body, headers=bearer(alice))
            assert response.status_code in (404, 422), (
                f"{path} {channel_id!r}: {response.status_code} {response.text}"
            )
            problem = response.json()
            assert "path." not in problem["detail"], "another service's detail leaked"
            assert problem["instance"] == "/api/v1" + path
