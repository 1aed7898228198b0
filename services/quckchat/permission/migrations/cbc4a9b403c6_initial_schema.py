"""initial schema

Revision ID: cbc4a9b403c6
Revises:
Create Date: 2026-11-21 14:20:49.320978
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quckchat.core.sql

revision: str = "cbc4a9b403c6"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_rules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ptype", sa.String(length=8), nullable=False),
        sa.Column("v0", sa.String(length=255), nullable=False),
        sa.Column("v1", sa.String(length=255), nullable=False),
        sa.Column("v2", sa.String(length=255), nullable=False),
        sa.Column("v3", sa.String(length=255), nullable=True),
        sa.Column("v4", sa.String(length=255), nullable=True),
        sa.Column("v5", sa.String(length=255), nullable=True),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("changed_at", quckchat.core.sql.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_rules")),
        sa.UniqueConstraint("rule_key", name=op.f("uq_policy_rules_rule_key")),
    )
    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        batch_op.create_index("ix_policy_rules_ptype_v0", ["ptype", "v0"], unique=False)
        batch_op.create_index("ix_policy_rules_ptype_v2", ["ptype", "v2"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_policy_rules_ptype_v2")
        batch_op.drop_index("ix_policy_rules_ptype_v0")

    op.drop_table("policy_rules")
