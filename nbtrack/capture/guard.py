"""The one place where a failure inside nbtrack becomes a warning instead of breaking the user's cell.

Everything the magic does around the user's code (starting a run, capturing, ending it) runs inside
:func:`guarded`. Whatever goes wrong there — store unreachable, disk full, a bug of ours, an object
whose ``__repr__`` raises — is reported as one line on stderr, and the user's code runs regardless.
``KeyboardInterrupt`` and ``SystemExit`` are never swallowed (``except Exception`` on purpose, never
``BaseException``): Ctrl-C must still interrupt.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from nbtrack.errors import NbtrackError


class Outcome:
    """Whether the guarded block completed; ``error`` holds what went wrong otherwise."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def describe(exc: BaseException) -> str:
    """One line naming an error: its message for nbtrack's own errors, type and message otherwise."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    return text if isinstance(exc, NbtrackError) else f"{type(exc).__name__}: {text}"


def warn(what: str, detail: str = "") -> None:
    """Print one clear warning line to the user's stderr (shown in the cell's output)."""
    line = f"nbtrack: {what}" + (f" ({detail})" if detail else "")
    with contextlib.suppress(OSError, ValueError):  # stderr closed or broken: nothing left to do
        sys.stderr.write(line + "\n")  # one write, so lines from two threads never interleave
        sys.stderr.flush()


@contextlib.contextmanager
def guarded(what: str) -> Iterator[Outcome]:
    """Run the block; on any error print ``nbtrack: <what> failed (<error>)`` and carry on."""
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:  # noqa: BLE001 - this is the guard: nbtrack must never break the cell
        outcome.error = exc
        warn(f"{what} failed", describe(exc))
