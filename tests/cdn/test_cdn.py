"""Delivery of files through the cdn: signed URLs to those who may see a file, ranges and
validators, previews, public links an admin can turn off, and the image proxy."""

from __future__ import annotations

import io
import time
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from PIL import Image

from quckchat.cdn import client as cdn_client
from quckchat.cdn import signing
from quckchat.cdn import store as cdn_store
from tests.cdn.conftest import PROXY_MAX_BYTES, ImageHost
from tests.worlds.files import EICAR, noise
from tests.worlds.problems import assert_problem
from tests.worlds.sharing import Team
from tests.worlds.waiting import eventually

PREFIX = "/api/v1/cdn"


def png(side: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def cdn(team: Team) -> httpx.AsyncClient:
    return team.org.mesh.client("cdn")


async def url_of(team: Team, user: str, file_id: str, **params: str) -> httpx.Response:
    return await cdn(team).get(f"/files/{file_id}/url", params=params, headers=team.auth(user))


async def signed(team: Team, user: str, file_id: str, **params: str) -> str:
    answer = await url_of(team, user, file_id, **params)
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["url"]
    assert url.startswith(PREFIX + "/f/")
    return url.removeprefix(PREFIX)


async def get(team: Team, path: str, **headers: str) -> httpx.Response:
    """What anyone holding the URL gets: no token."""
    return await cdn(team).get(path, headers=headers)


async def test_the_uploader_gets_a_signed_url_that_serves_ranges_and_validators(
    team: Team,
) -> None:
    data = noise(5000)
    file_id = await team.upload(team.owner, data, name="report.bin")
    path = await signed(team, team.owner, file_id)
    whole = await get(team, path)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == "5000"
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["cache-control"].startswith("private, max-age=")
    assert whole.headers["content-disposition"].startswith('attachment; filename="report.bin"')
    etag = whole.headers["etag"]

    part = await get(team, path, range="bytes=100-199")
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == "bytes 100-199/5000"
    tail = await get(team, path, range="bytes=-10")
    assert tail.status_code == 206 and tail.content == data[-10:]
    assert_problem(await get(team, path, range="bytes=5000-"), 416, "range-not-satisfiable")
    assert (await get(team, path, **{"if-none-match": etag})).status_code == 304
    # A range for other bytes than the client has is answered whole.
    stale = await get(team, path, range="bytes=0-9", **{"if-range": '"other"'})
    assert stale.status_code == 200 and stale.content == data
    head = await cdn(team).head(path)
    assert head.status_code == 200 and head.headers["content-length"] == "5000"


async def test_a_forged_or_expired_url_is_refused(team: Team) -> None:
    file_id = await team.upload(team.owner, noise(100))
    path = await signed(team, team.owner, file_id)
    url = urlsplit(path)
    query = dict(parse_qsl(url.query))
    forged = await get(team, f"{url.path}?e={int(query['e']) + 3600}&s={query['s']}")
    assert_problem(forged, 404, "signature-rejected")
    other = await get(team, url.path.replace("/original", "/thumbnail") + "?" + url.query)
    assert_problem(other, 404, "signature-rejected")
    assert_problem(await get(team, url.path), 404, "signature-rejected")
    past = int(time.time()) - 1
    signature = signing.signer(team.org.runtime("cdn")).sign_until(past, file_id, "original")
    assert_problem(await get(team, f"{url.path}?e={past}&s={signature}"), 404)


async def test_channel_members_get_a_shared_file_and_nobody_else(team: Team) -> None:
    file_id = await team.upload(team.owner, png(), name="cat.png")
    # Before it is shared, Bob may not even learn it exists; Eve never.
    assert_problem(await url_of(team, team.bob, file_id), 404)
    await team.sent(team.owner, file_id)

    async def bob_may() -> int:
        return (await url_of(team, team.bob, file_id)).status_code

    # Once the attachment service has taken the message's event.
    assert await eventually(bob_may, until=200) == 200
    answer = await url_of(team, team.bob, file_id)
    shown = await get(team, answer.json()["url"].removeprefix(PREFIX))
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert_problem(await url_of(team, team.eve, file_id), 404)


async def test_a_page_is_downloaded_never_shown(team: Team) -> None:
    page = b"<html><body><script>alert(1)</script></body></html>"
    file_id = await team.upload(team.owner, page, name="page.html", content_type="text/html")
    served = await get(team, await signed(team, team.owner, file_id))
    assert served.headers["content-type"].startswith("text/html")
    assert served.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in served.headers["content-security-policy"]


async def test_a_deleted_file_stops_being_served_at_once(team: Team) -> None:
    file_id = await team.upload(team.owner, noise(300))
    path = await signed(team, team.owner, file_id)
    deleted = await team.org.mesh.client("file").delete(
        f"/{file_id}", headers=team.auth(team.owner)
    )
    assert deleted.status_code == 204
    assert_problem(await get(team, path), 404)
    assert_problem(await url_of(team, team.owner, file_id), 404)


async def test_a_quarantined_file_is_never_served(team: Team) -> None:
    file_id = await team.upload(team.owner, EICAR, content_type="text/plain")
    if team.world == "s3":
        assert_problem(await url_of(team, team.owner, file_id), 409, "quarantined")
    else:  # no scanner configured: kept, served, and marked unscanned
        served = await get(team, await signed(team, team.owner, file_id))
        assert served.content == EICAR


async def test_previews_are_served_and_the_copy_without_location_stands_for_the_original(
    team: Team,
) -> None:
    original = png(64)
    file_id = await team.upload(team.owner, original, name="holiday.png")
    assert_problem(await url_of(team, team.owner, file_id, rendition="thumbnail"), 404)
    # As the media service stores them.
    objects = team.org.runtime("cdn").objects
    assert objects is not None
    thumbnail, sanitized = png(16), png(63)
    await objects.put(
        cdn_store.rendition_key(file_id, "thumbnail"), thumbnail, content_type="image/webp"
    )
    await objects.put(
        cdn_store.rendition_key(file_id, "sanitized"), sanitized, content_type="image/png"
    )
    small = await get(team, await signed(team, team.owner, file_id, rendition="thumbnail"))
    assert small.content == thumbnail and small.headers["content-type"] == "image/webp"
    assert 'filename="holiday-thumbnail.webp"' in small.headers["content-disposition"]
    full = await get(team, await signed(team, team.owner, file_id))
    assert full.content == sanitized
    assert 'filename="holiday.png"' in full.headers["content-disposition"]


async def set_public_links(team: Team, on: bool) -> None:
    changed = await team.org.mesh.client("file").patch(
        f"/policies/{team.workspace_id}", json={"public_links": on}, headers=team.auth(team.owner)
    )
    assert changed.status_code == 200, changed.text


async def test_a_public_link_works_without_sign_in_until_revoked_or_turned_off(
    team: Team,
) -> None:
    data = noise(800)
    file_id = await team.upload(team.owner, data)
    made = await cdn(team).post("/links", json={"file_id": file_id}, headers=team.auth(team.owner))
    assert made.status_code == 201, made.text
    link = made.json()
    path = link["url"].removeprefix(PREFIX)
    assert (await get(team, path)).content == data
    assert_problem(await get(team, path + "x"), 404)
    listed = await cdn(team).get(
        "/links", params={"file_id": file_id}, headers=team.auth(team.owner)
    )
    assert [(item["id"], item["url"]) for item in listed.json()] == [(link["id"], None)]

    await set_public_links(team, False)
    assert_problem(await get(team, path), 404)
    refused = await cdn(team).post(
        "/links", json={"file_id": file_id}, headers=team.auth(team.owner)
    )
    assert_problem(refused, 403, "public-links-off")
    await set_public_links(team, True)
    assert (await get(team, path)).status_code == 200

    outsider = await cdn(team).delete(f"/links/{link['id']}", headers=team.auth(team.eve))
    assert_problem(outsider, 404)
    revoked = await cdn(team).delete(f"/links/{link['id']}", headers=team.auth(team.owner))
    assert revoked.status_code == 204
    assert_problem(await get(team, path), 404)
    # Only the token's hash is kept: the store holds no working link.
    stored = (
        await team.org.runtime("cdn").document_db[cdn_store.LINKS].find_one({"_id": link["id"]})
    )
    assert path.rsplit("/", 1)[1] not in str(stored)


async def proxied(team: Team, url: str) -> httpx.Response:
    (signed_url,) = await cdn_client.proxy_urls(team.org.runtime("message").http, [url])
    return await get(team, signed_url.removeprefix(PREFIX))


async def test_the_image_proxy_fetches_signed_urls_once_and_keeps_them(
    team: Team, image_host: ImageHost
) -> None:
    picture, path = png(40), f"/cat-{team.world}.png"
    image_host.pages[path] = (picture, "image/png")
    first = await proxied(team, image_host.url(path))
    assert first.status_code == 200 and first.content == picture
    assert first.headers["content-type"] == "image/png"
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = await proxied(team, image_host.url(path))
    assert again.content == picture and image_host.hits[path] == 1
    unsigned = await cdn(team).get("/proxy", params={"url": image_host.url(path)})
    assert_problem(unsigned, 404, "signature-rejected")
    forged = await cdn(team).get("/proxy", params={"url": image_host.url(path), "s": "x"})
    assert_problem(forged, 404, "signature-rejected")


@pytest.mark.parametrize(
    ("path", "page", "slug"),
    [
        (
            "/drawing.svg",
            (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/svg+xml"),
            "image-refused",
        ),
        ("/big.png", (png(8) + b"\0" * PROXY_MAX_BYTES, "image/png"), "image-refused"),
        ("/page", (b"<html>not an image</html>", "image/png"), "image-refused"),
        ("/missing.png", None, "image-refused"),
        ("/to/10.0.0.1/cat.png", None, "private-address"),
        ("/to/169.254.169.254/latest/meta-data/", None, "private-address"),
    ],
)
async def test_the_image_proxy_refuses_what_is_not_a_public_image(
    team: Team, image_host: ImageHost, path: str, page: tuple[bytes, str] | None, slug: str
) -> None:
    if page is not None:
        image_host.pages[path] = page
    assert_problem(await proxied(team, image_host.url(path)), 422, slug)
    assert (
        await team.org.runtime("cdn")
        .document_db[cdn_store.PROXIED]
        .count_documents({"_id": signing.digest(image_host.url(path))})
        == 0
    )


async def test_an_image_goes_to_others_only_once_known_to_carry_no_location(team: Team) -> None:
    file_id = await team.upload(team.owner, png(48), name="here.png")
    await team.sent(team.owner, file_id)
    media = team.org.runtime("media").document_db["media"]

    async def processed() -> str | None:
        found = await media.find_one({"_id": file_id})
        return None if found is None else str(found["state"])

    assert await eventually(processed, until="processed", within=20) == "processed"
    # As if processing had found a location it could not take out.
    await media.update_one({"_id": file_id}, {"$set": {"had_location": True}})

    async def bob_gets() -> int:  # 404 until the attachment service has taken the message
        return (await url_of(team, team.bob, file_id)).status_code

    assert await eventually(bob_gets, until=409) == 409
    assert_problem(await url_of(team, team.bob, file_id), 409, "location-not-removed")
    assert (await url_of(team, team.owner, file_id)).status_code == 200
    assert (await url_of(team, team.bob, file_id, rendition="thumbnail")).status_code == 200
    link = await cdn(team).post("/links", json={"file_id": file_id}, headers=team.auth(team.owner))
    assert_problem(link, 409, "location-not-removed")
