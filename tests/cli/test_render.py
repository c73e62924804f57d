"""Text formatting used by the commands: values, durations, times, sizes and tables."""

from __future__ import annotations

import math
import time

import pytest

from nbtrack.cli.render import (
    Column,
    clip,
    fit_columns,
    format_value,
    human_duration,
    human_size,
    plural,
    printable,
    relative_time,
    render_pairs,
    render_table,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (math.nan, ""),
        (True, "True"),
        (3, "3"),
        (0.123456, "0.1235"),
        (1e-8, "1e-08"),
        ([64, 32], "[64,32]"),
        ({"a": 1}, '{"a":1}'),
        ("adam", "adam"),
    ],
)
def test_format_value_is_short_and_uses_json_for_containers(value: object, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (math.nan, "-"),
        (0.42, "0.4s"),
        (12.4, "12s"),
        (185, "3m05s"),
        (8040, "2h14m"),
        (3 * 86400 + 4 * 3600, "3d04h"),
    ],
)
def test_human_duration_is_compact(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


def test_relative_time_counts_back_then_gives_the_date() -> None:
    now = time.time()
    assert relative_time(now - 42, now) == "42s ago"
    assert relative_time(now - 300, now) == "5m ago"
    assert relative_time(now - 3 * 3600, now) == "3h ago"
    assert relative_time(now - 2 * 86400, now) == "2d ago"
    old = now - 30 * 86400
    assert relative_time(old, now) == time.strftime("%Y-%m-%d", time.localtime(old))


def test_sizes_and_plurals() -> None:
    assert human_size(512) == "512 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(3 * 1024**3) == "3.0 GiB"
    assert plural(1, "run") == "1 run"
    assert plural(0, "run") == "0 runs"


def test_printable_defuses_escape_sequences_and_newlines() -> None:
    assert printable("a\x1b[31mb\nc\td") == "a?[31mb c d"
    assert printable("one\ntwo", keep_newlines=True) == "one\ntwo"


def test_tables_align_clip_and_fit() -> None:
    columns = [
        Column("#", ["#1", "#12"], right=True),
        Column("name", ["a-very-long-run-name", "b"], max_width=8),
        Column("metrics.acc", ["0.9", "0.85"], right=True),
    ]
    assert render_table(columns) == [
        "  #  name      metrics.acc",
        " #1  a-very-…          0.9",
        "#12  b                0.85",
    ]
    assert clip("abcdef", 4) == "abc…"
    assert fit_columns(columns, fixed=2, max_width=20) == 2
    assert fit_columns(columns, fixed=2, max_width=26) == 3
    assert fit_columns(columns, fixed=2, max_width=None) == 3
    assert fit_columns(columns, fixed=2, max_width=3) == 2  # the fixed columns always stay


def test_render_pairs_aligns_values_and_indents_continuations() -> None:
    assert render_pairs([("id", "abc"), ("notebook", "x\ny")]) == [
        "  id        abc",
        "  notebook  x",
        "            y",
    ]
