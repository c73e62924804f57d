"""nbtrack: experiment tracking that lives inside the Jupyter notebook.

``import nbtrack`` is cheap: the public names below are imported on first use (PEP 562), so pandas,
SQLAlchemy and friends load only when a run starts or a query runs. Even :mod:`typing` and
:mod:`importlib` stay out (``typing`` alone costs more than everything else here, as it pulls in ``re``
and ``collections``): annotations are strings and ``TYPE_CHECKING`` is a plain ``False``, which mypy
reads as true.
"""

import sys as _sys

__version__ = "0.1.0"

_LAZY = {
    "start_run": "nbtrack.api",
    "active_run": "nbtrack.api",
    "log": "nbtrack.api",
    "log_params": "nbtrack.api",
    "set_tags": "nbtrack.api",
    "end_run": "nbtrack.api",
    "runs": "nbtrack.api",
    "get_run": "nbtrack.api",
    "configure": "nbtrack.api",
    "table": "nbtrack.api",
    "compare": "nbtrack.api",
    "tag_run": "nbtrack.api",
    "note_run": "nbtrack.api",
    "delete_runs": "nbtrack.api",
    "Session": "nbtrack.api",
    "Run": "nbtrack.tracking.run",
    "RunRecord": "nbtrack.query.records",
    "Status": "nbtrack.model",
    "NbtrackError": "nbtrack.errors",
    "FilterError": "nbtrack.errors",
    "RunNotFound": "nbtrack.errors",
    "MetricNotFound": "nbtrack.errors",
    "StoreError": "nbtrack.errors",
    "SchemaError": "nbtrack.errors",
    "RunStateError": "nbtrack.errors",
    "NbtrackWarning": "nbtrack.errors",
}

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension", *_LAZY]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from nbtrack.api import (
        Session,
        active_run,
        compare,
        configure,
        delete_runs,
        end_run,
        get_run,
        log,
        log_params,
        note_run,
        runs,
        set_tags,
        start_run,
        table,
        tag_run,
    )
    from nbtrack.errors import (
        FilterError,
        MetricNotFound,
        NbtrackError,
        NbtrackWarning,
        RunNotFound,
        RunStateError,
        SchemaError,
        StoreError,
    )
    from nbtrack.model import Status
    from nbtrack.query.records import RunRecord
    from nbtrack.tracking.run import Run


def load_ipython_extension(ipython: "Any") -> None:
    """``%load_ext nbtrack``: register ``%%track``, ``%track`` and the cell hooks."""
    from nbtrack.extension import load

    load(ipython)


def unload_ipython_extension(ipython: "Any") -> None:
    """``%unload_ext nbtrack``: remove the magics and every hook."""
    from nbtrack.extension import unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """jupyter_server's hook: nbtrack's REST API lives in :mod:`nbtrack.server`."""
    return [{"module": "nbtrack"}]


def _load_jupyter_server_extension(server_app: "Any") -> None:
    """jupyter_server's hook: add the REST API routes (see :mod:`nbtrack.server`)."""
    from nbtrack.server import load

    load(server_app)


def __getattr__(name: str) -> "Any":
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbtrack' has no attribute {name!r}")
    __import__(module)
    value = getattr(_sys.modules[module], name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
