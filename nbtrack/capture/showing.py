"""Showing nbtrack's own lines (the run summary) below a cell, without ipykernel's stream round trips.

``display()`` in ipykernel first flushes ``sys.stdout`` and ``sys.stderr`` so that text printed before
it arrives first; each flush waits for a round trip through the kernel's IOPub thread (~1 ms each on a
busy kernel, the largest part of what the summary line cost). When both streams have nothing waiting to
be sent there is nothing to keep in order, so the line is published without them. Anywhere else (a
terminal, ``%%capture``, another kernel, text pending) it is an ordinary ``display(..., raw=True)``.
"""

from __future__ import annotations

import sys
from typing import Any


def show_bundle(shell: Any, bundle: dict[str, str], metadata: dict[str, Any]) -> None:
    """Display a ready MIME bundle below the running cell (as ``display(bundle, raw=True)``)."""
    publisher = getattr(shell, "display_pub", None)
    if publisher is not None and _streams_idle() and callable(getattr(publisher, "_flush_streams", None)):
        publisher.__dict__["_flush_streams"] = _nothing_to_flush  # this call only
        try:
            publisher.publish(data=bundle, metadata=metadata)
        finally:
            publisher.__dict__.pop("_flush_streams", None)
        return
    from IPython.display import display

    display(bundle, raw=True, metadata=metadata)


def _streams_idle() -> bool:
    """True when stdout and stderr are ipykernel streams with nothing waiting to be sent."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "_flush_pending", True) is not False:  # not an ipykernel stream, or busy
            return False
        if getattr(stream, "_subprocess_flush_pending", False):
            return False
    return True


def _nothing_to_flush() -> None:
    """Stands in for ipykernel's stream flush while both streams are idle."""
