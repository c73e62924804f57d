"""``%track``: the notebook's command line for runs — list, show, diff, restore, tag, note, rm.

Registered by ``%load_ext nbtrack`` next to the ``%%track`` cell magic. It reads and edits runs
through the public API (the query layer), like the ``nbtrack`` shell command, and shares its text
rendering. ``experiment`` and ``off``/``on`` change settings of the shell's %%track controller.
"""

from __future__ import annotations

import difflib
import shlex
import time
from typing import Any, Protocol

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from nbtrack.cli.commands import describe_run
from nbtrack.cli.render import format_value
from nbtrack.errors import NbtrackError
from nbtrack.query.restore import restored_code

USAGE = """\
%track                      the run table (sort, filter, select, compare, tag, delete)
%track show N               everything about run N
%track diff N M             params, metrics and a diff of the code of runs N and M
%track restore N            put run N's code, with its param values, into a new cell below
%track tag N key=value ...  set tags on run N
%track note N "text"        attach a note to run N
%track rm N [M ...]         delete runs
%track experiment [NAME]    show / set the default experiment of later %%track cells
%track off | on             stop / resume tracking %%track cells (they still run)
"""
RECENT = 20


class Settings(Protocol):
    """What %track may change on the shell's %%track controller."""

    enabled: bool
    default_experiment: str | None


@magics_class
class TrackLineMagics(Magics):
    """``%track``: browse and manage runs without leaving the notebook."""

    def __init__(self, shell: Any, settings: Settings) -> None:
        super().__init__(shell)
        self.settings = settings

    @line_magic("track")  # type: ignore[arg-type]  # IPython's decorator types are too narrow
    def track_line(self, line: str) -> Any:
        """Browse and manage runs. ``%track help`` lists the commands."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%track: {exc}") from None
        command, args = (words[0], words[1:]) if words else ("", [])
        handler = getattr(self, f"_cmd_{command}", None) if command else self._recent
        if handler is None:
            raise UsageError(f"%track: unknown command {command!r}\n{USAGE}")
        try:
            return handler(args)
        except NbtrackError as exc:  # a bad run number, filter or store: a message, not a traceback
            raise UsageError(f"%track {command}: {exc}".replace("%track :", "%track:")) from None

    # -- commands --------------------------------------------------------------------------
    def _recent(self, args: list[str]) -> Any:
        """No command: the run table widget in a kernel, else the recent runs as a DataFrame."""
        if getattr(self.shell, "kernel", None) is not None:
            from nbtrack import api

            return api.table()
        return recent_runs()

    def _cmd_help(self, args: list[str]) -> None:
        print(USAGE, end="")  # noqa: T201 - a magic prints to the cell

    def _cmd_show(self, args: list[str]) -> None:
        from nbtrack import api

        ref = _one(args, "show N")
        print("\n".join(describe_run(api.get_run(ref), True, time.time())))  # noqa: T201

    def _cmd_diff(self, args: list[str]) -> None:
        from nbtrack import api

        if len(args) != 2:
            raise UsageError("%track diff N M: give two runs")
        a, b = api.get_run(args[0]), api.get_run(args[1])
        print("\n".join(diff_runs(a, b)))  # noqa: T201

    def _cmd_restore(self, args: list[str]) -> str:
        from nbtrack import api

        record = api.get_run(_one(args, "restore N"))
        code = restored_code(record)
        shell: Any = self.shell
        shell.set_next_input(code, replace=False)
        return f"run #{record.seq}'s code is in a new cell below"

    def _cmd_tag(self, args: list[str]) -> str:
        from nbtrack import api

        if len(args) < 2:
            raise UsageError("%track tag N key=value [key=value ...]")
        tags = {}
        for item in args[1:]:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UsageError(f"%track tag: expected key=value, got {item!r}")
            tags[key] = value
        record = api.tag_run(args[0], tags)
        return f"run #{record.seq}: tagged " + ", ".join(f"{k}={v}" for k, v in tags.items())

    def _cmd_note(self, args: list[str]) -> str:
        from nbtrack import api

        if len(args) < 2:
            raise UsageError('%track note N "text"')
        record = api.note_run(args[0], " ".join(args[1:]))
        return f"run #{record.seq}: note added"

    def _cmd_rm(self, args: list[str]) -> str:
        from nbtrack import api

        if not args:
            raise UsageError("%track rm N [M ...]")
        seqs = api.delete_runs(args)
        return "deleted " + ", ".join(f"run #{s}" for s in seqs)

    def _cmd_experiment(self, args: list[str]) -> str:
        if len(args) > 1:
            raise UsageError("%track experiment NAME (quote a name with spaces)")
        if args:
            self.settings.default_experiment = args[0]
        current = self.settings.default_experiment
        return f"default experiment: {current}" if current else "default experiment: the notebook's name"

    def _cmd_off(self, args: list[str]) -> str:
        self.settings.enabled = False
        return "tracking off: %%track cells run without recording runs"

    def _cmd_on(self, args: list[str]) -> str:
        self.settings.enabled = True
        return "tracking on"


def _one(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise UsageError(f"%track {usage}")
    return args[0]


def recent_runs(limit: int = RECENT) -> Any:
    """The latest runs as a compact DataFrame (params and metrics that vary, newest first)."""
    from nbtrack import api

    frame = api.runs(limit=limit)
    base = ["seq", "name", "experiment", "status", "start_time", "duration"]
    extra = [
        c
        for c in frame.columns
        if c.startswith(("params.", "metrics.")) and frame[c].astype(str).nunique(dropna=False) > 1
    ]
    return frame[base + extra].set_index("seq")


def diff_runs(a: Any, b: Any) -> list[str]:
    """Params and metrics that differ between two runs, then a unified diff of their code."""
    lines = [f"run #{a.seq} vs run #{b.seq}"]
    for title, left, right in (("params", a.params, b.params), ("metrics", a.metrics, b.metrics)):
        keys = sorted(set(left) | set(right))
        changed = [k for k in keys if left.get(k, _MISSING) != right.get(k, _MISSING)]
        lines.append(f"\n{title}: {len(changed)} of {len(keys)} differ")
        for key in changed:
            lines.append(f"  {key}: {_show(left, key)}  ->  {_show(right, key)}")
    source_a = (a.info.source or "").splitlines()
    source_b = (b.info.source or "").splitlines()
    code = list(difflib.unified_diff(source_a, source_b, f"run #{a.seq}", f"run #{b.seq}", lineterm=""))
    lines.append("\ncode: " + ("identical" if not code else ""))
    lines += code
    return lines


_MISSING = object()


def _show(values: dict[str, Any], key: str) -> str:
    return format_value(values[key]) if key in values else "(none)"
