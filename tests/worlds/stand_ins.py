"""Stand-ins for services a test does not start: a permission service with fixed answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request


def permission_app(allowed: set[tuple[str, str]]) -> FastAPI:
    """Allows exactly the (subject, action) pairs given, on `platform` in tenant `platform`."""
    app = FastAPI()

    @app.post("/internal/check")
    async def check(request: Request) -> Any:
        asked = await request.json()
        on_platform = asked["object"] == "platform" and asked["tenant"] == "platform"
        return {"allowed": on_platform and (asked["subject"], asked["action"]) in allowed}

    return app
