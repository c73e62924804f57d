"""What a tracked cell ran in: notebook, cell, kernel, host, git state and package versions.

Context comes at two speeds, because ``%%track`` must stay cheap on the kernel's thread:

* :func:`quick_context` takes a few microseconds: notebook path, cell id, execution count, kernel id,
  Python version, platform, host, user, pid, working directory. What cannot change within a process
  (Python, platform, host, user, kernel id) is computed once.
* :class:`ContextCollector`, built before the cell runs, starts a daemon thread that computes
  :func:`git_state` of the notebook's folder and :func:`package_versions` of ``sys.modules``.
  ``collector.result(timeout)`` after the cell returns ``{"git": {...} | None, "packages": {...}}``
  (``None`` if the thread is not done within ``timeout``); modules the cell imported are added then.

Notebook path and cell id
    JupyterLab/Notebook start the kernel with ``JPY_SESSION_NAME`` (the notebook's absolute path;
    ipykernel copies it to ``__session__``); VS Code sets ``__vsc_ipynb_file__``. JupyterLab sends the
    cell id in the execute request's metadata (``cellId``). nbclient sends neither: both are ``None``.

Git, cheap to repeat (git >= 2.15)
    Every call runs one ``git --no-optional-locks status --porcelain=v2 --branch -uno``: commit, branch
    and dirty flag are therefore always current, and the index is never rewritten under the user's own
    git commands. Only hashing ``git diff HEAD`` is memoised, per repository, keyed by the status output
    *plus* ``(mtime, size, inode)`` of every path status lists. The status output alone would miss a
    modified file edited again (same status line); the mtimes of ``HEAD``/``index`` miss working-tree
    edits and commits moved by ``reset --soft`` or packed refs. Like git's racy-clean rule, a memo is
    trusted only if those files are :data:`RACY_WINDOW_S` older than its status call.
    *Dirty* means tracked files differ from ``HEAD``; untracked files do not count (as in
    ``git describe --dirty`` and MLflow: notebooks write outputs into repositories, and scanning
    untracked trees is slow). The diff hash is ``None`` for a clean tree, a repository without commits
    (no ``HEAD`` to diff against) or a diff that outlives the timeout. ``--full-index`` makes binary
    edits change the hash without streaming their bytes; options user config could change are pinned.
    The repository is found by ``stat``-ing ``.git`` upwards; ``git rev-parse`` runs again only when
    that finds a different ``.git``.

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
import hashlib
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

RACY_WINDOW_S = 2.0
"""A cached diff hash is reused only for files last modified at least this long before its status call."""

_STDLIB = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
_KERNEL_FILE = re.compile(r"kernel-(.+)\.json")
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console flashing up per git call
_DIFF_ARGS = (
    "diff",
    "HEAD",
    "--full-index",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--diff-algorithm=myers",
    "--indent-heuristic",
)


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


# -- git ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GitState:
    """Where the code stood: commit (None before the first), tracked changes, their diff hash, branch."""

    commit: str | None
    dirty: bool | None
    diff_sha256: str | None
    branch: str | None
    root: str | None


@dataclass(frozen=True)
class _Status:
    commit: str | None
    branch: str | None
    changed: tuple[bytes, ...]  # paths relative to the root, as git prints them


def _parse_status(out: bytes) -> _Status:
    """Read ``git status --porcelain=v2 --branch -z`` output (paths may hold spaces; renames take two)."""
    commit = branch = None
    changed: list[bytes] = []
    fields = iter(out.split(b"\0"))
    for entry in fields:
        if entry.startswith(b"# branch.oid "):
            oid = entry[len(b"# branch.oid ") :].decode("ascii", "replace")
            commit = None if oid == "(initial)" else oid
        elif entry.startswith(b"# branch.head "):
            head = entry[len(b"# branch.head ") :].decode("utf-8", "replace")
            branch = None if head == "(detached)" else head
        elif entry.startswith(b"1 "):
            changed.append(entry.split(b" ", 8)[-1])
        elif entry.startswith(b"2 "):
            changed.append(entry.split(b" ", 9)[-1])
            changed.append(next(fields, b""))  # the rename's original path
        elif entry.startswith(b"u "):
            changed.append(entry.split(b" ", 10)[-1])
        elif entry[:2] in (b"? ", b"! "):
            changed.append(entry[2:])
    return _Status(commit, branch, tuple(changed))


def _stat_key(path: bytes) -> tuple[int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:  # deleted (or renamed away) in the working tree
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _dotgit_above(folder: str) -> str | None:
    """The nearest ``.git`` (folder, or file for worktrees/submodules) at or above ``folder``."""
    current = folder
    while True:
        candidate = os.path.join(current, ".git")
        if os.path.lexists(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _git(args: Iterable[str], cwd: str, deadline: float) -> bytes | None:
    """stdout of one git command, or None if git is missing, fails or outlives the deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=remaining,
            check=False,
            creationflags=_NO_WINDOW,
        )
    except (OSError, subprocess.SubprocessError):  # no git binary, bad cwd, timeout
        return None
    return done.stdout if done.returncode == 0 else None


