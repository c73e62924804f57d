"""The run table widget, driven the way its browser half drives it: by setting traits and sending actions."""

from __future__ import annotations

import time
from typing import Any

import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.query.table import count_runs, table_columns, table_page
from nbtrack.ui.table import RunTable, parse_tags, static_table

XSS = "<img src=x onerror=alert(1)>"


def _make_runs(n: int = 6) -> list[Any]:
    made = []
    for i in range(n):
        with nbtrack.start_run(
            name=f"run-{i}",
            experiment="mnist" if i % 2 == 0 else "cifar",
            params={"lr": 0.1 / (i + 1), "batch": 32, "optim": "adam" if i < 3 else "sgd"},
        ) as run:
            run.log(loss=1.0 / (i + 1), acc=0.5 + i / 20)
            if i == 0:
                run.set_tags({"stage": "baseline"})
        made.append(run)
    return made


def _send(table: RunTable, **content: Any) -> None:
    table._on_action(table.view, content, [])


def test_table_shows_newest_first_with_status_and_columns_by_kind(session: Session) -> None:
    runs = _make_runs()
    table = nbtrack.table()
    view = table.view
    assert view.total == 6
    assert [r["seq"] for r in view.rows] == [r.seq for r in reversed(runs)]
    assert {r["status"] for r in view.rows} == {"FINISHED"}
    names = [c["name"] for c in view.columns]
    assert names == ["metrics.acc", "metrics.loss", "params.batch", "params.lr", "params.optim", "tags.stage"]
    varying = {c["name"] for c in view.columns if c["varying"]}
    assert varying == {"metrics.acc", "metrics.loss", "params.lr", "params.optim", "tags.stage"}
    first = view.rows[-1]
    assert first["values"]["params.optim"] == "adam" and first["values"]["tags.stage"] == "baseline"
    assert first["start_time"] == pytest.approx(runs[0].start_time)


def test_sorting_by_a_metric_column_orders_every_page(session: Session) -> None:
    _make_runs()
    table = nbtrack.table()
    table.view.page_size = 4
    table.view.sort = {"column": "metrics.loss", "descending": False}
    losses = [r["values"]["metrics.loss"] for r in table.view.rows]
    assert losses == sorted(losses) and len(losses) == 4
    table.view.page = 1
    rest = [r["values"]["metrics.loss"] for r in table.view.rows]
    assert len(rest) == 2 and min(rest) >= max(losses)


def test_a_bad_filter_is_shown_inline_and_keeps_the_rows(session: Session) -> None:
    _make_runs()
    table = nbtrack.table()
    table.view.filter = "metrics.loss <"
    assert "expected" in table.view.filter_error.lower() or "value" in table.view.filter_error.lower()
    assert table.view.total == 6 and len(table.view.rows) == 6
    table.view.filter = "params.optim = 'sgd' and metrics.acc > 0.66"
    assert table.view.filter_error == ""
    assert [r["name"] for r in table.view.rows] == ["run-5", "run-4"]
    table.view.filter = "nonsense ("
    table.view.page_size = 1  # pages still load with the filter last applied
    assert table.view.filter_error and [r["name"] for r in table.view.rows] == ["run-5"]


def test_a_bad_filter_given_in_python_raises_the_parser_error(session: Session) -> None:
    with pytest.raises(nbtrack.FilterError):
        nbtrack.table(filter="params.lr ==")


def test_only_what_differs_and_the_column_chooser_limit_what_is_loaded(session: Session) -> None:
    _make_runs()
    table = nbtrack.table()
    table.view.differs_only = True
    assert "params.batch" not in table.view.shown
    assert "params.batch" not in table.page_frame.columns
    table.view.hidden = ["metrics.acc"]
    assert "metrics.acc" not in table.view.shown and "metrics.acc" not in table.page_frame.columns
    assert all("metrics.acc" not in r["values"] for r in table.view.rows)
    table.view.differs_only = False
    assert "params.batch" in table.view.shown


def test_selection_is_exposed_to_python_and_compare_opens_the_panel_below(session: Session) -> None:
    runs = _make_runs(3)
    table = nbtrack.table()
    table.view.selected = [runs[0].id, runs[2].id]
    assert table.selected == [runs[0].id, runs[2].id]
    _send(table, action="compare", runs=[runs[2].id])
    assert "at least 2" in table.view.message
    _send(table, action="compare")
    assert table.comparison is not None
    assert len(table.output.outputs) == 1
    assert "application/vnd.jupyter.widget-view+json" in table.output.outputs[0]["data"]


