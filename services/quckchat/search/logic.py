"""A search: parse the query, scope it to the asker's channels, page through the backend; and
a channel's files matching a text, for the attachment service (which checked the asker)."""

from __future__ import annotations

from quckchat.core.errors import Problem
from quckchat.core.pagination import decode_cursor, encode_cursor
from quckchat.core.runtime import Runtime
from quckchat.core.search import Scope
from quckchat.core.tokens import Principal
from quckchat.search.access import readable_channels
from quckchat.search.query import QueryError, parse
from quckchat.search.schemas import FileMatch, FilePage, SearchHit, SearchPage
from quckchat.search.store import backend, file_index


def _position(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    micros, ident = decode_cursor(cursor)
    if not isinstance(micros, int) or isinstance(micros, bool) or not isinstance(ident, str):
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")
    return micros, ident


async def search(
    runtime: Runtime,
    *,
    principal: Principal,
    workspace_id: str,
    q: str,
    cursor: str | None,
    limit: int,
) -> SearchPage:
    """Messages matching `q` in the channels the asker may read, newest first."""
    try:
        query = parse(q)
    except QueryError as exc:
        raise Problem(422, str(exc), slug="bad-query") from exc
    after = _position(cursor)
    channels = await readable_channels(
        runtime, workspace_id=workspace_id, user_id=principal.user_id
    )
    hits = await backend(runtime).search(
        query, Scope(workspace_id, channels), limit=limit + 1, after=after
    )
    more = len(hits) > limit
    hits = hits[:limit]
    return SearchPage(
        items=[
            SearchHit(
                message_id=h.id,
                channel_id=h.channel_id,
                sender_id=h.sender_id,
                created_at=h.created_at,
                snippet=h.snippet,
            )
            for h in hits
        ],
        next_cursor=encode_cursor(*hits[-1].position) if more else None,
    )


async def channel_files(
    runtime: Runtime, *, channel_id: str, q: str, cursor: str | None, limit: int
) -> FilePage:
    """The channel's files whose name holds `q` (in any case) or whose name and extracted
    text hold all its words, newest first."""
    after = _position(cursor)
    hits = await file_index(runtime).search(channel_id, q, limit=limit + 1, after=after)
    more = len(hits) > limit
    hits = hits[:limit]
    return FilePage(
        items=[FileMatch(file_id=h.file_id, message_id=h.message_id) for h in hits],
        next_cursor=encode_cursor(*hits[-1].position) if more else None,
    )
