"""The channel service's internal API, for the workspace, message, realtime and search services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from quckchat.channel import internal
from quckchat.channel.schemas import (
    ENTITY_ID_PATTERN,
    ChannelPublic,
    DefaultMembersRequest,
    InternalChannelCreate,
    MembershipInternal,
    NotifyView,
    ReadableQuery,
)
from quckchat.core.deps import InternalCaller, RuntimeDep, SessionDep, answer_repeat
from quckchat.core.errors import problem_docs
from quckchat.core.values import ID_PATTERN
from quckchat.permission.client import UserId

router = APIRouter(prefix="/internal", tags=["internal"])

EntityPath = Annotated[str, Path(pattern=ENTITY_ID_PATTERN)]
# Any id core takes (what its callers validate with): one never minted is a 404, not a 422.
ChannelPath = Annotated[str, Path(pattern=ID_PATTERN)]
UserPath = Annotated[UserId, Path()]


@router.post(
    "/channels",
    response_model=ChannelPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the channel of that name"}, **problem_docs(409)},
)
async def create_channel(
    body: InternalChannelCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    _caller: InternalCaller,
    response: Response,
) -> ChannelPublic:
    """Open a named channel once: asking again for the same name answers it with 200."""
    channel, created = await internal.create(session, runtime, body=body)
    answer_repeat(response, created)
    return channel


@router.post(
    "/workspaces/{workspace_id}/default-members",
    response_model=list[str],
    responses=problem_docs(409),
)
async def add_default_member(
    workspace_id: EntityPath,
    body: DefaultMembersRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    _caller: InternalCaller,
) -> list[str]:
    """Add a user who joined the workspace to its default channels; the channels' ids."""
    return await internal.add_to_defaults(
        session, runtime, workspace_id=workspace_id, user_id=body.user_id
    )


@router.get(
    "/workspaces/{workspace_id}/channels",
    response_model=list[ChannelPublic],
    responses=problem_docs(),
)
async def workspace_channels(
    workspace_id: EntityPath, session: SessionDep, _caller: InternalCaller
) -> list[ChannelPublic]:
    """Every channel of a workspace, for its export."""
    return await internal.workspace_channels(session, workspace_id=workspace_id)


@router.get(
    "/channels/{channel_id}/members/{user_id}",
    response_model=MembershipInternal,
    responses=problem_docs(404),
)
async def membership(
    channel_id: ChannelPath, user_id: UserPath, session: SessionDep, _caller: InternalCaller
) -> MembershipInternal:
    """The user's standing in the channel and its posting rules; 404 when not a member."""
    return await internal.membership(session, channel_id=channel_id, user_id=user_id)


@router.get("/channels/{channel_id}", response_model=ChannelPublic, responses=problem_docs(404))
async def get_channel(
    channel_id: ChannelPath, session: SessionDep, _caller: InternalCaller
) -> ChannelPublic:
    return await internal.channel(session, channel_id=channel_id)


@router.get(
    "/channels/{channel_id}/member-ids", response_model=list[str], responses=problem_docs(404)
)
async def member_ids(
    channel_id: ChannelPath, session: SessionDep, _caller: InternalCaller
) -> list[str]:
    return await internal.member_ids(session, channel_id=channel_id)


@router.get(
    "/channels/{channel_id}/notify-view", response_model=NotifyView, responses=problem_docs(404)
)
async def notify_view(
    channel_id: ChannelPath, session: SessionDep, _caller: InternalCaller
) -> NotifyView:
    """The channel's kind and each member's mute, for deciding whom to notify."""
    return await internal.notify_view(session, channel_id=channel_id)


@router.get("/users/{user_id}/channels", response_model=list[str], responses=problem_docs())
async def user_channels(
    user_id: UserPath, session: SessionDep, _caller: InternalCaller
) -> list[str]:
    """Every channel the user is a member of (realtime subscribes with these)."""
    return await internal.user_channels(session, user_id=user_id)


@router.get(
    "/users/{user_id}/readable-channels", response_model=list[str], responses=problem_docs()
)
async def readable_channels(
    user_id: UserPath,
    query: Annotated[ReadableQuery, Query()],
    session: SessionDep,
    runtime: RuntimeDep,
    _caller: InternalCaller,
) -> list[str]:
    """The workspace's channels the user may read: theirs and the public ones (for search)."""
    return await internal.readable_channels(
        session, runtime, user_id=user_id, workspace_id=query.workspace_id
    )
