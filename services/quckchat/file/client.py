"""What other services ask the file service: the files of some ids (whatever their state), a
workspace's limits on files, starting an upload on a user's behalf, and deleting a file nothing
uses any more. The only module outside the file service that calls it. The file service's events
(`quckchat.file.events`) say when a file is ready, quarantined or gone."""

from __future__ import annotations

from collections.abc import Iterable

from quckchat.core.errors import not_found
from quckchat.core.http import ServiceClient, raise_for_problem
from quckchat.file.schemas import FileCreate as FileCreate  # what callers send
from quckchat.file.schemas import FileCreated as FileCreated  # what callers receive
from quckchat.file.schemas import FilePublic as FilePublic
from quckchat.file.schemas import FileRecord as FileRecord
from quckchat.file.schemas import Policy as Policy
from quckchat.file.schemas import State as State

SERVICE = "file"
LOOKUP_BATCH = 100


async def files_of(http: ServiceClient, file_ids: Iterable[str]) -> dict[str, FileRecord]:
    """The files among these ids that exist, by id (deleted and quarantined ones included)."""
    wanted = sorted(set(file_ids))
    found: dict[str, FileRecord] = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        body = await http.json(
            SERVICE, "POST", "/internal/files/lookup", json={"ids": batch}, idempotent=True
        )
        found.update((f.id, f) for f in map(FileRecord.model_validate, body))
    return found


async def file_of(http: ServiceClient, file_id: str) -> FileRecord:
    """One file, whatever its state; 404 as the file service's Problem when there is none."""
    found = await files_of(http, [file_id])
    if file_id not in found:
        raise not_found("file")
    return found[file_id]


async def start_upload(
    http: ServiceClient, *, tenant: str, uploader_id: str, file: FileCreate
) -> FileCreated:
    """Start an upload for the user (of `tenant`, from their token): the file service's checks
    and the workspace's quota apply as to their own; its 4xx come back as its Problem."""
    body = {"tenant": tenant, "uploader_id": uploader_id, "file": file.model_dump(mode="json")}
    answer = await http.json(SERVICE, "POST", "/internal/files/uploads", json=body)
    return FileCreated.model_validate(answer)


async def release_file(http: ServiceClient, file_id: str) -> None:
    """Delete a file no message holds any more: its bytes go and its quota is given back."""
    response = await http.request(SERVICE, "DELETE", f"/internal/files/{file_id}")
    if response.status_code != 404:
        raise_for_problem(SERVICE, response)


async def policy_of(http: ServiceClient, workspace_id: str) -> Policy:
    """The workspace's limits on files: size, types, and whether public links are allowed."""
    body = await http.json(SERVICE, "GET", f"/internal/files/policies/{workspace_id}")
    return Policy.model_validate(body)
