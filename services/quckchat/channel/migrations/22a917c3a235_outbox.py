"""outbox

Revision ID: 22a917c3a235
Revises: c9f0691ba715
Create Date: 2026-12-04 19:48:24.220723
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "22a917c3a235"
down_revision: str | None = "c9f0691ba715"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("channel")


def downgrade() -> None:
    drop_outbox_table("channel")
