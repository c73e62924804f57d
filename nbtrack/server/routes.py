"""THE route table of the REST API (paths relative to the server's base URL)."""

from __future__ import annotations

from typing import Any

from nbtrack.server import handlers as h

PREFIX = "nbtrack/api"
_REF = r"(?P<ref>[^/]+)"

ROUTES: list[tuple[str, type[Any]]] = [
    (rf"{PREFIX}/runs", h.RunsHandler),
    (rf"{PREFIX}/runs/{_REF}", h.RunHandler),
    (rf"{PREFIX}/runs/{_REF}/tags", h.TagsHandler),
    (rf"{PREFIX}/runs/{_REF}/notes", h.NotesHandler),
    (rf"{PREFIX}/runs/{_REF}/metrics/(?P<key>.+)", h.MetricHandler),
    (rf"{PREFIX}/runs/{_REF}/artifacts/(?P<name>.+)", h.ArtifactHandler),
    (rf"{PREFIX}/changes", h.ChangesHandler),
    (rf"{PREFIX}/cells", h.CellsHandler),
    (rf"{PREFIX}/compare", h.CompareHandler),
    (rf"{PREFIX}/diff", h.DiffHandler),
]
