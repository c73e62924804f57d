"""Query results as the JSON of :mod:`nbtrack.server.schemas` (NaN -> null, datetimes -> epoch seconds)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from nbtrack.query.compare import Comparison, DiffLine, ValueRow, image_artifacts
from nbtrack.query.downsample import Curve
from nbtrack.query.jsonable import json_value
from nbtrack.query.records import RunRecord
from nbtrack.server.schemas import (
    CodeDiff,
    ComparisonData,
    CurveData,
    ImageEntry,
    MetricEntry,
    RunDetail,
    RunSummary,
    ValueRowData,
)


def _seconds(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    stamp = getattr(value, "timestamp", None)
    if callable(stamp):
        try:
            return float(stamp())
        except ValueError:  # NaT
            return None
    return float(value)


def summaries(
    frame: Any, places: Mapping[str, tuple[str | None, str | None]], columns: Sequence[str] = ()
) -> list[RunSummary]:
    """Rows of a runs DataFrame as run summaries (``columns`` become ``values``)."""
    present = [c for c in columns if c in frame.columns]
    out: list[RunSummary] = []
    for row in frame.to_dict("records"):
        notebook, cell_id = places.get(row["run_id"], (None, None))
        out.append(
            {
                "run_id": row["run_id"],
                "seq": int(row["seq"]),
                "name": json_value(row["name"]),  # a page of named and unnamed runs has NaN here
                "experiment": str(row["experiment"]),
                "status": str(row["status"]),
                "start_time": _seconds(row["start_time"]) or 0.0,
                "end_time": _seconds(row["end_time"]),
                "duration": json_value(row["duration"]),
                "notebook": notebook,
                "cell_id": cell_id,
                "values": {c: json_value(row[c]) for c in present},
            }
        )
    return out


def record_summary(record: RunRecord) -> RunSummary:
    """A run read whole as a run-list row (with no ``values``)."""
    info = record.info
    return {
        "run_id": info.run_id,
        "seq": info.seq,
        "name": info.name,
        "experiment": info.experiment,
        "status": info.status.value,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration": info.duration,
        "notebook": info.notebook,
        "cell_id": info.cell_id,
        "values": {},
    }


def artifact_url(base_url: str, run_id: str, name: str) -> str:
    """Where the artifact endpoint serves artifact ``name`` of run ``run_id``."""
    return f"{base_url.rstrip('/')}/nbtrack/api/runs/{run_id}/artifacts/{quote(name)}"


def run_detail(record: RunRecord, base_url: str) -> RunDetail:
    """Everything about one run, with artifact download URLs under ``base_url``."""
    info = record.info
    summary = record_summary(record)
    metrics: dict[str, MetricEntry] = {
        key: {
            "last": json_value(s.last),
            "last_step": s.last_step,
            "min": json_value(s.min),
            "max": json_value(s.max),
            "count": s.count,
        }
        for key, s in record.summaries.items()
    }
    return {
        "run": summary,
        "params": json_value(record.params),
        "metrics": metrics,
        "tags": dict(record.tags),
        "notes": list(record.notes),
        "artifacts": [
            {
                "name": a.name,
                "mime": a.mime,
                "size": a.size,
                "url": artifact_url(base_url, info.run_id, a.name),
            }
            for a in record.artifacts
        ],
        "source": info.source,
        "execution_count": info.execution_count,
        "git_commit": info.git_commit,
        "git_dirty": info.git_dirty,
        "error": info.error,
        "host": info.host,
        "user": info.user,
    }


def curve_data(key: str, curve: Curve) -> CurveData:
    """A downsampled (or exact) curve as JSON lists."""
    points = curve.points
    return {
        "key": key,
        "steps": [int(s) for s in points.steps.tolist()],
        "values": [json_value(v) for v in points.values.tolist()],
        "times": points.times.tolist(),
        "total": curve.total,
        "exact": curve.exact,
    }


def _value_rows(rows: Sequence[ValueRow]) -> list[ValueRowData]:
    return [
        {
            "key": r.key,
            "values": [json_value(v) for v in r.values],
            "present": list(r.present),
            "differs": r.differs,
        }
        for r in rows
    ]


def comparison(data: Comparison, base_url: str) -> ComparisonData:
    """A comparison as the compare tab reads it; images are artifact URLs, fetched as they are shown."""
    images: list[list[ImageEntry]] = []
    omitted: list[int] = []
    for record in data.records:
        shown, left_out = image_artifacts(record)
        images.append(
            [
                {"name": a.name, "mime": a.mime, "url": artifact_url(base_url, record.run_id, a.name)}
                for a in shown
            ]
        )
        omitted.append(left_out)
    return {
        "runs": [record_summary(r) for r in data.records],
        "labels": list(data.labels),
        "params": _value_rows(data.params),
        "tags": _value_rows(data.tags),
        "metrics": [
            {
                "key": m.key,
                "values": [json_value(v) for v in m.values],
                "counts": list(m.counts),
                "direction": m.direction,
                "explicit": m.explicit,
                "best": list(m.best),
            }
            for m in data.metrics
        ],
        "code": list(data.code),
        "images": images,
        "images_omitted": omitted,
        "env": [
            {"group": e.group, "key": e.key, "values": list(e.values), "differs": e.differs} for e in data.env
        ],
    }


def code_diff(first: str, second: str, lines: Sequence[DiffLine]) -> CodeDiff:
    """Two runs' code diffed, as JSON."""
    return {
        "first": first,
        "second": second,
        "lines": [{"kind": d.kind, "text": d.text, "old": d.old, "new": d.new} for d in lines],
    }
