"""Initial schema: experiments, runs, params, metric summaries and chunks, tags, notes, artifacts.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("name", sa.String, nullable=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.Float, nullable=False),
        sa.Column("end_time", sa.Float, nullable=True),
        sa.Column("heartbeat", sa.Float, nullable=True),
        sa.Column("host", sa.String, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("user", sa.String, nullable=True),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("notebook", sa.Text, nullable=True),
        sa.Column("cell_id", sa.String, nullable=True),
        sa.Column("execution_count", sa.Integer, nullable=True),
        sa.Column("git_commit", sa.String(64), nullable=True),
        sa.Column("git_dirty", sa.Boolean, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("context", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
        sa.UniqueConstraint("seq", name="uq_runs_seq"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_runs_experiment_id_experiments",
        ),
    )
    op.create_index("ix_runs_experiment_id_start_time", "runs", ["experiment_id", "start_time"])
    op.create_index("ix_runs_start_time", "runs", ["start_time"])
    op.create_index("ix_runs_status", "runs", ["status"])

    def run_child(name: str, *columns: sa.Column[object], pk: list[str]) -> None:
        op.create_table(
            name,
            sa.Column("run_id", sa.String(32), nullable=False),
            *columns,
            sa.PrimaryKeyConstraint(*pk, name=f"pk_{name}"),
            sa.ForeignKeyConstraint(
                ["run_id"], ["runs.run_id"], ondelete="CASCADE", name=f"fk_{name}_run_id_runs"
            ),
        )

    run_child(
        "params",
        sa.Column("key", sa.String, nullable=False),
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("value_str", sa.Text, nullable=False),
        sa.Column("value_num", sa.Float, nullable=True),
        sa.Column("vtype", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        pk=["run_id", "key"],
    )
    run_child(
        "metric_summaries",
        sa.Column("key", sa.String, nullable=False),
        sa.Column("last", sa.Float, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=False),
        sa.Column("min", sa.Float, nullable=True),
        sa.Column("max", sa.Float, nullable=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("last_time", sa.Float, nullable=False),
        pk=["run_id", "key"],
    )
    run_child(
        "metric_chunks",
        sa.Column("key", sa.String, nullable=False),
        sa.Column("chunk", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("encoding", sa.Integer, nullable=False),
        sa.Column("steps", sa.LargeBinary, nullable=False),
        sa.Column("values", sa.LargeBinary, nullable=False),
        sa.Column("times", sa.LargeBinary, nullable=False),
        pk=["run_id", "key", "chunk"],
    )
    run_child(
        "tags",
        sa.Column("key", sa.String, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        pk=["run_id", "key"],
    )
    op.create_table(
        "notes",
        sa.Column("note_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("note_id", name="pk_notes"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE", name="fk_notes_run_id_runs"),
    )
    op.create_index("ix_notes_run_id", "notes", ["run_id"])
    run_child(
        "artifacts",
        sa.Column("name", sa.String, nullable=False),
        sa.Column("mime", sa.String, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        pk=["run_id", "name"],
    )
    op.create_index("ix_artifacts_sha256", "artifacts", ["sha256"])


def downgrade() -> None:
    for table in (
        "artifacts",
        "notes",
        "tags",
        "metric_chunks",
        "metric_summaries",
        "params",
        "runs",
        "experiments",
    ):
        op.drop_table(table)
