"""Every error and warning nbtrack raises, in one leaf module.

Catch :class:`NbtrackError` to handle anything nbtrack raises on purpose; each subclass names one kind of
problem and carries a message a user can act on.
"""

from __future__ import annotations


class NbtrackError(Exception):
    """Base class of every error nbtrack raises on purpose."""


class StoreError(NbtrackError):
    """The store cannot be reached, opened or written (the message names its URL and the cause)."""


class SchemaError(StoreError):
    """The store's schema cannot be used by this nbtrack (e.g. it was written by a newer version)."""


class RunNotFound(NbtrackError, LookupError):
    """No run matches the given seq number, run id or prefix."""


class MetricNotFound(NbtrackError, LookupError):
    """The run has no metric of that name (the message lists the ones it has)."""


class FilterError(NbtrackError, ValueError):
    """A filter or order_by string could not be parsed; the message shows where and what was expected."""

    def __init__(self, message: str, text: str = "", position: int | None = None) -> None:
        self.text = text
        self.position = position
        if text and position is not None:
            message = f"{message} (at position {position})\n{_caret_excerpt(text, position)}"
        super().__init__(message)


def _caret_excerpt(text: str, position: int, width: int = 72) -> str:
    """A one-line window of ``text`` around ``position`` with a caret under it (newlines shown as spaces)."""
    flat = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    start = max(0, min(position - width // 2, len(flat) - width))
    head = "..." if start > 0 else ""
    tail = "..." if start + width < len(flat) else ""
    window = flat[start : start + width]
    return f"  {head}{window}{tail}\n  {' ' * (len(head) + position - start)}^"


class RunStateError(NbtrackError):
    """An operation was asked of a run in a state that does not allow it (e.g. logging to an ended run)."""


class NbtrackWarning(UserWarning):
    """Something nbtrack could not do fully, but the user's work went on (e.g. a value kept as repr)."""
