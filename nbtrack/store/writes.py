"""Write operations on a store: experiments, run creation (with its human ``seq``), batched writes.

The background writer hands one :class:`Batch` per flush to :func:`write_batch`, which lands it in a
single transaction: either all of a flush is persisted or none of it is (and the writer retries).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbtrack.model import Status
from nbtrack.store import schema as t
from nbtrack.store.prepared import Prepared
from nbtrack.store.store import Store

if TYPE_CHECKING:
    from nbtrack.store.chunks import EncodedChunk  # numpy loads with the first flush, not here

_CREATE_ATTEMPTS = 8
_log = logging.getLogger("nbtrack")


@dataclass
class Batch:
    """Everything one flush writes, as rows ready for the tables."""

    chunks: list[tuple[str, str, int, EncodedChunk]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    params: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    ends: list[dict[str, Any]] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)  # {"run_id": ..., column: value}
    heartbeats: list[str] = field(default_factory=list)
    creates: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (run columns, experiment)
    # filled by write_batch: the (seq, experiment id) of each create
    created: list[tuple[int, int]] = field(default_factory=list)
    reserve: int = 0  # also take this many run numbers ahead, for the store's SeqReservation

    def __bool__(self) -> bool:
        return any(
            (
                self.creates,
                self.chunks,
                self.summaries,
                self.params,
                self.tags,
                self.notes,
                self.artifacts,
                self.ends,
                self.attributes,
                self.heartbeats,
            )
        )


@functools.lru_cache(maxsize=32)
def _upsert_statement(dialect: str, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE, built once per dialect and table."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
    )


@functools.lru_cache(maxsize=32)
def _prepared_upsert(dialect: str, table: sa.Table) -> tuple[Prepared, dict[str, None]]:
    return Prepared(_upsert_statement(dialect, table)), {c.name: None for c in table.columns}


def upsert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing the non-key columns of rows whose primary key exists.

    A column a row leaves out is written as NULL (nbtrack's tables have no column defaults).
    """
    if rows:
        prepared, empty = _prepared_upsert(conn.dialect.name, table)
        prepared.many(conn, [{**empty, **row} for row in rows])


def experiment_id(conn: sa.Connection, name: str) -> int:
    """The id of experiment ``name``, created if it does not exist yet."""
    found = conn.execute(
        sa.select(t.experiments.c.experiment_id).where(t.experiments.c.name == name)
    ).scalar()
    if found is not None:
        return int(found)
    result = conn.execute(
        t.experiments.insert().values(name=name, created=time.time()).returning(t.experiments.c.experiment_id)
    )
    return int(result.scalar_one())


def create_run(store: Store, run: dict[str, Any], experiment: str) -> int:
    """Insert a RUNNING run (``run`` holds its columns but seq/experiment_id); return its seq."""
    with store.translate("create a run in"):
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                with store.engine.connect().execution_options(nbtrack_write=True) as conn:
                    with conn.begin():
                        seq, exp_id = insert_run(conn, store, run, experiment)
                    store.experiment_ids[experiment] = exp_id
                    return seq
            except sa.exc.IntegrityError:
                store.experiment_ids.pop(experiment, None)
                # Another process took this seq or created this experiment at the same moment
                # (PostgreSQL; SQLite serialises writers): try again with fresh numbers.
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


def insert_run(conn: sa.Connection, store: Store, run: dict[str, Any], experiment: str) -> tuple[int, int]:
    """Insert a RUNNING run in ``conn``'s write transaction; return its seq and experiment id.

    A run whose ``seq`` was reserved ahead of time keeps it, unless the number is taken after all (the
    store was restored from a copy, say): it then gets the next free one, with a log record.
    """
    exp_id = store.experiment_ids.get(experiment)
    if exp_id is None:
        exp_id = experiment_id(conn, experiment)
    row = {**_EMPTY_RUN, **run}
    row.update(experiment_id=exp_id, status=Status.RUNNING.value)
    reserved = run.get("seq")
    if reserved is not None:
        if _insert_run_if_free(conn.dialect.name).execute(conn, row):  # no row back: number taken
            return reserved, exp_id
        _log.warning("nbtrack: run number #%s was taken meanwhile; the run gets the next one", reserved)
    row["seq"] = _next_seq(conn)
    _INSERT_RUN.execute(conn, row)
    return row["seq"], exp_id


@functools.lru_cache(maxsize=4)
def _insert_run_if_free(dialect: str) -> Prepared:
    """INSERT INTO runs ... ON CONFLICT (seq) DO NOTHING RETURNING seq, for one dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = postgresql.insert(t.runs) if dialect == "postgresql" else sqlite.insert(t.runs)
    return Prepared(stmt.on_conflict_do_nothing(index_elements=["seq"]).returning(t.runs.c.seq))


def release_reserved_seqs(store: Store) -> None:
    """Give back the store's reserved run numbers if nobody took a later one (at exit: no gap)."""
    numbers = store.reserved_seqs.release()
    if numbers is not None:
        with store.write() as conn:
            _GIVE_BACK_SEQS.execute(conn, {"first": numbers.start, "last": numbers[-1]})


def _next_seq(conn: sa.Connection) -> int:
    """Take the next run number (the UPDATE locks the counter row until the transaction ends)."""
    return int(_NEXT_SEQ.execute(conn)[0][0])


def _take_seqs(conn: sa.Connection, count: int) -> range:
    """Take the next ``count`` run numbers at once."""
    last = int(_NEXT_SEQS.execute(conn, {"count": count})[0][0])
    return range(last - count + 1, last + 1)


