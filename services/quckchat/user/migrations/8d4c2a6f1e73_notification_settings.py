"""notification settings: keywords, push delay, the wider email digest

Revision ID: 8d4c2a6f1e73
Revises: 3e6dec3709be
Create Date: 2026-12-05 13:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d4c2a6f1e73"
down_revision: str | None = "3e6dec3709be"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.alter_column(
            "email_digest",
            existing_type=sa.String(length=8),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("notify_keywords", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("push_delay_seconds", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("push_delay_seconds")
        batch_op.drop_column("notify_keywords")
        batch_op.alter_column(
            "email_digest",
            existing_type=sa.String(length=16),
            type_=sa.String(length=8),
            existing_nullable=False,
        )
