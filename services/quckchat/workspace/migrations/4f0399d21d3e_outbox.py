"""outbox

Revision ID: 4f0399d21d3e
Revises: 841ee6734a85
Create Date: 2026-12-04 19:48:20.838488
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import quckchat.core.sql

revision: str = "4f0399d21d3e"
down_revision: str | None = "841ee6734a85"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=191), nullable=False),
        sa.Column(
            "envelope",
            sa.Text()
            .with_variant(mysql.MEDIUMTEXT(), "mariadb")
            .with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", quckchat.core.sql.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_workspace_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_workspace_outbox_event_id")),
    )
    with op.batch_alter_table("workspace_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workspace_outbox_key"), ["key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workspace_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workspace_outbox_key"))

    op.drop_table("workspace_outbox")
