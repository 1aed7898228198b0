"""thread followers: a mute of the thread's replies, with an end

Revision ID: a93d5e0c7b14
Revises: 6786f60c1047
Create Date: 2026-12-05 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from quckchat.core.sql import UTCDateTime

revision: str = "a93d5e0c7b14"
down_revision: str | None = "6786f60c1047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("thread_followers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("muted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("muted_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("thread_followers", schema=None) as batch_op:
        batch_op.drop_column("muted_until")
        batch_op.drop_column("muted")
