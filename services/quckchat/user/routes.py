"""The user service's HTTP API: thin routes over `logic`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from quckchat.core.deps import CurrentUser, InternalCaller, RuntimeDep, SessionDep, answer_repeat
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, Paging
from quckchat.user import logic
from quckchat.user.models import USER_ID_LENGTH
from quckchat.user.schemas import (
    BlockPublic,
    ContactMatch,
    ContactPublic,
    ContactSyncRequest,
    ContactUpsert,
    DeviceInternal,
    DevicePublic,
    DeviceRegister,
    LastSeenQuery,
    LastSeenUpdate,
    LastSeenVisible,
    Names,
    NamesQuery,
    NotifyProfiles,
    NotifyQuery,
    ProfileInternal,
    ProfileMe,
    ProfilePublic,
    ProfileUpdate,
    PushTokenGone,
    SettingsPublic,
    SettingsUpdate,
    Stats,
)

router = APIRouter(tags=["users"])


UserId = Annotated[
    str, Path(min_length=1, max_length=USER_ID_LENGTH, pattern=r"^[A-Za-z0-9_.:-]+$")
]
DeviceId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


# The caller's profile and settings. Declared before /{user_id} so "me" is never an id.


@router.get("/me", response_model=ProfileMe, responses=problem_docs())
async def get_me(session: SessionDep, user: CurrentUser) -> ProfileMe:
    """The caller's profile, created with defaults on first access."""
    return await logic.get_me(session, principal=user)


