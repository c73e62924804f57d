"""The runs DataFrame keeps every value, its type and its row: params of every kind (mixed per key,
lists, dicts, NaN, ints beyond 2**63), keys and tag values with quotes, backslashes, control and
separator characters, missing values, NaN metrics -- on SQLite and PostgreSQL, and through the
per-value path the frame takes on other databases."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.errors import NbtrackWarning
from nbtrack.query import frames
from nbtrack.testing import isolated_session

ODD_KEYS = ['say "hi"', "back\\slash", "sep\x1ekey", "ctl\x01\n\tkey", "ünïcødé ✓", "comma,colon:"]

PARAMS: dict[str, Any] = {
    "int": 3,
    "big": 2**70,
    "neg": -(2**63),
    "float": 0.1,
    "tiny": 5e-324,
    "nan": math.nan,
    "inf": -math.inf,
    "negzero": -0.0,
    "yes": True,
    "no": False,
    "none": None,
    "text": 'a "quoted" \\ back\x1eslash\n\ttab é ✓ [1, 2]',
    "empty": "",
    "number_text": "3",
    "list": [1, "a", None, [2.5, True], {"k": "v"}],
    "dict": {"k": [1, 2], 'q"': {"n": None}, "f": 1.5},
    "tuple": (1, 2),
    "empty_list": [],
    **{key: i for i, key in enumerate(ODD_KEYS)},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A fresh default session on a SQLite file, then on a PostgreSQL database."""
    url = (
        str(tmp_path / "nbtrack.db") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    with isolated_session(url) as session:
        yield session


def same(a: Any, b: Any) -> bool:
    """Equal values of the same type (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def _mixed_runs() -> list[nbtrack.Run]:
    """Four runs whose params, metrics and tags differ in type and presence from run to run."""
    made = []
    for params, metrics, tags in [
        ({"lr": 0.1, "opt": "adam", "layers": [64, 32]}, {"loss": 0.5, "acc": 0.9}, {"team": "a"}),
        ({"lr": "auto", "layers": {"depth": 2}}, {"loss": math.nan}, {"team": 'b "q"', "note": "x\x1ey"}),
        ({"lr": 3, "opt": None, "layers": None}, {"acc": 0.25}, {}),
        ({}, {}, {"team": ""}),
    ]:
        with nbtrack.start_run(params=params, tags=tags) as run:
            if metrics:
                run.log(metrics)
        made.append(run)
    return made


def test_every_kind_of_param_value_reads_back_as_get_run_reads_it(any_store: Session) -> None:
    with pytest.warns(NbtrackWarning, match="not JSON-representable"):
        run = nbtrack.start_run(params={**PARAMS, "object": object()})
    run.end()
    frame = nbtrack.runs()
    row = {column: frame[column].tolist()[0] for column in frame.columns}  # Python values, not numpy's
    stored = nbtrack.get_run(run.seq).params
    assert sorted(k for k in row if k.startswith("params.")) == sorted(f"params.{k}" for k in stored)
    for key, value in stored.items():
        assert same(row[f"params.{key}"], value), key
    assert row["params.big"] == 2**70 and row["params.tuple"] == [1, 2]
    assert math.copysign(1, row["params.negzero"]) == -1  # as logged (SQLite's REAL column drops the sign)
    assert str(row["params.object"]).startswith("<object object at")


def test_a_param_of_several_types_across_runs_keeps_each_value_and_missing_is_none(
    any_store: Session,
) -> None:
    _mixed_runs()
    frame = nbtrack.runs(order_by="seq")
    assert frame["params.lr"].dtype == object
    assert [same(a, b) for a, b in zip(frame["params.lr"], [0.1, "auto", 3, None], strict=True)] == [True] * 4
    assert frame["params.layers"].tolist() == [[64, 32], {"depth": 2}, None, None]
    assert frame["params.opt"].iloc[0] == "adam"
    assert frame["params.opt"].iloc[1:].isna().all()


def test_columns_of_one_type_get_that_dtype(any_store: Session) -> None:
    for i in range(3):
        nbtrack.start_run(params={"n": i, "f": i / 2, "b": i % 2 == 0, "s": f"v{i}", "gap": i or None}).end()
    frame = nbtrack.runs(order_by="seq")
    assert frame["params.n"].dtype == "int64" and frame["params.n"].tolist() == [0, 1, 2]
    assert frame["params.f"].dtype == "float64"
    assert frame["params.b"].dtype == bool and frame["params.b"].tolist() == [True, False, True]
    assert frame["params.s"].tolist() == ["v0", "v1", "v2"]
    assert frame["params.gap"].dtype == "float64"  # ints with a missing value: NaN, as pandas makes them
    assert math.isnan(frame["params.gap"].iloc[0]) and frame["params.gap"].iloc[1:].tolist() == [1.0, 2.0]
    assert frame["seq"].dtype == "int64" and frame["duration"].dtype == "float64"


def test_nan_and_missing_metrics_are_nan_in_a_float_column(any_store: Session) -> None:
    _mixed_runs()
    frame = nbtrack.runs(order_by="seq")
    assert frame["metrics.loss"].dtype == "float64" and frame["metrics.acc"].dtype == "float64"
    loss, acc = frame["metrics.loss"].tolist(), frame["metrics.acc"].tolist()
    assert loss[0] == 0.5 and all(math.isnan(v) for v in loss[1:])  # NaN last value, then no metric
    assert acc[0] == 0.9 and math.isnan(acc[1]) and acc[2] == 0.25 and math.isnan(acc[3])


def test_tags_keep_quotes_separators_and_empty_values_and_missing_is_na(any_store: Session) -> None:
    _mixed_runs()
    frame = nbtrack.runs(order_by="seq")
    assert frame["tags.team"].tolist() == ["a", 'b "q"', None, ""] or (
        frame["tags.team"].iloc[[0, 1, 3]].tolist() == ["a", 'b "q"', ""]
        and pd.isna(frame["tags.team"].iloc[2])
    )
    assert frame["tags.note"].iloc[1] == "x\x1ey"
    assert frame["tags.note"].drop(index=1).isna().all()


def test_a_separator_in_both_a_tag_key_and_its_value_is_not_mistaken_for_two_tags(any_store: Session) -> None:
    with nbtrack.start_run(tags={"a\x1eb": "x\x1ey", "c": "d"}):
        pass
    row = nbtrack.runs().iloc[0]
    assert row["tags.a\x1eb"] == "x\x1ey" and row["tags.c"] == "d"
    assert "tags.a" not in row.index and "tags.b" not in row.index


def test_without_string_aggregation_the_frame_is_the_same(
    any_store: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mixed_runs()
    with pytest.warns(NbtrackWarning):
        nbtrack.start_run(params={**PARAMS, "object": object()}).end()
    aggregated = nbtrack.runs()
    monkeypatch.setattr(frames, "_string_agg", lambda dialect: None)  # as on a database without it
    pd.testing.assert_frame_equal(nbtrack.runs(), aggregated, check_exact=True)


def test_a_page_with_some_columns_has_the_same_values_as_the_whole_frame(any_store: Session) -> None:
    _mixed_runs()
    whole = nbtrack.runs(order_by="seq")
    store = any_store.reconciled()
    wanted = ["params.lr", "params.layers", "metrics.acc", "tags.team", "params.absent"]
    page = frames.runs_frame(store, frames.select_runs(order_by="seq", limit=2, offset=1), wanted)
    assert list(page.columns[8:]) == ["params.layers", "params.lr", "metrics.acc", "tags.team"]
    for column in page.columns[8:]:
        expected = whole[column].iloc[1:3].tolist()
        assert all(
            same(a, b) or (pd.isna(a) and pd.isna(b)) for a, b in zip(page[column], expected, strict=True)
        )


def test_the_cycle_collector_is_left_as_it_was(any_store: Session) -> None:
    import gc

    _mixed_runs()
    nbtrack.runs()
    assert gc.isenabled()
    gc.disable()
    try:
        nbtrack.runs()
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
