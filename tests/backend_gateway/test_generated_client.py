"""A client generated from /api/v1/openapi.json, unchanged, takes two users from sign-up to a
shared workspace and finds the one's edited message."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import tool_virtualenv
from tests.worlds.live import PORT_OFFSET, LivePlatform
from tests.worlds.waiting import eventually

GENERATOR = ("openapi-python-client", "0.29.1")
pytestmark = pytest.mark.live
# The generated package's import name; nothing else in the test process uses it.
PACKAGE = "quckchat_generated_client"
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with LivePlatform(tmp_path_factory.mktemp("platform"), port_offset=PORT_OFFSET) as platform:
        yield platform


@pytest.fixture(scope="module")
def generated(live: LivePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generator's output; its client, generated from the document the gateway serves, is
    importable as PACKAGE while in use."""
    where = tmp_path_factory.mktemp("generated")
    output = generate(live.url("backend-gateway") + "/api/v1/openapi.json", where)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(where))
        yield output
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def generate(document_url: str, where: Path) -> str:
    """Run the generator's CLI on the served document; its console output."""
    tool = tool_virtualenv(*GENERATOR)
    document = where / "openapi.json"
    document.write_bytes(httpx.get(document_url).raise_for_status().content)
    command = ["generate", "--meta", "none", "--path", document, "--output-path", where / PACKAGE]
    run = subprocess.run(
        [tool / "openapi-python-client", *map(str, command)],
        # Its ruff post-hooks come from its own virtualenv.
        env={**os.environ, "PATH": f"{tool}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"the generator failed:\n{output}"
    return output


def test_the_generator_finds_nothing_to_warn_of(generated: str) -> None:
    assert "Warning" not in generated, generated


async def test_two_users_share_a_workspace_and_search_finds_an_edited_message(
    live: LivePlatform, generated: str
) -> None:
    base_url = live.url("backend-gateway")
    alice = await sign_up(base_url, "alice@example.com")
    bob = await sign_up(base_url, "bob@example.com")
    async with alice, bob:
        workspace = await create_workspace(alice, "Generated clients")
        token = await link_invite(alice, workspace.id)
        membership = await join(bob, token)
        assert (membership.workspace_id, membership.role.value) == (workspace.id, "member")
        channel = await create_channel(alice, workspace.id, "general-talk")
        message = await post(alice, channel.id, "a first draft")
        edited = await edit(alice, message.id, "the quokka draft")
        assert (edited.text, edited.edited_at is not None) == ("the quokka draft", True)
        hits = await eventually(lambda: found(alice, workspace.id, "quokka"), within=10, poll=0.2)
        assert [hit.message_id for hit in hits] == [message.id]


def parsed(response: Any, status: int) -> Any:
    """The answer's parsed body, after checking it came with `status`."""
    assert response.status_code == status, f"{response.status_code}: {response.content!r}"
    return response.parsed


async def sign_up(base_url: str, email: str) -> Any:
    """A new user's client, signed in with the tokens of email-and-password registration."""
    from quckchat_generated_client import AuthenticatedClient, Client
    from quckchat_generated_client.api.auth import auth_register
    from quckchat_generated_client.models import EmailRegister

    body = EmailRegister(email=email, password=PASSWORD, display_name=email.split("@")[0])
    async with Client(base_url=base_url, raise_on_unexpected_status=True) as anonymous:
        response = await auth_register.asyncio_detailed(client=anonymous, body=body)
    tokens = parsed(response, 201)
    return AuthenticatedClient(
        base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True
    )


async def create_workspace(client: Any, name: str) -> Any:
    from quckchat_generated_client.api.workspaces import workspaces_create_workspace
    from quckchat_generated_client.models import WorkspaceCreate

    response = await workspaces_create_workspace.asyncio_detailed(
        client=client, body=WorkspaceCreate(name=name)
    )
    return parsed(response, 201)


async def link_invite(client: Any, workspace_id: str) -> str:
    """The token of a new one-use link invite to the workspace."""
    from quckchat_generated_client.api.workspaces import (
        workspaces_create_invite as create_invite,
    )
    from quckchat_generated_client.models import InviteCreate, InviteCreateKindType0

    body = InviteCreate(kind=InviteCreateKindType0.LINK, max_uses=1)
    response = await create_invite.asyncio_detailed(workspace_id, client=client, body=body)
    return str(parsed(response, 201).token)


async def join(client: Any, token: str) -> Any:
    from quckchat_generated_client.api.workspaces import workspaces_join_workspace
    from quckchat_generated_client.models import JoinRequest

    response = await workspaces_join_workspace.asyncio_detailed(
        client=client, body=JoinRequest(token=token)
    )
    return parsed(response, 201)


async def create_channel(client: Any, workspace_id: str, name: str) -> Any:
    from quckchat_generated_client.api.channels import channels_create_channel
    from quckchat_generated_client.models import ChannelCreate

    response = await channels_create_channel.asyncio_detailed(
        client=client, body=ChannelCreate(workspace_id=workspace_id, name=name)
    )
    return parsed(response, 201)


async def post(client: Any, channel_id: str, text: str) -> Any:
    from quckchat_generated_client.api.messages import messages_send
    from quckchat_generated_client.models import MessageCreate

    # Sent twice under one key, as a client does when the first answer was lost: one message.
    key = uuid.uuid4().hex
    sent, again = [
        await messages_send.asyncio_detailed(
            client=client, body=MessageCreate(channel_id=channel_id, text=text), idempotency_key=key
        )
        for _ in range(2)
    ]
    assert again.headers.get("idempotent-replayed") == "true"
    message = parsed(sent, 201)
    assert parsed(again, 201).id == message.id
    return message


async def edit(client: Any, message_id: str, text: str) -> Any:
    from quckchat_generated_client.api.messages import messages_edit
    from quckchat_generated_client.models import MessageUpdate

    response = await messages_edit.asyncio_detailed(
        message_id, client=client, body=MessageUpdate(text=text)
    )
    return parsed(response, 200)


async def found(client: Any, workspace_id: str, query: str) -> list[Any]:
    """The search hits for `query` in the workspace, as the search service has them now."""
    from quckchat_generated_client.api.search import search_search

    response = await search_search.asyncio_detailed(
        client=client, workspace_id=workspace_id, q=query
    )
    return list(parsed(response, 200).items)
