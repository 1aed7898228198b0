"""Request and response bodies of the user service, with the bounds that make bad input a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    StringConstraints,
    model_validator,
)

from quckchat.core.values import DisplayName, Patch, TimeZoneName
from quckchat.user.models import USER_ID_LENGTH

Visibility = Literal["everyone", "contacts", "nobody"]
# "weekly" is still taken and kept: it was offered before the shorter digests were.
EmailDigest = Literal["off", "immediately", "15m", "hourly", "daily", "weekly"]
PushSetting = Literal["all", "mentions", "none"]
Platform = Literal["ios", "android", "web"]
ProfileStatus = Literal["active", "suspended"]

PHONE_HASH_PATTERN = r"^[0-9a-f]{64}$"
PhoneHash = Annotated[str, StringConstraints(pattern=PHONE_HASH_PATTERN)]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
MAX_SYNC_HASHES = 1000
MAX_AVATAR_URL = 2048
MAX_LAST_SEEN_QUERY = 500
MAX_NAMES_QUERY = 500
MAX_KEYWORDS = 20
MAX_NOTIFY_QUERY = 500
MAX_PUSH_DELAY_SECONDS = 3600
UserIdStr = Annotated[str, StringConstraints(min_length=1, max_length=USER_ID_LENGTH)]


def _short_url(url: HttpUrl) -> HttpUrl:
    if len(str(url)) > MAX_AVATAR_URL:
        raise ValueError(f"the URL is longer than {MAX_AVATAR_URL} characters")
    return url


StatusText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=140)]
AvatarUrl = Annotated[HttpUrl, AfterValidator(_short_url)]
Locale = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,4}$")]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Keywords = Annotated[list[Keyword], Field(max_length=MAX_KEYWORDS)]
PushDelay = Annotated[int, Field(ge=0, le=MAX_PUSH_DELAY_SECONDS)]
Nickname = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


# Profiles


class ProfileUpdate(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset(
        {"status_text", "avatar_url", "timezone", "locale"}
    )

    display_name: DisplayName | None = None
    status_text: StatusText | None = None
    avatar_url: AvatarUrl | None = None
    timezone: TimeZoneName | None = None
    locale: Locale | None = None


class ProfileMe(BaseModel):
    """The caller's own profile: everything, whatever the privacy settings say."""

    user_id: str
    status: ProfileStatus
    display_name: str | None
    status_text: str | None
    avatar_url: str | None
    timezone: str | None
    locale: str | None
    last_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ProfilePublic(BaseModel):
    """Another user's profile as the caller may see it; hidden fields are null."""

    user_id: str
    display_name: str | None
    status_text: str | None
    avatar_url: str | None
    last_seen_at: datetime | None
    is_contact: bool = Field(description="the caller has this user in their contacts")
    blocked: bool = Field(description="the caller has blocked this user")


# Settings


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: ClockTime = Field(description="HH:MM in the user's time zone")
    end: ClockTime = Field(description="HH:MM; before start means the hours span midnight")

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("quiet hours must start and end at different times")
        return self


class NotificationSettings(BaseModel):
    messages: bool
    mentions: bool
    calls: bool
    reactions: bool
    sound: bool
    email_digest: EmailDigest
    quiet_hours: QuietHours | None
    keywords: list[str] = Field(default_factory=list, description="words that notify")
    push_delay_seconds: int = Field(
        0, description="how long a push waits while a desktop is in use"
    )
    push: PushSetting = Field(
        "all", description="pushes for everything, for mentions and direct messages, or none"
    )
    email: bool = Field(True, description="email at all (how often: `email_digest`)")


class SettingsPublic(BaseModel):
    last_seen: Visibility
    read_receipts: bool
    photo_visibility: Visibility
    notifications: NotificationSettings


class NotificationSettingsUpdate(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"quiet_hours"})

    messages: StrictBool | None = None
    mentions: StrictBool | None = None
    calls: StrictBool | None = None
    reactions: StrictBool | None = None
    sound: StrictBool | None = None
    email_digest: EmailDigest | None = None
    quiet_hours: QuietHours | None = None
    keywords: Keywords | None = None
    push_delay_seconds: PushDelay | None = None
    push: PushSetting | None = None
    email: StrictBool | None = None


class SettingsUpdate(Patch):
    last_seen: Visibility | None = None
    read_receipts: StrictBool | None = None
    photo_visibility: Visibility | None = None
    notifications: NotificationSettingsUpdate | None = None


# Contacts and blocks


class ContactUpsert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nickname: Nickname | None = None


class ContactPublic(BaseModel):
    user_id: str
    nickname: str | None
    display_name: str | None
    added_at: datetime


class BlockPublic(BaseModel):
    user_id: str
    blocked_at: datetime


class ContactSyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_hashes: list[PhoneHash] = Field(
        max_length=MAX_SYNC_HASHES,
        description="lowercase hex SHA-256 of each E.164 phone number in the address book",
    )


class ContactMatch(BaseModel):
    phone_hash: str
    user_id: str
    display_name: str | None


# Devices


class DeviceRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    push_token: str = Field(min_length=1, max_length=4096)
    app_version: str | None = Field(default=None, min_length=1, max_length=64)


class DevicePublic(BaseModel):
    device_id: str
    platform: Platform
    app_version: str | None
    created_at: datetime
    updated_at: datetime


class DeviceInternal(DevicePublic):
    """What the notification service needs to push to a device."""

    push_token: str


class PushTokenGone(BaseModel):
    """The token a push provider called dead (the device is kept if it has another now)."""

    model_config = ConfigDict(extra="forbid")

    push_token: str = Field(min_length=1, max_length=4096)


# Internal


class ProfileInternal(ProfileMe):
    tenant: str
    settings: SettingsPublic


class LastSeenUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    last_seen_at: datetime

    @model_validator(mode="after")
    def _aware(self) -> Self:
        if self.last_seen_at.tzinfo is None:
            raise ValueError("last_seen_at needs a time zone offset")
        return self


class LastSeenQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    viewer_id: UserIdStr
    user_ids: list[UserIdStr] = Field(max_length=MAX_LAST_SEEN_QUERY)


class LastSeenVisible(BaseModel):
    visible: list[str]


class NamesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: list[UserIdStr] = Field(max_length=MAX_NAMES_QUERY)


class Names(BaseModel):
    """Display names by user id; a user who has none is left out."""

    names: dict[str, str]


class NotifyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: list[UserIdStr] = Field(max_length=MAX_NOTIFY_QUERY)
    actor_id: UserIdStr | None = Field(None, description="whom to check blocks against")


class NotifyProfile(BaseModel):
    """What the notification orchestrator needs to decide for one user."""

    user_id: str
    timezone: str | None
    notifications: NotificationSettings


class NotifyProfiles(BaseModel):
    """By user id; a user without a profile is left out of `users` (the defaults apply)."""

    users: dict[str, NotifyProfile]
    blockers: list[str] = Field(description="those asked about who blocked the actor")


class Stats(BaseModel):
    profiles: int
    devices: int
