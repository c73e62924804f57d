"""The run table: ``nbtrack.table()`` and what ``%track`` shows — an anywidget view over the query layer.

The browser side (``assets/table.js``) draws rows, sorts, filters, chooses columns and selects; this
side answers with one page at a time (:mod:`nbtrack.query.table`), so 10,000 runs cost one page.
Buttons send actions (compare, tag, note, delete, restore) that run here through an editor the public
API supplies. User strings reach the browser as data and are set as text there, never as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import anywidget
import ipywidgets
import traitlets

from nbtrack.errors import FilterError, NbtrackError
from nbtrack.query import StoreSource
from nbtrack.query.jsonable import json_value
from nbtrack.query.table import TableColumns, TablePage, order_text, table_columns, table_page

ASSETS = Path(__file__).with_name("assets")
BASE = ("seq", "name", "experiment", "status", "start_time", "duration")
#: columns shown before the user chooses: beyond this many, the rest start unticked in the chooser
DEFAULT_VISIBLE = 24
KIND_ORDER = ("metrics", "params", "tags")


class RunEditor(Protocol):
    """The changes the table's buttons make (the public API supplies one)."""

    def tag(self, refs: Sequence[Any], tags: Mapping[str, Any]) -> None: ...
    def note(self, refs: Sequence[Any], text: str) -> None: ...
    def delete(self, refs: Sequence[Any]) -> list[int]: ...


class TableView(anywidget.AnyWidget):
    """The browser half of the run table; its traits are the whole conversation."""

    _esm = ASSETS / "table.js"
    _css = ASSETS / "table.css"

    filter = traitlets.Unicode("").tag(sync=True)
    filter_error = traitlets.Unicode("").tag(sync=True)
    sort = traitlets.Dict({"column": "start_time", "descending": True}).tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(50).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    columns: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)  # name kind key varying
    hidden = traitlets.List(traitlets.Unicode()).tag(sync=True)
    differs_only = traitlets.Bool(False).tag(sync=True)
    shown = traitlets.List(traitlets.Unicode()).tag(sync=True)  # the value columns on screen
    rows: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    restored = traitlets.Dict().tag(sync=True)  # {"seq": n, "code": text} after Restore


