"""%%track in a real IPython shell: what a cell's run records, and that the cell behaves as without it."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest

import nbtrack
from nbtrack.model import Status


def run(shell: Any, cell: str) -> Any:
    return shell.run_cell(cell, store_history=True)


def last_run() -> nbtrack.RunRecord:
    frame = nbtrack.runs(limit=1)
    assert len(frame) == 1
    return nbtrack.get_run(int(frame["seq"].iloc[0]))


def test_literal_params_bound_metrics_and_last_expression(shell: Any) -> None:
    result = run(
        shell,
        "%%track --experiment mnist\n"
        "lr = 1e-3\n"
        "epochs: int = 5\n"
        "layers = [64, 32]\n"
        "a, b = 2**10, -3\n"
        "loss = 0.0\n"
        "for epoch in range(epochs):\n"
        "    loss = 1.0 / (epoch + 1)\n"
        "acc = 0.9 + lr\n"
        "acc * 2\n",
    )
    assert result.success
    assert result.result == pytest.approx(1.802)
    record = last_run()
    assert record.experiment == "mnist"
    assert record.status is Status.FINISHED
    assert record.params == {"lr": 1e-3, "epochs": 5, "layers": [64, 32], "a": 1024, "b": -3}
    assert record.param_origins["lr"] == "literal"
    assert record.metrics["acc"] == pytest.approx(0.901)
    assert record.metrics["loss"] == pytest.approx(0.2)
    assert record.metrics["acc * 2"] == pytest.approx(1.802)
    assert "lr" not in record.metrics
    assert record.info.source is not None
    assert record.info.source.startswith("lr = 1e-3")


def test_values_read_from_earlier_cells_are_namespace_params(shell: Any) -> None:
    run(shell, "base_lr = 0.01\nname = 'resnet'\nimport math\n")
    run(shell, "%%track\nscore = base_lr * 10 + len(name) + math.pi\n")
    record = last_run()
    assert record.params == {"base_lr": 0.01, "name": "resnet"}
    assert record.param_origins == {"base_lr": "namespace", "name": "namespace"}
    assert "score" in record.metrics


def test_nbtrack_log_in_the_cell_makes_a_curve(shell: Any) -> None:
    run(shell, "import nbtrack")
    run(shell, "%%track\nfor i in range(50):\n    nbtrack.log(loss=1 / (i + 1))\n")
    record = last_run()
    history = record.history("loss")
    assert len(history) == 50
    assert history["step"].tolist() == list(range(50))


def test_failing_cell_records_failed_and_raises_as_without_the_magic(shell: Any) -> None:
    result = run(shell, "%%track\nx = 1\ny = x / 0\n")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert shell.user_ns["x"] == 1
    assert "y" not in shell.user_ns
    record = last_run()
    assert record.status is Status.FAILED
    assert record.info.error is not None
    assert "ZeroDivisionError" in record.info.error


def test_keyboard_interrupt_records_interrupted(shell: Any) -> None:
    result = run(shell, "%%track\nsteps = 3\nraise KeyboardInterrupt\n")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert last_run().status is Status.INTERRUPTED


def test_usage_error_is_reported_before_the_body_runs(shell: Any, capsys: Any) -> None:
    result = run(shell, "%%track --no-such-flag\nside_effect = 1\n")
    assert not result.success
    assert "side_effect" not in shell.user_ns
    assert nbtrack.runs().empty


def test_cell_that_does_not_parse_runs_as_usual_with_one_warning(shell: Any, capsys: Any) -> None:
    result = run(shell, "%%track\nx = (1,\n")
    assert isinstance(result.error_in_exec or result.error_before_exec, SyntaxError)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("nbtrack:")]
    assert warnings == ["nbtrack: this cell does not parse, so no params or metrics were captured from it"]
    record = last_run()
    assert record.status is Status.FAILED
    assert record.params == {}
    assert record.info.error is not None and "SyntaxError" in record.info.error


def test_unreachable_store_is_one_warning_and_the_cell_still_runs(
    shell: Any, capsys: Any, tmp_path: Any
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    nbtrack.configure(store=str(blocker / "sub" / "nbtrack.db"))
    result = run(shell, "%%track\nvalue = 41 + 1\nvalue\n")
    assert result.success
    assert result.result == 42
    assert shell.user_ns["value"] == 42
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("nbtrack:")]
    assert len(warnings) == 1
    assert "cannot create the store folder" in warnings[0]


def test_store_failing_after_it_opened_is_one_warning_per_cell_and_the_runs_are_saved_later(
    shell: Any, capsys: Any, tmp_path: Any
) -> None:
    # %%track runs are written by the writer thread: a store that fails mid-session (here: locked by
    # another process) must cost each tracked cell one warning once the failure is known, never a
    # hang or a lost run.
    store = tmp_path / "locked" / "nbtrack.db"
    nbtrack.configure(store=str(store), busy_timeout=0.1)
    run(shell, "%%track -q\nwarm = 1\n")
    nbtrack.runs()  # the store exists, with one run
    writer = nbtrack.api.session().tracker.writer
    blocker = sqlite3.connect(store, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        # the first cell's run waits in memory; the writer meets the lock at its next flush
        assert run(shell, "%%track\nu = float(40)\nu\n").result == 40.0
        while writer.failing is None and time.monotonic() - started < 10:
            time.sleep(0.05)
        assert writer.failing is not None
        capsys.readouterr()
        for source in ("%%track\nv = float(41 + 1)\nv\n", "%%track -q\nw = 7\nw\n"):
            result = run(shell, source)
            assert result.success and result.result in (42.0, 7)
        elapsed = time.monotonic() - started
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("nbtrack:")]
    assert len(warnings) == 2, warnings
    assert all(w.startswith("nbtrack: this run is not saved yet") and "locked" in w for w in warnings)
    assert elapsed < 5  # not the 30 s a run would wait for its row
    frame = nbtrack.runs(order_by="seq")  # reads flush what was kept
    assert frame["status"].tolist() == ["FINISHED"] * 4
    assert frame["params.w"].tolist()[-1] == 7
    assert frame["metrics.u"].tolist()[1] == 40.0
    assert frame["metrics.v"].tolist()[2] == 42.0
    assert frame["seq"].tolist() == [1, 2, 3, 4]


def test_tracked_under_time_and_capture(shell: Any) -> None:
    result = run(shell, "%%time\n%%track\nq = 3\nq * 2\n")
    assert result.success
    assert result.result == 6
    assert last_run().params == {"q": 3}
    run(shell, "%%capture captured\n%%track\nr = 5\nprint('hello', r)\nr\n")
    captured = shell.user_ns["captured"]
    assert captured.stdout == "hello 5\n"
    assert [o.data["text/plain"] for o in captured.outputs] == ["5"]  # no summary in there
    record = last_run()
    assert record.params == {"r": 5}
    assert record.status is Status.FINISHED


def test_off_and_on_and_default_experiment(shell: Any) -> None:
    run(shell, "%track off")
    run(shell, "%%track\nz = 1\n")
    assert nbtrack.runs().empty
    assert shell.user_ns["z"] == 1
    run(shell, "%track on")
    run(shell, "%track experiment tuning")
    run(shell, "%%track\nz = 2\n")
    assert last_run().experiment == "tuning"


def test_sweep_runs_every_combination_and_goes_on_after_a_failure(shell: Any) -> None:
    result = run(
        shell,
        "%%track --sweep lr=0.1,0.2 --sweep depth=1,2\n"
        "lr = 0.5\n"
        "depth = 3\n"
        "if lr == 0.2 and depth == 2:\n"
        "    raise ValueError('bad combination')\n"
        "score = lr * depth\n",
    )
    assert result.success
    table = result.result
    assert len(table) == 4
    frame = nbtrack.runs(order_by="seq")
    assert frame["status"].tolist() == ["FINISHED", "FINISHED", "FINISHED", "FAILED"]
    assert frame["params.lr"].tolist() == [0.1, 0.1, 0.2, 0.2]
    assert frame["params.depth"].tolist() == [1, 2, 1, 2]
    assert frame["metrics.score"].tolist()[:3] == pytest.approx([0.1, 0.2, 0.2])
    assert frame["tags.sweep"].nunique() == 1


def test_sweep_over_a_name_the_cell_does_not_assign_is_an_error_before_running(shell: Any) -> None:
    result = run(shell, "%%track --sweep nope=1,2\nran = True\n")
    assert not result.success
    assert "ran" not in shell.user_ns
    assert nbtrack.runs().empty


def test_line_magic_commands(shell: Any, capsys: Any) -> None:
    run(shell, "%%track\nlr = 0.1\nacc = 0.5\n")
    run(shell, "%%track\nlr = 0.2\nacc = 0.7\n")
    table = shell.run_line_magic("track", "")
    assert list(table.index) == [2, 1]
    shell.run_line_magic("track", "show 1")
    assert "run #1" in capsys.readouterr().out
    shell.run_line_magic("track", "diff 1 2")
    out = capsys.readouterr().out
    assert "lr: 0.1  ->  0.2" in out
    assert "-lr = 0.1" in out
    shell.run_line_magic("track", "tag 1 best=yes")
    shell.run_line_magic("track", 'note 1 "looks good"')
    record = nbtrack.get_run(1)
    assert record.tags["best"] == "yes"
    assert record.notes == ["looks good"]
    shell.run_line_magic("track", "rm 1")
    assert nbtrack.runs()["seq"].tolist() == [2]


def test_restore_puts_the_code_in_the_next_cell(shell: Any) -> None:
    run(shell, "base = 3")
    run(shell, "%%track -e exp1\nlr = 0.1\nacc = base * lr\n")
    seq = int(nbtrack.runs()["seq"].iloc[0])
    captured: list[str] = []
    shell.set_next_input = lambda text, replace=False: captured.append(text)  # type: ignore[method-assign]
    shell.run_line_magic("track", f"restore {seq}")
    assert captured[0].splitlines()[0] == "%%track -e exp1"
    assert "base = 3" in captured[0]
    assert "lr = 0.1" in captured[0]


def test_load_twice_is_harmless_and_unload_removes_everything(shell: Any) -> None:
    ext = shell._nbtrack_extension
    run(shell, "%reload_ext nbtrack")
    run(shell, "%load_ext nbtrack")
    assert shell.events.callbacks["pre_run_cell"].count(shell._nbtrack_extension.hooks.pre_run_cell) == 1
    run(shell, "%unload_ext nbtrack")
    assert "track" not in shell.magics_manager.magics["cell"]
    assert "track" not in shell.magics_manager.magics["line"]
    assert ext.hooks.transform not in shell.input_transformers_cleanup
    run(shell, "%load_ext nbtrack")


def test_help_shows_the_cell_magic_usage(shell: Any) -> None:
    from nbtrack.capture.magics import TrackMagics

    doc = TrackMagics.track.__doc__ or ""
    assert "%%track [-e EXPERIMENT]" in doc
    assert "--sweep" in doc


def test_run_in_a_git_repository_records_commit_dirty_flag_and_packages(
    shell: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    import subprocess
    import time

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.txt").write_text("one\n")
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    (repo / "a.txt").write_text("two\n")
    monkeypatch.chdir(repo)
    run(shell, "import json\n")
    run(shell, "%%track -q\nvalue = len(json.dumps([1]))\n")
    deadline = time.monotonic() + 10
    record = last_run()
    while record.info.git_commit is None and time.monotonic() < deadline:
        time.sleep(0.1)
        record = last_run()
    assert record.info.git_commit == head
    assert record.info.git_dirty is True
    context = record.info.context
    assert context["git"]["diff_sha256"]
    assert "python" in context and "wall_time" in context and "peak_rss_growth" in context
    assert "ipython" in {name.lower() for name in context["packages"]}


def test_line_magic_errors_are_usage_errors_not_tracebacks(shell: Any) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="no run #99"):
        shell.run_line_magic("track", "show 99")
    with pytest.raises(UsageError, match="unknown command 'frobnicate'"):
        shell.run_line_magic("track", "frobnicate")
    empty = shell.run_line_magic("track", "")
    assert empty.empty


def test_loading_the_extension_marks_runs_of_dead_kernels_crashed(session: Any) -> None:
    import subprocess
    import sys

    import sqlalchemy as sa
    from IPython.core.interactiveshell import InteractiveShell

    from nbtrack.store import schema

    with nbtrack.start_run(name="from a kernel that died") as run:
        run.log(loss=1.0)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with session.store().write() as conn:
        conn.execute(
            sa.update(schema.runs)
            .where(schema.runs.c.run_id == run.id)
            .values(status="RUNNING", end_time=None, pid=dead.pid)
        )
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "nbtrack")
    try:
        startup = ip._nbtrack_extension.startup
        startup.join(10)
        with session.store().read() as conn:  # read the table directly: no reconciling on this read
            status = conn.execute(
                sa.select(schema.runs.c.status).where(schema.runs.c.run_id == run.id)
            ).scalar_one()
        assert status == "CRASHED"
    finally:
        ip.run_line_magic("unload_ext", "nbtrack")


def test_summary_line_says_best_so_far_and_the_change_since_the_previous_run(shell: Any, capsys: Any) -> None:
    lines = []
    for value in (0.5, 0.7, 0.6):
        run(shell, f"%%track\nacc = round({value}, 3)\n")  # computed: a metric, not a literal param
        lines.append(capsys.readouterr().out.strip().splitlines()[-1])
    assert lines[0].endswith("→ acc 0.5 · " + lines[0].rsplit(" · ", 1)[1])  # first run: nothing to compare
    assert "→ acc 0.7 (best so far, +0.2 vs #2)" not in lines[1]
    assert "→ acc 0.7 (best so far, +0.2 vs #1)" in lines[1]
    assert "→ acc 0.6 (-0.1 vs #2)" in lines[2]
    for value in (0.9, 0.4):
        run(shell, f"%%track\nval_loss = round({value}, 3)\n")
        lines.append(capsys.readouterr().out.strip().splitlines()[-1])
    assert "→ val_loss 0.4 (best so far, -0.5 vs #4)" in lines[-1]  # lower is better for a loss


def test_summary_line_counts_a_run_another_process_wrote_meanwhile(shell: Any, capsys: Any) -> None:
    import subprocess
    import sys

    run(shell, "%%track\nacc = round(0.5, 3)\n")
    script = "import nbtrack\nwith nbtrack.start_run(experiment='default') as r:\n    r.log(acc=0.9)\n"
    subprocess.run([sys.executable, "-c", script], check=True)  # NBTRACK_STORE: the test's store
    capsys.readouterr()
    run(shell, "%%track\nacc = round(0.8, 3)\n")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    # 0.8 would be the best of this process's runs; the other process's 0.9 is better. (Its number is
    # above this process's reserved ones, so it is not this run's "previous": see store.reservation.)
    assert "→ acc 0.8 (+0.3 vs #1)" in line and "best so far" not in line
    run(shell, "%%track\nacc = round(0.95, 3)\n")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "→ acc 0.95 (best so far, +0.15 vs #2)" in line


def test_quoted_options_lose_their_quotes_as_in_a_shell(shell: Any) -> None:
    run(shell, "%%track 'baseline run' -e \"my exp\" -t 'note=two words'\nlr = 0.1\n")
    record = nbtrack.get_run(1)
    assert record.name == "baseline run"
    assert record.experiment == "my exp"
    assert record.tags["note"] == "two words"


def test_restored_code_tracks_the_same_way_when_run_again(shell: Any) -> None:
    from nbtrack.query.restore import restored_code

    run(shell, "%%track 'baseline run' -e \"my exp\" -t 'note=two words'\nlr = 0.1\n")
    code = restored_code(nbtrack.get_run(1))
    result = run(shell, code)
    assert result.success
    again = nbtrack.get_run(2)
    assert (again.name, again.experiment, again.tags["note"]) == ("baseline run", "my exp", "two words")
    assert again.params == {"lr": 0.1}
