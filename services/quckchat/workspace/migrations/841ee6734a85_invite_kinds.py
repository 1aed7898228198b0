"""invite kinds

Invites with an address become bound to it; those without one are links, and a link that had
no use limit gets the largest one allowed.

Revision ID: 841ee6734a85
Revises: d1889759b527
Create Date: 2026-12-04 12:42:35.410682
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "841ee6734a85"
down_revision: str | None = "d1889759b527"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_MAX_USES = 10_000


def upgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=8), nullable=True))
    invites = sa.table(
        "invites",
        sa.column("kind", sa.String),
        sa.column("email", sa.String),
        sa.column("phone", sa.String),
        sa.column("max_uses", sa.Integer),
    )
    op.execute(
        invites.update().values(
            kind=sa.case(
                (invites.c.email.is_not(None), "email"),
                (invites.c.phone.is_not(None), "phone"),
                else_="link",
            )
        )
    )
    op.execute(
        invites.update()
        .where(invites.c.kind == "link", invites.c.max_uses.is_(None))
        .values(max_uses=LINK_MAX_USES)
    )
    op.execute(invites.update().where(invites.c.kind != "link").values(max_uses=1))
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=8), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_column("kind")