@router.patch("/me", response_model=ProfileMe, responses=problem_docs())
async def update_me(
    body: ProfileUpdate, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ProfileMe:
    return await logic.update_me(session, runtime, principal=user, update=body)


@router.get("/me/settings", response_model=SettingsPublic, responses=problem_docs())
async def get_settings(session: SessionDep, user: CurrentUser) -> SettingsPublic:
    return await logic.get_settings(session, principal=user)


@router.patch("/me/settings", response_model=SettingsPublic, responses=problem_docs())
async def update_settings(
    body: SettingsUpdate, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> SettingsPublic:
    return await logic.update_settings(session, runtime, principal=user, update=body)


# Contacts


@router.get(
    "/me/contacts",
    response_model=Page[ContactPublic],
    tags=["contacts"],
    responses=problem_docs(400),
)
async def list_contacts(
    session: SessionDep, user: CurrentUser, paging: Paging
) -> Page[ContactPublic]:
    return await logic.list_contacts(session, principal=user, paging=paging)


@router.post(
    "/me/contacts/sync",
    response_model=list[ContactMatch],
    tags=["contacts"],
    responses=problem_docs(),
)
async def sync_contacts(
    body: ContactSyncRequest, session: SessionDep, user: CurrentUser
) -> list[ContactMatch]:
    """Which of the address book's phone hashes belong to QuckChat users."""
    return await logic.sync_contacts(session, principal=user, phone_hashes=body.phone_hashes)


@router.put(
    "/me/contacts/{user_id}",
    response_model=ContactPublic,
    tags=["contacts"],
    status_code=status.HTTP_200_OK,
    responses={201: {"description": "added", "model": ContactPublic}, **problem_docs(404)},
)
async def put_contact(
    user_id: UserId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
    body: ContactUpsert | None = None,
) -> ContactPublic:
    """Add a user to the caller's contacts (201), or set the contact's nickname (200)."""
    nickname = body.nickname if body else None
    contact, created = await logic.put_contact(
        session, runtime, principal=user, user_id=user_id, nickname=nickname
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return contact


@router.delete(
    "/me/contacts/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["contacts"],
    responses=problem_docs(404),
)
async def remove_contact(
    user_id: UserId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    await logic.remove_contact(session, runtime, principal=user, user_id=user_id)


# Blocks


@router.get(
    "/me/blocks", response_model=Page[BlockPublic], tags=["blocks"], responses=problem_docs(400)
)
async def list_blocks(session: SessionDep, user: CurrentUser, paging: Paging) -> Page[BlockPublic]:
    return await logic.list_blocks(session, principal=user, paging=paging)


@router.post(
    "/me/blocks/{user_id}",
    response_model=BlockPublic,
    tags=["blocks"],
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already blocked", "model": BlockPublic}, **problem_docs(404)},
)
async def block_user(
    user_id: UserId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
) -> BlockPublic:
    """Block a user (201); blocking again answers 200. The user then sees the caller as 404."""
    block, created = await logic.block_user(session, runtime, principal=user, user_id=user_id)
    answer_repeat(response, created)
    return block


@router.delete(
    "/me/blocks/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["blocks"],
    responses=problem_docs(404),
)
async def unblock_user(
    user_id: UserId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    await logic.unblock_user(session, runtime, principal=user, user_id=user_id)


# Devices


@router.get(
    "/me/devices", response_model=list[DevicePublic], tags=["devices"], responses=problem_docs()
)
async def list_devices(session: SessionDep, user: CurrentUser) -> list[DevicePublic]:
    devices = await logic.list_devices(session, user_id=user.user_id)
    return [DevicePublic.model_validate(d, from_attributes=True) for d in devices]


@router.put(
    "/me/devices/{device_id}",
    response_model=DevicePublic,
    tags=["devices"],
    status_code=status.HTTP_200_OK,
    responses={201: {"description": "registered", "model": DevicePublic}, **problem_docs(409)},
)
async def register_device(
    device_id: DeviceId,
    body: DeviceRegister,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
) -> DevicePublic:
    """Register a device's push token (201) or update it (200); a repeat changes nothing."""
    device, created = await logic.register_device(
        session, runtime, principal=user, device_id=device_id, body=body
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return DevicePublic.model_validate(device, from_attributes=True)


@router.delete(
    "/me/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["devices"],
    responses=problem_docs(404),
)
async def remove_device(
    device_id: DeviceId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    await logic.remove_device(session, runtime, principal=user, device_id=device_id)


# Service-to-service


@router.get(
    "/internal/users/{user_id}",
    response_model=ProfileInternal,
    tags=["internal"],
    responses=problem_docs(404),
)
async def internal_profile(
    user_id: UserId, session: SessionDep, caller: InternalCaller
) -> ProfileInternal:
    """A user's whole profile and settings, for other services (no privacy filtering)."""
    return await logic.internal_profile(session, user_id=user_id)


@router.get(
    "/internal/users/{user_id}/devices",
    response_model=list[DeviceInternal],
    tags=["internal"],
    responses=problem_docs(),
)
async def internal_devices(
    user_id: UserId, session: SessionDep, caller: InternalCaller
) -> list[DeviceInternal]:
    """The user's devices with their push tokens, for the notification service."""
    devices = await logic.list_devices(session, user_id=user_id)
    return [DeviceInternal.model_validate(d, from_attributes=True) for d in devices]


@router.post(
    "/internal/users/{user_id}/devices/{device_id}/token-gone",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["internal"],
    responses=problem_docs(),
)
async def push_token_gone(
    user_id: UserId,
    device_id: DeviceId,
    body: PushTokenGone,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: InternalCaller,
) -> None:
    """The notification service heard from a provider that the device's token is dead."""
    await logic.drop_dead_token(
        session, runtime, user_id=user_id, device_id=device_id, push_token=body.push_token
    )


@router.put(
    "/internal/users/{user_id}/last-seen",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["internal"],
    responses=problem_docs(404),
)
async def record_last_seen(
    user_id: UserId, body: LastSeenUpdate, session: SessionDep, caller: InternalCaller
) -> None:
    """The presence service reports when a user was last online."""
    await logic.record_last_seen(session, user_id=user_id, at=body.last_seen_at)


@router.post(
    "/internal/users/last-seen-visibility",
    response_model=LastSeenVisible,
    tags=["internal"],
    responses=problem_docs(),
)
async def last_seen_visibility(
    body: LastSeenQuery, session: SessionDep, caller: InternalCaller
) -> LastSeenVisible:
    """Whose last seen a viewer may see, for the presence service (one query for many users)."""
    visible = await logic.last_seen_visible(session, viewer=body.viewer_id, user_ids=body.user_ids)
    return LastSeenVisible(visible=visible)


@router.post(
    "/internal/users/names",
    response_model=Names,
    tags=["internal"],
    responses=problem_docs(),
)
async def display_names(body: NamesQuery, session: SessionDep, caller: InternalCaller) -> Names:
    """The display names of many users at once, for member lists and message senders."""
    return Names(names=await logic.display_names(session, user_ids=body.user_ids))


@router.post(
    "/internal/users/notify-settings",
    response_model=NotifyProfiles,
    tags=["internal"],
    responses=problem_docs(),
)
async def notify_settings(
    body: NotifyQuery, session: SessionDep, caller: InternalCaller
) -> NotifyProfiles:
    """Notification settings, time zones and blocks of many users at once, for deciding whom
    to notify of what the actor did."""
    return await logic.notify_profiles(session, user_ids=body.user_ids, actor_id=body.actor_id)


@router.get("/internal/stats", response_model=Stats, tags=["internal"], responses=problem_docs())
async def internal_stats(session: SessionDep, caller: InternalCaller) -> Stats:
    return await logic.stats(session)


@router.get("/{user_id}", response_model=ProfilePublic, responses=problem_docs(404))
async def get_user(user_id: UserId, session: SessionDep, user: CurrentUser) -> ProfilePublic:
    """Another user's profile as their privacy settings allow; 404 if they blocked the caller."""
    return await logic.public_profile(session, principal=user, user_id=user_id)
