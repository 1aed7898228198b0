"""What the user service does: keyword-only functions over a session (and a runtime to emit)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.errors import Problem, conflict, not_found
from quckchat.core.pagination import Page, PageQuery, decode_cursor, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import get_or_add
from quckchat.core.tokens import Principal
from quckchat.user.events import (
    ContactAdded,
    ContactRemoved,
    DeviceRegistered,
    DeviceRemoved,
    ProfileUpdated,
    SettingsUpdated,
    UserBlocked,
    UserUnblocked,
)
from quckchat.user.models import Block, Contact, Device, Profile
from quckchat.user.schemas import (
    BlockPublic,
    ContactMatch,
    ContactPublic,
    DeviceRegister,
    NotificationSettings,
    NotifyProfile,
    NotifyProfiles,
    ProfileInternal,
    ProfileMe,
    ProfilePublic,
    ProfileUpdate,
    QuietHours,
    SettingsPublic,
    SettingsUpdate,
    Stats,
)

MAX_DEVICES = 50
# Settings field -> profile column, for the fields whose names differ.
_SETTINGS_COLUMNS = {"last_seen": "last_seen_visibility"}
_NOTIFICATION_COLUMNS = {
    "messages": "notify_messages",
    "mentions": "notify_mentions",
    "calls": "notify_calls",
    "reactions": "notify_reactions",
    "sound": "notify_sound",
    "email_digest": "email_digest",
    "keywords": "notify_keywords",
    "push_delay_seconds": "push_delay_seconds",
    "push": "notify_push",
    "email": "notify_email",
}


def _cursor_time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")
    return moment


def _check_cursor(cursor: str | None) -> None:
    """Reject a forged cursor with a 400 before its values reach SQL."""
    if cursor is None:
        return
    sort_value, id_value = decode_cursor(cursor)
    _cursor_time(sort_value)
    if not isinstance(id_value, str):
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")


def _visible(visibility: str, *, viewer_is_contact: bool) -> bool:
    return visibility == "everyone" or (visibility == "contacts" and viewer_is_contact)


# Profiles


async def ensure_profile(session: AsyncSession, *, user_id: str, tenant: str) -> Profile:
    """The user's profile, created with defaults the first time it is needed."""
    profile, _ = await get_or_add(
        session, Profile, (user_id,), lambda: Profile(user_id=user_id, tenant=tenant)
    )
    return profile


async def _peer(session: AsyncSession, *, principal: Principal, user_id: str) -> Profile:
    """Another user of the caller's tenant, or 404."""
    profile = await session.get(Profile, user_id)
    if profile is None or profile.tenant != principal.tenant:
        raise not_found("user")
    return profile


async def _has_blocked(session: AsyncSession, *, blocker: str, blocked: str) -> bool:
    return await session.get(Block, (blocker, blocked)) is not None


async def _has_contact(session: AsyncSession, *, owner: str, contact: str) -> bool:
    return await session.get(Contact, (owner, contact)) is not None


def me_view(profile: Profile) -> ProfileMe:
    return ProfileMe.model_validate(profile, from_attributes=True)


async def get_me(session: AsyncSession, *, principal: Principal) -> ProfileMe:
    return me_view(
        await ensure_profile(session, user_id=principal.user_id, tenant=principal.tenant)
    )


async def update_me(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, update: ProfileUpdate
) -> ProfileMe:
    """Apply the sent fields; emit user.profile.updated when something actually changed."""
    profile = await ensure_profile(session, user_id=principal.user_id, tenant=principal.tenant)
    changed = []
    for name, value in sorted(update.changes().items()):
        if value is not None and name == "avatar_url":
            value = str(value)
        if value == "" and name == "status_text":
            value = None
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed.append(name)
    if changed:
        await session.flush()
        event = ProfileUpdated(user_id=profile.user_id, changed=changed, actor=principal.user_id)
        await runtime.emit(event, tenant=principal.tenant, session=session)
    return me_view(profile)


