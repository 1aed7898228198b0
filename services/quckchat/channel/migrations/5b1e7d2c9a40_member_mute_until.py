"""member mute until

Revision ID: 5b1e7d2c9a40
Revises: 22a917c3a235
Create Date: 2026-12-05 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql

revision: str = "5b1e7d2c9a40"
down_revision: str | None = "22a917c3a235"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("muted_until", quckchat.core.sql.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_members", schema=None) as batch_op:
        batch_op.drop_column("muted_until")
