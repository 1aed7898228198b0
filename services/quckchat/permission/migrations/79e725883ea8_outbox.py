"""outbox

Revision ID: 79e725883ea8
Revises: cbc4a9b403c6
Create Date: 2026-12-04 19:48:17.148598
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "79e725883ea8"
down_revision: str | None = "cbc4a9b403c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("permission")


def downgrade() -> None:
    drop_outbox_table("permission")
