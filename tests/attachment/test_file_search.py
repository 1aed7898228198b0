"""A channel's files found by `q` through the search service: by the words of a PDF's text
(extracted by the media service), by a part of the name; not once the message or the file is
gone. The bindings' events the attachment service announces, and their repeats."""

from __future__ import annotations

from quckchat.attachment import bindings, store
from quckchat.core.events import Event
from tests.worlds.files import noise, pdf
from tests.worlds.sharing import Team
from tests.worlds.waiting import eventually

# The media service decodes one file at a time, in a subprocess, from a periodic job.
PROCESSING_SECONDS = 60.0


async def delete_message(team: Team, message_id: str) -> None:
    response = await team.messages.delete(f"/{message_id}", headers=team.auth(team.owner))
    assert response.status_code == 204, response.text


def announced(team: Team, type_: str, file_id: str) -> list[Event]:
    return [e for e in team.org.events(type_) if e.data["file_id"] == file_id]


async def test_a_pdf_is_found_by_its_words_and_its_name_until_its_message_goes(
    team: Team,
) -> None:
    data = pdf(["Quokka", "burrows"])
    document = await team.upload(team.owner, data, name="Field-Notes 2026.pdf")
    other = await team.upload(team.owner, noise(400), name="quokka.bin")
    message = await team.sent(team.owner, document)
    await team.sent(team.owner, other)

    found = await eventually(
        lambda: team.listed(team.bob, q="burrows"), until=[document], within=PROCESSING_SECONDS
    )
    assert found == [document]
    # One by its name, the other by its text.
    assert await team.listed(team.bob, q="quokka") == [other, document]
    assert await team.listed(team.bob, q="notes 20") == [document]  # a part of the name
    assert await team.listed(team.bob, q="field quokka") == [document]  # name and text words
    [item] = (await team.files(team.bob, q="burrows")).json()["items"]
    assert item["name"] == "Field-Notes 2026.pdf" and item["message_id"] == message["id"]
    bound = announced(team, "attachment.bound", document)
    assert [e.key for e in bound] == [document]  # keyed by the file

    await delete_message(team, message["id"])
    assert await eventually(lambda: team.listed(team.bob, q="burrows"), until=[]) == []
    assert await team.listed(team.bob, q="quokka") == [other]
    [unbound] = await eventually(lambda: announced(team, "attachment.unbound", document))
    assert unbound.data["binding_id"] == store.binding_id(message["id"], document)


async def test_a_deleted_file_is_found_no_more_and_repeats_change_nothing(team: Team) -> None:
    file_id = await team.upload(team.owner, noise(600), name="wombat census.bin")
    forwarded_to = (await team.org.create_channel(team.workspace_id, team.owner))["id"]
    message = await team.sent(team.owner, file_id)
    copy = await team.messages.post(
        f"/{message['id']}/forward",
        json={"channel_id": forwarded_to},
        headers=team.auth(team.owner),
    )
    assert copy.status_code == 201, copy.text
    assert await eventually(lambda: team.listed(team.bob, q="census")) == [file_id]
    owner_sees = await eventually(lambda: team.listed(team.owner, forwarded_to, q="wombat"))
    assert owner_sees == [file_id]

    gone = await team.org.mesh.client("file").delete(f"/{file_id}", headers=team.auth(team.owner))
    assert gone.status_code == 204
    assert await eventually(lambda: team.listed(team.bob, q="census"), until=[]) == []
    assert await team.listed(team.owner, forwarded_to, q="wombat") == []
    [hidden] = await eventually(lambda: announced(team, "attachment.hidden", file_id))
    assert hidden.data["reason"] == "deleted" and hidden.key == file_id

    # The message and file events again (a replay, a late partition): nothing comes back and
    # nothing is announced twice.
    [created] = [
        e for e in team.events("message.created") if e.data["message"]["id"] == message["id"]
    ]
    [deleted] = [e for e in team.org.events("file.deleted") if e.data["file_id"] == file_id]
    for event in (created, deleted, created):
        await bindings.on_event(team.runtime, event)
    for outbox in bindings.OUTBOXES:
        await outbox.relay(team.runtime)
    assert await team.listed(team.bob, q="census") == []
    assert len(announced(team, "attachment.hidden", file_id)) == 1
    assert len(announced(team, "attachment.bound", file_id)) == 2  # one per message
