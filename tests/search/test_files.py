"""Files beside messages, on each backend: found in their channel by a part of the name or by
words of the name and extracted text, through the search client; the attachment and media
events joined by file id in any order, redelivered, removed for good; pages; rebuilds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from quckchat.attachment.events import AttachmentBound, AttachmentHidden, AttachmentUnbound
from quckchat.core.events import DomainEvent, Event
from quckchat.core.search import ElasticsearchFiles
from quckchat.core.sql import new_id
from quckchat.media.events import MediaProcessed
from quckchat.media.schemas import MediaState
from quckchat.search import client as search_client
from quckchat.search import consumers, files
from quckchat.search.reindex import reindex
from quckchat.search.store import backend, file_index
from tests.worlds.chat import Chat
from tests.worlds.files import noise
from tests.worlds.waiting import eventually

pytestmark = pytest.mark.elasticsearch


class Files:
    """A channel's files as the search service learns them from events sent here."""

    def __init__(self, chat: Chat, channel_id: str = "") -> None:
        self.chat = chat
        self.channel_id = channel_id or chat.general
        self.runtime = chat.mesh.runtime("search")
        self.start = datetime.now(UTC)
        self.made = 0

    async def deliver(self, event: DomainEvent, *, source: str, event_id: str = "") -> None:
        envelope = Event.of(event, source=source, tenant=None, id=event_id or new_id())
        await consumers.on_event(self.runtime, envelope)

    def bound(self, file_id: str, name: str, message_id: str = "") -> AttachmentBound:
        self.made += 1  # later bindings are newer
        message_id = message_id or new_id()
        return AttachmentBound(
            file_id=file_id,
            binding_id=f"{message_id}.{file_id}",
            message_id=message_id,
            workspace_id=self.chat.workspace_id,
            channel_id=self.channel_id,
            sender_id=self.chat.owner,
            name=name,
            size=10,
            content_type="application/pdf",
            created_at=self.start + timedelta(seconds=self.made),
        )

    def text(self, file_id: str, text: str) -> MediaProcessed:
        return MediaProcessed(
            file_id=file_id,
            workspace_id=self.chat.workspace_id,
            uploader_id=self.chat.owner,
            state=MediaState.PROCESSED,
            kind="pdf",
            renditions=[],
            text=text,
        )

    async def found(self, q: str, channel_id: str = "", **paging: object) -> list[str]:
        index = file_index(self.runtime)
        if isinstance(index, ElasticsearchFiles):
            await index.refresh()
        page = await search_client.channel_files(
            self.chat.mesh.runtime("message").http,
            channel_id=channel_id or self.channel_id,
            q=q,
            cursor=None,
            limit=20,
        )
        return [m.file_id for m in page.items]


def unbound(bound: AttachmentBound) -> AttachmentUnbound:
    return AttachmentUnbound(
        file_id=bound.file_id,
        binding_id=bound.binding_id,
        message_id=bound.message_id,
        channel_id=bound.channel_id,
    )


async def test_a_file_is_found_by_a_part_of_its_name_or_the_words_of_its_text(chat: Chat) -> None:
    bob = await chat.member()
    other = await chat.channel("other", chat.owner, bob)
    ours, theirs = Files(chat), Files(chat, other)
    report, notes = new_id(), new_id()
    await ours.deliver(ours.bound(report, "Q3-Quarterly Report.pdf"), source="attachment")
    revenue = ours.text(report, "Revenue figures for the wallaby division")
    await ours.deliver(revenue, source="media")
    await theirs.deliver(theirs.bound(notes, "notes.txt"), source="attachment")
    await theirs.deliver(theirs.text(notes, "wallaby sightings"), source="media")

    assert await ours.found("QUARTERLY REP") == [report]  # a part of the name, any case
    assert await ours.found("WALLABY") == [report]  # a word of the text
    assert await ours.found("report figures") == [report]  # words of name and text
    assert await ours.found("report kangaroo") == []  # every word must be there
    assert await ours.found("allab") == []  # the text by words, not parts of words
    for pattern in ("%", "_", "*", "?", ".*", "\\"):  # the text itself, not a pattern
        assert await ours.found(pattern) == [], pattern
    assert await theirs.found("wallaby") == [notes]  # each channel its own
    assert await ours.found("notes") == []


