"""``nbtrack export``: CSV, JSON and Parquet that read back through pandas."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import nbtrack

from .support import CliRunner


@pytest.fixture
def mixed_runs(three_runs: list[nbtrack.Run]) -> list[nbtrack.Run]:
    """The three sample runs plus one with a list param and a param of another type."""
    with nbtrack.start_run(name="odd", params={"lr": "auto", "layers": [64, 32]}) as run:
        run.log(acc=0.5)
    return [*three_runs, run]


def test_export_csv_to_stdout_round_trips_through_pandas(
    cli: CliRunner, mixed_runs: list[nbtrack.Run]
) -> None:
    result = cli("export")
    assert result.code == 0, result.err
    frame = pd.read_csv(io.StringIO(result.out))
    assert frame["run_id"].tolist() == [run.id for run in reversed(mixed_runs)]
    assert frame["seq"].tolist() == [4, 3, 2, 1]
    assert frame["metrics.acc"].tolist() == pytest.approx([0.5, 0.85, 0.92, 0.80])
    assert frame["params.optimizer"].tolist()[1:] == ["adam", "adam", "sgd"]
    # A list param, and a param that is text in one run and a number in others, are kept as JSON.
    assert json.loads(frame["params.layers"][0]) == [64, 32]
    assert frame["params.lr"].astype(str).tolist() == ["auto", "0.001", "0.01", "0.1"]
    assert pd.to_datetime(frame["start_time"]).dt.tz is not None


def test_export_json_is_records_with_iso_dates(cli: CliRunner, mixed_runs: list[nbtrack.Run]) -> None:
    result = cli("export", "--format", "json")
    records = json.loads(result.out)
    assert [r["seq"] for r in records] == [4, 3, 2, 1]
    assert records[0]["params.layers"] == [64, 32]
    assert records[0]["params.lr"] == "auto"
    assert records[1]["params.lr"] == 0.001
    assert records[0]["start_time"].endswith("Z")
    assert pd.Timestamp(records[0]["start_time"]).timestamp() == pytest.approx(
        mixed_runs[-1].start_time, abs=0.002
    )
    frame = pd.read_json(io.StringIO(result.out), orient="records")
    assert len(frame) == 4


def test_export_parquet_format_comes_from_the_file_suffix(
    cli: CliRunner, mixed_runs: list[nbtrack.Run], tmp_path: Path
) -> None:
    target = tmp_path / "runs.parquet"
    result = cli("export", "-o", str(target))
    assert result.code == 0, result.err
    assert result.out == ""
    assert "wrote 4 runs" in result.err
    frame = pd.read_parquet(target)
    assert frame["run_id"].tolist() == [run.id for run in reversed(mixed_runs)]
    assert frame["metrics.acc"].tolist() == pytest.approx([0.5, 0.85, 0.92, 0.80])
    assert str(frame["start_time"].dt.tz) == "UTC"


@pytest.mark.usefixtures("three_runs")
def test_export_to_files_honours_filter_and_experiment(cli: CliRunner, tmp_path: Path) -> None:
    cli("export", "-f", "metrics.acc > 0.82", "-o", str(tmp_path / "good.csv"))
    assert pd.read_csv(tmp_path / "good.csv")["name"].tolist() == ["tiny", "wide"]
    cli("export", "-e", "mnist", "-o", str(tmp_path / "mnist.json"))
    assert [r["name"] for r in json.loads((tmp_path / "mnist.json").read_text())] == ["wide", "baseline"]


@pytest.mark.usefixtures("three_runs")
def test_export_parquet_needs_a_file(cli: CliRunner) -> None:
    result = cli("export", "--format", "parquet")
    assert result.code == 1
    assert "-o FILE.parquet" in result.err


@pytest.mark.usefixtures("three_runs")
def test_export_parquet_without_pyarrow_says_what_to_install(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail
    result = cli("export", "-o", str(tmp_path / "runs.parquet"))
    assert result.code == 1
    assert "pip install 'nbtrack[parquet]'" in result.err
    assert not (tmp_path / "runs.parquet").exists()


@pytest.mark.usefixtures("three_runs")
def test_export_to_a_file_with_an_unknown_suffix_asks_for_format(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("export", "-o", str(tmp_path / "runs.txt"))
    assert result.code == 1
    assert "--format" in result.err
    assert cli("export", "-o", str(tmp_path / "runs.txt"), "--format", "csv").code == 0


@pytest.mark.usefixtures("three_runs")
def test_export_to_an_unwritable_place_is_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("export", "-o", str(tmp_path / "no" / "such" / "dir" / "runs.csv"))
    assert result.code == 1
    assert result.err.startswith("nbtrack: error: cannot write")
