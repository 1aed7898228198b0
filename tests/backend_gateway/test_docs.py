"""The docs page works offline: everything it loads comes from the gateway itself."""

from __future__ import annotations

import re
from pathlib import Path

from quckchat.core.settings import Settings
from tests.support import running_app


async def test_the_docs_page_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    settings = Settings(
        service="backend-gateway", database_url=f"sqlite+aiosqlite:///{tmp_path}/gw.db"
    )
    async with running_app("backend-gateway", settings) as (_, client, _):
        page = await client.get("/api/v1/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        loaded = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
        assert "/api/v1/openapi.json" in loaded
        assets = [u for u in loaded if u != "/api/v1/openapi.json"]
        assert len(assets) == 3, loaded
        assert not [u for u in loaded if not u.startswith("/api/v1/")], "loaded from elsewhere"
        types = set()
        for url in assets:
            asset = await client.get(url)
            assert asset.status_code == 200 and asset.content, url
            assert asset.headers["cache-control"] == "public, max-age=86400"
            types.add(asset.headers["content-type"].split(";")[0])
        assert types == {"text/javascript", "text/css", "image/png"}
        # Only the page's own assets: nothing else of the package, nothing outside it.
        for name in ("index.html", "..%2F__init__.py", "swagger-ui.js.map"):
            missing = await client.get(f"/api/v1/docs/assets/{name}")
            assert missing.status_code == 404, name
            assert missing.headers["content-type"] == "application/problem+json"
        # Swagger UI 5 reads OpenAPI 3.1, which is what the document declares.
        document = (await client.get("/api/v1/openapi.json")).json()
        assert document["openapi"].startswith("3.1")
