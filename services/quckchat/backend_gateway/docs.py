"""The API docs page, with Swagger UI's assets served by the gateway itself: an air-gapped
install reaches no CDN, so nothing on the page may come from one."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from quckchat.core.errors import not_found

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
ASSET_PATH = "/api/v1/docs/assets/"
# Only what the page loads; nothing else of the package's folder is served.
SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
# The assets change only with the package, so browsers may keep them for a day.
CACHE = {"Cache-Control": "public, max-age=86400"}


def page() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="QuckChat API",
        swagger_js_url=ASSET_PATH + "swagger-ui-bundle.js",
        swagger_css_url=ASSET_PATH + "swagger-ui.css",
        swagger_favicon_url=ASSET_PATH + "favicon-32x32.png",
    )


def asset(name: str) -> FileResponse:
    media_type = SERVED.get(name)
    if media_type is None:
        raise not_found(f"docs asset {name}")
    return FileResponse(ASSETS / name, media_type=media_type, headers=CACHE)
