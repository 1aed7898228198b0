"""initial schema

Revision ID: 4f51be89cdc2
Revises:
Create Date: 2026-11-21 19:52:32.161403
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql

revision: str = "4f51be89cdc2"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thread_processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_thread_processed_events")),
    )
    op.create_table(
        "thread_followers",
        sa.Column("parent_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("parent_id", "user_id", name=op.f("pk_thread_followers")),
    )
    with op.batch_alter_table("thread_followers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_thread_followers_channel_id_user_id", ["channel_id", "user_id"], unique=False
        )
        batch_op.create_index(
            "ix_thread_followers_user_id_workspace_id", ["user_id", "workspace_id"], unique=False
        )

    op.create_table(
        "thread_replies",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_thread_replies")),
    )
    with op.batch_alter_table("thread_replies", schema=None) as batch_op:
        batch_op.create_index("ix_thread_replies_parent_id_seq", ["parent_id", "seq"], unique=False)

    op.create_table(
        "threads",
        sa.Column("parent_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("parent_sender_id", sa.String(length=64), nullable=True),
        sa.Column("parent_seq", sa.BigInteger(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("last_reply_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.Column("last_reply_id", sa.String(length=64), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("activity_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("parent_id", name=op.f("pk_threads")),
    )
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index("ix_threads_channel_id", ["channel_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_channel_id")

    op.drop_table("threads")
    with op.batch_alter_table("thread_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_replies_parent_id_seq")

    op.drop_table("thread_replies")
    with op.batch_alter_table("thread_followers", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_followers_user_id_workspace_id")
        batch_op.drop_index("ix_thread_followers_channel_id_user_id")

    op.drop_table("thread_followers")
    op.drop_table("thread_processed_events")
