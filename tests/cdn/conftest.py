"""The cdn beside the file, media, attachment, message, channel and workspace services, on each
storage world (tests/worlds/files.py), with an image server of the test's own on 127.0.0.1,
which the image proxy is allowed to reach here (and nothing else private)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from tests.support import TestKeys
from tests.worlds.files import WORLDS, mark_storage_worlds, storage_org
from tests.worlds.mesh import serving
from tests.worlds.org import SERVICES, Org
from tests.worlds.sharing import Team, sharing_team

HERE = Path(__file__).parent
DELIVERY = [*SERVICES, "file", "attachment", "message", "media", "cdn"]
PROXY_MAX_BYTES = 64 * 1024


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_storage_worlds(items, HERE)


@dataclass
class ImageHost:
    """A remote web server as the proxy sees it: what it serves, and how often it was asked."""

    port: int
    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def image_host_app(host: ImageHost) -> FastAPI:
    async def page(request: Request) -> Response:
        path = request.url.path
        host.hits[path] = host.hits.get(path, 0) + 1
        if path.startswith("/to/"):  # a redirect to wherever the rest of the path says
            return RedirectResponse("http://" + path.removeprefix("/to/"), status_code=302)
        if path not in host.pages:
            return Response(status_code=404)
        body, content_type = host.pages[path]
        return Response(body, media_type=content_type)

    app = FastAPI()
    app.add_api_route("/{rest:path}", page, methods=["GET"])
    return app


@pytest.fixture(scope="module")
async def image_host() -> AsyncIterator[ImageHost]:
    host = ImageHost(port=0)
    async with serving(image_host_app(host)) as port:
        host.port = port
        yield host


@pytest.fixture(scope="module", params=WORLDS)
async def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Org]:
    path = tmp_path_factory.mktemp("cdn")
    async with storage_org(
        request.param,
        path,
        module_keys,
        DELIVERY,
        cdn_proxy_allowed_networks=["127.0.0.1/32"],
        cdn_proxy_max_bytes=PROXY_MAX_BYTES,
    ) as org:
        yield org


@pytest.fixture
async def team(org: Org, request: pytest.FixtureRequest) -> AsyncIterator[Team]:
    async with sharing_team(org, request.node.callspec.params["org"]) as found:
        yield found