_INSERT_RUN = Prepared(t.runs.insert())
_INSERT_CHUNK = Prepared(t.metric_chunks.insert())
_EMPTY_RUN = {c.name: None for c in t.runs.columns}

_NEXT_SEQ = Prepared(
    t.counters.update()
    .where(t.counters.c.name == t.RUN_SEQ_COUNTER)
    .values(value=t.counters.c.value + 1)
    .returning(t.counters.c.value)
)
_NEXT_SEQS = Prepared(
    t.counters.update()
    .where(t.counters.c.name == t.RUN_SEQ_COUNTER)
    .values(value=t.counters.c.value + sa.bindparam("count", type_=sa.BigInteger))
    .returning(t.counters.c.value)
)
_GIVE_BACK_SEQS = Prepared(
    t.counters.update()
    .where(t.counters.c.name == t.RUN_SEQ_COUNTER, t.counters.c.value == sa.bindparam("last"))
    .values(value=sa.bindparam("first", type_=sa.Integer) - 1)
)
_END_RUN = Prepared(
    t.runs.update()
    .where(t.runs.c.run_id == sa.bindparam("b_run_id"))
    .values(
        status=sa.bindparam("b_status"), end_time=sa.bindparam("b_end_time"), error=sa.bindparam("b_error")
    )
)


@functools.lru_cache(maxsize=64)
def _set_columns(columns: tuple[str, ...]) -> Prepared:
    """``UPDATE runs SET <columns> WHERE run_id = ?``, one prepared statement per set of columns."""
    return Prepared(
        t.runs.update()
        .where(t.runs.c.run_id == sa.bindparam("b_run_id"))
        .values({name: sa.bindparam(f"b_{name}") for name in columns})
    )


def write_batch(store: Store, batch: Batch) -> None:
    """Persist one flush in a single transaction."""
    ids: dict[str, int] = {}
    with store.write() as conn:
        for run, experiment in batch.creates:  # first: everything else in the batch may refer to them
            seq, ids[experiment] = insert_run(conn, store, run, experiment)
            batch.created.append((seq, ids[experiment]))
        reserved = _take_seqs(conn, batch.reserve) if batch.reserve else None
        if any(row.get("experiment_id") is None for row in batch.summaries):
            _fill_experiment_ids(conn, batch)
        _INSERT_CHUNK.many(
            conn,
            [
                {
                    "run_id": run_id,
                    "key": key,
                    "chunk": number,
                    "count": c.count,
                    "encoding": c.encoding,
                    "steps": c.steps,
                    "values": c.values,
                    "times": c.times,
                }
                for run_id, key, number, c in batch.chunks
            ],
        )
        upsert(conn, t.metric_summaries, batch.summaries)
        upsert(conn, t.params, batch.params)
        upsert(conn, t.tags, batch.tags)
        upsert(conn, t.artifacts, batch.artifacts)
        if batch.notes:
            conn.execute(t.notes.insert(), batch.notes)
        if batch.heartbeats:
            _heartbeat(conn, batch.heartbeats)
        for attrs in batch.attributes:
            columns = tuple(sorted(k for k in attrs if k != "run_id"))
            _set_columns(columns).execute(conn, {f"b_{k}": v for k, v in attrs.items()})
        _END_RUN.many(
            conn,
            [{f"b_{k}": end[k] for k in ("run_id", "status", "end_time", "error")} for end in batch.ends],
        )
    store.experiment_ids.update(ids)  # only once committed
    if reserved is not None:
        store.reserved_seqs.hold(reserved)


def _fill_experiment_ids(conn: sa.Connection, batch: Batch) -> None:
    """Set the ``experiment_id`` of summary rows whose run was created in this batch (or elsewhere)."""
    created = zip(batch.creates, batch.created, strict=True)
    known = {run["run_id"]: exp_id for (run, _), (_, exp_id) in created}
    missing = {row["run_id"] for row in batch.summaries if row.get("experiment_id") is None} - set(known)
    if missing:
        known.update(
            conn.execute(
                sa.select(t.runs.c.run_id, t.runs.c.experiment_id).where(t.runs.c.run_id.in_(missing))
            ).tuples()
        )
    for row in batch.summaries:
        if row.get("experiment_id") is None:
            row["experiment_id"] = known.get(row["run_id"])


def _heartbeat(conn: sa.Connection, run_ids: Sequence[str]) -> None:
    # A run wrongly reported CRASHED (e.g. a laptop that slept) comes back to RUNNING with its heartbeat.
    conn.execute(
        t.runs.update()
        .where(t.runs.c.run_id.in_(run_ids))
        .where(t.runs.c.status.in_([Status.RUNNING.value, Status.CRASHED.value]))
        .values(heartbeat=time.time(), status=Status.RUNNING.value, end_time=None)
    )


def update_run(store: Store, run_id: str, **values: Any) -> None:
    """Set columns of one run (attributes captured after start, e.g. source or context)."""
    with store.write() as conn:
        conn.execute(t.runs.update().where(t.runs.c.run_id == run_id).values(**values))


def delete_runs(store: Store, run_ids: Iterable[str]) -> int:
    """Delete runs and everything that belongs to them; artifact files are left to ``gc``."""
    ids = list(run_ids)
    deleted = 0
    with store.write() as conn:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            for table in (
                t.metric_chunks,
                t.metric_summaries,
                t.params,
                t.tags,
                t.notes,
                t.artifacts,
            ):
                conn.execute(table.delete().where(table.c.run_id.in_(part)))
            deleted += conn.execute(t.runs.delete().where(t.runs.c.run_id.in_(part))).rowcount
    return deleted
