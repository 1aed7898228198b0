"""Photos carry where they were taken. An image's original goes to anyone but its uploader only
as the media service's copy without it, or once the media service found no location in it."""

from __future__ import annotations

from quckchat.cdn import store
from quckchat.core.errors import Problem
from quckchat.core.objects import ObjectStore
from quckchat.core.runtime import Runtime
from quckchat.file import client as file_client
from quckchat.media import client as media_client

SANITIZED = "sanitized"  # the media service's copy of an original without its location


async def check_shareable(
    runtime: Runtime, objects: ObjectStore, file: file_client.FileRecord
) -> None:
    """Nothing for a file whose original may be shared; else 409 saying why not (yet)."""
    if not file.content_type.startswith("image/"):
        return
    if await objects.head(store.rendition_key(file.id, SANITIZED)) is not None:
        return
    found = await media_client.location_of(runtime.http, file.id)
    if found is None or found.state is media_client.MediaState.PENDING:
        raise Problem(
            409, "the image is still being checked for location data", slug="file-not-ready"
        )
    if found.had_location:
        raise Problem(
            409,
            "the image carries a location that could not be removed: only its uploader gets it",
            slug="location-not-removed",
        )
