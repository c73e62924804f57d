"""Runs started in the background (as %%track starts them): reserved numbers, and comparisons that
read unsaved runs from memory instead of writing them on the caller's thread."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from nbtrack.model import RunPlace, UnsavedMetric
from nbtrack.query.standing import metric_standing
from nbtrack.store import reservation
from nbtrack.store.reservation import SeqReservation
from nbtrack.testing import isolated_session


def _stored_runs(store_path: Path) -> list[int]:
    with sqlite3.connect(store_path) as conn:
        return [row[0] for row in conn.execute("SELECT seq FROM runs ORDER BY seq")]


def _counter(store_path: Path) -> int:
    with sqlite3.connect(store_path) as conn:
        return int(conn.execute("SELECT value FROM counters").fetchone()[0])


def test_after_one_background_run_is_written_the_next_ones_know_their_number_without_store_io(
    store_path: Path,
) -> None:
    with isolated_session(store_path, flush_interval=3600) as session:  # the writer never flushes alone
        tracker = session.tracker
        first = tracker.start_run(background=True)
        assert first.seq == 1  # no number held yet: this waits for the run's row
        first.end()
        numbers = []
        # Hold the writer's flush lock: a start that needed the store would wait for it forever. (Half
        # way through the block the tracker wakes the writer to take more numbers; it waits here too.)
        with tracker.writer.exclusive():
            for _ in range(reservation.BLOCK - 1):
                run = tracker.start_run(background=True)
                numbers.append(run.seq)  # known at once, from the numbers taken with run 1
                run.end(wait=False)
            assert numbers == list(range(2, reservation.BLOCK + 1))
            assert _stored_runs(store_path) == [1]  # nothing was written for them yet
        tracker.writer.flush()
        assert _stored_runs(store_path) == list(range(1, reservation.BLOCK + 1))


def test_numbers_held_at_exit_are_given_back_so_the_next_process_has_no_gap(store_path: Path) -> None:
    with isolated_session(store_path, flush_interval=3600) as session:
        run = session.tracker.start_run(background=True)
        run.end()  # written, with numbers taken ahead
        assert _counter(store_path) > 1
    assert _counter(store_path) == 1  # closing the session gave them back
    with isolated_session(store_path) as session:
        assert session.tracker.start_run().seq == 2


def test_numbers_are_not_given_back_once_another_process_took_a_later_one(store_path: Path) -> None:
    with isolated_session(store_path, flush_interval=3600) as session:
        session.tracker.start_run(background=True).end()
        held = _counter(store_path)
        with sqlite3.connect(store_path) as conn:  # another process takes the next number meanwhile
            conn.execute("UPDATE counters SET value = value + 1")
    assert _counter(store_path) == held + 1  # left alone: the held numbers are skipped, never reused


def test_a_reserved_number_taken_meanwhile_gives_the_run_the_next_free_one(
    store_path: Path, caplog: Any
) -> None:
    with isolated_session(store_path, flush_interval=3600) as session:
        tracker = session.tracker
        tracker.start_run(background=True).end()
        run = tracker.start_run(background=True)
        assert run.seq == 2
        with sqlite3.connect(store_path) as conn:  # e.g. the store file was restored from a copy
            conn.execute(
                "INSERT INTO runs (run_id, seq, experiment_id, status, start_time) "
                "VALUES ('intruder', 2, 1, 'FINISHED', 0)"
            )
        with caplog.at_level(logging.WARNING, logger="nbtrack"):
            run.end()
        assert run.seq > 2
        assert "#2 was taken" in caplog.text
        assert sorted(_stored_runs(store_path)) == [1, 2, run.seq]


def test_a_forked_child_never_uses_its_parents_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = SeqReservation()
    numbers.hold(range(5, 9))
    assert numbers.take() == 5
    monkeypatch.setattr(os, "getpid", lambda: -1)  # what the child sees
    assert numbers.take() is None
    assert numbers.wanted(1) == reservation.BLOCK


def test_a_burst_of_runs_makes_the_process_hold_more_numbers_up_to_a_bound() -> None:
    numbers = SeqReservation()
    assert numbers.wanted(1) == reservation.BLOCK  # one run at a time: a small block
    numbers.hold(range(1, reservation.BLOCK + 1))
    assert numbers.wanted(1) == 0
    assert numbers.wanted(10) == 20 - reservation.BLOCK  # ten runs in one flush: twice that
    numbers.hold(range(100, 116))
    assert numbers.wanted(1000) == reservation.MAX_BLOCK - 20  # never more than the bound
    numbers.hold(range(200, 200 + reservation.MAX_BLOCK - 20))
    assert not numbers.low()
    for _ in range(reservation.MAX_BLOCK // 2):
        numbers.take()
    assert not numbers.low()
    numbers.take()
    assert numbers.low()  # fewer than half left: the tracker wakes the writer to take more


def test_comparison_reads_an_unsaved_earlier_run_from_memory(store_path: Path) -> None:
    with isolated_session(store_path, flush_interval=3600) as session:
        tracker = session.tracker
        cell = {"notebook": "nb.ipynb", "cell_id": "c1"}
        first = tracker.start_run(background=True, experiment="e", **cell)
        first.log(acc=0.7)
        first.end()  # written: the next runs know their numbers
        second = tracker.start_run(background=True, experiment="e", **cell)
        second.log(acc=0.9)
        second.end(wait=False)
        third = tracker.start_run(background=True, experiment="e", **cell)
        unsaved = tracker.writer.for_comparison(besides=third.sink)
        assert [sink.seq for sink, _, _ in unsaved] == [second.seq]
        assert _stored_runs(store_path) == [1]  # the comparison wrote nothing
        sink, row, experiment = unsaved[0]
        has_key, last = sink.last_buffered("acc")
        assert has_key and last == 0.9
        place = RunPlace(third.id, third.seq, "e", "nb.ipynb", "c1")
        there = RunPlace(sink.run_id, second.seq, experiment, row["notebook"], row["cell_id"])
        standing = metric_standing(session.store(), place, "acc", 0.8, [UnsavedMetric(there, last)])
        assert standing.best_other == 0.9 and not standing.is_best
        assert (standing.previous_seq, standing.previous_value) == (second.seq, 0.9)


def test_comparison_writes_first_when_part_of_an_earlier_run_is_already_stored(store_path: Path) -> None:
    with isolated_session(store_path, flush_interval=3600) as session:
        tracker = session.tracker
        earlier = tracker.start_run(background=True, experiment="e")
        earlier.log(acc=0.95)
        tracker.writer.flush()  # the run and a first value are in the store
        earlier.log(acc=0.5)  # its final value is only in memory
        earlier.end(wait=False)
        mine = tracker.start_run(background=True, experiment="e")
        assert tracker.writer.for_comparison(besides=mine.sink) == []  # it wrote the rest instead
        standing = metric_standing(session.store(), RunPlace(mine.id, mine.seq, "e"), "acc", 0.6)
        assert standing.best_other == 0.5  # the final value, not the stale 0.95


def test_comparison_of_one_metric_writes_nothing_for_unsaved_points_of_other_metrics(
    store_path: Path,
) -> None:
    with isolated_session(store_path, flush_interval=3600) as session:
        tracker = session.tracker
        earlier = tracker.start_run(background=True, experiment="e")
        earlier.log(acc=0.95)
        tracker.writer.flush()  # the run and its acc are in the store
        earlier.log(loss=0.5)  # a point of another metric, only in memory
        earlier.end(wait=False)
        mine = tracker.start_run(background=True, experiment="e")
        assert tracker.writer.for_comparison(besides=mine.sink, key="acc") == []
        assert earlier.sink.buffered() == 1  # not written on the caller's thread
        standing = metric_standing(session.store(), RunPlace(mine.id, mine.seq, "e"), "acc", 0.6)
        assert standing.best_other == 0.95
        assert tracker.writer.for_comparison(besides=mine.sink, key="loss") == []
        assert earlier.sink.buffered() == 0  # its loss would change that comparison: written first
