"""Files bound to messages: checked when sent, reused by forwards, given back with the last
message that carries them, listed per channel, and seen by the channel's members only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from quckchat.attachment import bindings, store
from quckchat.attachment import client as attachment_client
from quckchat.core.documents import stored_now
from quckchat.file import client as file_client
from tests.worlds.files import EICAR, Uploader, noise
from tests.worlds.problems import assert_problem
from tests.worlds.sharing import Team
from tests.worlds.waiting import eventually


async def released(team: Team) -> int:
    """Run the release job as if every candidate's wait were over; how many it decided."""
    releases = team.runtime.document_db[store.RELEASES]
    await releases.update_many({}, {"$set": {"due_at": stored_now() - timedelta(seconds=1)}})
    return await bindings.release_due(team.runtime)


async def bound(team: Team, file_id: str) -> list[str]:
    found = team.runtime.document_db[store.BINDINGS].find({"file_id": file_id})
    return sorted(d["message_id"] for d in await found.to_list(None))


async def file_state(team: Team, file_id: str) -> str:
    file = await file_client.file_of(team.runtime.http, file_id)
    return str(file.state)


async def test_a_clean_own_file_is_carried_with_the_values_the_file_service_found(
    team: Team,
) -> None:
    data = noise(2000)
    file_id = await team.upload(team.owner, data, name="Q3 report.pdf", content_type="image/png")
    message = await team.sent(team.owner, file_id)
    assert message["attachments"] == [
        {
            "id": file_id,
            "name": "Q3 report.pdf",
            "size": len(data),
            "content_type": "application/octet-stream",  # sniffed: not what the client said
        }
    ]
    created = await eventually(lambda: team.events("message.created"))
    assert created[0].data["message"]["attachments"] == message["attachments"]
    # A client that sends the values itself is refused: only ids are taken.
    lied = {"id": file_id, "name": "x.exe", "size": 1, "content_type": "text/plain"}
    response = await team.send(team.owner, attachments=[lied])
    assert_problem(response, 422)
    too_many = await team.send(team.owner, *[f"f{n}" for n in range(11)])
    assert_problem(too_many, 422)
    assert await eventually(lambda: team.listed(team.bob)) == [file_id]


async def test_a_file_the_sender_may_not_attach_is_refused_and_nothing_is_stored(
    team: Team,
) -> None:
    other_workspace = await team.upload(team.eve, b"theirs" * 50, team.eve_workspace_id)
    bobs = await team.upload(team.bob, b"bob's" * 50)
    unfinished = await Uploader(team.org.mesh.client("file"), team.auth).start(
        team.owner, team.workspace_id, b"later" * 50
    )
    assert unfinished.status_code == 201, unfinished.text
    deleted = await team.upload(team.owner, b"gone" * 50)
    gone = await team.org.mesh.client("file").delete(f"/{deleted}", headers=team.auth(team.owner))
    assert gone.status_code == 204
    # The sender's own file, but of a workspace the channel is not in.
    await team.org.add(team.eve_workspace_id, team.eve, team.owner)
    elsewhere = await team.upload(team.owner, b"mine" * 50, team.eve_workspace_id)
    refusals: list[tuple[str, int, str | None]] = [
        (other_workspace, 404, None),
        (bobs, 404, None),
        ("f" * 26, 404, None),
        (unfinished.json()["file"]["id"], 422, "file-not-ready"),
        (deleted, 422, "file-deleted"),
        (elsewhere, 422, "file-of-another-workspace"),
    ]
    if team.world == "s3":  # the local world has no scanner
        infected = await team.upload(team.owner, EICAR, content_type="text/plain")
        refusals.append((infected, 422, "file-infected"))
    before = await team.message_count()
    clean = await team.upload(team.owner, b"fine" * 50)
    for file_id, status, slug in refusals:
        response = await team.send(team.owner, clean, file_id)
        assert_problem(response, status, slug)
        assert file_id in response.json()["detail"]
    assert await team.message_count() == before


async def forward(team: Team, user: str, message_id: str, channel_id: str) -> dict[str, Any]:
    response = await team.messages.post(
        f"/{message_id}/forward", json={"channel_id": channel_id}, headers=team.auth(user)
    )
    assert response.status_code == 201, response.text
    forwarded: dict[str, Any] = response.json()
    return forwarded


async def delete(team: Team, user: str, message_id: str) -> None:
    response = await team.messages.delete(f"/{message_id}", headers=team.auth(user))
    assert response.status_code == 204, response.text


