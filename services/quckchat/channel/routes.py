"""The channel service's public API (the gateway's /api/v1/channels/...): thin routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from quckchat.channel import logic, members, pins
from quckchat.channel.schemas import (
    ChannelCreate,
    ChannelPublic,
    ChannelUpdate,
    MemberPublic,
    MessageId,
    MuteUpdate,
    NotifyUpdate,
    PinPublic,
    ReadState,
    ReadUpdate,
    RoleUpdate,
    WorkspaceQuery,
)
from quckchat.core.deps import CurrentUser, RuntimeDep, SessionDep, answer_repeat
from quckchat.core.errors import problem_docs
from quckchat.core.member_routes import member_routes
from quckchat.core.pagination import Page, Paging
from quckchat.core.values import ID_PATTERN
from quckchat.permission.client import UserId

router = APIRouter(tags=["channels"])


# Any id core takes (what its callers validate with): one never minted is a 404, not a 422.
ChannelId = Annotated[str, Path(pattern=ID_PATTERN)]
MemberId = Annotated[UserId, Path()]
PinId = Annotated[MessageId, Path()]
ONE = "/{channel_id}"


@router.post(
    "/",
    response_model=ChannelPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the existing direct conversation"},
        **problem_docs(403, 404, 409),
    },
)
async def create_channel(
    body: ChannelCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
) -> ChannelPublic:
    """Open a channel; a direct conversation that exists for the pair is returned (200)."""
    channel, created = await logic.create(session, runtime, principal=user, body=body)
    answer_repeat(response, created)
    return channel


@router.get("/", response_model=Page[ChannelPublic], responses=problem_docs(400, 404))
async def list_channels(
    query: Annotated[WorkspaceQuery, Query()],
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> Page[ChannelPublic]:
    """The caller's channels in a workspace, with unread messages and mentions."""
    return await logic.list_mine(
        session,
        runtime,
        principal=user,
        workspace_id=query.workspace_id,
        paging=query,
    )


