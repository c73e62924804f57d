"""The git state of a notebook's repository: commit, dirty flag and a hash of the diff, cheap to repeat.

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
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

RACY_WINDOW_S = 2.0
"""A cached diff hash is reused only for files last modified at least this long before its status call."""

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
