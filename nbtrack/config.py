"""nbtrack's settings: one traitlets Configurable, and the NBTRACK_* environment names read in one place.

Precedence: values set with :func:`nbtrack.configure` (or IPython/Jupyter config files, as
``c.NbtrackConfig.store = ...``) win over environment variables, which win over the defaults.
"""

from __future__ import annotations

import os

from traitlets import Float, Int, Unicode
from traitlets.config import Configurable

#: Environment variable names, read only here.
ENV_STORE = "NBTRACK_STORE"
ENV_ARTIFACTS = "NBTRACK_ARTIFACTS"
ENV_FLUSH_INTERVAL = "NBTRACK_FLUSH_INTERVAL"


class NbtrackConfig(Configurable):
    """Where the store lives and how the background writer behaves."""

    store = Unicode(
        "",
        help="SQLAlchemy URL or path of a SQLite file; empty means discover (.nbtrack/, git root, cwd).",
    ).tag(config=True)
    artifacts = Unicode("", help="fsspec URL of the artifact root; empty means <store dir>/artifacts.").tag(
        config=True
    )
    flush_interval = Float(
        0.5, help="Seconds between background flushes of logged points (latency bound)."
    ).tag(config=True)
    heartbeat_interval = Float(
        10.0, help="Seconds between heartbeats of running runs, used to detect crashed processes."
    ).tag(config=True)
    crash_timeout = Float(
        120.0,
        help="A RUNNING run whose heartbeat is older than this many seconds is reported CRASHED.",
    ).tag(config=True)
    max_buffered_points = Int(
        200_000,
        help="Logged points held in memory at most; log() waits for the writer beyond this.",
    ).tag(config=True)
    busy_timeout = Float(30.0, help="Seconds SQLite waits for a lock held by another process.").tag(
        config=True
    )

    @classmethod
    def from_environment(cls) -> NbtrackConfig:
        """A config whose defaults are taken from the NBTRACK_* environment variables."""
        cfg = cls()
        cfg.store = os.environ.get(ENV_STORE, "")
        cfg.artifacts = os.environ.get(ENV_ARTIFACTS, "")
        interval = os.environ.get(ENV_FLUSH_INTERVAL)
        if interval:
            cfg.flush_interval = float(interval)
        return cfg
