"""``nbtrack show``: everything about one run, found by number, id or id prefix."""

from __future__ import annotations

import pytest

import nbtrack

from .support import CliRunner


def test_show_prints_attributes_params_metric_summaries_tags_notes_and_artifacts(
    cli: CliRunner,
) -> None:
    with nbtrack.start_run(name="baseline", experiment="mnist", params={"lr": 0.1}) as run:
        for step in range(4):
            run.log(step=step, loss=1.0 / (step + 1))
        run.set_tags(stage="dev")
        run.note("first try\nwith dropout")
        run.log_artifact(b"weights", name="model.pkl")
    result = cli("show", "1")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "run #1 'baseline'  FINISHED"
    assert f"  id          {run.id}" in lines
    assert "  experiment  mnist" in lines
    assert "  lr  0.1" in lines
    header = next(line for line in lines if "last step" in line)
    assert header.split() == ["key", "last", "min", "max", "count", "last", "step"]
    assert lines[lines.index(header) + 1].split() == ["loss", "0.25", "0.25", "1", "4", "3"]
    assert "  stage  dev" in lines
    notes = lines.index("notes")
    assert lines[notes + 1 : notes + 3] == ["  first try", "  with dropout"]
    assert any(line.startswith("  model.pkl  7 B  application/octet-stream") for line in lines)
    assert "error" not in lines


def test_show_of_a_failed_run_includes_its_traceback(cli_process: CliRunner) -> None:
    with pytest.raises(ZeroDivisionError), nbtrack.start_run(name="broken"):
        _ = 1 / 0
    result = cli_process("show", "#1")
    assert result.code == 0, result.err
    assert result.out.startswith("run #1 'broken'  FAILED\n")
    error = result.out[result.out.index("\nerror\n") :]
    assert "  Traceback (most recent call last):" in error
    assert "  ZeroDivisionError: division by zero" in error


def test_show_finds_a_run_by_hash_number_id_and_id_prefix(cli: CliRunner) -> None:
    with nbtrack.start_run(name="only") as run:
        pass
    for ref in ("1", "#1", run.id, run.id[:10]):
        assert cli("show", ref).out.startswith("run #1 'only'"), ref


def test_show_with_source_prints_the_code(cli: CliRunner) -> None:
    with nbtrack.start_run(source="x = 1\nprint(x)"):
        pass
    out = cli("show", "1", "--source").out
    assert out.endswith("source\n  x = 1\n  print(x)\n")
    assert "source" not in cli("show", "1").out


@pytest.mark.usefixtures("three_runs")
def test_show_of_an_unknown_run_exits_1_naming_it(cli: CliRunner) -> None:
    result = cli("show", "42")
    assert result.code == 1
    assert result.err.startswith("nbtrack: error: no run #42 in the store at sqlite:///")
