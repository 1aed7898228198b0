"""The presence HTTP API: thin routes over logic and typing indicators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, status

from quckchat.core.deps import CurrentUser, InternalCaller, RuntimeDep
from quckchat.core.errors import problem_docs
from quckchat.presence import indicators, logic
from quckchat.presence.schemas import (
    ID_PATTERN,
    Disconnect,
    Heartbeat,
    InternalQuery,
    PresenceInternal,
    PresenceMe,
    PresencePublic,
    PresenceQuery,
    StatusUpdate,
    Typing,
    TypingStart,
    Typist,
)

router = APIRouter(tags=["presence"])
internal = APIRouter(prefix="/internal/presence", tags=["internal"])


UserPath = Annotated[str, Path(pattern=ID_PATTERN)]
ChannelQuery = Annotated[str, Query(pattern=ID_PATTERN)]


PROBLEMS = {
    401: "no valid access token",
    404: "no such channel, or not a member",
    409: "the presence changed at the same moment; try again",
    422: "a field is not valid",
    503: "a service it depends on is unreachable",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.post("/heartbeat", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(409))
async def heartbeat(
    body: Heartbeat,
    runtime: RuntimeDep,
    user: CurrentUser,
    user_agent: Annotated[str | None, Header()] = None,
) -> None:
    """This device is connected (send one every 20-30 s); `active: false` when idle; `kind`
    says desktop, mobile or web."""
    await logic.heartbeat(
        runtime, user, body.device_id, active=body.active, kind=body.kind, agent=user_agent
    )


@router.post("/disconnect", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(409))
async def disconnect(body: Disconnect, runtime: RuntimeDep, user: CurrentUser) -> None:
    """This device is going away (sign-out, tab closed); no need to wait for its heartbeat."""
    await logic.disconnect(runtime, user, body.device_id)


@router.get("/me", response_model=PresenceMe, responses=_problems())
async def get_me(runtime: RuntimeDep, user: CurrentUser) -> PresenceMe:
    return await logic.me(runtime, user)


@router.put("/me", response_model=PresenceMe, responses=_problems(409))
async def set_me(body: StatusUpdate, runtime: RuntimeDep, user: CurrentUser) -> PresenceMe:
    """Choose a status: `online` (automatic), `away`, `dnd` (until `dnd_until`), or `offline`
    (invisible: shown offline while connected)."""
    return await logic.choose(runtime, user, body)


@router.post("/query", response_model=list[PresencePublic], responses=_problems(503))
async def query(
    body: PresenceQuery, runtime: RuntimeDep, user: CurrentUser
) -> list[PresencePublic]:
    """Presence of up to 200 users, in the order asked."""
    return await logic.query(runtime, user, body.user_ids)


@router.post("/typing", response_model=Typist, responses=_problems(404))
async def start_typing(body: TypingStart, runtime: RuntimeDep, user: CurrentUser) -> Typist:
    """The caller is typing in the channel; repeat while typing, it expires on its own."""
    return await indicators.start(
        runtime, user_id=user.user_id, tenant=user.tenant, channel_id=body.channel_id
    )


@router.get("/typing", response_model=Typing, responses=_problems(404))
async def who_is_typing(channel_id: ChannelQuery, runtime: RuntimeDep, user: CurrentUser) -> Typing:
    typists = await indicators.typing(runtime, user_id=user.user_id, channel_id=channel_id)
    return Typing(channel_id=channel_id, typing=typists)


@router.get("/{user_id}", response_model=PresencePublic, responses=_problems())
async def get_presence(user_id: UserPath, runtime: RuntimeDep, user: CurrentUser) -> PresencePublic:
    (found,) = await logic.query(runtime, user, [user_id])
    return found


@internal.post("/query", response_model=list[PresenceInternal])
async def internal_query(
    body: InternalQuery, runtime: RuntimeDep, _: InternalCaller
) -> list[PresenceInternal]:
    """Presence for another service, without privacy filtering (last seen included), with
    the do-not-disturb's end and whether a desktop or web client was active lately."""
    return await logic.internal_query(runtime, body.user_ids, active_within=body.active_within)
