"""Run context: notebook path, cell id and kernel id (real shell, real kernel), git state, packages."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from nbtrack.capture.context import (
    ContextCollector,
    cell_id,
    execution_count,
    kernel_id,
    notebook_path,
    package_versions,
    peak_rss_bytes,
    quick_context,
)
from nbtrack.capture.gitstate import GitState, GitStateCache, git_state

HINTS = ("__session__", "__vsc_ipynb_file__")


@pytest.fixture
def plain_shell(monkeypatch: pytest.MonkeyPatch) -> InteractiveShell:
    """The real IPython shell with no notebook hints in its namespace or environment."""
    sh = InteractiveShell.instance()
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    for name in HINTS:
        monkeypatch.delitem(sh.user_ns, name, raising=False)
    return sh


# -- notebook path, cell id, kernel id in a plain plain_shell ------------------------------------------
def test_notebook_path_comes_from_the_jupyter_session_environment(
    plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/project/train.ipynb")
    monkeypatch.setitem(plain_shell.user_ns, "__vsc_ipynb_file__", "/elsewhere/other.ipynb")
    assert notebook_path(plain_shell) == "/home/me/project/train.ipynb"


def test_notebook_path_falls_back_to_the_session_variable(
    plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(plain_shell.user_ns, "__session__", "/home/me/project/eval.ipynb")
    assert notebook_path(plain_shell) == "/home/me/project/eval.ipynb"


def test_notebook_path_reads_the_vscode_variable(
    plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(plain_shell.user_ns, "__vsc_ipynb_file__", "c:/work/sweep.ipynb")
    assert notebook_path(plain_shell) == "c:/work/sweep.ipynb"


def test_notebook_path_is_none_without_any_hint(
    plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(plain_shell.user_ns, "__session__", 42)  # not a path: ignored
    assert notebook_path(plain_shell) is None
    assert notebook_path(None) is None


def test_cell_id_and_kernel_id_are_none_in_a_terminal_shell(plain_shell: InteractiveShell) -> None:
    assert cell_id(plain_shell) is None
    assert kernel_id(plain_shell) is None
    assert cell_id(None) is None
    assert kernel_id(None) is None


class _Kernel:
    """The one thing cell_id reads from ipykernel: the current request (as a front end sent it)."""

    def __init__(self, metadata: Any) -> None:
        self.metadata = metadata

    def get_parent(self) -> dict[str, Any]:
        return {"header": {"msg_type": "execute_request"}, "metadata": self.metadata}


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"cellId": "d55c4cfc", "trusted": False}, "d55c4cfc"),
        ({"cell_id": "8c875f71"}, "8c875f71"),
        ({}, None),
        (None, None),
        ({"cellId": 7}, None),
    ],
)
def test_cell_id_reads_the_request_metadata(
    plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, metadata: Any, expected: str | None
) -> None:
    monkeypatch.setattr(plain_shell, "kernel", _Kernel(metadata), raising=False)
    assert cell_id(plain_shell) == expected


def test_quick_context_describes_this_process(
    plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(plain_shell.user_ns, "__session__", "/p/nb.ipynb")
    ctx = quick_context(plain_shell)
    assert list(ctx) == [
        "notebook",
        "cell_id",
        "execution_count",
        "kernel_id",
        "python",
        "platform",
        "host",
        "user",
        "pid",
        "cwd",
    ]
    assert ctx["notebook"] == "/p/nb.ipynb"
    assert ctx["python"] == ".".join(map(str, sys.version_info[:3]))
    assert ctx["pid"] == os.getpid()
    assert ctx["cwd"] == os.getcwd()
    assert ctx["host"]
    json.dumps(ctx)  # stored as JSON


def test_execution_count_is_the_number_of_the_running_cell(plain_shell: InteractiveShell) -> None:
    seen: list[int | None] = []

    def before(_info: object) -> None:
        seen.append(execution_count(plain_shell))

    plain_shell.events.register("pre_run_cell", before)
    try:
        code = "import nbtrack.capture.context as _c; _n = _c.execution_count(get_ipython())"
        result = plain_shell.run_cell(code, store_history=True)
    finally:
        plain_shell.events.unregister("pre_run_cell", before)
    assert seen == [result.execution_count]  # in the pre_run_cell hook, where %%track starts its run
    assert plain_shell.user_ns.pop("_n") == result.execution_count  # and while the cell runs
    del plain_shell.user_ns["_c"]


def test_quick_context_asks_the_system_once_per_process(
    plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What cannot change in a process (host, user, platform) is looked up once, so later cells pay
    a few dictionary reads: after the first call, the slow lookups are never made again."""
    import getpass
    import platform
    import socket

    first = quick_context(plain_shell)

    def slow(*_: Any, **__: Any) -> str:
        raise AssertionError("looked up again")

    for module, name in ((socket, "gethostname"), (getpass, "getuser"), (platform, "system")):
        monkeypatch.setattr(module, name, slow)
    again = quick_context(plain_shell)
    assert {k: again[k] for k in ("host", "user", "platform", "python")} == {
        k: first[k] for k in ("host", "user", "platform", "python")
    }


