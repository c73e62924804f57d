"""What a tracked cell ran in: notebook, cell, kernel, host, git state and package versions.

Context comes at two speeds, because ``%%track`` must stay cheap on the kernel's thread:

* :func:`quick_context` takes a few microseconds: notebook path, cell id, execution count, kernel id,
  Python version, platform, host, user, pid, working directory. What cannot change within a process
  (Python, platform, host, user, kernel id) is computed once.
* :class:`ContextCollector`, built before the cell runs, has nbtrack's context worker thread compute
  :func:`git_state` of the notebook's folder and :func:`package_versions` of ``sys.modules`` once
  the cell is over (or at most :data:`COLLECT_WITHIN_S` after it began; see :class:`_Schedule`).
  ``collector.result(timeout)`` returns ``{"git": {...} | None, "packages": {...}}`` (``None`` if
  the thread is not done within ``timeout``); modules the cell imported are added then.

Notebook path and cell id
    JupyterLab/Notebook start the kernel with ``JPY_SESSION_NAME`` (the notebook's absolute path;
    ipykernel copies it to ``__session__``); VS Code sets ``__vsc_ipynb_file__``. JupyterLab sends the
    cell id in the execute request's metadata (``cellId``). nbclient sends neither: both are ``None``.

Git
    :mod:`nbtrack.capture.gitstate` (commit, dirty flag, diff hash; cheap to repeat).


Packages
    Top-level module names map to distributions through ``importlib.metadata.packages_distributions()``;
    standard-library and private (``_x``) names are skipped; a name with no mapping (an editable
    install) falls back to the distribution of that name; a namespace package (``google``) reports every
    distribution shipping part of it. Mapping and versions are cached per process: a package upgraded
    with pip mid-session keeps its old version until the kernel restarts.

Nothing here raises for missing context: what cannot be told is ``None`` (or left out). The caches are
memos of facts about the process and its repositories, not run state.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from typing import Any

from nbtrack.capture.gitstate import GitState, git_state

_STDLIB = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
_KERNEL_FILE = re.compile(r"kernel-(.+)\.json")


# -- the cheap, synchronous part ------------------------------------------------------------------
def notebook_path(shell: Any | None) -> str | None:
    """Path of the notebook the kernel serves (Jupyter's session name, VS Code's variable), else None."""
    path = os.environ.get("JPY_SESSION_NAME")
    if path:
        return path
    namespace = getattr(shell, "user_ns", None)
    if not isinstance(namespace, Mapping):
        return None
    for name in ("__session__", "__vsc_ipynb_file__"):
        value = namespace.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def cell_id(shell: Any | None) -> str | None:
    """The running cell's id as the front end sent it (JupyterLab's ``cellId`` metadata), else None."""
    get_parent = getattr(getattr(shell, "kernel", None), "get_parent", None)
    if get_parent is None:
        return None
    try:
        parent = get_parent()
    except (AttributeError, KeyError, TypeError):  # a kernel without a current request
        return None
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("cellId") or metadata.get("cell_id")
    return value if isinstance(value, str) and value else None


def execution_count(shell: Any | None) -> int | None:
    """The running cell's number, as in its ``In [n]`` prompt (None without a shell)."""
    # IPython >= 9.8 (ipython#15088) bumps shell.execution_count *before* the cell runs, older releases
    # after it; the display hook's prompt_count is the running cell's number in both.
    count = getattr(getattr(shell, "displayhook", None), "prompt_count", None)
    if not isinstance(count, int):
        count = getattr(shell, "execution_count", None)
    return count if isinstance(count, int) else None


def kernel_id(shell: Any | None) -> str | None:
    """The kernel's id, read from its connection file name (``kernel-<id>.json``), else None."""
    if getattr(shell, "kernel", None) is None:  # a terminal IPython: no kernel, and no ipykernel import
        return None
    return _kernel_id_of_process()


@functools.cache
def _kernel_id_of_process() -> str | None:
    try:
        from ipykernel.connect import get_connection_file

        path = get_connection_file()
    except (ImportError, RuntimeError, OSError):  # not in a running kernel, or the file is gone
        return None
    match = _KERNEL_FILE.fullmatch(os.path.basename(path))
    return match.group(1) if match else None


@functools.cache
def _process_facts() -> tuple[str, str, str, str | None]:
    # platform.platform() costs ~20 ms on its first call (it reads libc's version out of the
    # executable); system-release-machine says the same thing for a run record at a fraction of that.
    machine = f"{platform.system()}-{platform.release()}-{platform.machine()}"
    return platform.python_version(), machine, socket.gethostname(), _user()


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # a container uid with no passwd entry and no $USER
        return None


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the working directory was deleted under the kernel
        return None


def quick_context(shell: Any | None) -> dict[str, Any]:
    """The context that is cheap to read on the kernel's thread (microseconds after the first call)."""
    python, machine, host, user = _process_facts()
    return {
        "notebook": notebook_path(shell),
        "cell_id": cell_id(shell),
        "execution_count": execution_count(shell),
        "kernel_id": kernel_id(shell),
        "python": python,
        "platform": machine,
        "host": host,
        "user": user,
        "pid": os.getpid(),
        "cwd": _cwd(),
    }


