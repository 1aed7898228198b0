"""The events the user service produces: profile, settings, contacts, blocks and devices.

Each is about one user (`user_id`, the key: a user's changes go out in order) and names who
acted. Only that user's own devices see them.
"""

from __future__ import annotations

from typing import ClassVar

from quckchat.core.events import AboutUser


class UserEvent(AboutUser):
    actor: str


class ProfileUpdated(UserEvent):
    """`changed` names the profile fields that took a new value."""

    type: ClassVar[str] = "user.profile.updated"
    changed: list[str]


class SettingsUpdated(UserEvent):
    """`changed` names the settings that took a new value (`notifications.<name>` for those)."""

    type: ClassVar[str] = "user.settings.updated"
    changed: list[str]


class ContactAdded(UserEvent):
    type: ClassVar[str] = "user.contact.added"
    contact_id: str


class ContactRemoved(UserEvent):
    type: ClassVar[str] = "user.contact.removed"
    contact_id: str


class UserBlocked(UserEvent):
    type: ClassVar[str] = "user.blocked"
    blocked_id: str


class UserUnblocked(UserEvent):
    type: ClassVar[str] = "user.unblocked"
    blocked_id: str


class DeviceRegistered(UserEvent):
    """A new device, or a device whose push registration changed."""

    type: ClassVar[str] = "user.device.registered"
    device_id: str
    platform: str
    app_version: str | None = None


class DeviceRemoved(UserEvent):
    """`reason`: removed by its user, push-token-reused (the token moved to another
    device, whose user is the actor), or push-token-gone (its provider called it dead)."""

    type: ClassVar[str] = "user.device.removed"
    device_id: str
    reason: str
