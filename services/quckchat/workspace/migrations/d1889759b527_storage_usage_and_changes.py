"""storage usage and changes

Existing workspaces start with 0 bytes used: nothing was tracked before.

Revision ID: d1889759b527
Revises: 0859410b0a88
Create Date: 2026-11-21 22:39:33.829378
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql

revision: str = "d1889759b527"
down_revision: str | None = "0859410b0a88"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storage_changes",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id", "kind", "change_id", name=op.f("pk_storage_changes")
        ),
    )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "storage_used_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("storage_used_bytes")

    op.drop_table("storage_changes")
