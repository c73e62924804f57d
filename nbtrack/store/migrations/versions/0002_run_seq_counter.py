"""Run numbers from a counter that only goes up, so a deleted run's number is never reused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    runs = sa.table("runs", sa.column("seq", sa.Integer))
    highest = op.get_bind().execute(sa.select(sa.func.coalesce(sa.func.max(runs.c.seq), 0))).scalar()
    op.bulk_insert(counters, [{"name": "run_seq", "value": int(highest or 0)}])


def downgrade() -> None:
    op.drop_table("counters")