async def last_seen_visible(
    session: AsyncSession, *, viewer: str, user_ids: list[str]
) -> list[str]:
    """Those of `user_ids` whose last seen `viewer` may see: by their setting, and not blocked."""
    wanted = sorted(set(user_ids) - {viewer})
    if not wanted:
        return [viewer] if viewer in user_ids else []
    profiles = (await session.scalars(select(Profile).where(Profile.user_id.in_(wanted)))).all()
    keeps_viewer = set(
        await session.scalars(
            select(Contact.owner_id).where(
                Contact.owner_id.in_(wanted), Contact.contact_id == viewer
            )
        )
    )
    blocked_viewer = set(
        await session.scalars(
            select(Block.blocker_id).where(Block.blocker_id.in_(wanted), Block.blocked_id == viewer)
        )
    )
    visible = [
        p.user_id
        for p in profiles
        if p.user_id not in blocked_viewer
        and _visible(p.last_seen_visibility, viewer_is_contact=p.user_id in keeps_viewer)
    ]
    return sorted(visible + ([viewer] if viewer in user_ids else []))


async def display_names(session: AsyncSession, *, user_ids: list[str]) -> dict[str, str]:
    """The display names of those of `user_ids` who have one."""
    rows = await session.execute(
        select(Profile.user_id, Profile.display_name).where(
            Profile.user_id.in_(sorted(set(user_ids))), Profile.display_name.is_not(None)
        )
    )
    return {user_id: name for user_id, name in rows if name}


async def public_profile(
    session: AsyncSession, *, principal: Principal, user_id: str
) -> ProfilePublic:
    """The profile as the caller may see it; a user who blocked the caller does not exist."""
    viewer = principal.user_id
    profile = await _peer(session, principal=principal, user_id=user_id)
    is_self = user_id == viewer
    if not is_self and await _has_blocked(session, blocker=user_id, blocked=viewer):
        raise not_found("user")
    # "contacts" visibility means: the profile's owner keeps the viewer in their contacts.
    known = is_self or await _has_contact(session, owner=user_id, contact=viewer)
    photo = _visible(profile.photo_visibility, viewer_is_contact=known)
    seen = _visible(profile.last_seen_visibility, viewer_is_contact=known)
    return ProfilePublic(
        user_id=profile.user_id,
        display_name=profile.display_name,
        status_text=profile.status_text,
        avatar_url=profile.avatar_url if is_self or photo else None,
        last_seen_at=profile.last_seen_at if is_self or seen else None,
        is_contact=not is_self and await _has_contact(session, owner=viewer, contact=user_id),
        blocked=not is_self and await _has_blocked(session, blocker=viewer, blocked=user_id),
    )


# Settings


def settings_view(profile: Profile) -> SettingsPublic:
    quiet = None
    if profile.quiet_hours_start and profile.quiet_hours_end:
        quiet = QuietHours(start=profile.quiet_hours_start, end=profile.quiet_hours_end)
    notifications = NotificationSettings(
        messages=profile.notify_messages,
        mentions=profile.notify_mentions,
        calls=profile.notify_calls,
        reactions=profile.notify_reactions,
        sound=profile.notify_sound,
        email_digest=profile.email_digest,
        quiet_hours=quiet,
        keywords=list(profile.notify_keywords or []),
        push_delay_seconds=profile.push_delay_seconds or 0,
        push=profile.notify_push,
        email=profile.notify_email,
    )
    return SettingsPublic(
        last_seen=profile.last_seen_visibility,
        read_receipts=profile.read_receipts,
        photo_visibility=profile.photo_visibility,
        notifications=notifications,
    )


