"""The workspace service's tables: workspaces (with settings, quotas and storage use), members,
invites, and the keys of storage changes already applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.outbox import outbox_table
from quckchat.core.sql import UTCDateTime, new_id, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "workspace")

ID_LENGTH = 32
USER_ID_LENGTH = 64
SLUG_LENGTH = 63
CHANGE_ID_LENGTH = 64

OWNER, ADMIN, MEMBER, GUEST = "owner", "admin", "member", "guest"
DEFAULT_MAX_MEMBERS = 1000
DEFAULT_MAX_STORAGE_BYTES = 100 * 2**30


class Base(DeclarativeBase):
    metadata = metadata


class Workspace(Base):
    """A workspace of one installation tenant; its slug is unique across the installation."""

    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(SLUG_LENGTH), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(USER_ID_LENGTH))
    # Settings: None keeps messages forever.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    guests_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Quotas the services enforce.
    max_members: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_MEMBERS)
    max_storage_bytes: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_MAX_STORAGE_BYTES)
    # Changed only under this row's lock: a COUNT inside MySQL's REPEATABLE READ may be stale.
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bytes the file services hold; changed only by guarded UPDATEs (storage.py).
    storage_used_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Member(Base):
    """A user in a workspace, with the role mirrored into the permission service."""

    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_user_id", "user_id"),
        Index("ix_members_workspace_id_joined_at", "workspace_id", "joined_at"),
    )

    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[str | None] = mapped_column(String(USER_ID_LENGTH))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


EMAIL_INVITE, PHONE_INVITE, LINK_INVITE = "email", "phone", "link"


class Invite(Base):
    """A join token (kept as its SHA-256 only): for one verified address, or an open link."""

    __tablename__ = "invites"
    __table_args__ = (Index("ix_invites_workspace_id_created_at", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # email or phone: only the user verified at that address may use it; link: anyone holding it.
    kind: Mapped[str] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(16))
    # member or guest; owner only for a provisioned workspace whose owner has no account yet.
    role: Mapped[str] = mapped_column(String(16))
    # Links always have a limit; None only on rows older than invite kinds.
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(USER_ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


RESERVE, RELEASE = "reserve", "release"


class StorageChange(Base):
    """A reservation or release already applied, by the caller's key, so a retry is not."""

    __tablename__ = "storage_changes"

    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    # reserve or release: a file's id may key both its upload and its deletion.
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    change_id: Mapped[str] = mapped_column(String(CHANGE_ID_LENGTH), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
