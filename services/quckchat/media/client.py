"""What other services ask the media service: what it found of a file's location metadata,
before an original is handed to anyone but its uploader. The only module outside the media
service that calls it."""

from __future__ import annotations

from quckchat.core.http import ServiceClient, raise_for_problem
from quckchat.media.schemas import Location as Location  # what callers receive
from quckchat.media.schemas import MediaState as MediaState

SERVICE = "media"


async def location_of(http: ServiceClient, file_id: str) -> Location | None:
    """Where the file's processing stands and whether it carried a location; None before the
    media service has taken the file."""
    response = await http.request(SERVICE, "GET", f"/internal/media/{file_id}/location")
    if response.status_code == 404:
        return None
    raise_for_problem(SERVICE, response)
    return Location.model_validate(response.json())
