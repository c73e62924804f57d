"""The REST handlers: thin — parse the request, ask the query layer (in a worker thread), write JSON.

Every handler needs Jupyter's authentication (``tornado.web.authenticated``); jupyter_server's
``APIHandler`` checks the XSRF token of every change (POST, DELETE) made with a login cookie. Errors are
translated in one place (:func:`translated`) into ``{"error": message}`` with a status a client can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from tornado import web

from nbtrack.errors import FilterError, MetricNotFound, NbtrackError, RunNotFound, StoreError
from nbtrack.query import StoreSource
from nbtrack.server import payloads

T = TypeVar("T")
MAX_LIMIT = 1000


def dumps(data: Any) -> str:
    """Strict JSON: a NaN that slipped through is a server error here, not unreadable JSON in a browser."""
    return json.dumps(data, allow_nan=False)


class ApiError(web.HTTPError):
    """An HTTP error whose message goes in the JSON body (``{"error": ...}``), never in the status line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status)
        self.message = message


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """nbtrack's errors as HTTP errors: bad input 400, nothing there 404, store down 503."""
    try:
        yield
    except (FilterError, ValueError) as exc:
        raise ApiError(400, _message(exc)) from exc
    except (RunNotFound, MetricNotFound, KeyError) as exc:
        raise ApiError(404, _message(exc)) from exc
    except StoreError as exc:
        raise ApiError(503, _message(exc)) from exc
    except NbtrackError as exc:
        raise ApiError(400, _message(exc)) from exc


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


class NbtrackHandler(APIHandler):
    """Shared by every endpoint: the store source, query arguments, errors as JSON."""

    @property
    def source(self) -> StoreSource:
        source: StoreSource = self.settings["nbtrack_source"]
        return source

    async def query(self, work: Callable[[], T]) -> T:
        """Run ``work`` (store I/O) off the server's event loop, with nbtrack errors translated."""
        with translated():
            return await asyncio.to_thread(work)

    def int_argument(self, name: str, default: int, low: int = 0, high: int | None = None) -> int:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise ApiError(400, f"{name} must be an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ApiError(400, f"{name} must be {bound}, got {value}")
        return value

    def optional_float(self, name: str) -> float | None:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return None
        try:
            return float(text)
        except ValueError:
            raise ApiError(400, f"{name} must be a number, got {text!r}") from None

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(400, "the body must be a JSON object")
        return data

    async def write_run(self, ref: str) -> None:
        """Respond with everything about run ``ref`` (a RunDetail)."""
        from nbtrack.query.records import load_run
        from nbtrack.query.resolve import resolve_run_id

        def work() -> dict[str, Any]:
            store = self.source()
            return dict(payloads.run_detail(load_run(store, resolve_run_id(store, ref)), self.base_url))

        self.finish(dumps(await self.query(work)))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = exc.message if isinstance(exc, ApiError) else self._reason
        self.clear_header("Content-Security-Policy")
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message}))


class RunsHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs``: one page of matching runs."""

    @web.authenticated
    async def get(self) -> None:
        from nbtrack.query.cells import run_places
        from nbtrack.query.table import table_columns, table_page

        filter = self.get_query_argument("filter", "") or None
        experiments = self.get_query_arguments("experiment") or None
        order_by = self.get_query_argument("order_by", "") or None
        offset = self.int_argument("offset", 0)
        limit = self.int_argument("limit", 50, low=1, high=MAX_LIMIT)
        columns = [c for c in self.get_query_argument("columns", "").split(",") if c]

        def work() -> dict[str, Any]:
            store = self.source()
            known = table_columns(store, filter, experiments)
            page = table_page(store, filter, experiments, order_by, offset, limit, columns)
            places = run_places(store, list(page.frame["run_id"]))
            return {
                "total": page.total,
                "offset": page.offset,
                "runs": payloads.summaries(page.frame, places, columns),
                "columns": known.keys,
                "varying": sorted(known.varying),
            }

        self.finish(dumps(await self.query(work)))


class RunHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/<ref>`` (everything about a run), ``DELETE`` (delete it)."""

    @web.authenticated
    async def get(self, ref: str) -> None:
        await self.write_run(ref)

    @web.authenticated
    async def delete(self, ref: str) -> None:
        editor = self.settings["nbtrack_editor"]
        seqs = await self.query(lambda: editor.delete([ref]))
        self.finish(dumps({"deleted": seqs}))


class TagsHandler(NbtrackHandler):
    """``POST /nbtrack/api/runs/<ref>/tags`` with ``{"tags": {key: value}}``."""

    @web.authenticated
    async def post(self, ref: str) -> None:
        tags = self.body().get("tags")
        if not isinstance(tags, dict) or not tags:
            raise ApiError(400, 'the body must be {"tags": {"key": "value", ...}}')
        editor = self.settings["nbtrack_editor"]
        await self.query(lambda: editor.tag([ref], {str(k): str(v) for k, v in tags.items()}))
        await self.write_run(ref)


class NotesHandler(NbtrackHandler):
    """``POST /nbtrack/api/runs/<ref>/notes`` with ``{"text": "..."}``."""

    @web.authenticated
    async def post(self, ref: str) -> None:
        text = self.body().get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, 'the body must be {"text": "a non-empty note"}')
        editor = self.settings["nbtrack_editor"]
        await self.query(lambda: editor.note([ref], text))
        await self.write_run(ref)


class MetricHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/<ref>/metrics/<key>``: a curve, downsampled; exact within start..end."""

    @web.authenticated
    async def get(self, ref: str, key: str) -> None:
        from nbtrack.query.history import load_curve
        from nbtrack.query.resolve import resolve_run_id

        max_points = self.int_argument("max_points", 2000, low=2, high=100_000)
        steps = (self.optional_float("start"), self.optional_float("end"))

        def work() -> dict[str, Any]:
            store = self.source()
            curve = load_curve(store, resolve_run_id(store, ref), key, max_points, steps)
            return dict(payloads.curve_data(key, curve))

        self.finish(dumps(await self.query(work)))


class ArtifactHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/<ref>/artifacts/<name>``: the bytes of an artifact the run recorded.

    The name is looked up among the run's artifact records (content-addressed files); it is never
    joined to a filesystem path, so no name can reach outside the artifact root.
    """

    @web.authenticated
    async def get(self, ref: str, name: str) -> None:
        from nbtrack.query.records import load_run
        from nbtrack.query.resolve import resolve_run_id

        def work() -> tuple[bytes, str]:
            store = self.source()
            record = load_run(store, resolve_run_id(store, ref))
            mime = next((a.mime for a in record.artifacts if a.name == name), None)
            return record.artifact_bytes(name), mime or "application/octet-stream"

        data, self._mime = await self.query(work)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")  # an SVG runs no script
        self.set_header("Content-Disposition", "inline")
        self.finish(data)

    _mime: str | None = None

    def finish(self, chunk: Any = None) -> Any:
        if self._mime is None:  # an error: JSON, as every endpoint answers
            return super().finish(chunk)
        self.set_header("Content-Type", self._mime)  # APIHandler.finish would say JSON
        return web.RequestHandler.finish(self, chunk)


class ChangesHandler(NbtrackHandler):
    """``GET /nbtrack/api/changes?since=<cursor>``: runs touched since the last poll."""

    @web.authenticated
    async def get(self) -> None:
        from nbtrack.query.cells import run_places
        from nbtrack.query.changes import changes_since
        from nbtrack.query.table import runs_with_ids

        since = self.get_query_argument("since", "")

        def work() -> dict[str, Any]:
            store = self.source()
            changes = changes_since(store, since)
            runs: list[Any] = []
            if changes.run_ids:
                frame = runs_with_ids(store, changes.run_ids)
                runs = list(payloads.summaries(frame, run_places(store, changes.run_ids)))
            return {"cursor": changes.cursor, "runs": runs, "deleted": changes.deleted}

        self.finish(dumps(await self.query(work)))


class CellsHandler(NbtrackHandler):
    """``GET /nbtrack/api/cells?notebook=<path>``: a notebook's runs by cell id (for cell badges)."""

    @web.authenticated
    async def get(self) -> None:
        from nbtrack.query.cells import run_places, runs_by_cell

        notebook = self.get_query_argument("notebook", "")
        if not notebook:
            raise ApiError(400, "give ?notebook=<path of the notebook>")
        path = self.settings["nbtrack_resolve_path"](notebook)

        def work() -> dict[str, Any]:
            store = self.source()
            cells = runs_by_cell(store, path)
            out = {}
            for cell, frame in cells.items():
                out[cell] = payloads.summaries(frame, run_places(store, list(frame["run_id"])))
            return {"notebook": path, "cells": out}

        self.finish(dumps(await self.query(work)))


class CompareHandler(NbtrackHandler):
    """``GET /nbtrack/api/compare?runs=a,b,c&directions=acc:max``: runs side by side (the compare tab)."""

    @web.authenticated
    async def get(self) -> None:
        from nbtrack.query.compare import load_comparison

        refs = [r for r in self.get_query_argument("runs", "").split(",") if r.strip()]
        if not refs:
            raise ApiError(
                400, "give the runs to compare: ?runs=<ref>,<ref> (seqs, '#12', run ids or prefixes)"
            )
        directions = {}
        for item in self.get_query_argument("directions", "").split(","):
            if item.strip():
                key, sep, word = item.rpartition(":")
                if not sep or not key:
                    raise ApiError(400, f"directions must be metric:min or metric:max, got {item!r}")
                directions[key] = word

        def work() -> dict[str, Any]:
            data = load_comparison(self.source(), refs, directions, max_images=0)
            return dict(payloads.comparison(data, self.base_url))

        self.finish(dumps(await self.query(work)))


class DiffHandler(NbtrackHandler):
    """``GET /nbtrack/api/diff?first=<ref>&second=<ref>``: two runs' cell code, line by line."""

    @web.authenticated
    async def get(self) -> None:
        from nbtrack.query.compare import diff_code
        from nbtrack.query.records import load_run
        from nbtrack.query.resolve import resolve_run_id

        first, second = self.get_query_argument("first", ""), self.get_query_argument("second", "")
        if not first or not second:
            raise ApiError(400, "give the two runs to diff: ?first=<ref>&second=<ref>")

        def work() -> dict[str, Any]:
            store = self.source()
            a, b = (load_run(store, resolve_run_id(store, ref)) for ref in (first, second))
            lines = diff_code(a.info.source or "", b.info.source or "")
            return dict(payloads.code_diff(a.run_id, b.run_id, lines))

        self.finish(dumps(await self.query(work)))