def peak_rss_bytes() -> int:
    """Peak resident memory of this process in bytes so far (0 where ``resource`` does not exist)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # macOS: bytes; Linux: KiB


# -- packages -----------------------------------------------------------------------------------
@functools.cache
def _distributions_by_module() -> Mapping[str, list[str]]:
    import importlib.metadata  # ~30 ms cold: paid in the collector's thread, not at import

    try:
        return importlib.metadata.packages_distributions()
    except (OSError, ValueError):  # unreadable or malformed metadata somewhere on sys.path
        return {}


@functools.cache
def _distribution_named(name: str) -> tuple[str, ...]:
    import importlib.metadata

    try:
        found = importlib.metadata.distribution(name).metadata["Name"]
    except (importlib.metadata.PackageNotFoundError, OSError, ValueError):
        return ()
    return (found,) if found else ()


@functools.cache
def _version_of(distribution: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, OSError, ValueError):
        return None


def package_versions(module_names: Iterable[str]) -> dict[str, str]:
    """Versions of the distributions providing these modules, keyed by distribution name (no stdlib)."""
    mapping = _distributions_by_module()
    versions: dict[str, str] = {}
    for top in {name.partition(".")[0] for name in module_names}:
        if not top or top.startswith("_") or top in _STDLIB:
            continue
        for distribution in mapping.get(top) or _distribution_named(top):
            version = _version_of(distribution)
            if version is not None:
                versions[distribution] = version
    return dict(sorted(versions.items()))


# -- the slow part, off the kernel's thread -------------------------------------------------------
COLLECT_WITHIN_S = 0.25
"""The slow context of a cell is read at most this long after the cell began (sooner once it ended)."""
QUIET_S = 0.02
"""... and once no tracked cell has been running for this long: a burst of cells shares one reading."""


class _Schedule:
    """nbtrack's one context worker thread and what waits for it (made on first use, anew after fork).

    A cell's slow context is not read while the cell runs: ``git status`` is a child process and
    package lookups hold the interpreter, both taking CPU and the GIL from a short cell (and on a busy
    2-core machine the CPU from its kernel). Collectors wait until their cell ended and no tracked
    cell has run for :data:`QUIET_S`, or until :data:`COLLECT_WITHIN_S` after the oldest one's cell
    began, so a long cell still records the state it started in; then one ``git status`` per folder
    and one package pass serve every waiting collector, each read after its cell began.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: list[ContextCollector] = []
        self._calls: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None

    def add(self, collector: ContextCollector) -> None:
        """Read ``collector``'s context once its cell allows (see the class)."""
        with self._cond:
            self._waiting.append(collector)
            self._start()
            self._cond.notify()

    def call(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the worker thread."""
        with self._cond:
            self._calls.append(function)
            self._start()
            self._cond.notify()

    def poke(self) -> None:
        """A cell ended: the worker looks again at what waits."""
        with self._cond:
            self._cond.notify()

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="nbtrack-context", daemon=True)
            self._thread.start()

    def _next(self) -> tuple[list[ContextCollector], list[Callable[[], None]]]:
        with self._cond:
            while True:
                calls, self._calls = self._calls, []
                if calls:
                    return [], calls
                if self._waiting:
                    deadline = min(c.began for c in self._waiting) + COLLECT_WITHIN_S
                    ended = [c.ended for c in self._waiting]
                    if None not in ended:
                        deadline = min(deadline, max(e for e in ended if e is not None) + QUIET_S)
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        batch, self._waiting = self._waiting, []
                        return batch, []
                    self._cond.wait(wait)
                else:
                    self._cond.wait()

    def _loop(self) -> None:
        while True:
            batch, calls = self._next()
            for function in calls:
                try:
                    function()
                except Exception:  # after the cell: nobody to warn; the run keeps its quick context
                    logging.getLogger("nbtrack").debug("late context not recorded", exc_info=True)
            if batch:
                _collect(batch)


def _collect(batch: list[ContextCollector]) -> None:
    """Read git state (once per folder) and package versions (once) for collectors waiting together."""
    states: dict[str | None, GitState | None] = {}
    seen: tuple[str, ...] = ()
    packages: dict[str, str] = {}
    try:
        for collector in batch:
            folder = collector.folder()
            if folder not in states:
                states[folder] = git_state(folder) if folder else None
        seen = _module_names()
        packages = _worker_packages.versions(seen)
    finally:
        for collector in batch:
            collector._deliver(states.get(collector.folder()), seen, packages)


_schedule: _Schedule | None = None


def _worker() -> _Schedule:
    global _schedule
    if _schedule is None:
        _schedule = _Schedule()
    return _schedule


def _forget_worker() -> None:
    global _schedule
    _schedule = None  # its thread does not exist in a forked child


os.register_at_fork(after_in_child=_forget_worker)


class ContextCollector:
    """Reads the slow context (git state, package versions) on nbtrack's context worker thread.

    Git is read from ``cwd`` if given, else the notebook's folder, else the working directory (found
    on the worker thread: each file-system call on the kernel's thread lets other threads take the
    GIL). Call :meth:`cell_ended` when the cell is over; the reading happens then (see
    :class:`_Schedule`), or :data:`COLLECT_WITHIN_S` after the collector was made.
    """

    def __init__(self, shell: Any | None, cwd: str | None = None) -> None:
        self._shell = shell
        self._cwd = cwd
        self._folder: str | bool | None = False  # False: not looked up yet
        self.began = time.monotonic()
        self.ended: float | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._git: GitState | None = None
        self._seen: tuple[str, ...] = ()  # sys.modules' keys when the thread looked
        self._packages: dict[str, str] = {}
        self._result: dict[str, Any] | None = None
        self._callbacks: list[Callable[[dict[str, Any]], None]] = []
        _worker().add(self)

    def folder(self) -> str | None:
        """The folder git is read from (looked up on the worker thread, once)."""
        if self._folder is False:
            self._folder = self._cwd or _notebook_folder(self._shell) or _cwd()
        return self._folder if isinstance(self._folder, str) else None

    def cell_ended(self) -> None:
        """The cell is over: read its context as soon as no other tracked cell keeps the kernel busy."""
        if self.ended is None:
            self.ended = time.monotonic()
            _worker().poke()

    def _deliver(self, git: GitState | None, seen: tuple[str, ...], packages: dict[str, str]) -> None:
        with self._lock:
            self._git, self._seen, self._packages = git, seen, dict(packages)
            self._ready.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self._call(callback)

    def _call(self, callback: Callable[[dict[str, Any]], None]) -> None:
        result = self.result()
        if result is None:  # pragma: no cover - only called once ready
            return
        try:
            callback(result)
        except Exception:  # after the cell: nobody to warn; the run keeps its quick context
            logging.getLogger("nbtrack").debug("late context not recorded", exc_info=True)

    def when_ready(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """Call ``callback(result)`` on the worker thread once the slow parts are computed."""
        with self._lock:
            if not self._ready.is_set():
                self._callbacks.append(callback)
                return
        _worker().call(lambda: self._call(callback))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the slow parts are computed (at most ``timeout`` seconds); whether they are."""
        return self._ready.wait(timeout)

    def result(self, timeout: float = 0.0) -> dict[str, Any] | None:
        """``{"git": {...} | None, "packages": {...}}``, or None if not ready within ``timeout`` seconds.

        Packages are those imported when ``result`` is first called (after the cell, so a cell's own
        imports count); modules imported by the cell cost one version lookup each, once per process.
        """
        if not self._ready.wait(timeout):
            return None
        with self._lock:
            if self._result is None:
                git = asdict(self._git) if self._git is not None else None
                self._result = {"git": git, "packages": self._packages_now()}
            git, packages = self._result["git"], self._result["packages"]
            return {"git": dict(git) if git is not None else None, "packages": dict(packages)}

    def _packages_now(self) -> dict[str, str]:
        # sys.modules keeps insertion order, so what the cell imported is a tail after the thread's
        # snapshot: look up only that (~10 us instead of ~200 us for a full pass on the kernel's thread).
        now, seen = _module_names(), self._seen
        if now[: len(seen)] != seen:  # something was removed from sys.modules: start over
            return package_versions(now)
        if len(now) == len(seen):
            return self._packages
        return dict(sorted({**self._packages, **package_versions(now[len(seen) :])}.items()))


