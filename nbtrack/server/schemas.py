"""The JSON the REST API speaks — mirrored by ``labextension/src/api.ts`` (keep them in step).

Times are seconds since the epoch (floats); a NaN metric is ``null``. Every endpoint is under
``/nbtrack/api`` and needs Jupyter's authentication; changes (POST, DELETE) also need its XSRF token.

``GET  /nbtrack/api/runs?filter=&experiment=&order_by=&offset=0&limit=50&columns=a,b``  -> RunPage
``GET  /nbtrack/api/runs/<ref>``                       -> RunDetail   (ref: seq, "#12", run id or prefix)
``GET  /nbtrack/api/runs/<ref>/metrics/<key>?max_points=2000&start=&end=``  -> CurveData (start/end: steps)
``GET  /nbtrack/api/runs/<ref>/artifacts/<name>``      -> the artifact's bytes, with its mime type
``GET  /nbtrack/api/changes?since=<cursor>``           -> Changes (poll it; cursor "" the first time)
``GET  /nbtrack/api/cells?notebook=<path>``           -> CellRuns (runs per cell id of one notebook)
``GET  /nbtrack/api/compare?runs=a,b,c&directions=acc:max``  -> ComparisonData (the compare tab's tables)
``GET  /nbtrack/api/diff?first=<ref>&second=<ref>``     -> CodeDiff (two runs' cell code, line by line)
``POST /nbtrack/api/runs/<ref>/tags``  body {"tags": {k: v}}   -> RunDetail
``POST /nbtrack/api/runs/<ref>/notes`` body {"text": "..."}    -> RunDetail
``DELETE /nbtrack/api/runs/<ref>``                     -> {"deleted": [seq]}
Errors: ``{"error": "<message>"}`` with 400 (bad filter or argument), 404 (no such run, metric,
artifact), 503 (store unreachable).
"""

from __future__ import annotations

from typing import Any, TypedDict


class RunSummary(TypedDict):
    """One row of a run list."""

    run_id: str
    seq: int
    name: str | None
    experiment: str
    status: str  # RUNNING FINISHED FAILED INTERRUPTED CRASHED
    start_time: float
    end_time: float | None
    duration: float | None
    notebook: str | None
    cell_id: str | None
    values: dict[str, Any]  # "params.lr" / "metrics.acc" / "tags.stage" -> value (only those asked for)


class RunPage(TypedDict):
    """One page of matching runs, and the columns all matching runs have."""

    total: int
    offset: int
    runs: list[RunSummary]
    columns: dict[str, list[str]]  # "params" / "metrics" / "tags" -> keys
    varying: list[str]  # column names whose values differ between matching runs


class ArtifactEntry(TypedDict):
    name: str
    mime: str
    size: int
    url: str  # relative to the server's base URL


class MetricEntry(TypedDict):
    last: float | None
    last_step: int
    min: float | None
    max: float | None
    count: int


class RunDetail(TypedDict):
    """Everything about one run."""

    run: RunSummary
    params: dict[str, Any]
    metrics: dict[str, MetricEntry]
    tags: dict[str, str]
    notes: list[str]
    artifacts: list[ArtifactEntry]
    source: str | None
    execution_count: int | None
    git_commit: str | None
    git_dirty: bool | None
    error: str | None
    host: str | None
    user: str | None


class CurveData(TypedDict):
    """A metric's points to draw: downsampled unless ``exact``."""

    key: str
    steps: list[int]
    values: list[float | None]
    times: list[float]
    total: int  # points logged in the range
    exact: bool


class Changes(TypedDict):
    """Runs created or changed since the cursor; pass ``cursor`` back next time."""

    cursor: str
    runs: list[RunSummary]
    deleted: bool  # runs may have been deleted since: reload the list


class CellRuns(TypedDict):
    """A notebook's runs grouped by the cell that made them (newest first), for cell badges."""

    notebook: str
    cells: dict[str, list[RunSummary]]


class ValueRowData(TypedDict):
    """One param (or tag) across the compared runs: ``values[i]`` is run i's value if ``present[i]``."""

    key: str
    values: list[Any]
    present: list[bool]
    differs: bool


class MetricRowData(TypedDict):
    """One metric across the compared runs: last values (null where missing) and the best run(s)."""

    key: str
    values: list[float | None]
    counts: list[int]  # points per run; 0: the run has no such metric
    direction: str  # "min" or "max"
    explicit: bool  # given in ?directions= rather than inferred from the name
    best: list[int]  # indexes of the runs with the best value (none unless two runs have one)


class EnvRowData(TypedDict):
    """One fact about where the runs ran (group: run, git or package), as text per run."""

    group: str
    key: str
    values: list[str | None]
    differs: bool


class ImageEntry(TypedDict):
    name: str
    mime: str
    url: str  # relative to the server's base URL (the artifact endpoint)


class ComparisonData(TypedDict):
    """Several runs side by side, in the order asked: what the compare tab shows besides curves."""

    runs: list[RunSummary]
    labels: list[str]  # "#12" or "#12 name", as the inline panel names them
    params: list[ValueRowData]
    tags: list[ValueRowData]
    metrics: list[MetricRowData]
    code: list[str]
    images: list[list[ImageEntry]]
    images_omitted: list[int]
    env: list[EnvRowData]


class DiffLineData(TypedDict):
    kind: str  # "same", "add" (second run only) or "del" (first run only)
    text: str
    old: int | None
    new: int | None


class CodeDiff(TypedDict):
    first: str  # run ids
    second: str
    lines: list[DiffLineData]
