"""Plain-text rendering for the command line: values, times, sizes and fixed-width tables.

Pure functions of plain Python values (no pandas, no store), so every format is easy to test. User
strings pass through :func:`printable` before they reach the terminal, so a run name holding escape
sequences or newlines cannot garble (or drive) the terminal.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ELLIPSIS = "…"
GAP = "  "


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with control characters (escape sequences, tabs, newlines) made harmless."""
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch == "\t":
            out.append("    " if keep_newlines else " ")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(" " if ch in "\r\n" else "?")
    return "".join(out)


def is_missing(value: Any) -> bool:
    """True for None and NaN (and pandas' NaT/NA, which are not equal to themselves)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def format_value(value: Any) -> str:
    """A param, metric or tag value as short text: 4 significant digits, JSON for lists and dicts."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def is_number(value: Any) -> bool:
    """True for ints and floats (bools excluded): such columns are right-aligned."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def human_duration(seconds: float | None) -> str:
    """``0.4s``, ``12s``, ``3m05s``, ``2h14m``, ``3d04h``; ``-`` when unknown."""
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds < 10:
        return f"{max(seconds, 0.0):.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def relative_time(timestamp: float, now: float | None = None) -> str:
    """``42s ago``, ``5m ago``, ``3h ago``, ``2d ago``, then the local date (``2024-05-01``)."""
    age = (time.time() if now is None else now) - timestamp
    if 0 <= age < 60:
        return f"{int(age)}s ago"
    if 0 <= age < 3600:
        return f"{int(age // 60)}m ago"
    if 0 <= age < 86400:
        return f"{int(age // 3600)}h ago"
    if 0 <= age < 7 * 86400:
        return f"{int(age // 86400)}d ago"
    return time.strftime("%Y-%m-%d", time.localtime(timestamp))


def local_time(timestamp: float) -> str:
    """A timestamp as local ``YYYY-MM-DD HH:MM:SS``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def human_size(size: float) -> str:
    """Bytes as ``512 B``, ``1.5 KiB``, ``3.2 MiB``..."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def plural(count: int, noun: str) -> str:
    """``1 run``, ``2 runs``: a count with its noun (plural by adding "s")."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in an ellipsis when cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS


@dataclass
class Column:
    """One table column: header, cell texts, alignment and the widest it may get."""

    header: str
    cells: list[str]
    right: bool = False
    max_width: int = 24

    @property
    def width(self) -> int:
        """The width the column takes: its longest text, capped at ``max_width``."""
        longest = max((len(text) for text in (self.header, *self.cells)), default=0)
        return min(longest, self.max_width)


def fit_columns(columns: Sequence[Column], fixed: int, max_width: int | None) -> int:
    """How many of ``columns`` to show: the first ``fixed`` always, then as many as fit ``max_width``."""
    if max_width is None:
        return len(columns)
    used = -len(GAP)
    shown = 0
    for index, column in enumerate(columns):
        used += len(GAP) + column.width
        if index >= fixed and used > max_width:
            break
        shown += 1
    return shown


def render_table(columns: Sequence[Column]) -> list[str]:
    """The lines of a fixed-width table: a header line, then one line per row."""
    widths = [c.width for c in columns]
    rows = max((len(c.cells) for c in columns), default=0)
    lines = []
    for row in range(-1, rows):
        parts = []
        for column, width in zip(columns, widths, strict=True):
            text = clip(printable(column.header if row < 0 else column.cells[row]), width)
            parts.append(text.rjust(width) if column.right else text.ljust(width))
        lines.append(GAP.join(parts).rstrip())
    return lines


def render_pairs(pairs: Sequence[tuple[str, str]], indent: str = "  ") -> list[str]:
    """``key  value`` lines with the values aligned (multi-line values indented under the first)."""
    if not pairs:
        return []
    width = max(len(printable(key)) for key, _ in pairs)
    lines = []
    for key, value in pairs:
        first, *rest = printable(value, keep_newlines=True).split("\n") or [""]
        lines.append(f"{indent}{printable(key).ljust(width)}  {first}".rstrip())
        lines.extend(f"{indent}{' ' * width}  {line}".rstrip() for line in rest)
    return lines
