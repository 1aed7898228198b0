"""initial schema

Revision ID: df8f2c284c10
Revises:
Create Date: 2026-11-21 19:56:09.517077
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql

revision: str = "df8f2c284c10"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_bookmarks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("updated_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_bookmarks")),
    )
    with op.batch_alter_table("channel_bookmarks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_channel_bookmarks_channel_id_created_at", ["channel_id", "created_at"], unique=False
        )

    op.create_table(
        "saved_messages",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("updated_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "message_id", name=op.f("pk_saved_messages")),
    )
    with op.batch_alter_table("saved_messages", schema=None) as batch_op:
        batch_op.create_index("ix_saved_messages_message_id", ["message_id"], unique=False)
        batch_op.create_index(
            "ix_saved_messages_user_id_created_at", ["user_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("saved_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_messages_user_id_created_at")
        batch_op.drop_index("ix_saved_messages_message_id")

    op.drop_table("saved_messages")
    with op.batch_alter_table("channel_bookmarks", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_bookmarks_channel_id_created_at")

    op.drop_table("channel_bookmarks")