async def notify_profiles(
    session: AsyncSession, *, user_ids: list[str], actor_id: str | None
) -> NotifyProfiles:
    """The notification settings, time zone and block of the actor for each user who has a
    profile (one query each, however many users)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return NotifyProfiles(users={}, blockers=[])
    profiles = (await session.scalars(select(Profile).where(Profile.user_id.in_(wanted)))).all()
    blockers: set[str] = set()
    if actor_id is not None:
        blockers = set(
            await session.scalars(
                select(Block.blocker_id).where(
                    Block.blocker_id.in_(wanted), Block.blocked_id == actor_id
                )
            )
        )
    return NotifyProfiles(
        users={
            p.user_id: NotifyProfile(
                user_id=p.user_id,
                timezone=p.timezone,
                notifications=settings_view(p).notifications,
            )
            for p in profiles
        },
        blockers=sorted(blockers),
    )


async def get_settings(session: AsyncSession, *, principal: Principal) -> SettingsPublic:
    profile = await ensure_profile(session, user_id=principal.user_id, tenant=principal.tenant)
    return settings_view(profile)


def _setting_writes(update: SettingsUpdate) -> list[tuple[str, str, Any]]:
    """(field as the API names it, profile column, value) for each column the update writes."""
    writes: list[tuple[str, str, Any]] = []
    for name, value in update.changes().items():
        if name != "notifications":
            writes.append((name, _SETTINGS_COLUMNS.get(name, name), value))
    if update.notifications is not None:
        for name, value in update.notifications.changes().items():
            field = f"notifications.{name}"
            if name == "quiet_hours":
                writes.append((field, "quiet_hours_start", value.start if value else None))
                writes.append((field, "quiet_hours_end", value.end if value else None))
            else:
                writes.append((field, _NOTIFICATION_COLUMNS[name], value))
    return writes


async def update_settings(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, update: SettingsUpdate
) -> SettingsPublic:
    """Apply the sent settings; emit user.settings.updated when something actually changed."""
    profile = await ensure_profile(session, user_id=principal.user_id, tenant=principal.tenant)
    changed: set[str] = set()
    for field, column, value in _setting_writes(update):
        if getattr(profile, column) != value:
            setattr(profile, column, value)
            changed.add(field)
    if changed:
        await session.flush()
        event = SettingsUpdated(
            user_id=profile.user_id, changed=sorted(changed), actor=principal.user_id
        )
        await runtime.emit(event, tenant=principal.tenant, session=session)
    return settings_view(profile)


# Contacts


async def list_contacts(
    session: AsyncSession, *, principal: Principal, paging: PageQuery
) -> Page[ContactPublic]:
    """The caller's contacts, newest first."""
    _check_cursor(paging.cursor)
    query = (
        select(Contact, Profile.display_name)
        .outerjoin(Profile, Profile.user_id == Contact.contact_id)
        .where(Contact.owner_id == principal.user_id)
    )
    rows, next_cursor = await read_page(
        session,
        cast(Select[Any], query),
        Contact.created_at,
        Contact.contact_id,
        paging=paging,
        parse=_cursor_time,
    )
    items = [
        ContactPublic(
            user_id=contact.contact_id,
            nickname=contact.nickname,
            display_name=display_name,
            added_at=contact.created_at,
        )
        for contact, display_name in rows
    ]
    return Page[ContactPublic](items=items, next_cursor=next_cursor)


async def put_contact(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    user_id: str,
    nickname: str | None,
) -> tuple[ContactPublic, bool]:
    """Add a contact or set its nickname; True when it was added. Emits user.contact.added."""
    me = principal.user_id
    if user_id == me:
        raise Problem(422, "you cannot add yourself as a contact", slug="self-contact")
    peer = await _peer(session, principal=principal, user_id=user_id)
    if await _has_blocked(session, blocker=user_id, blocked=me):
        raise not_found("user")
    contact, created = await get_or_add(
        session,
        Contact,
        (me, user_id),
        lambda: Contact(owner_id=me, contact_id=user_id, nickname=nickname),
    )
    if not created and contact.nickname != nickname:
        contact.nickname = nickname
        await session.flush()
    if created:
        event = ContactAdded(user_id=me, contact_id=user_id, actor=me)
        await runtime.emit(event, tenant=principal.tenant, session=session)
    view = ContactPublic(
        user_id=user_id,
        nickname=contact.nickname,
        display_name=peer.display_name,
        added_at=contact.created_at,
    )
    return view, created


