"""outbox

Revision ID: 4986f9588a05
Revises: d77f1112e631
Create Date: 2026-12-04 19:48:08.673310
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "4986f9588a05"
down_revision: str | None = "d77f1112e631"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("auth")


def downgrade() -> None:
    drop_outbox_table("auth")
