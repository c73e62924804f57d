"""The ``nbtrack`` entry point: exit codes, help, Ctrl-C, closed pipes and a light import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import nbtrack.api
from nbtrack.cli import main

from .support import CliRunner, table_rows


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: nbtrack")
    for command in ("ls", "show", "export", "rm", "gc", "doctor"):
        assert f"    {command} " in err


@pytest.mark.parametrize(
    "argv", [["ls", "--bogus"], ["ls", "-n", "-3"], ["frobnicate"], ["show"], ["export", "--format", "xml"]]
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: nbtrack" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["ls", "show", "export", "rm", "gc", "doctor"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: nbtrack {command}")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"nbtrack {nbtrack.__version__}\n"


@pytest.mark.usefixtures("three_runs")
def test_store_option_works_before_and_after_the_command(cli: CliRunner, tmp_path: Path) -> None:
    empty = str(tmp_path / "empty.db")
    assert cli("--store", empty, "ls").out.startswith("no runs yet")
    assert cli("ls", "--store", empty).out.startswith("no runs yet")
    assert len(table_rows(cli("ls").out)) == 4


@pytest.mark.usefixtures("three_runs")
def test_ctrl_c_exits_130_quietly(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(nbtrack.api, "runs", interrupted)
    result = cli("ls")
    assert result.code == 130
    assert result.out == result.err == ""


@pytest.mark.usefixtures("three_runs")
def test_output_to_a_closed_pipe_ends_without_a_traceback(cli_process: CliRunner) -> None:
    # Like `nbtrack ls | head -1` when head has already exited: every write fails with EPIPE.
    for argv in (["ls"], ["export"], ["--help"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "nbtrack.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) in (0, 141), argv
        assert err == b"", argv


@pytest.mark.usefixtures("three_runs")
def test_piping_into_head_gives_the_header_line(cli_process: CliRunner) -> None:
    result = subprocess.run(
        f"{sys.executable} -m nbtrack.cli ls | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.split()[:6] == ["#", "name", "experiment", "status", "start", "duration"]
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_importing_the_cli_loads_neither_pandas_nor_sqlalchemy() -> None:
    code = (
        "import sys, nbtrack.cli, nbtrack.cli.parser\n"
        "print(sorted(m for m in ('pandas', 'sqlalchemy', 'numpy', 'fsspec') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
