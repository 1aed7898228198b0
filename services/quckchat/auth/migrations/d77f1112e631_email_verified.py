"""email verified

Existing accounts start unverified: an email typed at sign-up was never proven.

Revision ID: d77f1112e631
Revises: d84df0fcc4fc
Create Date: 2026-12-04 12:42:34.755874
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d77f1112e631"
down_revision: str | None = "d84df0fcc4fc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("email_verified")
