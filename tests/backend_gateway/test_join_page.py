"""An invite's link leads somewhere real: `/join/<token>` on the gateway is a page saying what
the invite leads to, and the preview API answers without sign-in through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support import TestKeys
from tests.worlds.identity import new_user
from tests.worlds.org import Org, running_org
from tests.worlds.problems import assert_problem

SERVICES = ["permission", "user", "channel", "workspace", "backend-gateway"]


@pytest.fixture(scope="module")
async def edge(
    tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Org]:
    path = tmp_path_factory.mktemp("join")
    async with running_org("sqlite", path, module_keys, services=SERVICES) as org:
        yield org


async def test_the_invite_link_opens_a_page_about_the_invite(edge: Org) -> None:
    gateway = edge.mesh.client("backend-gateway")
    owner = new_user()
    named = await edge.mesh.client("user").patch(
        "/me", json={"display_name": "Ada <b>Owner</b>"}, headers=edge.auth(owner)
    )
    assert named.status_code == 200, named.text
    ws = await edge.create_workspace(owner, name="Acme & Co")
    invite = await edge.invite(ws["id"], owner, kind="link", max_uses=1)
    assert invite["url"].endswith(f"/join/{invite['token']}")

    page = await gateway.get(f"/join/{invite['token']}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Join Acme &amp; Co on QuckChat" in page.text
    assert "Ada &lt;b&gt;Owner&lt;/b&gt; invited you as member" in page.text  # escaped
    assert invite["token"] in page.text

    preview = await gateway.get(f"/api/v1/workspaces/invites/{invite['token']}")
    assert preview.status_code == 200, preview.text
    assert preview.json()["workspace_name"] == "Acme & Co"

    joined = await gateway.post(
        "/api/v1/workspaces/join", json={"token": invite["token"]}, headers=edge.auth(new_user())
    )
    assert joined.status_code == 201, joined.text
    spent = await gateway.get(f"/join/{invite['token']}")
    assert spent.status_code == 410 and "cannot be used" in spent.text
    assert_problem(await gateway.get(f"/api/v1/workspaces/invites/{invite['token']}"), 410)
    unknown = await gateway.get(f"/join/{'x' * 32}")
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    assert (await gateway.get("/join/short")).status_code == 422