def _git_sha256(args: Iterable[str], cwd: str, deadline: float) -> str | None:
    """sha256 of one git command's stdout, streamed (diffs of notebooks can be megabytes), or None."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    try:
        proc = subprocess.Popen(
            ["git", "--no-optional-locks", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            creationflags=_NO_WINDOW,
        )
    except OSError:
        return None
    killer = threading.Timer(remaining, proc.kill)
    killer.daemon = True
    killer.start()
    digest = hashlib.sha256()
    stdout = proc.stdout
    try:
        while stdout is not None and (chunk := stdout.read(1 << 16)):
            digest.update(chunk)
        returncode = proc.wait()
    finally:
        killer.cancel()
        if stdout is not None:
            stdout.close()
    return digest.hexdigest() if returncode == 0 else None  # killed at the deadline: negative


@dataclass(frozen=True)
class _DiffMemo:
    key: tuple[Any, ...]
    sha256: str | None
    settled: bool  # every listed file was older than the status call by RACY_WINDOW_S


class GitStateCache:
    """:func:`git_state` with memory: each folder's repository root and each repository's last diff hash."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roots: dict[tuple[str, str | None], tuple[str | None, str | None]] = {}
        self._diffs: dict[str, _DiffMemo] = {}
        self.diff_runs = 0
        """How many times ``git diff`` actually ran (the rest were answered from the memo)."""

    def state(self, path: str | os.PathLike[str], timeout: float = 2.0) -> GitState | None:
        """The git state of the repository holding ``path``; None outside a repository or without git."""
        deadline = time.monotonic() + timeout
        folder = os.path.abspath(os.fspath(path))
        if not os.path.isdir(folder):
            folder = os.path.dirname(folder)
        root = self._root(folder, deadline)
        if root is None:
            return None
        started_ns = time.time_ns()
        out = _git(("status", "--porcelain=v2", "--branch", "-z", "--untracked-files=no"), root, deadline)
        if out is None:
            return None
        status = _parse_status(out)
        dirty = bool(status.changed)
        if not dirty or status.commit is None:
            return GitState(status.commit, dirty, None, status.branch, root)
        diff_sha256 = self._diff_sha256(root, out, status, started_ns, deadline)
        return GitState(status.commit, dirty, diff_sha256, status.branch, root)

    def _root(self, folder: str, deadline: float) -> str | None:
        # GIT_DIR in the kernel's environment overrides the .git lookup: then only git can tell.
        git_dir = os.environ.get("GIT_DIR")
        dotgit = _dotgit_above(folder)
        if dotgit is None and git_dir is None:
            return None
        key = (folder, git_dir)
        with self._lock:
            known = self._roots.get(key)
        if known is not None and known[0] == dotgit:
            return known[1]
        out = _git(("rev-parse", "--show-toplevel"), folder, deadline)
        root = os.fsdecode(out.rstrip(b"\n")) if out else None
        with self._lock:
            self._roots[key] = (dotgit, root)
        return root

    def _diff_sha256(
        self, root: str, status_out: bytes, status: _Status, started_ns: int, deadline: float
    ) -> str | None:
        base = os.fsencode(root) + b"/"
        stats = tuple(_stat_key(base + path) for path in status.changed)
        key = (status_out, stats)
        with self._lock:
            memo = self._diffs.get(root)
        if memo is not None and memo.key == key and memo.settled:
            return memo.sha256
        sha = _git_sha256(_DIFF_ARGS, root, deadline)  # run at the root: diff.relative is moot
        with self._lock:
            self.diff_runs += 1
        if sha is None:  # timed out or failed: try again next time rather than remember a gap
            return None
        newest = max((s[0] for s in stats if s is not None), default=0)
        settled = newest < started_ns - int(RACY_WINDOW_S * 1e9)
        with self._lock:
            self._diffs[root] = _DiffMemo(key, sha, settled)
        return sha


_GIT = GitStateCache()


def git_state(path: str | os.PathLike[str], timeout: float = 2.0) -> GitState | None:
    """Commit, dirty flag, diff hash, branch and root of the repository holding ``path`` (None if none)."""
    return _GIT.state(path, timeout)


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
class ContextCollector:
    """Computes the slow context (git state, package versions) in a daemon thread started at construction.

    Git is read from ``cwd`` if given, else the notebook's folder, else the working directory.
    """

    def __init__(self, shell: Any | None, cwd: str | None = None) -> None:
        self.folder = cwd or _notebook_folder(shell) or _cwd()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._git: GitState | None = None
        self._seen: tuple[str, ...] = ()  # sys.modules' keys when the thread looked
        self._packages: dict[str, str] = {}
        self._result: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._collect, name="nbtrack-context", daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            self._git = git_state(self.folder) if self.folder else None
            self._seen = _module_names()
            self._packages = package_versions(self._seen)
        finally:
            self._ready.set()

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


def _module_names() -> tuple[str, ...]:
    # dict.copy() is one C call: safe while the kernel's thread imports (iterating could raise).
    return tuple(sys.modules.copy())


def _notebook_folder(shell: Any | None) -> str | None:
    path = notebook_path(shell)
    if not path:
        return None
    folder = os.path.dirname(path)
    return folder if os.path.isdir(folder) else None