class RunTable(ipywidgets.VBox):
    """Runs as a sortable, filterable, selectable table, with a comparison area below it."""

    def __init__(
        self,
        source: StoreSource,
        filter: str | None = None,
        experiment: str | Sequence[str] | None = None,
        order_by: str | None = None,
        editor: RunEditor | None = None,
        page_size: int = 50,
    ) -> None:
        self.source = source
        self.experiment = experiment
        self.editor = editor
        self.comparison: Any = None
        self.view = TableView(page_size=page_size)
        self.output = ipywidgets.Output()
        self._known: TableColumns | None = None
        self._last_page: TablePage | None = None
        self._quiet = False
        self._order_by = order_by  # an explicit order_by (text), until a column header is clicked
        self._applied = ""  # the filter of the rows shown (the box may hold a bad one)
        super().__init__([self.view, self.output])
        self.add_class("nbtrack-run-table")
        self._set_filter(filter or "", raise_errors=True)
        self.view.observe(self._on_filter, names="filter")
        self.view.observe(self._on_sort, names="sort")
        self.view.observe(self._on_page, names=["page", "page_size", "hidden", "differs_only"])
        self.view.on_msg(self._on_action)

    # -- what Python code reads ----------------------------------------------------------------
    @property
    def selected(self) -> list[str]:
        """The run ids selected in the table (across pages)."""
        return list(self.view.selected)

    @selected.setter
    def selected(self, run_ids: Sequence[str]) -> None:
        self.view.selected = list(run_ids)

    @property
    def filter(self) -> str:
        """The filter of the rows shown (query grammar)."""
        return self._applied

    @filter.setter
    def filter(self, text: str) -> None:
        self._set_filter(text, raise_errors=True)

    @property
    def page_frame(self) -> Any:
        """The runs on the current page as a DataFrame (the columns shown)."""
        return None if self._last_page is None else self._last_page.frame

    def refresh(self) -> None:
        """Read the store again (new runs, changed tags) and redraw the current page."""
        self._load_columns(self.filter)
        self._load_page()

    # -- reading -------------------------------------------------------------------------------
    def _set_filter(self, text: str, raise_errors: bool) -> None:
        try:
            self._load_columns(text)
        except FilterError as exc:
            if raise_errors:
                raise
            self.view.filter_error = str(exc)
            return
        self._applied = text
        self._quiet = True
        try:
            self.view.filter = text
            self.view.filter_error = ""
            self.view.page = 0
        finally:
            self._quiet = False
        self._load_page()

    def _load_columns(self, filter: str) -> None:
        known = table_columns(self.source(), filter or None, self.experiment)
        first = self._known is None
        self._known = known
        columns = [
            {"name": f"{kind}.{key}", "kind": kind, "key": key, "varying": f"{kind}.{key}" in known.varying}
            for kind in KIND_ORDER
            for key in known.keys[kind]
        ]
        if first and len(columns) > DEFAULT_VISIBLE:
            self.view.hidden = [str(c["name"]) for c in columns[DEFAULT_VISIBLE:]]
        self.view.columns = columns

    def _visible(self) -> list[str]:
        hidden = set(self.view.hidden)
        names = []
        for column in self.view.columns:
            if column["name"] in hidden or (self.view.differs_only and not column["varying"]):
                continue
            names.append(column["name"])
        return names

    def _order(self) -> str:
        sort = self.view.sort
        if self._order_by is not None:
            return self._order_by
        return order_text(str(sort.get("column", "start_time")), bool(sort.get("descending", True)))

    def _load_page(self) -> None:
        shown = self._visible()
        size = max(1, int(self.view.page_size))
        page = max(0, int(self.view.page))
        result = table_page(
            self.source(), self.filter or None, self.experiment, self._order(), page * size, size, shown
        )
        if page and result.total and page * size >= result.total:  # runs went away: last page
            self._quiet = True
            self.view.page = (result.total - 1) // size
            self._quiet = False
            return self._load_page()
        self._last_page = result
        self.view.total = result.total
        self.view.shown = shown
        self.view.rows = rows_of(result, shown)
        return None

    # -- events from the browser -------------------------------------------------------------
    def _on_filter(self, change: Mapping[str, Any]) -> None:
        if not self._quiet:
            self._guarded(lambda: self._set_filter(str(change["new"]), raise_errors=False))

    def _on_sort(self, change: Mapping[str, Any]) -> None:
        if not self._quiet:
            self._order_by = None
            self._guarded(self._load_page)

    def _on_page(self, change: Mapping[str, Any]) -> None:
        if not self._quiet:
            self._guarded(self._load_page)

    def _on_action(self, _widget: Any, content: Mapping[str, Any], _buffers: Any) -> None:
        action = content.get("action") if isinstance(content, Mapping) else None
        handler = getattr(self, f"_do_{action}", None) if isinstance(action, str) else None
        if handler is None:
            self.view.message = f"unknown action {action!r}"
            return
        self._guarded(lambda: handler(content))

    def _guarded(self, work: Any) -> None:
        """Run ``work``; a problem a user can act on becomes the table's message, not a traceback."""
        try:
            work()
        except (NbtrackError, ValueError, KeyError) as exc:
            self.view.message = f"⚠ {exc}"

    # -- actions ---------------------------------------------------------------------------------
    def _do_refresh(self, content: Mapping[str, Any]) -> None:
        self.refresh()
        self.view.message = ""

    def _require(self, content: Mapping[str, Any], least: int = 1, most: int | None = None) -> list[str]:
        ids = [str(i) for i in content.get("runs", self.view.selected)]
        if len(ids) < least:
            raise ValueError(f"select at least {least} run{'s' if least > 1 else ''} first")
        if most is not None and len(ids) > most:
            raise ValueError(f"select exactly {most} run" if most == 1 else f"select at most {most} runs")
        return ids

    def _editor(self) -> RunEditor:
        if self.editor is None:
            raise ValueError("this table is read-only")
        return self.editor

    def _do_compare(self, content: Mapping[str, Any]) -> None:
        ids = self._require(content, least=2)
        from nbtrack.ui.compare import ComparePanel

        self.comparison = ComparePanel(self.source, ids)
        self.output.outputs = ()
        self.output.append_display_data(self.comparison)
        self.view.message = f"comparing {len(ids)} runs below"

    def _do_tag(self, content: Mapping[str, Any]) -> None:
        ids = self._require(content)
        tags = parse_tags(str(content.get("text", "")))
        self._editor().tag(ids, tags)
        self.refresh()
        pairs = ", ".join(f"{k}={v}" for k, v in tags.items())
        self.view.message = f"tagged {len(ids)} run{'s' if len(ids) > 1 else ''}: {pairs}"

    def _do_note(self, content: Mapping[str, Any]) -> None:
        ids = self._require(content)
        text = str(content.get("text", "")).strip()
        if not text:
            raise ValueError("write the note first")
        self._editor().note(ids, text)
        self.view.message = f"note added to {len(ids)} run{'s' if len(ids) > 1 else ''}"

    def _do_delete(self, content: Mapping[str, Any]) -> None:
        if not content.get("confirmed"):
            raise ValueError("deleting needs confirmation")
        ids = self._require(content)
        seqs = self._editor().delete(ids)
        self.view.selected = [i for i in self.view.selected if i not in set(ids)]
        self.refresh()
        self.view.message = "deleted " + ", ".join(f"#{s}" for s in seqs)

    def _do_restore(self, content: Mapping[str, Any]) -> None:
        from nbtrack.query.records import load_run
        from nbtrack.query.resolve import resolve_run_id
        from nbtrack.query.restore import restored_code

        (run_id,) = self._require(content, least=1, most=1)
        store = self.source()
        record = load_run(store, resolve_run_id(store, run_id))
        self.view.restored = {"seq": record.seq, "code": restored_code(record)}
        self.view.message = f"run #{record.seq}'s code is below: copy it, or run %track restore {record.seq}"

    # -- static form -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The widget, plus a static HTML table for viewers without a kernel (nbconvert, GitHub)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self._last_page is not None:
            bundle["text/html"] = static_table(self._last_page, self.view.shown, self.filter)
        return bundle


