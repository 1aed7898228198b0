"""What other services ask the cdn service: proxy URLs for remote images (link previews), so
readers fetch them through the platform. The only module outside the cdn service that calls it."""

from __future__ import annotations

from quckchat.core.http import ServiceClient

SERVICE = "cdn"


async def proxy_urls(http: ServiceClient, urls: list[str]) -> list[str]:
    """The proxy URL of each image URL, in order, relative to the API's origin."""
    body = await http.json(
        SERVICE, "POST", "/internal/proxy-urls", json={"urls": urls}, idempotent=True
    )
    return list(body["urls"])
