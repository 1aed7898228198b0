"""`quckchat search reindex`: rebuild the index from the message service's stored messages.

The whole index is rebuilt into a new generation (on Elasticsearch a new index, which the
alias moves to in one step), so searches keep answering from the old one meanwhile. Changes
that reached the old index during the fill are then made good by a second pass against the
message service: what is live is indexed again (a newer copy is never replaced by an older
one), what is indexed but no longer live goes. Named workspaces are rebuilt in place that way.
A whole rebuild covers every workspace the workspace service lists, indexed before or not,
and rebuilds the files' index from the service's own copies of bindings and texts (files.py).
"""

from __future__ import annotations

from quckchat.core import migrations
from quckchat.core.http import ServiceClient
from quckchat.core.search import FileIndex, SearchBackend
from quckchat.core.settings import Settings
from quckchat.core.sql import Database
from quckchat.message import client as message_client
from quckchat.search import files
from quckchat.search.documents import document
from quckchat.search.store import file_index_of, index_for, removed_among
from quckchat.workspace import client as workspace_client


async def fill(
    backend: SearchBackend,
    db: Database,
    http: ServiceClient,
    workspace_id: str,
    *,
    generation: str | None = None,
) -> int:
    """Index the workspace's live messages, remove what else it has indexed; how many live."""
    live: set[str] = set()
    async for batch in message_client.workspace_messages(http, workspace_id):
        docs = [d for d in (document(m) for m in batch) if d is not None]
        gone = await removed_among(db, (d.id for d in docs))
        docs = [d for d in docs if d.id not in gone]
        await backend.index(docs, generation=generation)
        live.update(d.id for d in docs)
    stale = await backend.indexed_ids(workspace_id, generation=generation) - live
    await backend.remove(sorted(stale), generation=generation)
    return len(live)


async def reindex(
    backend: SearchBackend,
    db: Database,
    http: ServiceClient,
    workspaces: list[str] | None,
    file_index: FileIndex | None = None,
) -> dict[str, int]:
    """Rebuild the named workspaces in place, or (none named) every workspace anew: each the
    workspace service lists, and any other the index still holds."""
    if workspaces:
        targets = sorted(set(workspaces))
    else:
        targets = sorted(
            await workspace_client.every_workspace(http) | set(await backend.workspaces())
        )
    generation = None if workspaces else await backend.begin_rebuild()
    if generation is not None:
        for workspace_id in targets:
            await fill(backend, db, http, workspace_id, generation=generation)
        await backend.finish_rebuild(generation)
    if file_index is not None and not workspaces:
        await files.rebuild(file_index, db)
    return {w: await fill(backend, db, http, w) for w in targets}


async def run(workspaces: list[str] | None) -> dict[str, int]:
    """The command: the search service's own settings, database and backend."""
    settings = Settings(service="search")
    db = Database(settings.effective_database_url())
    http = ServiceClient(settings, caller="search")
    backend = index_for(settings, db)
    file_index = file_index_of(settings, db)
    try:
        await migrations.upgrade(db, "search")
        await backend.start()
        await file_index.start()
        return await reindex(backend, db, http, workspaces, file_index)
    finally:
        await file_index.close()
        await backend.close()
        await http.close()
        await db.close()