ORDERS = list(itertools.permutations(["bound", "text", "unbound"]))


async def test_events_in_any_order_and_again_end_the_same(chat: Chat) -> None:
    shelf = Files(chat)
    # The text before or after its binding: found either way.
    for first in ("bound", "text"):
        file_id = new_id()
        steps = {
            "bound": (shelf.bound(file_id, f"{first}-first.pdf"), "attachment"),
            "text": (shelf.text(file_id, f"marsupial {first}"), "media"),
        }
        for name in (first, *(k for k in steps if k != first)):
            event, source = steps[name]
            await shelf.deliver(event, source=source)
        assert await shelf.found(f"marsupial {first}") == [file_id]

    # A message gone before, between or after: never found again, whatever comes late.
    for order in ORDERS:
        file_id = new_id()
        bound = shelf.bound(file_id, "gone.pdf")
        events = {
            "bound": (bound, "attachment"),
            "text": (shelf.text(file_id, "numbat"), "media"),
            "unbound": (unbound(bound), "attachment"),
        }
        for name in order:
            event, source = events[name]
            await shelf.deliver(event, source=source)
        assert await shelf.found("numbat") == [], order
        await shelf.deliver(bound, source="attachment")  # late, under another id
        assert await shelf.found("numbat") == [], order

    # A file hidden: every binding of it goes, made before or after, text or not.
    file_id = new_id()
    early = shelf.bound(file_id, "bilby.pdf")
    await shelf.deliver(early, source="attachment")
    assert await shelf.found("bilby") == [file_id]
    hidden = AttachmentHidden(file_id=file_id, reason="quarantined")
    await shelf.deliver(hidden, source="attachment")
    await shelf.deliver(shelf.bound(file_id, "bilby.pdf"), source="attachment")
    await shelf.deliver(shelf.text(file_id, "bilby"), source="media")
    await shelf.deliver(early, source="attachment")
    assert await shelf.found("bilby") == []

    # Redelivered under the same id: handled once; a repeat of its content changes nothing.
    file_id = new_id()
    again, same = shelf.bound(file_id, "quoll.pdf"), new_id()
    for _ in range(2):
        await shelf.deliver(again, source="attachment", event_id=same)
        await shelf.deliver(shelf.text(file_id, "spotted quoll"), source="media")
    assert await shelf.found("quoll") == [file_id]
    assert await shelf.found("spotted") == [file_id]


async def test_pages_follow_one_another_newest_first(chat: Chat) -> None:
    shelf = Files(chat)
    ids = [new_id() for _ in range(5)]
    for file_id in ids:
        await shelf.deliver(shelf.bound(file_id, f"page {file_id}.txt"), source="attachment")
    await shelf.found("page")  # made searchable
    http = chat.mesh.runtime("message").http
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        page = await search_client.channel_files(
            http, channel_id=chat.general, q="page", cursor=cursor, limit=2
        )
        seen += [m.file_id for m in page.items]
        cursor = page.next_cursor
    assert seen == list(reversed(ids)) and cursor is None


async def test_a_real_attachment_is_indexed_and_a_rebuild_keeps_what_is_live(chat: Chat) -> None:
    shelf = Files(chat)
    file_id = await chat.upload(chat.owner, noise(300), name="Wombat burrows.bin")
    body = {"channel_id": chat.general, "text": "see", "attachments": [{"id": file_id}]}
    sent = await chat.mesh.client("message").post("/", json=body, headers=chat.auth(chat.owner))
    assert sent.status_code == 201, sent.text
    assert await eventually(lambda: shelf.found("wombat")) == [file_id]

    gone = new_id()
    bound = shelf.bound(gone, "wombat gone.pdf")
    await shelf.deliver(bound, source="attachment")
    await shelf.deliver(unbound(bound), source="attachment")
    runtime = shelf.runtime
    assert runtime.db is not None
    await reindex(backend(runtime), runtime.db, runtime.http, None, file_index(runtime))
    assert await shelf.found("wombat") == [file_id]
    assert await files.fill(file_index(runtime), runtime.db) >= 1
    assert await shelf.found("wombat") == [file_id]
