"""The jupyter_server extension: nbtrack's REST API, read by the JupyterLab run browser.

Enabled by ``pip install`` (``etc/jupyter/jupyter_server_config.d/nbtrack.json`` in the wheel). It reads
the store named by ``NBTRACK_STORE``, else the one discovered from the server's root folder (the nearest
``.nbtrack/``, else the git work tree, else the root folder itself), as kernels started there would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load(server_app: Any) -> None:
    """Add nbtrack's routes to a running jupyter_server (called through ``nbtrack``'s extension hook)."""
    from jupyter_server.utils import url_path_join

    from nbtrack import api
    from nbtrack.server.routes import ROUTES

    root = Path(server_app.root_dir).expanduser().resolve()
    session = api.session_for_folder(root)
    web_app = server_app.web_app
    base_url = web_app.settings["base_url"]

    def resolve_path(notebook: str) -> str:
        path = Path(notebook).expanduser()
        return str(path if path.is_absolute() else (root / path).resolve())

    web_app.settings.update(
        nbtrack_source=session.reconciled,
        nbtrack_editor=api.Editor(session.config.store),
        nbtrack_resolve_path=resolve_path,
    )
    web_app.add_handlers(".*$", [(url_path_join(base_url, path), handler) for path, handler in ROUTES])
    server_app.log.info(
        "nbtrack: REST API at %snbtrack/api (store %s)", base_url, session.store().display_url
    )