class _PackageMemo:
    """The context worker's last package versions: most cells import nothing, so most cells reuse them.

    A full pass costs ~0.3-0.5 ms of the worker's CPU a cell, time it holds the GIL while the kernel's
    thread runs the cell; ``sys.modules`` keeps insertion order, so only a new tail is looked up.
    """

    def __init__(self) -> None:
        self.seen: tuple[str, ...] = ()
        self.packages: dict[str, str] = {}

    def versions(self, now: tuple[str, ...]) -> dict[str, str]:
        """Versions for the modules ``now`` (a snapshot of sys.modules' keys), as package_versions."""
        seen = self.seen
        if now[: len(seen)] != seen:  # something was removed from sys.modules: start over
            self.packages = package_versions(now)
        elif len(now) > len(seen):
            self.packages = dict(sorted({**self.packages, **package_versions(now[len(seen) :])}.items()))
        self.seen = now
        return dict(self.packages)


_worker_packages = _PackageMemo()  # used only on the one context worker thread


def _module_names() -> tuple[str, ...]:
    # dict.copy() is one C call: safe while the kernel's thread imports (iterating could raise).
    return tuple(sys.modules.copy())


def _notebook_folder(shell: Any | None) -> str | None:
    path = notebook_path(shell)
    if not path:
        return None
    folder = os.path.dirname(path)
    return folder if os.path.isdir(folder) else None