async def _remove_relation(
    session: AsyncSession,
    principal: Principal,
    model: type[Contact] | type[Block],
    what: str,
    user_id: str,
) -> None:
    """Delete the caller's contact or block of `user_id` (404 if none)."""
    row = await session.get(model, (principal.user_id, user_id))
    if row is None:
        raise not_found(what)
    await session.delete(row)
    await session.flush()


async def remove_contact(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, user_id: str
) -> None:
    """Remove a contact of the caller. Emits user.contact.removed."""
    me = principal.user_id
    await _remove_relation(session, principal, Contact, "contact", user_id)
    event = ContactRemoved(user_id=me, contact_id=user_id, actor=me)
    await runtime.emit(event, tenant=principal.tenant, session=session)


async def sync_contacts(
    session: AsyncSession, *, principal: Principal, phone_hashes: list[str]
) -> list[ContactMatch]:
    """Which address-book hashes are active users of the caller's tenant who may see the caller."""
    hashes = sorted(set(phone_hashes))
    if not hashes:
        return []
    blockers = select(Block.blocker_id).where(Block.blocked_id == principal.user_id)
    query = (
        select(Profile.phone_hash, Profile.user_id, Profile.display_name)
        .where(
            Profile.tenant == principal.tenant,
            Profile.phone_hash.in_(hashes),
            Profile.status == "active",
            Profile.user_id != principal.user_id,
            Profile.user_id.not_in(blockers),
        )
        .order_by(Profile.phone_hash, Profile.user_id)
    )
    return [
        ContactMatch(phone_hash=phone_hash, user_id=user_id, display_name=name)
        for phone_hash, user_id, name in (await session.execute(query)).all()
    ]


# Blocks


async def list_blocks(
    session: AsyncSession, *, principal: Principal, paging: PageQuery
) -> Page[BlockPublic]:
    _check_cursor(paging.cursor)
    query = select(Block).where(Block.blocker_id == principal.user_id)
    rows, next_cursor = await read_page(
        session,
        query,
        Block.created_at,
        Block.blocked_id,
        paging=paging,
        parse=_cursor_time,
    )
    items = [BlockPublic(user_id=b.blocked_id, blocked_at=b.created_at) for b in rows]
    return Page[BlockPublic](items=items, next_cursor=next_cursor)


async def block_user(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, user_id: str
) -> tuple[BlockPublic, bool]:
    """Block a user of the tenant (idempotent); True when newly blocked. Emits user.blocked."""
    me = principal.user_id
    if user_id == me:
        raise Problem(422, "you cannot block yourself", slug="self-block")
    # Existence only: a user may block someone who already blocked them.
    await _peer(session, principal=principal, user_id=user_id)
    block, created = await get_or_add(
        session,
        Block,
        (me, user_id),
        lambda: Block(blocker_id=me, blocked_id=user_id),
    )
    if created:
        event = UserBlocked(user_id=me, blocked_id=user_id, actor=me)
        await runtime.emit(event, tenant=principal.tenant, session=session)
    return BlockPublic(user_id=user_id, blocked_at=block.created_at), created


async def unblock_user(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, user_id: str
) -> None:
    """Lift the caller's block of a user. Emits user.unblocked."""
    me = principal.user_id
    await _remove_relation(session, principal, Block, "block", user_id)
    event = UserUnblocked(user_id=me, blocked_id=user_id, actor=me)
    await runtime.emit(event, tenant=principal.tenant, session=session)


# Devices


def _token_hash(push_token: str) -> str:
    return hashlib.sha256(push_token.encode()).hexdigest()