def test_tag_note_and_delete_act_on_the_selected_runs(session: Session) -> None:
    runs = _make_runs(3)
    table = nbtrack.table()
    table.selected = [runs[1].id]
    _send(table, action="tag", text="reviewed=yes, owner=ann")
    assert nbtrack.get_run(runs[1].id).tags == {"reviewed": "yes", "owner": "ann"}
    assert "tags.reviewed" in [c["name"] for c in table.view.columns]
    _send(table, action="tag", text="oops")
    assert "key=value" in table.view.message
    _send(table, action="note", text="looks good")
    assert nbtrack.get_run(runs[1].id).notes == ["looks good"]
    _send(table, action="delete", runs=[runs[1].id])  # not confirmed: nothing happens
    assert table.view.total == 3 and "confirmation" in table.view.message
    _send(table, action="delete", runs=[runs[1].id], confirmed=True)
    assert table.view.total == 2 and table.selected == []
    with pytest.raises(nbtrack.RunNotFound):
        nbtrack.get_run(runs[1].id)


def test_restore_shows_the_code_of_exactly_one_run(session: Session) -> None:
    runs = _make_runs(2)
    table = nbtrack.table()
    _send(table, action="restore", runs=[r.id for r in runs])
    assert "exactly 1" in table.view.message
    _send(table, action="restore", runs=[runs[0].id])
    assert table.view.restored["seq"] == runs[0].seq
    assert table.view.restored["code"].startswith("%%track")


def test_new_runs_appear_on_refresh(session: Session) -> None:
    _make_runs(2)
    table = nbtrack.table()
    _make_runs(1)
    assert table.view.total == 2
    _send(table, action="refresh")
    assert table.view.total == 3


def test_ten_thousand_runs_load_one_page_of_visible_columns(session: Session) -> None:
    store = session.store()
    _bulk_runs(store, 10_000)
    columns = table_columns(store)
    assert columns.total == 10_001  # with the seed run that created the experiment
    assert columns.keys["params"] == ["p0", "p1", "p2", "p3", "p4"]
    page = table_page(store, order_by="metrics.`m0` DESC", offset=50, limit=50, columns=["metrics.m0"])
    assert page.total == 10_001 and len(page.frame) == 50
    assert list(page.frame.columns[-1:]) == ["metrics.m0"]
    assert "params.p0" not in page.frame.columns
    assert page.frame["metrics.m0"].is_monotonic_decreasing
    assert count_runs(store, "metrics.m0 >= 9990") == 10


def _bulk_runs(store: Any, n: int) -> None:
    """``n`` finished runs written straight into the store (what many sessions would have left)."""
    from nbtrack.store import schema as t
    from nbtrack.store.writes import create_run

    create_run(store, {"run_id": "seed", "start_time": 1.0, "heartbeat": 1.0}, "bulk")
    exp = store.experiment_ids["bulk"]
    now = time.time()
    runs = [
        {"run_id": f"r{i:06d}", "seq": 100 + i, "experiment_id": exp, "status": "FINISHED",
         "start_time": now - n + i, "end_time": now - n + i + 1, "heartbeat": now}
        for i in range(n)
    ]  # fmt: skip
    params = [
        {"run_id": f"r{i:06d}", "key": f"p{k}", "value_json": str(i % 7), "value_str": str(i % 7),
         "value_num": float(i % 7), "vtype": "int", "origin": "literal"}
        for i in range(n) for k in range(5)
    ]  # fmt: skip
    metrics = [
        {"run_id": f"r{i:06d}", "key": f"m{k}", "experiment_id": exp, "last": float(i), "last_step": 0,
         "min": float(i), "max": float(i), "count": 1, "last_time": now}
        for i in range(n) for k in range(3)
    ]  # fmt: skip
    with store.write() as conn:
        conn.execute(t.runs.insert(), runs)
        conn.execute(t.params.insert(), params)
        conn.execute(t.metric_summaries.insert(), metrics)


def test_every_user_string_is_escaped_in_the_static_table(session: Session) -> None:
    with nbtrack.start_run(name=XSS, experiment=XSS, params={XSS: XSS}) as run:
        run.log({XSS: 1.0})
    table = nbtrack.table()
    bundle = table._repr_mimebundle_()
    assert bundle is not None
    html = bundle["text/html"]
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert static_table(table._last_page, [], "a < b").count("&lt;") >= 1  # type: ignore[arg-type]


def test_tags_text_is_parsed_as_key_value_pairs() -> None:
    assert parse_tags("a=1, b=two c=") == {"a": "1", "b": "two", "c": ""}
    with pytest.raises(ValueError, match="key=value"):
        parse_tags("=x")
    with pytest.raises(ValueError, match="first"):
        parse_tags("  ")
