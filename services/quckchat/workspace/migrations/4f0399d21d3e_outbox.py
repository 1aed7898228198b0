"""outbox

Revision ID: 4f0399d21d3e
Revises: 841ee6734a85
Create Date: 2026-12-04 19:48:20.838488
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "4f0399d21d3e"
down_revision: str | None = "841ee6734a85"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("workspace")


def downgrade() -> None:
    drop_outbox_table("workspace")
