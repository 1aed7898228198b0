"""initial schema

Revision ID: 996a5fd35764
Revises:
Create Date: 2026-11-21 14:20:21.640407
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql

revision: str = "996a5fd35764"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.String(length=64), nullable=False),
        sa.Column("blocked_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_blocks")),
    )
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.create_index("ix_blocks_blocked_id", ["blocked_id"], unique=False)
        batch_op.create_index(
            "ix_blocks_blocker_id_created_at", ["blocker_id", "created_at"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("nickname", sa.String(length=80), nullable=True),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "contact_id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_contact_id", ["contact_id"], unique=False)
        batch_op.create_index(
            "ix_contacts_owner_id_created_at", ["owner_id", "created_at"], unique=False
        )

    op.create_table(
        "devices",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("push_token", sa.String(length=4096), nullable=False),
        sa.Column("push_token_hash", sa.String(length=64), nullable=False),
        sa.Column("app_version", sa.String(length=64), nullable=True),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("updated_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "device_id", name=op.f("pk_devices")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_devices_push_token_hash"), ["push_token_hash"], unique=False
        )

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    op.create_table(
        "profiles",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=True),
        sa.Column("status_text", sa.String(length=140), nullable=True),
        sa.Column("avatar_url", sa.String(length=2048), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.Column("last_seen_visibility", sa.String(length=16), nullable=False),
        sa.Column("photo_visibility", sa.String(length=16), nullable=False),
        sa.Column("read_receipts", sa.Boolean(), nullable=False),
        sa.Column("notify_messages", sa.Boolean(), nullable=False),
        sa.Column("notify_mentions", sa.Boolean(), nullable=False),
        sa.Column("notify_calls", sa.Boolean(), nullable=False),
        sa.Column("notify_reactions", sa.Boolean(), nullable=False),
        sa.Column("notify_sound", sa.Boolean(), nullable=False),
        sa.Column("email_digest", sa.String(length=8), nullable=False),
        sa.Column("quiet_hours_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_hours_end", sa.String(length=5), nullable=True),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("updated_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_profiles")),
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_profiles_tenant_phone_hash", ["tenant", "phone_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_profiles_tenant_phone_hash")

    op.drop_table("profiles")
    op.drop_table("processed_events")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_push_token_hash"))

    op.drop_table("devices")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_owner_id_created_at")
        batch_op.drop_index("ix_contacts_contact_id")

    op.drop_table("contacts")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_blocks_blocker_id_created_at")
        batch_op.drop_index("ix_blocks_blocked_id")

    op.drop_table("blocks")
