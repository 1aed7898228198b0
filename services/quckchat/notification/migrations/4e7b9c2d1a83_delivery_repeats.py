"""delivery repeats

Revision ID: 4e7b9c2d1a83
Revises: 90ce354f515c
Create Date: 2026-12-05 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e7b9c2d1a83"
down_revision: str | None = "90ce354f515c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The server default fills the deliveries that exist; the model sets it on new ones.
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeats", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("repeats")