async def register_device(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    device_id: str,
    body: DeviceRegister,
) -> tuple[Device, bool]:
    """Register or update a device's push token; repeating a request changes nothing.

    Emits user.device.registered when the device is new or its registration changed.
    """
    me = principal.user_id
    wanted = {
        "platform": body.platform,
        "push_token": body.push_token,
        "push_token_hash": _token_hash(body.push_token),
        "app_version": body.app_version,
    }
    if await session.get(Device, (me, device_id)) is None:
        count = await session.scalar(
            select(func.count()).select_from(Device).where(Device.user_id == me)
        )
        if (count or 0) >= MAX_DEVICES:
            raise conflict(f"at most {MAX_DEVICES} devices per user", slug="too-many-devices")
    device, created = await get_or_add(
        session,
        Device,
        (me, device_id),
        lambda: Device(user_id=me, device_id=device_id, **wanted),
    )
    changed = created or any(getattr(device, k) != v for k, v in wanted.items())
    if changed and not created:
        for name, value in wanted.items():
            setattr(device, name, value)
    if not changed:
        return device, created
    await _release_token(session, runtime, device=device)
    await session.flush()
    event = DeviceRegistered(
        user_id=me,
        device_id=device_id,
        platform=device.platform,
        app_version=device.app_version,
        actor=me,
    )
    await runtime.emit(event, tenant=principal.tenant, session=session)
    return device, created


async def _release_token(session: AsyncSession, runtime: Runtime, *, device: Device) -> None:
    """A push token reaches one device: drop it from any other (a phone that changed account)."""
    query = select(Device).where(Device.push_token_hash == device.push_token_hash)
    for other in (await session.scalars(query)).all():
        if other is device:
            continue
        await session.delete(other)
        event = DeviceRemoved(
            user_id=other.user_id,
            device_id=other.device_id,
            reason="push-token-reused",
            actor=device.user_id,
        )
        # The other device's user need not be of the caller's tenant: the event names none.
        await runtime.emit(event, tenant=None, session=session)


async def list_devices(session: AsyncSession, *, user_id: str) -> list[Device]:
    query = (
        select(Device)
        .where(Device.user_id == user_id)
        .order_by(Device.created_at, Device.device_id)
    )
    return list((await session.scalars(query)).all())


async def remove_device(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, device_id: str
) -> None:
    me = principal.user_id
    device = await session.get(Device, (me, device_id))
    if device is None:
        raise not_found("device")
    await session.delete(device)
    await session.flush()
    event = DeviceRemoved(user_id=me, device_id=device_id, reason="removed", actor=me)
    await runtime.emit(event, tenant=principal.tenant, session=session)


async def drop_dead_token(
    session: AsyncSession, runtime: Runtime, *, user_id: str, device_id: str, push_token: str
) -> bool:
    """A provider said the token is dead: the device goes, unless it registered a new token
    meanwhile. Emits user.device.removed (push-token-gone); False when nothing was removed."""
    device = await session.get(Device, (user_id, device_id))
    if device is None or device.push_token_hash != _token_hash(push_token):
        return False
    await session.delete(device)
    await session.flush()
    event = DeviceRemoved(
        user_id=user_id, device_id=device_id, reason="push-token-gone", actor=user_id
    )
    await runtime.emit(event, tenant=None, session=session)
    return True


# Internal


async def internal_profile(session: AsyncSession, *, user_id: str) -> ProfileInternal:
    profile = await session.get(Profile, user_id)
    if profile is None:
        raise not_found("user")
    return ProfileInternal(
        **me_view(profile).model_dump(), tenant=profile.tenant, settings=settings_view(profile)
    )


async def record_last_seen(session: AsyncSession, *, user_id: str, at: datetime) -> None:
    """Move the user's last-seen time forward (reports may arrive out of order)."""
    profile = await session.get(Profile, user_id)
    if profile is None:
        raise not_found("user")
    at = at.replace(microsecond=0)
    if profile.last_seen_at is None or at > profile.last_seen_at:
        profile.last_seen_at = at
        await session.flush()


async def stats(session: AsyncSession) -> Stats:
    profiles = await session.scalar(select(func.count()).select_from(Profile))
    devices = await session.scalar(select(func.count()).select_from(Device))
    return Stats(profiles=profiles or 0, devices=devices or 0)
