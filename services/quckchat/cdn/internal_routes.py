"""The cdn's internal API: signing image URLs for the services that show link previews."""

from __future__ import annotations

from fastapi import APIRouter

from quckchat.cdn import proxy
from quckchat.cdn.schemas import ProxyRequest, ProxyUrls
from quckchat.core.deps import InternalCaller, RuntimeDep

router = APIRouter(prefix="/internal", tags=["internal"])


@router.post("/proxy-urls", response_model=ProxyUrls)
async def proxy_urls(body: ProxyRequest, runtime: RuntimeDep, _caller: InternalCaller) -> ProxyUrls:
    """The proxy URL of each image URL, in order (relative to the API's origin)."""
    return ProxyUrls(urls=[proxy.signed_path(runtime, str(url)) for url in body.urls])
