"""What other services ask the search service: a channel's files matching a text (the
attachment service, for its channel file list). The only module outside the search service
that calls it."""

from __future__ import annotations

from quckchat.core.http import ServiceClient
from quckchat.search.schemas import FileMatch as FileMatch  # what callers receive
from quckchat.search.schemas import FilePage as FilePage

SERVICE = "search"


async def channel_files(
    http: ServiceClient, *, channel_id: str, q: str, cursor: str | None, limit: int
) -> FilePage:
    """The channel's files whose name holds `q` (in any case) or whose name and extracted
    text hold all its words, newest first, a page of at most `limit` (the caller checks that
    the asker may see the channel). A cursor this API did not issue is its 400."""
    params: dict[str, str | int] = {"channel_id": channel_id, "q": q, "limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    found = await http.json(SERVICE, "GET", "/internal/search/files", params=params)
    return FilePage.model_validate(found)