def test_peak_rss_is_the_high_water_mark_in_bytes() -> None:
    peak = peak_rss_bytes()
    status = Path("/proc/self/status")
    if not status.exists():
        assert peak > 0
        return
    hwm_kib = next(
        int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM")
    )
    assert abs(peak - hwm_kib * 1024) <= 4 * 1024 * 1024


# -- a real kernel, started and driven the way JupyterLab does it ------------------------------
class LabLikeClient(NotebookClient):
    """A NotebookClient that sends each cell's id in the execute request's metadata, as JupyterLab does."""

    async def async_execute_cell(self, cell: Any, cell_index: int, *args: Any, **kwargs: Any) -> Any:
        kc = self.kc
        assert kc is not None

        def execute(
            code: str,
            silent: bool = False,
            store_history: bool = True,
            user_expressions: dict[str, Any] | None = None,
            allow_stdin: bool | None = None,
            stop_on_error: bool = True,
        ) -> str:
            content = {
                "code": code,
                "silent": silent,
                "store_history": store_history,
                "user_expressions": user_expressions or {},
                "allow_stdin": bool(allow_stdin),
                "stop_on_error": stop_on_error,
            }
            msg = kc.session.msg("execute_request", content, metadata={"cellId": cell.id})
            kc.shell_channel.send(msg)
            return str(msg["header"]["msg_id"])

        kc.execute = execute  # type: ignore[method-assign]
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)


KERNEL_CELLS = [
    "import json\nimport nbtrack.capture.context as c\nprint(json.dumps(c.quick_context(get_ipython())))",
    "print(json.dumps(c.ContextCollector(get_ipython()).result(timeout=60)))",
]


@pytest.fixture(scope="module")
def kernel_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real kernel, started as jupyter_server starts it, runs two cells; what they printed."""
    folder = tmp_path_factory.mktemp("kernel") / "project"
    folder.mkdir()
    path = folder / "ctx.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in KERNEL_CELLS])
    nbformat.write(nb, path)
    # jupyter_server names connection files kernel-<id>.json (nbclient alone uses a temporary name)
    wanted_id = str(uuid.uuid4())
    connection_file = tmp_path_factory.mktemp("runtime") / f"kernel-{wanted_id}.json"
    km = AsyncKernelManager(kernel_name="python3", connection_file=str(connection_file))
    client = LabLikeClient(nb, km=km, timeout=120, resources={"metadata": {"path": str(folder)}})
    env = {key: value for key, value in os.environ.items() if key != "GIT_DIR"}
    client.execute(env={**env, "JPY_SESSION_NAME": str(path)}, cleanup_kc=True)  # cleanup: shut it down
    printed = [
        json.loads("".join(o["text"] for o in cell.outputs if o.get("name") == "stdout")) for cell in nb.cells
    ]
    return {
        "path": str(path),
        "folder": str(folder),
        "cell_ids": [cell.id for cell in nb.cells],
        "execution_counts": [cell.execution_count for cell in nb.cells],
        "kernel_id": wanted_id,
        "quick": printed[0],
        "slow": printed[1],
    }


def test_a_kernel_reports_the_notebook_path_and_the_cell_id_lab_sends(kernel_run: dict[str, Any]) -> None:
    quick = kernel_run["quick"]
    assert quick["notebook"] == kernel_run["path"]
    assert quick["cell_id"] == kernel_run["cell_ids"][0]
    assert quick["execution_count"] == kernel_run["execution_counts"][0] == 1
    assert quick["cwd"] == kernel_run["folder"]
    assert quick["pid"] != os.getpid()


def test_a_kernel_reports_the_id_in_its_connection_file_name(kernel_run: dict[str, Any]) -> None:
    assert kernel_run["quick"]["kernel_id"] == kernel_run["kernel_id"]


def test_a_kernel_collects_packages_and_no_git_outside_a_repository(kernel_run: dict[str, Any]) -> None:
    slow = kernel_run["slow"]
    assert slow["git"] is None  # the notebook's folder is a fresh temporary directory
    assert slow["packages"]["ipykernel"] == importlib.metadata.version("ipykernel")


# -- git on real repositories ---------------------------------------------------------------------
def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """git that ignores this machine's configuration and any GIT_DIR of the environment."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)


