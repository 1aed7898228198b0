"""The realtime gateway's endpoints: the WebSocket, and a count of what this replica serves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, WebSocket
from pydantic import BaseModel

from quckchat.core.deps import RuntimeDep
from quckchat.core.tokens import bearer_token
from quckchat.realtime.client import PUBLIC_PATH
from quckchat.realtime.connection import Session
from quckchat.realtime.fanout import hub_of, stream_of

router = APIRouter(tags=["realtime"])


class Stats(BaseModel):
    connections: int
    last_event_id: str


# Its own path, and the public one: an Ingress routes /api/v1/realtime/ws here unchanged.
@router.websocket("/ws")
@router.websocket(PUBLIC_PATH)
async def websocket(
    websocket: WebSocket,
    token: Annotated[str | None, Query(description="the access token")] = None,
    last_event_id: Annotated[str | None, Query(max_length=40)] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Sign in with `?token=` (or an Authorization header), resume with `?last_event_id=`."""
    runtime = websocket.app.state.runtime
    session = Session(runtime, hub_of(runtime), stream_of(runtime), websocket)
    await session.run(token or bearer_token(authorization), last_event_id)


@router.get("/internal/realtime/stats", response_model=Stats)
async def stats(runtime: RuntimeDep) -> Stats:
    return Stats(connections=len(hub_of(runtime)), last_event_id=await stream_of(runtime).last_id())