def parse_tags(text: str) -> dict[str, str]:
    """``"key=value, other=x"`` (comma- or space-separated) as a dict; ValueError when malformed."""
    tags = {}
    for item in text.replace(",", " ").split():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"tags are written key=value, got {item!r}")
        tags[key.strip()] = value.strip()
    if not tags:
        raise ValueError("write the tags first, as key=value")
    return tags


def rows_of(page: TablePage, shown: Sequence[str]) -> list[dict[str, Any]]:
    """The page's runs as the browser draws them."""
    frame = page.frame
    rows = []
    present = [name for name in shown if name in frame.columns]
    for record in frame.to_dict("records"):
        start, end = record["start_time"], record["end_time"]
        rows.append(
            {
                "run_id": record["run_id"],
                "seq": int(record["seq"]),
                "name": record["name"],
                "experiment": record["experiment"],
                "status": record["status"],
                "start_time": start.timestamp(),
                "end_time": None if end is None or end != end else end.timestamp(),
                "duration": json_value(record["duration"]),
                "values": {name: json_value(record[name]) for name in present},
            }
        )
    return rows


def static_table(page: TablePage, shown: Sequence[str], filter: str = "") -> str:
    """The page as a plain HTML table (every user string escaped) for notebooks viewed without a kernel."""
    e = html.escape
    frame = page.frame
    head = ["#", "name", "experiment", "status", "started", "duration", *shown]
    lines = [
        '<div class="nbtrack-static-table">',
        f"<p><b>nbtrack runs</b>: {page.total} matching"
        + (f" <code>{e(filter)}</code>" if filter else "")
        + (f", showing {page.offset + 1} to {page.offset + len(frame)}" if len(frame) else "")
        + "</p>",
        '<table style="border-collapse:collapse;font-size:12px">',
        "<thead><tr>" + "".join(f'<th style="text-align:left;padding:2px 6px">{e(h)}</th>' for h in head),
        "</tr></thead><tbody>",
    ]
    for record in frame.to_dict("records"):
        start = record["start_time"]
        cells = [
            f"#{int(record['seq'])}",
            record["name"] or "",
            record["experiment"],
            record["status"],
            start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if isinstance(start, datetime) else "",
            format_cell(json_value(record["duration"]), seconds=True),
            *(format_cell(json_value(record.get(name))) for name in shown),
        ]
        lines.append(
            "<tr>" + "".join(f'<td style="padding:2px 6px">{e(str(c))}</td>' for c in cells) + "</tr>"
        )
    lines.append("</tbody></table></div>")
    return "\n".join(lines)


def format_cell(value: Any, seconds: bool = False) -> str:
    """A value as the static table shows it (4 significant digits for floats)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g} s" if seconds else f"{value:.4g}"
    return str(value)
