"""initial schema

Revision ID: c9f0691ba715
Revises:
Create Date: 2026-11-21 19:55:26.437468
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql

revision: str = "c9f0691ba715"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_members",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("joined_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False),
        sa.Column("mention_count", sa.Integer(), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "user_id", name=op.f("pk_channel_members")),
    )
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_channel_members_channel_id_joined_at", ["channel_id", "joined_at"], unique=False
        )
        batch_op.create_index(
            "ix_channel_members_user_id_workspace_id", ["user_id", "workspace_id"], unique=False
        )

    op.create_table(
        "channels",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("direct_key", sa.String(length=129), nullable=True),
        sa.Column("topic", sa.String(length=250), nullable=True),
        sa.Column("purpose", sa.String(length=250), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("announcement_only", sa.Boolean(), nullable=False),
        sa.Column("disappearing_seconds", sa.Integer(), nullable=True),
        sa.Column("archived_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("updated_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint(
            "workspace_id", "direct_key", name=op.f("uq_channels_workspace_id_direct_key")
        ),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_channels_workspace_id_name")),
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_channels_workspace_id_kind", ["workspace_id", "kind"], unique=False
        )

    op.create_table(
        "pins",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("pinned_by", sa.String(length=64), nullable=False),
        sa.Column("pinned_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "message_id", name=op.f("pk_pins")),
    )
    with op.batch_alter_table("pins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pins_channel_id_pinned_at", ["channel_id", "pinned_at"], unique=False
        )

    op.create_table(
        "channel_processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_channel_processed_events")),
    )


def downgrade() -> None:
    op.drop_table("channel_processed_events")
    with op.batch_alter_table("pins", schema=None) as batch_op:
        batch_op.drop_index("ix_pins_channel_id_pinned_at")

    op.drop_table("pins")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_index("ix_channels_workspace_id_kind")

    op.drop_table("channels")
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_members_user_id_workspace_id")
        batch_op.drop_index("ix_channel_members_channel_id_joined_at")

    op.drop_table("channel_members")
