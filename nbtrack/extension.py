"""``%load_ext nbtrack``: registers the magics and hooks on a shell, and removes them again.

Loading is cheap on the kernel's thread: only IPython-side objects are created here; the store is
opened (and runs left RUNNING by dead kernels are reconciled to CRASHED) in a background thread, which
also warms up the imports the first tracked cell needs. The ``%track`` line magic
(:mod:`nbtrack.cli.magic`) is imported on its first use: it reads runs through the query layer, so
importing it loads SQLAlchemy and numpy, which cost ten times the rest of loading. Loading twice is
harmless.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from nbtrack.capture.controller import Controller
from nbtrack.capture.hooks import CellHooks
from nbtrack.capture.magics import TrackMagics

ATTRIBUTE = "_nbtrack_extension"


class Extension:
    """Everything the extension registered on one shell (a plain class: a dataclass costs ~0.5 ms)."""

    def __init__(self, controller: Controller, hooks: CellHooks, magics: LazyLineMagic) -> None:
        self.controller = controller
        self.hooks = hooks
        self.magics = magics
        self.startup: threading.Thread | None = None


def load(shell: Any) -> Extension:
    """Register nbtrack on ``shell`` (idempotent) and start the background store check."""
    existing = getattr(shell, ATTRIBUTE, None)
    if existing is not None:
        return existing
    controller = Controller(shell)
    controller.live = live_chart
    hooks = CellHooks(controller)
    hooks.install(shell)
    shell.register_magics(TrackMagics(shell, controller))
    line_magics = LazyLineMagic(shell, controller)
    shell.register_magic_function(line_magics, "line", "track")
    ext = Extension(controller, hooks, line_magics)
    ext.startup = threading.Thread(target=_startup, name="nbtrack-startup", daemon=True)
    ext.startup.start()
    setattr(shell, ATTRIBUTE, ext)
    return ext


class LazyLineMagic:
    """``%track``: imports :class:`nbtrack.cli.magic.TrackLineMagics` on the first call, then delegates."""

    __name__ = "track"

    def __init__(self, shell: Any, controller: Controller) -> None:
        self._shell = shell
        self._controller = controller
        self._magics: Any = None
        self.__doc__ = _TRACK_DOC  # what `%track?` shows, without importing the real magic

    @property
    def magics(self) -> Any:
        """The real ``%track`` magics object (imported and made on first use)."""
        if self._magics is None:
            from nbtrack.cli.magic import TrackLineMagics

            self._magics = TrackLineMagics(self._shell, self._controller)
        return self._magics

    def __call__(self, line: str) -> Any:
        return self.magics.track_line(line)


_TRACK_DOC = "Browse and manage runs. ``%track help`` lists the commands."


def live_chart(run: Any) -> Any:
    """The live chart of a tracked cell's run (``nbtrack.ui.live``; plotly loads when it first draws)."""
    from nbtrack import api
    from nbtrack.errors import StoreError
    from nbtrack.ui.live import LiveChart

    writer = api.session().tracker.writer

    def flush() -> None:
        with contextlib.suppress(StoreError):  # the cell already says once that the store fails
            writer.flush()

    return LiveChart(run, flush)


def unload(shell: Any) -> None:
    """Remove the magics and every hook that :func:`load` registered."""
    ext = getattr(shell, ATTRIBUTE, None)
    if ext is None:
        return
    ext.hooks.uninstall(shell)
    registry = shell.magics_manager.magics
    for kind in ("line", "cell"):
        registry[kind].pop("track", None)
    user_magics = shell.magics_manager.user_magics
    if getattr(user_magics, "track", None) is ext.magics:  # register_magic_function put it there
        delattr(user_magics, "track")
    delattr(shell, ATTRIBUTE)


def _startup() -> None:
    """Open the store and reconcile crashed runs, off the kernel's thread.

    Quiet on failure: this thread's output would land in whichever cell runs next, and the first
    tracked cell reports a store problem itself, as its one warning line.
    """
    from nbtrack import api
    from nbtrack.errors import NbtrackError

    with contextlib.suppress(NbtrackError, OSError):
        api.session().reconciled()