@router.get("/browse", response_model=Page[ChannelPublic], responses=problem_docs(400, 403, 404))
async def browse_channels(
    query: Annotated[WorkspaceQuery, Query()],
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> Page[ChannelPublic]:
    """The workspace's public channels, to join."""
    return await logic.browse(
        session,
        runtime,
        principal=user,
        workspace_id=query.workspace_id,
        paging=query,
    )


@router.get(ONE, response_model=ChannelPublic, responses=problem_docs(404))
async def get_channel(
    channel_id: ChannelId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ChannelPublic:
    return await logic.get(session, runtime, principal=user, channel_id=channel_id)


@router.patch(ONE, response_model=ChannelPublic, responses=problem_docs(403, 404, 409))
async def update_channel(
    channel_id: ChannelId,
    body: ChannelUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> ChannelPublic:
    """Change name, topic, purpose, announcement-only or the disappearing timer (admins)."""
    return await logic.update(session, runtime, principal=user, channel_id=channel_id, body=body)


@router.post(ONE + "/archive", response_model=ChannelPublic, responses=problem_docs(403, 404, 409))
async def archive_channel(
    channel_id: ChannelId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ChannelPublic:
    return await logic.set_archived(
        session, runtime, principal=user, channel_id=channel_id, archived=True
    )


@router.post(
    ONE + "/unarchive", response_model=ChannelPublic, responses=problem_docs(403, 404, 409)
)
async def unarchive_channel(
    channel_id: ChannelId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ChannelPublic:
    return await logic.set_archived(
        session, runtime, principal=user, channel_id=channel_id, archived=False
    )


@router.post(
    ONE + "/join",
    response_model=ChannelPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already a member"}, **problem_docs(403, 404, 409)},
)
async def join_channel(
    channel_id: ChannelId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
) -> ChannelPublic:
    """Join a public channel."""
    channel, created = await members.join(session, runtime, principal=user, channel_id=channel_id)
    answer_repeat(response, created)
    return channel


@router.post(
    ONE + "/leave", status_code=status.HTTP_204_NO_CONTENT, responses=problem_docs(404, 409)
)
async def leave_channel(
    channel_id: ChannelId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    await members.leave(session, runtime, principal=user, channel_id=channel_id)


@router.put(
    ONE + "/members/{user_id}",
    response_model=MemberPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already a member"}, **problem_docs(403, 404, 409)},
)
async def add_member(
    channel_id: ChannelId,
    user_id: MemberId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
) -> MemberPublic:
    """Add a workspace member to the channel (private channels: channel admins only)."""
    member, created = await members.add(
        session, runtime, principal=user, channel_id=channel_id, user_id=user_id
    )
    answer_repeat(response, created)
    return member


router.include_router(
    member_routes(
        scope="channel",
        id_pattern=ID_PATTERN,
        user_id=UserId,
        book=members,
        member=MemberPublic,
        role_update=RoleUpdate,
        list_problems=(400, 404),
        remove_summary="Remove a member (channel admins); removing oneself is leaving.",
    )
)


@router.post(ONE + "/read", response_model=ReadState, responses=problem_docs(403, 404))
async def mark_read(
    channel_id: ChannelId,
    body: ReadUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> ReadState:
    """Move the caller's read pointer forward and clear their mentions."""
    return await members.mark_read(
        session, runtime, principal=user, channel_id=channel_id, seq=body.seq
    )


@router.put(ONE + "/mute", response_model=ChannelPublic, responses=problem_docs(403, 404))
async def mute(
    channel_id: ChannelId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    body: MuteUpdate | None = None,
) -> ChannelPublic:
    """Mute the channel for the caller: until `until`, or (no body) until unmuted."""
    return await members.set_muted(
        session,
        runtime,
        principal=user,
        channel_id=channel_id,
        muted=True,
        until=body.until if body is not None else None,
    )


@router.delete(ONE + "/mute", response_model=ChannelPublic, responses=problem_docs(403, 404))
async def unmute(
    channel_id: ChannelId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ChannelPublic:
    return await members.set_muted(
        session, runtime, principal=user, channel_id=channel_id, muted=False
    )


@router.put(
    ONE + "/notifications", response_model=ChannelPublic, responses=problem_docs(403, 404, 422)
)
async def set_notifications(
    channel_id: ChannelId,
    body: NotifyUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> ChannelPublic:
    """How the caller is told of this channel: `level` default (their account settings), all
    (every new message), mentions (only what names them) or none; and whether @channel,
    @everyone and @here name them."""
    return await members.set_notify(
        session, runtime, principal=user, channel_id=channel_id, change=body
    )


@router.get(ONE + "/pins", response_model=Page[PinPublic], responses=problem_docs(400, 404))
async def list_pins(
    channel_id: ChannelId,
    query: Paging,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> Page[PinPublic]:
    return await pins.list_pins(
        session,
        runtime,
        principal=user,
        channel_id=channel_id,
        paging=query,
    )


@router.get(ONE + "/pins/{message_id}", response_model=PinPublic, responses=problem_docs(404))
async def get_pin(
    channel_id: ChannelId,
    message_id: PinId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> PinPublic:
    return await pins.get_pin(
        session, runtime, principal=user, channel_id=channel_id, message_id=message_id
    )


@router.put(
    ONE + "/pins/{message_id}",
    response_model=PinPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "pinned already"}, **problem_docs(403, 404, 409)},
)
async def pin_message(
    channel_id: ChannelId,
    message_id: PinId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
) -> PinPublic:
    pin, created = await pins.pin(
        session, runtime, principal=user, channel_id=channel_id, message_id=message_id
    )
    answer_repeat(response, created)
    return pin


@router.delete(
    ONE + "/pins/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_docs(403, 404, 409),
)
async def unpin_message(
    channel_id: ChannelId,
    message_id: PinId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> None:
    await pins.unpin(session, runtime, principal=user, channel_id=channel_id, message_id=message_id)
