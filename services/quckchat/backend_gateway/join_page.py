"""The page an invite's link opens (`/join/<token>`): what the invite leads to, for a person.

Apps take the token from the link and join with POST /api/v1/workspaces/join; a browser shows
this page, with the same facts the preview API gives (GET /api/v1/workspaces/invites/<token>).
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.workspace import client as workspace_client

router = APIRouter()

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>{title}</h1>{body}</main></body></html>
"""


@router.get("/join/{token}", include_in_schema=False)
async def join_page(token: str, request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        preview = await workspace_client.invite_preview(runtime.http, token)
    except Problem as problem:
        if problem.status in (404, 410, 422):
            return _page("This invite cannot be used", problem.detail, problem.status)
        raise
    return _page(f"Join {preview.workspace_name} on QuckChat", _facts(preview, token), 200)


def _facts(preview: workspace_client.InvitePreview, token: str) -> str:
    inviter = preview.invited_by_name or "a member"
    expires = preview.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<p>{escape(inviter)} invited you as {escape(preview.role)}. "
        f"The invite is good until {escape(expires)}.</p>"
        "<p>Open this link in the QuckChat app, or sign in and send the invite token to "
        f"<code>POST /api/v1/workspaces/join</code>: <code>{escape(token)}</code></p>"
    )


def _page(title: str, body: str, status: int) -> HTMLResponse:
    text = body if body.startswith("<p>") else f"<p>{escape(body)}</p>"
    return HTMLResponse(PAGE.format(title=escape(title), body=text), status_code=status)
