"""The one-line summary shown below a tracked cell, as HTML in notebooks and plain text in terminals.

``run #12 · lr=0.001 epochs=5 → acc 0.931 (best so far, +0.012 vs #11) · 41.2 s``
Every user-supplied string is escaped in the HTML form.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

MAX_PARAMS_SHOWN = 6
MAX_VALUE_CHARS = 40


def format_value(value: Any) -> str:
    """A short, readable form of a param or metric value."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (list, tuple, dict)):
        try:
            text = json.dumps(value, separators=(", ", ": "), default=repr)
        except ValueError:
            text = repr(value)
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def format_duration(seconds: float) -> str:
    """``0.12 s``, ``41.2 s``, ``3 min 05 s``, ``2 h 03 min``."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass
class Summary:
    """What the summary line says about one finished run."""

    seq: int
    status: str
    duration: float
    params: dict[str, Any] = field(default_factory=dict)
    metric: tuple[str, float] | None = None
    best: bool | None = None
    previous: tuple[int, float] | None = None  # (seq, value) of the previous comparable run
    error: str | None = None
    name: str | None = None
    notes: list[str] = field(default_factory=list)

    def parts(self) -> list[str]:
        """The line's segments, as plain text."""
        head = f"run #{self.seq}" + (f" {self.name!r}" if self.name else "")
        if self.status != "FINISHED":
            head += f" {self.status}"
        segments = [head]
        shown = [f"{k}={format_value(v)}" for k, v in list(self.params.items())[:MAX_PARAMS_SHOWN]]
        if len(self.params) > MAX_PARAMS_SHOWN:
            shown.append(f"(+{len(self.params) - MAX_PARAMS_SHOWN} more)")
        params = " ".join(shown)
        if self.metric is not None:
            key, value = self.metric
            extra = []
            if self.best:
                extra.append("best so far")
            if self.previous is not None:
                prev_seq, prev_value = self.previous
                extra.append(f"{value - prev_value:+.4g} vs #{prev_seq}")
            metric = f"→ {key} {format_value(value)}" + (f" ({', '.join(extra)})" if extra else "")
            params = f"{params} {metric}".strip()
        if params:
            segments.append(params)
        if self.error:
            segments.append(self.error)
        segments.append(format_duration(self.duration))
        return segments + self.notes

    def bundle(self) -> dict[str, str]:
        """The display bundle: HTML for notebooks, plain text for terminals."""
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def __repr__(self) -> str:
        return " · ".join(self.parts())

    def _repr_html_(self) -> str:
        color = {"FINISHED": "#1a7f37", "FAILED": "#cf222e", "INTERRUPTED": "#9a6700"}.get(
            self.status, "#57606a"
        )
        text = " · ".join(html.escape(p) for p in self.parts())
        return (
            f'<div class="nbtrack-summary" style="font-family: var(--jp-code-font-family, monospace);'
            f' font-size: 12px; color: #57606a; border-left: 3px solid {color}; padding-left: 6px;">'
            f"{text}</div>"
        )
