"""outbox

Revision ID: 842a303f5745
Revises: df8f2c284c10
Create Date: 2026-12-04 19:48:27.629583
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "842a303f5745"
down_revision: str | None = "df8f2c284c10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("bookmark")


def downgrade() -> None:
    drop_outbox_table("bookmark")
