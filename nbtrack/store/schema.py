"""The store's tables, as SQLAlchemy Core metadata (portable: SQLite and PostgreSQL alike).

Times are float seconds since the epoch (UTC). Metric points are not stored a row each: the writer packs
each key's new points into one ``metric_chunks`` row per flush (see :mod:`nbtrack.store.chunks`) and keeps
``metric_summaries`` up to date, so tables and filters never scan point histories.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _run_fk() -> Column[str]:
    return Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)


counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
#: The counter behind run numbers: it only goes up, so a deleted run's number is never reused.
RUN_SEQ_COUNTER = "run_seq"

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False, unique=True),
    Column("created", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("name", String, nullable=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", Float, nullable=False),
    Column("end_time", Float, nullable=True),
    Column("heartbeat", Float, nullable=True),
    Column("host", String, nullable=True),
    Column("pid", Integer, nullable=True),
    Column("user", String, nullable=True),
    Column("source", Text, nullable=True),
    Column("notebook", Text, nullable=True),
    Column("cell_id", String, nullable=True),
    Column("execution_count", Integer, nullable=True),
    Column("git_commit", String(64), nullable=True),
    Column("git_dirty", Boolean, nullable=True),
    Column("error", Text, nullable=True),
    Column("context", Text, nullable=True),  # JSON: python, packages, kernel id, diff hash, ...
    Index(None, "experiment_id", "start_time"),
    Index(None, "experiment_id", "seq"),  # the previous run of an experiment
    Index(None, "cell_id", "seq"),  # the previous run of a notebook cell
    Index(None, "start_time"),
    Index(None, "status"),
)

params = Table(
    "params",
    metadata,
    _run_fk(),
    Column("key", String, primary_key=True),
    Column("value_json", Text, nullable=False),  # the typed value, as JSON
    Column("value_str", Text, nullable=False),  # MLflow-style string form, for = != LIKE IN
    Column("value_num", Float, nullable=True),  # set for numeric values: params.lr < 0.01
    Column("vtype", String(8), nullable=False),  # int float bool str none list dict repr
    Column("origin", String(16), nullable=False),
)

metric_summaries = Table(
    "metric_summaries",
    metadata,
    _run_fk(),
    Column("key", String, primary_key=True),
    # the run's experiment, copied here (runs never change experiment) so that the best value of a
    # metric in an experiment is one index lookup, not a scan of the experiment's runs
    Column("experiment_id", Integer, nullable=False),
    Column("last", Float, nullable=True),  # NULL here means the last value is NaN (SQLite drops NaN)
    Column("last_step", BigInteger, nullable=False),
    Column("min", Float, nullable=True),  # over non-NaN values; NULL if all were NaN
    Column("max", Float, nullable=True),
    Column("count", BigInteger, nullable=False),
    Column("last_time", Float, nullable=False),
    Index(None, "experiment_id", "key", "last"),
)

metric_chunks = Table(
    "metric_chunks",
    metadata,
    _run_fk(),
    Column("key", String, primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("encoding", Integer, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("values", LargeBinary, nullable=False),
    Column("times", LargeBinary, nullable=False),
)

tags = Table(
    "tags",
    metadata,
    _run_fk(),
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("note_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("created", Float, nullable=False),
    Column("text", Text, nullable=False),
    Index(None, "run_id"),
)

artifacts = Table(
    "artifacts",
    metadata,
    _run_fk(),
    Column("name", String, primary_key=True),
    Column("mime", String, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uri", Text, nullable=False),
    Column("created", Float, nullable=False),
    Index(None, "sha256"),
)
