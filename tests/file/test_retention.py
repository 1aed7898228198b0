"""Files go once they are older than their workspace's retention setting, which the file
service learns from the workspace service's events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from quckchat.core.documents import stored_now
from quckchat.file import retention, store
from tests.file.conftest import Files, noise
from tests.worlds.waiting import eventually


async def set_retention(files: Files, ws: str, owner: str, days: int | None) -> None:
    changed = await files.org.workspace.patch(
        f"/{ws}", json={"settings": {"retention_days": days}}, headers=files.auth(owner)
    )
    assert changed.status_code == 200, changed.text


async def rule_of(files: Files, ws: str) -> Any:
    rules = files.org.runtime("file").document_db[store.RETENTION]
    found = await rules.find_one({"_id": ws})
    return None if found is None else found["retention_days"]


async def age(files: Files, file_id: str, days: int) -> None:
    """Make the file as old as `days` days (as if uploaded then)."""
    await (
        files.org.runtime("file")
        .document_db[store.FILES]
        .update_one({"_id": file_id}, {"$set": {"created_at": stored_now() - timedelta(days=days)}})
    )


async def test_files_past_the_workspace_retention_are_deleted_and_counted_out(
    files: Files,
) -> None:
    ws, owner, _ = await files.workspace()
    old, recent = noise(1000), noise(700)
    past = await files.upload(owner, ws, old)
    kept = await files.upload(owner, ws, recent)
    await age(files, past["id"], 31)
    await age(files, kept["id"], 29)
    runtime = files.org.runtime("file")
    # Kept forever until the workspace says otherwise.
    await retention.expire_past_retention(runtime)
    assert (await files.api.get(f"/{past['id']}", headers=files.auth(owner))).status_code == 200

    await set_retention(files, ws, owner, 30)
    assert await eventually(lambda: rule_of(files, ws), until=30) == 30
    await retention.expire_past_retention(runtime)
    assert (await files.api.get(f"/{past['id']}", headers=files.auth(owner))).status_code == 404
    assert (await files.api.get(f"/{kept['id']}", headers=files.auth(owner))).status_code == 200
    doc = await runtime.document_db[store.FILES].find_one({"_id": past["id"]})
    assert (doc["state"], doc["reason"]) == ("deleted", "retention")
    assert await files.objects.head(store.object_key("default", ws, past["id"])) is None
    assert (await files.org.storage(ws))["storage_used_bytes"] == len(recent)
    assert past["id"] in [e.data["file_id"] for e in files.events("file.deleted")]

    # Forever again: nothing more goes, however old.
    await set_retention(files, ws, owner, None)
    assert await eventually(lambda: rule_of(files, ws), until=None) is None
    await age(files, kept["id"], 400)
    assert await retention.expire_past_retention(runtime) == 0
    assert (await files.api.get(f"/{kept['id']}", headers=files.auth(owner))).status_code == 200