async def test_a_forward_reuses_the_file_which_goes_with_the_last_message(team: Team) -> None:
    data = noise(3000)
    file_id = await team.upload(team.owner, data, name="plan.txt")
    original = await team.sent(team.owner, file_id)
    elsewhere = (await team.org.create_channel(team.workspace_id, team.bob))["id"]
    used, files = await team.used(), await team.file_count()

    copy = await forward(team, team.bob, original["id"], elsewhere)
    assert copy["attachments"] == original["attachments"]  # the same file, not a copy
    assert (await team.used(), await team.file_count()) == (used, files)
    both = sorted([original["id"], copy["id"]])
    assert await eventually(lambda: bound(team, file_id), until=both) == both

    await delete(team, team.owner, original["id"])
    assert await eventually(lambda: bound(team, file_id), until=[copy["id"]]) == [copy["id"]]
    assert await released(team) >= 1
    assert await file_state(team, file_id) == "clean"
    assert await team.used() == used
    assert await team.listed(team.bob, elsewhere) == [file_id]

    await delete(team, team.bob, copy["id"])
    assert await eventually(lambda: bound(team, file_id), until=[]) == []
    await released(team)
    assert await file_state(team, file_id) == "deleted"
    assert await team.used() == used - len(data)
    key = f"files/default/{team.workspace_id}/{file_id}"
    assert await team.org.runtime("file").objects.head(key) is None  # type: ignore[union-attr]
    assert await team.listed(team.bob, elsewhere) == []


async def test_redelivered_and_late_events_change_nothing(team: Team) -> None:
    data = noise(1000)
    file_id = await team.upload(team.owner, data)
    message = await team.sent(team.owner, file_id)
    [created] = await eventually(lambda: team.events("message.created"))
    assert await eventually(lambda: bound(team, file_id)) == [message["id"]]
    await bindings.on_event(team.runtime, created)  # again: still one binding
    assert await bound(team, file_id) == [message["id"]]

    await delete(team, team.owner, message["id"])
    [deleted] = await eventually(lambda: team.events("message.deleted"))
    assert await eventually(lambda: bound(team, file_id), until=[]) == []
    # The creation again, after the deletion (a replay, or a late partition): nothing bound.
    await bindings.on_event(team.runtime, created)
    await bindings.on_event(team.runtime, deleted)
    assert await bound(team, file_id) == []
    await released(team)
    await released(team)  # twice, as two replicas would: given back once
    assert await file_state(team, file_id) == "deleted"
    assert await team.used() == 0
    file_events = [e for e in team.org.events("file.deleted") if e.data["file_id"] == file_id]
    assert len(file_events) == 1
    assert await team.listed(team.owner) == []


async def test_the_channel_list_pages_newest_first_and_finds_names(team: Team) -> None:
    names = ["Q3-Report.pdf", "notes.txt", "q4 report draft.doc"]
    ids = [await team.upload(team.owner, noise(500), name=name) for name in names]
    for file_id in ids:
        await team.sent(team.owner, file_id)
    newest = list(reversed(ids))
    assert await eventually(lambda: team.listed(team.bob), until=newest) == newest

    first = (await team.files(team.bob, limit=2)).json()
    assert [i["file_id"] for i in first["items"]] == newest[:2]
    assert first["items"][0]["name"] == names[-1]
    rest = (await team.files(team.bob, limit=2, cursor=first["next_cursor"])).json()
    assert [i["file_id"] for i in rest["items"]] == newest[2:] and rest["next_cursor"] is None

    # Found by the search service, once it indexed what this service announced.
    reports = [ids[2], ids[0]]
    assert await eventually(lambda: team.listed(team.bob, q="REPORT"), until=reports) == reports
    assert await team.listed(team.bob, q="q3-") == [ids[0]]
    assert await team.listed(team.bob, q=".*") == []  # the text itself, not a pattern

    assert_problem(await team.files(team.eve), 404)
    private = await team.org.create_channel(team.workspace_id, team.owner, kind="private")
    assert_problem(await team.files(team.bob, private["id"]), 404)
    assert_problem(await team.api.get("/", params={"channel_id": team.general}), 401)


async def test_members_of_a_channel_carrying_the_file_may_see_it_until_it_goes(
    team: Team,
) -> None:
    file_id = await team.upload(team.owner, noise(800))
    await team.sent(team.owner, file_id)
    runtime = team.org.runtime("message")  # any caller: the client is what they use
    assert await eventually(lambda: attachment_client.may_see(runtime, file_id, team.bob))
    assert not await attachment_client.may_see(runtime, file_id, team.eve)
    assert not await attachment_client.may_see(runtime, "f" * 26, team.bob)

    gone = await team.org.mesh.client("file").delete(f"/{file_id}", headers=team.auth(team.owner))
    assert gone.status_code == 204
    assert await eventually(lambda: team.listed(team.bob), until=[]) == []
    assert not await attachment_client.may_see(runtime, file_id, team.bob)


async def test_a_scheduled_message_checks_its_files_when_scheduled(team: Team) -> None:
    bobs = await team.upload(team.bob, noise(300))
    body = {
        "channel_id": team.general,
        "text": "later",
        "attachments": [{"id": bobs}],
        "scheduled_at": (stored_now() + timedelta(hours=1)).isoformat(),
    }
    refused = await team.messages.post("/scheduled", json=body, headers=team.auth(team.owner))
    assert_problem(refused, 404)
    own = await team.upload(team.owner, noise(300))
    body["attachments"] = [{"id": own}]
    kept = await team.messages.post("/scheduled", json=body, headers=team.auth(team.owner))
    assert kept.status_code == 201, kept.text
