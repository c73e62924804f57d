"""``nbtrack ls``: the runs table, its columns, filters, ordering and limits."""

from __future__ import annotations

from pathlib import Path

import pytest

import nbtrack
from nbtrack.api import Session

from .support import CliRunner, table_rows


@pytest.mark.usefixtures("three_runs")
def test_ls_lists_runs_newest_first_with_the_columns_that_vary(cli: CliRunner) -> None:
    result = cli("ls")
    assert result.code == 0
    header, *rows = table_rows(result.out)
    assert header[:6] == ["#", "name", "experiment", "status", "start", "duration"]
    assert [row[0] for row in rows] == ["#3", "#2", "#1"]
    assert {"params.lr", "params.optimizer", "metrics.acc"} <= set(header)
    # batch_size, the final loss and the stage tag are the same in every run: hidden, and said so.
    assert not {"params.batch_size", "metrics.loss", "tags.stage"} & set(header)
    assert "same value in every run" in result.err
    wide = dict(zip(header, rows[1], strict=True))
    assert wide["name"] == "wide"
    assert wide["experiment"] == "mnist"
    assert wide["status"] == "FINISHED"
    assert wide["params.lr"] == "0.01"
    assert wide["params.optimizer"] == "adam"
    assert wide["metrics.acc"] == "0.92"
    assert wide["start"].endswith("s ago")


@pytest.mark.usefixtures("three_runs")
def test_ls_filter_order_and_limit_pick_and_sort_runs(cli: CliRunner) -> None:
    result = cli("ls", "-f", "metrics.acc > 0.82", "-o", "metrics.acc DESC")
    assert [row[0] for row in table_rows(result.out)[1:]] == ["#2", "#3"]
    result = cli("ls", "-o", "metrics.acc", "-n", "2")
    assert [row[0] for row in table_rows(result.out)[1:]] == ["#1", "#3"]
    assert "-n 0 shows all" in result.err
    result = cli("ls", "-e", "cifar")
    assert [row[0] for row in table_rows(result.out)[1:]] == ["#3"]


@pytest.mark.usefixtures("three_runs")
def test_ls_limit_zero_shows_every_run(cli: CliRunner) -> None:
    result = cli("ls", "-n", "0")
    assert len(table_rows(result.out)) == 4
    assert "-n 0" not in result.err


@pytest.mark.usefixtures("three_runs")
def test_ls_columns_option_takes_full_or_unambiguous_bare_names(cli: CliRunner) -> None:
    result = cli("ls", "-c", "batch_size,metrics.acc")
    header = table_rows(result.out)[0]
    assert header[6:] == ["params.batch_size", "metrics.acc"]


@pytest.mark.usefixtures("three_runs")
def test_ls_unknown_column_is_an_error_naming_the_known_ones(cli: CliRunner) -> None:
    result = cli("ls", "-c", "accuracy")
    assert result.code == 1
    assert result.err.startswith("nbtrack: error: no column 'accuracy'")
    assert "metrics.acc" in result.err


@pytest.mark.usefixtures("three_runs")
def test_ls_all_columns_includes_constant_ones(cli: CliRunner) -> None:
    header = table_rows(cli("ls", "--all-columns").out)[0]
    assert {"params.batch_size", "tags.stage"} <= set(header)


@pytest.mark.usefixtures("three_runs")
def test_ls_leaves_out_columns_that_do_not_fit_the_terminal(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    result = cli("ls")
    assert all(len(line) <= 72 for line in result.out.splitlines())
    assert "did not fit" in result.err
    assert table_rows(result.out)[0][:6] == ["#", "name", "experiment", "status", "start", "duration"]


@pytest.mark.usefixtures("three_runs")
def test_ls_bad_filter_exits_1_showing_where_the_mistake_is(cli: CliRunner) -> None:
    result = cli("ls", "-f", "metrics.acc >> 3")
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("nbtrack: error: expected a value after '>'")
    assert "(at position 13)" in result.err
    assert "  metrics.acc >> 3\n" in result.err
    assert "Traceback" not in result.err


def test_ls_on_an_empty_store_says_there_are_no_runs_yet(cli: CliRunner, session: Session) -> None:
    session.store()  # creates the store, with no runs
    result = cli("ls")
    assert result.code == 0
    assert result.out.startswith("no runs yet in sqlite:///")


def test_ls_on_a_missing_store_says_no_runs_and_creates_nothing(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere" / "nbtrack.db"
    result = cli("ls", "--store", str(missing))
    assert result.code == 0
    assert result.out == f"no runs yet in sqlite:///{missing}\n"
    assert not missing.parent.exists()


@pytest.mark.usefixtures("three_runs")
def test_ls_with_a_filter_matching_nothing_says_so(cli: CliRunner) -> None:
    result = cli("ls", "-f", "metrics.acc > 2")
    assert result.code == 0
    assert result.out.startswith("no runs match")


@pytest.mark.usefixtures("session")
def test_ls_makes_control_characters_in_names_harmless(cli: CliRunner) -> None:
    with nbtrack.start_run(name="evil\x1b[2J\nname"):
        pass
    result = cli("ls")
    assert "\x1b" not in result.out
    assert len(result.out.splitlines()) == 2
    assert "evil?[2J name" in result.out


@pytest.mark.usefixtures("three_runs")
def test_ls_end_to_end_in_a_subprocess(cli_process: CliRunner) -> None:
    result = cli_process("ls", "-o", "metrics.acc DESC")
    assert result.code == 0, result.err
    assert [row[1] for row in table_rows(result.out)[1:]] == ["wide", "tiny", "baseline"]
