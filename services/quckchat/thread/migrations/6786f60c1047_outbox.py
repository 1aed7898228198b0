"""outbox

Revision ID: 6786f60c1047
Revises: 4f51be89cdc2
Create Date: 2026-12-04 19:48:34.877873
"""

from collections.abc import Sequence

from quckchat.core.outbox import create_outbox_table, drop_outbox_table

revision: str = "6786f60c1047"
down_revision: str | None = "4f51be89cdc2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table("thread")


def downgrade() -> None:
    drop_outbox_table("thread")