def _init(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "config", "user.email", "tester@example.com")
    _git(folder, "config", "user.name", "Tester")
    _git(folder, "config", "commit.gpgsign", "false")
    return folder


@pytest.fixture
def repo(tmp_path: Path, git_env: None) -> Path:
    """A repository with one commit: train.py and data/notes.txt."""
    folder = _init(tmp_path / "repo")
    (folder / "train.py").write_text("lr = 0.1\n")
    (folder / "data").mkdir()
    (folder / "data" / "notes.txt").write_text("first\n")
    _git(folder, "add", ".")
    _git(folder, "commit", "-q", "-m", "first")
    return folder


def _backdate(path: Path, seconds_ago: float) -> None:
    """Make a file look edited long ago, so the diff memo is trusted (past the racy window)."""
    when = time.time() - seconds_ago
    os.utime(path, (when, when))


def test_git_state_of_a_clean_repository(repo: Path) -> None:
    state = git_state(repo)
    assert state == GitState(
        commit=_git(repo, "rev-parse", "HEAD"),
        dirty=False,
        diff_sha256=None,
        branch="main",
        root=os.path.realpath(repo),
    )


def test_editing_a_tracked_file_makes_the_tree_dirty_and_reverting_makes_it_clean(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.2\n")
    edited = git_state(repo)
    assert edited is not None
    assert edited.dirty is True
    assert edited.diff_sha256 is not None
    (repo / "train.py").write_text("lr = 0.3\n")
    again = git_state(repo)
    assert again is not None
    assert again.dirty is True
    assert again.diff_sha256 not in (None, edited.diff_sha256)
    (repo / "train.py").write_text("lr = 0.1\n")
    reverted = git_state(repo)
    assert reverted is not None
    assert (reverted.dirty, reverted.diff_sha256) == (False, None)


def test_repeated_calls_reuse_the_diff_hash_until_a_changed_file_changes_again(repo: Path) -> None:
    cache = GitStateCache()
    script = repo / "train.py"
    script.write_text("lr = 0.2\n")
    _backdate(script, 3600)
    first = cache.state(repo)
    second = cache.state(repo)
    assert first == second
    assert cache.diff_runs == 1
    # Same status line (" M train.py"), same size: only the file's own stat tells them apart.
    script.write_text("lr = 0.5\n")
    _backdate(script, 1800)
    third = cache.state(repo)
    assert cache.diff_runs == 2
    assert third is not None
    assert first is not None
    assert third.diff_sha256 != first.diff_sha256


def test_a_file_edited_just_now_is_diffed_again(repo: Path) -> None:
    cache = GitStateCache()
    (repo / "train.py").write_text("lr = 0.2\n")  # within the racy window: the memo is not trusted
    cache.state(repo)
    cache.state(repo)
    assert cache.diff_runs == 2


def test_a_new_commit_is_seen_at_once(repo: Path) -> None:
    before = git_state(repo)
    (repo / "train.py").write_text("lr = 0.2\n")
    _git(repo, "commit", "-q", "-am", "second")
    after = git_state(repo)
    assert before is not None
    assert after is not None
    assert after.commit == _git(repo, "rev-parse", "HEAD") != before.commit
    assert after.dirty is False


def test_git_state_of_a_subfolder_names_the_repository_root(repo: Path) -> None:
    state = git_state(repo / "data")
    assert state is not None
    assert state.root == os.path.realpath(repo)


def test_staged_renames_with_spaces_count_as_dirty(repo: Path) -> None:
    _git(repo, "mv", "data/notes.txt", "data/my notes.txt")
    state = git_state(repo)
    assert state is not None
    assert state.dirty is True
    assert state.diff_sha256 is not None


def test_untracked_files_do_not_make_the_tree_dirty(repo: Path) -> None:
    (repo / "outputs.csv").write_text("a,b\n")
    state = git_state(repo)
    assert state is not None
    assert state.dirty is False


def test_a_detached_head_has_no_branch(repo: Path) -> None:
    _git(repo, "checkout", "-q", "--detach")
    state = git_state(repo)
    assert state is not None
    assert state.branch is None
    assert state.commit == _git(repo, "rev-parse", "HEAD")


def test_git_state_of_a_repository_without_commits(tmp_path: Path, git_env: None) -> None:
    folder = _init(tmp_path / "fresh")
    (folder / "a.py").write_text("x = 1\n")
    state = git_state(folder)
    assert state == GitState(
        commit=None, dirty=False, diff_sha256=None, branch="main", root=os.path.realpath(folder)
    )
    _git(folder, "add", "a.py")
    staged = git_state(folder)
    assert staged is not None
    assert (staged.commit, staged.dirty, staged.diff_sha256) == (None, True, None)


def test_git_state_outside_a_repository_is_none(tmp_path: Path, git_env: None) -> None:
    assert not any((parent / ".git").exists() for parent in [tmp_path, *tmp_path.parents])
    assert git_state(tmp_path) is None


def test_git_state_without_a_git_program_is_none(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert GitStateCache().state(repo) is None


def test_git_state_gives_up_at_its_timeout(repo: Path) -> None:
    assert GitStateCache().state(repo, timeout=0.0) is None


# -- packages -------------------------------------------------------------------------------------
def test_package_versions_finds_numpy_and_skips_the_standard_library() -> None:
    import numpy

    versions = package_versions(["numpy", "numpy.linalg", "json", "os.path", "_pytest", "__main__"])
    assert versions == {"numpy": importlib.metadata.version("numpy")}
    assert versions["numpy"] == numpy.__version__


def test_package_versions_are_keyed_by_distribution_name() -> None:
    versions = package_versions(["dateutil", "IPython"])
    assert versions["python-dateutil"] == importlib.metadata.version("python-dateutil")
    assert versions["ipython"] == importlib.metadata.version("ipython")


def test_package_versions_ignore_modules_no_distribution_provides() -> None:
    assert package_versions(["my_local_helpers_7f3a", "json"]) == {}


# -- the collector ----------------------------------------------------------------------------------
def test_collector_returns_git_and_packages_quickly_in_a_repository(repo: Path) -> None:
    import numpy  # noqa: F401 - imported so it is among the packages

    collector = ContextCollector(None, cwd=str(repo))
    slow = collector.result(timeout=10.0)
    assert slow is not None
    assert slow["git"]["commit"] == _git(repo, "rev-parse", "HEAD")
    assert slow["git"]["dirty"] is False
    assert slow["packages"]["numpy"] == importlib.metadata.version("numpy")
    json.dumps(slow)


def test_collector_reads_git_from_the_notebook_folder(
    repo: Path, plain_shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(plain_shell.user_ns, "__session__", str(repo / "data" / "analysis.ipynb"))
    monkeypatch.chdir(tmp_path)
    slow = ContextCollector(plain_shell).result(timeout=10.0)
    assert slow is not None
    assert slow["git"]["root"] == os.path.realpath(repo)


def test_collector_counts_packages_imported_after_it_started(tmp_path: Path, git_env: None) -> None:
    import dateutil.tz  # noqa: F401 - a real distribution (python-dateutil) to hide and bring back

    hidden = {name: mod for name, mod in sys.modules.items() if name.partition(".")[0] == "dateutil"}
    for name in hidden:
        del sys.modules[name]
    try:
        collector = ContextCollector(None, cwd=str(tmp_path))
        assert collector.wait(10.0)
    finally:
        sys.modules.update(hidden)  # "the cell imported it" after the background work finished
    slow = collector.result()
    assert slow is not None
    assert "python-dateutil" in slow["packages"]


def test_collector_results_are_stable_copies(repo: Path) -> None:
    collector = ContextCollector(None, cwd=str(repo))
    assert collector.wait(10.0)
    first = collector.result()
    second = collector.result()
    assert first is not None
    assert first == second
    first["packages"].clear()
    first["git"].clear()
    assert collector.result() == second


def test_collector_starts_over_when_a_module_was_removed(tmp_path: Path, git_env: None) -> None:
    import numpy  # noqa: F401 - must still be reported after the full pass

    probe = types.ModuleType("nbtrack_context_probe")
    sys.modules[probe.__name__] = probe
    try:
        collector = ContextCollector(None, cwd=str(tmp_path))
        assert collector.wait(10.0)
    finally:
        del sys.modules[probe.__name__]  # the snapshot is no longer a prefix of sys.modules
    slow = collector.result()
    assert slow is not None
    assert slow["packages"]["numpy"] == importlib.metadata.version("numpy")


def _counting_git_state(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import nbtrack.capture.context as context

    calls: list[str] = []

    def counted(path: str, timeout: float = 2.0) -> GitState | None:
        calls.append(path)
        return git_state(path, timeout)

    monkeypatch.setattr(context, "git_state", counted)
    return calls


def test_collector_reads_nothing_while_its_cell_runs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbtrack.capture.context as context

    monkeypatch.setattr(context, "COLLECT_WITHIN_S", 60.0)
    calls = _counting_git_state(monkeypatch)
    collector = ContextCollector(None, cwd=str(repo))
    assert not collector.wait(0.3)  # no git child process and no package pass beside the cell
    assert calls == []
    collector.cell_ended()
    assert collector.wait(10.0)
    slow = collector.result()
    assert slow is not None and slow["git"]["commit"] == _git(repo, "rev-parse", "HEAD")


def test_a_burst_of_cells_shares_one_git_status_read_after_the_last_began(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbtrack.capture.context as context

    monkeypatch.setattr(context, "COLLECT_WITHIN_S", 60.0)
    calls = _counting_git_state(monkeypatch)
    first = ContextCollector(None, cwd=str(repo))
    first.cell_ended()
    second = ContextCollector(None, cwd=str(repo))  # the next cell runs: the first one waits too
    assert not first.wait(0.3)
    second.cell_ended()
    assert first.wait(10.0) and second.wait(10.0)
    assert calls == [str(repo)]
    assert first.result() == second.result()


def test_a_long_cell_records_the_git_state_it_began_in(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbtrack.capture.context as context

    monkeypatch.setattr(context, "COLLECT_WITHIN_S", 0.05)
    collector = ContextCollector(None, cwd=str(repo))  # its cell never ends here
    assert collector.wait(10.0)
    (repo / "train.py").write_text("lr = 0.2  # edited while the cell still runs\n")
    slow = collector.result()
    assert slow is not None and slow["git"]["dirty"] is False


def test_late_callbacks_run_on_the_worker_thread_even_when_the_result_is_ready(repo: Path) -> None:
    import threading

    collector = ContextCollector(None, cwd=str(repo))
    collector.cell_ended()
    assert collector.wait(10.0)
    seen: list[tuple[str, dict[str, Any]]] = []
    done = threading.Event()

    def callback(result: dict[str, Any]) -> None:
        seen.append((threading.current_thread().name, result))
        done.set()

    collector.when_ready(callback)
    assert done.wait(10.0)
    assert seen[0][0] == "nbtrack-context" and seen[0][1]["git"]["root"] == os.path.realpath(repo)


def test_the_workers_package_memo_answers_as_a_full_pass_for_growing_and_shrunk_module_lists() -> None:
    import numpy  # noqa: F401 - a distribution the module list must contain

    from nbtrack.capture.context import _PackageMemo

    memo = _PackageMemo()
    names = tuple(sys.modules.copy())
    cut = next(i for i, name in enumerate(names) if name.partition(".")[0] == "numpy")
    assert memo.versions(names[:cut]) == package_versions(names[:cut])
    assert "numpy" not in memo.versions(names[:cut])
    grown = memo.versions(names)  # only the tail after the first snapshot is looked up
    assert grown == package_versions(names)
    assert grown["numpy"] == importlib.metadata.version("numpy")
    assert memo.versions(names) == grown  # nothing new: the last answer, as a copy
    memo.versions(names)["numpy"] = "changed"
    assert memo.versions(names)["numpy"] == importlib.metadata.version("numpy")
    shrunk = names[:cut] + names[cut + 1 :]  # a module removed: not a prefix any more, full pass
    assert memo.versions(shrunk) == package_versions(shrunk)
