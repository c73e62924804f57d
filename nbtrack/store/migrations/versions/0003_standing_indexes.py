"""Indexes for a run's standing among earlier runs: best value per experiment and metric, previous run.

``metric_summaries`` gets its run's ``experiment_id`` (filled from ``runs``), so the best value of a
metric in an experiment is read from an index instead of scanning every run of the experiment.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("metric_summaries", sa.Column("experiment_id", sa.Integer, nullable=True))
    runs = sa.table("runs", sa.column("run_id"), sa.column("experiment_id"))
    summaries = sa.table("metric_summaries", sa.column("run_id"), sa.column("experiment_id"))
    op.execute(
        summaries.update().values(
            experiment_id=sa.select(runs.c.experiment_id)
            .where(runs.c.run_id == summaries.c.run_id)
            .scalar_subquery()
        )
    )
    with op.batch_alter_table("metric_summaries") as batch:
        batch.alter_column("experiment_id", existing_type=sa.Integer, nullable=False)
    op.create_index(
        "ix_metric_summaries_experiment_id_key_last", "metric_summaries", ["experiment_id", "key", "last"]
    )
    op.create_index("ix_runs_experiment_id_seq", "runs", ["experiment_id", "seq"])
    op.create_index("ix_runs_cell_id_seq", "runs", ["cell_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_runs_cell_id_seq", "runs")
    op.drop_index("ix_runs_experiment_id_seq", "runs")
    op.drop_index("ix_metric_summaries_experiment_id_key_last", "metric_summaries")
    with op.batch_alter_table("metric_summaries") as batch:
        batch.drop_column("experiment_id")
