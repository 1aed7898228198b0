"""notification settings: the push switch (all, mentions, none) and the email switch

Revision ID: b7e1c94a2d05
Revises: 8d4c2a6f1e73
Create Date: 2026-12-05 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e1c94a2d05"
down_revision: str | None = "8d4c2a6f1e73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify_push", sa.String(length=16), nullable=False, server_default="all")
        )
        batch_op.add_column(
            sa.Column("notify_email", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("notify_email")
        batch_op.drop_column("notify_push")
