"""member notify level

Revision ID: 8d3f1a6b2c57
Revises: 5b1e7d2c9a40
Create Date: 2026-12-05 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d3f1a6b2c57"
down_revision: str | None = "5b1e7d2c9a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Server defaults fill the members that exist; the model sets both on new ones.
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "notify_level", sa.String(length=16), nullable=False, server_default="default"
            )
        )
        batch_op.add_column(
            sa.Column(
                "ignore_channel_mentions",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.drop_column("ignore_channel_mentions")
        batch_op.drop_column("notify_level")
