"""Stand-ins for the auth and user services' internal APIs, as the admin service sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from quckchat.core import errors
from quckchat.core.errors import Problem, not_found


@dataclass
class Accounts:
    """What the fake auth and user services hold, and every call they were sent."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, str, str, Any]] = field(default_factory=list)
    user_service_broken: bool = False

    def add(
        self,
        user_id: str,
        *,
        phone: str,
        email: str | None = None,
        display_name: str | None = None,
        sessions: int = 1,
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "phone": phone,
            "email": email,
            "status": "active",
            "created_at": "2026-01-02T03:04:05+00:00",
            "totp_enabled": False,
        }
        self.sessions[user_id] = sessions
        if display_name is not None:
            self.profiles[user_id] = {"user_id": user_id, "display_name": display_name}


def auth_app(accounts: Accounts) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    def user(user_id: str) -> dict[str, Any]:
        if user_id not in accounts.users:
            raise not_found("the user")
        return accounts.users[user_id]

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        body = await request.body()
        caller = request.headers.get("x-quckchat-caller", "")
        accounts.calls.append(("auth", request.method, request.url.path, (caller, body)))
        return await call_next(request)

    @app.get("/internal/users")
    async def find(query: str = "", cursor: str | None = None, limit: int = 20) -> Any:
        hits = [
            u
            for u in accounts.users.values()
            if query in u["id"] or query in u["phone"] or query in (u["email"] or "")
        ]
        start = int(cursor or 0)
        chunk = hits[start : start + limit]
        more = start + limit < len(hits)
        return {"items": chunk, "next_cursor": str(start + limit) if more else None}

    @app.get("/internal/users/{user_id}")
    async def get(user_id: str) -> Any:
        return user(user_id)

    @app.post("/internal/users/{user_id}/suspend")
    async def suspend(user_id: str, request: Request) -> Any:
        body = await request.json()
        if not body.get("reason"):
            raise Problem(422, "a reason is required")
        account = user(user_id)
        account["status"] = "suspended"
        accounts.sessions[user_id] = 0
        return account

    @app.post("/internal/users/{user_id}/reactivate")
    async def reactivate(user_id: str) -> Any:
        account = user(user_id)
        account["status"] = "active"
        return account

    @app.post("/internal/users/{user_id}/logout")
    async def logout(user_id: str) -> Any:
        user(user_id)
        revoked, accounts.sessions[user_id] = accounts.sessions[user_id], 0
        return {"revoked_sessions": revoked}

    @app.get("/internal/stats")
    async def stats() -> Any:
        suspended = sum(u["status"] == "suspended" for u in accounts.users.values())
        return {
            "users": len(accounts.users),
            "active_users": len(accounts.users) - suspended,
            "suspended_users": suspended,
            "active_sessions": sum(accounts.sessions.values()),
        }

    return app


def user_app(accounts: Accounts) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.middleware("http")
    async def broken(request: Request, call_next: Any) -> Any:
        if accounts.user_service_broken:
            return JSONResponse({"detail": "down"}, status_code=500)
        return await call_next(request)

    @app.get("/internal/users/{user_id}")
    async def profile(user_id: str) -> Any:
        if user_id not in accounts.profiles:
            raise not_found("the profile")
        return accounts.profiles[user_id]

    @app.get("/internal/stats")
    async def stats() -> Any:
        return {"profiles": len(accounts.profiles), "devices": 2 * len(accounts.profiles)}

    return app
