"""Search through the real services: scope, operators, edits, removals, pages, rebuilds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event
from quckchat.core.search import ElasticsearchBackend
from quckchat.core.sql import new_id
from quckchat.message.events import MessageCreated, MessageEdited, MessageExpired
from quckchat.search import consumers
from quckchat.search.documents import document
from quckchat.search.reindex import reindex
from quckchat.search.store import backend
from tests.worlds.chat import Chat
from tests.worlds.files import noise
from tests.worlds.messages import message_body
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually

pytestmark = pytest.mark.elasticsearch


async def ask(chat: Chat, user: str, q: str, **params: Any) -> httpx.Response:
    params = {"workspace_id": chat.workspace_id, "q": q, **params}
    return await chat.client.get("/", params=params, headers=chat.auth(user))


async def found(chat: Chat, user: str, q: str) -> list[str]:
    response = await ask(chat, user, q)
    assert response.status_code == 200, response.text
    return [hit["message_id"] for hit in response.json()["items"]]


async def finds(chat: Chat, user: str, q: str, expected: list[str]) -> None:
    """The query answers exactly these ids, newest first, once indexing caught up."""
    assert await eventually(lambda: found(chat, user, q), until=expected) == expected


async def send(chat: Chat, user: str, text: str, **body: Any) -> str:
    body = {"channel_id": chat.general, "text": text, **body}
    response = await chat.mesh.client("message").post("/", json=body, headers=chat.auth(user))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_members_find_what_they_may_read_only(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    secret = await chat.channel("secret", chat.owner, bob, kind="private")
    public = await send(chat, chat.owner, "the quarterly roadmap")
    private = await send(chat, bob, "roadmap draft, do not share", channel_id=secret)
    await finds(chat, bob, "roadmap", [private, public])
    await finds(chat, carol, "roadmap", [public])
    # Naming the private channel does not open it.
    assert await found(chat, carol, f"roadmap in:{secret}") == []
    outsider = new_id()
    assert_problem(await ask(chat, outsider, "roadmap"), 404)
    assert (await ask(chat, bob, "roadmap", workspace_id=new_id())).status_code == 404


async def test_hits_carry_fields_and_highlights(chat: Chat) -> None:
    sent = await send(chat, chat.owner, "Deploy <now> & the release notes")
    await finds(chat, chat.owner, "deploy", [sent])
    body = (await ask(chat, chat.owner, '"release notes" deploy')).json()
    (hit,) = body["items"]
    assert hit["channel_id"] == chat.general
    assert hit["sender_id"] == chat.owner
    assert datetime.fromisoformat(hit["created_at"]) <= datetime.now(UTC)
    assert "<mark>Deploy</mark>" in hit["snippet"]
    assert "&lt;now&gt; &amp;" in hit["snippet"]
    assert (
        "<mark>release</mark>" in hit["snippet"] or "<mark>release notes</mark>" in hit["snippet"]
    )
    assert body["next_cursor"] is None


async def test_each_operator_filters(chat: Chat) -> None:
    bob = await chat.member()
    other = await chat.channel("other", chat.owner, bob)
    plain = await send(chat, chat.owner, "alpha plain")
    link = await send(chat, bob, "alpha see https://example.com/x")
    file_id = await chat.upload(chat.owner, noise(200), name="a.pdf")
    with_file = await send(chat, chat.owner, "alpha attached", attachments=[{"id": file_id}])
    elsewhere = await send(chat, bob, "alpha elsewhere", channel_id=other)
    reply = await send(chat, bob, "alpha in a thread", parent_id=plain)
    phrase = await send(chat, chat.owner, "beta alpha gamma")
    everything = [phrase, reply, elsewhere, with_file, link, plain]
    await finds(chat, bob, "alpha", everything)
    await finds(chat, bob, f"alpha from:{bob}", [reply, elsewhere, link])
    await finds(chat, bob, f"alpha from:@{bob}", [reply, elsewhere, link])
    await finds(chat, bob, f"alpha in:{other}", [elsewhere])
    await finds(chat, bob, "alpha has:link", [link])
    await finds(chat, bob, "has:file", [with_file])
    await finds(chat, bob, "alpha is:thread", [reply])
    await finds(chat, bob, '"alpha gamma"', [phrase])
    await finds(chat, bob, '"gamma alpha"', [])
    today = datetime.now(UTC).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    await finds(chat, bob, f"alpha on:{today}", everything)
    await finds(chat, bob, f"alpha after:{yesterday} before:{tomorrow}", everything)
    await finds(chat, bob, f"alpha before:{today}", [])
    await finds(chat, bob, f"alpha after:{today}", [])


async def test_edits_are_reindexed(chat: Chat) -> None:
    sent = await send(chat, chat.owner, "lunch at noon")
    await finds(chat, chat.owner, "noon", [sent])
    response = await chat.mesh.client("message").patch(
        f"/{sent}", json={"text": "lunch at one"}, headers=chat.auth(chat.owner)
    )
    assert response.status_code == 200, response.text
    await finds(chat, chat.owner, "noon", [])
    await finds(chat, chat.owner, "lunch one", [sent])


async def test_deleted_and_expired_messages_are_removed(chat: Chat) -> None:
    gone = await send(chat, chat.owner, "zebra one")
    expiring = await send(chat, chat.owner, "zebra two")
    await finds(chat, chat.owner, "zebra", [expiring, gone])
    response = await chat.mesh.client("message").delete(f"/{gone}", headers=chat.auth(chat.owner))
    assert response.status_code == 204, response.text
    await finds(chat, chat.owner, "zebra", [expiring])
    runtime = chat.mesh.runtime("search")
    expired = MessageExpired(
        workspace_id=chat.workspace_id,
        channel_id=chat.general,
        message_id=expiring,
        seq=2,
        actor=chat.owner,
    )
    await consumers.on_event(runtime, Event.of(expired, source="message", tenant=None))
    await finds(chat, chat.owner, "zebra", [])


async def test_a_late_copy_does_not_bring_back_a_removed_message(chat: Chat) -> None:
    sent = await send(chat, chat.owner, "walrus")
    created = await chat.observers["message"].wait_for("message.created", message_id=sent)
    await finds(chat, chat.owner, "walrus", [sent])
    await chat.mesh.client("message").delete(f"/{sent}", headers=chat.auth(chat.owner))
    await finds(chat, chat.owner, "walrus", [])
    replayed = Event(
        type=created.type, source="message", key=created.key, data=created.data, id=new_id()
    )
    runtime = chat.mesh.runtime("search")
    await consumers.on_event(runtime, replayed)
    index = backend(runtime)
    if isinstance(index, ElasticsearchBackend):
        await index.refresh()
    assert await found(chat, chat.owner, "walrus") == []


async def test_a_batch_indexes_the_newest_copy_of_each_message_once(chat: Chat) -> None:
    """What one fetch brings (a message, its edit, a repeat, a late copy of a removed one) is
    indexed with one bulk request, as the events one at a time would have left it."""
    runtime = chat.mesh.runtime("search")
    removed = await send(chat, chat.owner, "osprey gone")
    observed = chat.observers["message"]
    created_removed = await observed.wait_for("message.created", message_id=removed)
    await chat.mesh.client("message").delete(f"/{removed}", headers=chat.auth(chat.owner))
    await finds(chat, chat.owner, "osprey", [])
    at = datetime.now(UTC)
    body = message_body(
        channel_id=chat.general, workspace_id=chat.workspace_id, text="heron first", created_at=at
    )
    later = {"text": "heron second", "edited_at": at + timedelta(seconds=1)}
    edited_body = body.model_copy(update=later)
    change = {"workspace_id": chat.workspace_id, "channel_id": chat.general, "seq": body.seq}
    created = MessageCreated(**change, actor=chat.owner, message_id=body.id, message=body)
    edited = MessageEdited(**change, actor=chat.owner, message_id=body.id, message=edited_body)
    first = Event.of(created, source="message", tenant=None)
    late = Event(
        type=created_removed.type,
        source="message",
        key=created_removed.key,
        data=created_removed.data,
        id=new_id(),
    )
    batch = [first, Event.of(edited, source="message", tenant=None), first, late]
    await consumers.on_events(runtime, batch)
    await finds(chat, chat.owner, "heron second", [body.id])
    assert await found(chat, chat.owner, "first") == []
    assert await found(chat, chat.owner, "osprey") == []


async def test_pages_are_stable_and_complete(chat: Chat) -> None:
    sent = [await send(chat, chat.owner, f"page item {i}") for i in range(5)]
    await finds(chat, chat.owner, "page", sent[::-1])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await ask(chat, chat.owner, "page", **params)).json()
        seen += [hit["message_id"] for hit in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        # A message sent between pages lands before the first page, never inside the walk.
        if pages == 1:
            await send(chat, chat.owner, "page item late")
    assert seen == sent[::-1]
    assert pages == 3


async def test_bad_input_is_a_problem(chat: Chat) -> None:
    assert_problem(await ask(chat, chat.owner, "before:notadate"), 422, "bad-query")
    assert_problem(await ask(chat, chat.owner, "x", cursor="nonsense"), 400, "bad-cursor")
    assert_problem(await ask(chat, chat.owner, "x", limit=101), 422)
    unauthenticated = await chat.client.get(
        "/", params={"workspace_id": chat.workspace_id, "q": "x"}
    )
    assert unauthenticated.status_code == 401


async def test_reindex_rebuilds_from_the_message_service(chat: Chat) -> None:
    kept = [await send(chat, chat.owner, f"rebuild {i}") for i in range(3)]
    await finds(chat, chat.owner, "rebuild", kept[::-1])
    runtime = chat.mesh.runtime("search")
    index = backend(runtime)
    assert runtime.db is not None
    # The index lost a message and holds one the message service never had.
    await index.remove([kept[0]])
    ghost = document(
        message_body(
            workspace_id=chat.workspace_id,
            channel_id=chat.general,
            sender_id=chat.owner,
            text="rebuild ghost",
        )
    )
    assert ghost is not None
    await index.index([ghost])
    await finds(chat, chat.owner, "rebuild", [ghost.id, kept[2], kept[1]])
    before = await _indices(index)
    counts = await reindex(index, runtime.db, runtime.http, None)
    assert counts[chat.workspace_id] == 3  # other tests' workspaces are rebuilt too
    await finds(chat, chat.owner, "rebuild", kept[::-1])
    if isinstance(index, ElasticsearchBackend):
        after = await _indices(index)
        assert len(after) == 1 and after != before
    # A named workspace is rebuilt in place.
    await index.remove([kept[1]])
    counts = await reindex(index, runtime.db, runtime.http, [chat.workspace_id])
    assert counts == {chat.workspace_id: 3}
    await finds(chat, chat.owner, "rebuild", kept[::-1])


async def test_a_full_reindex_covers_workspaces_the_index_never_held(chat: Chat) -> None:
    """The workspace service names every workspace, not what the index happens to hold."""
    runtime = chat.mesh.runtime("search")
    index = backend(runtime)
    assert runtime.db is not None
    owner = new_id()
    other = await chat.call("workspace", "POST", "/", owner, json={"name": "Beta"})
    channels = await chat.call("channel", "GET", "/", owner, params={"workspace_id": other["id"]})
    general = next(c["id"] for c in channels["items"] if c["name"] == "general")
    sent = [await send(chat, owner, f"unseen {i}", channel_id=general) for i in range(2)]
    elsewhere = replace(chat, workspace_id=other["id"], general=general)
    await finds(elsewhere, owner, "unseen", sent[::-1])
    # The index loses all of it, as one made before the workspace's messages would lack it.
    await index.remove(sent)
    if isinstance(index, ElasticsearchBackend):
        await index.refresh()
    assert await found(elsewhere, owner, "unseen") == []
    assert other["id"] not in await index.workspaces()
    empty = await chat.call("workspace", "POST", "/", new_id(), json={"name": "Empty"})
    counts = await reindex(index, runtime.db, runtime.http, None)
    mine = (chat.workspace_id, other["id"], empty["id"])
    assert {w: counts[w] for w in mine} == {chat.workspace_id: 0, other["id"]: 2, empty["id"]: 0}
    await finds(elsewhere, owner, "unseen", sent[::-1])


async def _indices(index: object) -> list[str]:
    if isinstance(index, ElasticsearchBackend):
        return sorted(await index.client.indices.get_alias(name=index.alias))
    return []


async def test_health_names_the_index_store(chat: Chat) -> None:
    health = (await chat.client.get("/health")).json()
    uses_es = isinstance(backend(chat.mesh.runtime("search")), ElasticsearchBackend)
    assert health["status"] == "healthy"
    assert ("elasticsearch" in health["dependencies"]) == uses_es
