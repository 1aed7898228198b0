"""outbox

Revision ID: 00dee6c8ac06
Revises: 4357d0c48853
Create Date: 2026-12-04 19:48:31.685471
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "00dee6c8ac06"
down_revision: str | None = "4357d0c48853"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("reminder")


def downgrade() -> None:
    drop_outbox_table("reminder")
