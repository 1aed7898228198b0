"""initial schema

Revision ID: 90ce354f515c
Revises:
Create Date: 2026-12-05 13:18:09.370548
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql
from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "90ce354f515c"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("notice_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("medium", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("token", sa.String(length=4096), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("clear", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_notice_id", ["notice_id"], unique=False)
        batch_op.create_index("ix_deliveries_status_due_at", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_deliveries_user_id_digest_status", ["user_id", "digest", "status"], unique=False
        )

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("provider_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("retry_after", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_attempts_user_id_at", ["user_id", "at"], unique=False)

    op.create_table(
        "digest_states",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("last_sent_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.Column("claimed_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_digest_states")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("collapse_key", sa.String(length=200), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("read_at", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notices_user_id_channel_id_seq", ["user_id", "channel_id", "seq"], unique=False
        )
        batch_op.create_index(
            "ix_notices_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    create_outbox_table("notification")
    op.create_table(
        "notification_processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_notification_processed_events")),
    )
    op.create_table(
        "read_pointers",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "scope", name=op.f("pk_read_pointers")),
    )


def downgrade() -> None:
    op.drop_table("read_pointers")
    op.drop_table("notification_processed_events")
    drop_outbox_table("notification")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_user_id_created_at")
        batch_op.drop_index("ix_notices_user_id_channel_id_seq")

    op.drop_table("notices")
    op.drop_table("digest_states")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempts_user_id_at")

    op.drop_table("delivery_attempts")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_user_id_digest_status")
        batch_op.drop_index("ix_deliveries_status_due_at")
        batch_op.drop_index("ix_deliveries_notice_id")

    op.drop_table("deliveries")
