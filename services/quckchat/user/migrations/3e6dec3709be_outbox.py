"""outbox

Revision ID: 3e6dec3709be
Revises: 996a5fd35764
Create Date: 2026-12-04 19:48:12.821687
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "3e6dec3709be"
down_revision: str | None = "996a5fd35764"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("user")


def downgrade() -> None:
    drop_outbox_table("user")
