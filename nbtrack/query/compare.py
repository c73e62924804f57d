"""Several runs side by side, as plain data: what ``nbtrack.compare`` shows, read in one place.

:func:`load_comparison` resolves run references (numbers, ``"#12"``, run ids, records, or the DataFrame
``nbtrack.runs()`` returns) and reads each run once into a :class:`Comparison`:

* ``params`` and ``tags``: one :class:`ValueRow` per key with each run's value and whether they differ;
* ``metrics``: one :class:`MetricRow` per key with each run's last value, the direction (given, or
  inferred from the name by :func:`nbtrack.model.lower_is_better`) and the best run(s) — NaN, infinite
  and missing values never win, and a best is marked only when at least two runs have a value;
* ``frame``: one row per run (``params.<k>``, ``metrics.<k>``) for parallel coordinates and scatters;
* ``code``: each run's cell source (:meth:`Comparison.diff_code` compares two of them line by line);
* ``images``: each run's image artifacts with their bytes (captured plots are ``outputs/NNN.png``);
* ``env``: what the runs ran in (Python, platform, host, git state, package versions) per run.

:func:`load_curves` reads metric curves downsampled by :func:`nbtrack.query.history.load_curve`; a
chart zoomed in asks again with its visible step range and gets the exact points when they fit.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from nbtrack.model import ArtifactInfo, lower_is_better
from nbtrack.query.downsample import DEFAULT_MAX_POINTS, Curve
from nbtrack.query.history import load_curve
from nbtrack.query.records import RunRecord, load_run
from nbtrack.query.resolve import is_run_number, resolve_run_id
from nbtrack.store.store import Store

if TYPE_CHECKING:
    import pandas as pd

Direction = Literal["min", "max"]

#: what ``directions={"score": ...}`` accepts, and the direction each word means
DIRECTION_WORDS: dict[str, Direction] = {
    "min": "min",
    "minimize": "min",
    "lower": "min",
    "max": "max",
    "maximize": "max",
    "higher": "max",
}
#: image types shown in a comparison; anything else (HTML, JSON, text) is never put in a data: URI
IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})
MAX_IMAGES_PER_RUN = 24
MAX_IMAGE_BYTES = 4 << 20
#: context keys worth comparing (pid, kernel id, cell id and execution count differ on every run)
RUN_ENV_KEYS = ("python", "platform", "host", "user", "notebook", "cwd")
GIT_ENV_KEYS = ("commit", "dirty", "branch", "diff_sha256")


@dataclass(frozen=True)
class ValueRow:
    """One param (or tag) across the runs: ``values[i]`` is run i's value if ``present[i]``."""

    key: str
    values: tuple[Any, ...]
    present: tuple[bool, ...]
    differs: bool


@dataclass(frozen=True)
class MetricRow:
    """One metric across the runs: last values (NaN where missing), direction and best run(s)."""

    key: str
    values: tuple[float, ...]
    counts: tuple[int, ...]  # points logged per run; 0: the run has no such metric
    direction: Direction
    explicit: bool  # the direction was given rather than inferred from the name
    best: tuple[int, ...]  # indexes of the runs holding the best value (ties all count)


@dataclass(frozen=True)
class Image:
    """One image artifact of a run, with its content."""

    name: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class EnvRow:
    """One fact about where the runs ran (``group``: run, git or package), as text per run."""

    group: Literal["run", "git", "package"]
    key: str
    values: tuple[str | None, ...]
    differs: bool


@dataclass(frozen=True)
class DiffLine:
    """One line of a code diff: unchanged, added (only in the second run) or deleted (only in the first)."""

    kind: Literal["same", "add", "del"]
    text: str
    old: int | None  # line number in the first run's code
    new: int | None  # line number in the second run's code


@dataclass(frozen=True)
class RunCurve:
    """The points of metric ``key`` of the ``index``-th run of a comparison, as a chart draws them."""

    index: int
    key: str
    curve: Curve


@dataclass(frozen=True, eq=False)
class Comparison:
    """The compared runs, in the order given, and everything shown about them."""

    records: tuple[RunRecord, ...]
    labels: tuple[str, ...]
    params: tuple[ValueRow, ...]
    tags: tuple[ValueRow, ...]
    metrics: tuple[MetricRow, ...]
    frame: pd.DataFrame = field(repr=False)
    code: tuple[str, ...] = field(repr=False)
    images: tuple[tuple[Image, ...], ...] = field(repr=False)
    images_omitted: tuple[int, ...]  # image artifacts per run left out (too many or too large)
    env: tuple[EnvRow, ...]

    @property
    def run_ids(self) -> list[str]:
        """The compared runs' ids."""
        return [r.run_id for r in self.records]

    @property
    def varying_params(self) -> list[str]:
        """Keys of the params whose values differ between the runs."""
        return [row.key for row in self.params if row.differs]

    @property
    def metric_keys(self) -> list[str]:
        """Every metric key any of the runs logged, sorted."""
        return [row.key for row in self.metrics]

    @property
    def curve_keys(self) -> list[str]:
        """Metric keys with more than one point in some run (worth drawing as a curve)."""
        return [row.key for row in self.metrics if max(row.counts) > 1]

    def metric(self, key: str) -> MetricRow:
        """The row of metric ``key`` (KeyError naming the known keys)."""
        for row in self.metrics:
            if row.key == key:
                return row
        raise KeyError(f"no metric {key!r} in the compared runs (they have: {', '.join(self.metric_keys)})")

    def with_directions(self, directions: Mapping[str, str]) -> Comparison:
        """The same comparison with the best runs ranked again after ``directions`` overrides."""
        current = {row.key: row.direction for row in self.metrics if row.explicit}
        return replace(self, metrics=tuple(rank_metrics(self.records, {**current, **directions})))

    def diff_code(self, first: int, second: int) -> list[DiffLine]:
        """The cell code of run ``first`` against run ``second``, line by line."""
        return diff_code(self.code[first], self.code[second])


def run_label(record: RunRecord) -> str:
    """How a run is named in a comparison: ``#12`` or ``#12 baseline``."""
    return f"#{record.seq} {record.name}" if record.name else f"#{record.seq}"


def as_refs(refs: Any) -> list[Any]:
    """The run references in ``refs``: a list of them, one alone, or a runs DataFrame (its run ids)."""
    columns = getattr(refs, "columns", None)
    if columns is not None and "run_id" in columns:
        return list(refs["run_id"])
    if isinstance(refs, (str, int, RunRecord)) or is_run_number(refs) or hasattr(refs, "run_id"):
        return [refs]
    if not isinstance(refs, Iterable):
        raise TypeError(f"compare() takes run numbers, run ids or runs, got {type(refs).__name__}")
    return list(refs)


def load_comparison(
    store: Store,
    refs: Any,
    directions: Mapping[str, str] | None = None,
    *,
    max_images: int = MAX_IMAGES_PER_RUN,
    max_image_bytes: int = MAX_IMAGE_BYTES,
) -> Comparison:
    """Read the runs ``refs`` name (each once, in the order given) into a :class:`Comparison`."""
    wanted = as_refs(refs)
    if not wanted:
        raise ValueError(
            "nothing to compare: give at least one run, e.g. nbtrack.compare([3, 5]) "
            "or nbtrack.compare(nbtrack.runs(filter))"
        )
    ids = list(dict.fromkeys(resolve_run_id(store, ref) for ref in wanted))  # all refs checked first
    records = tuple(load_run(store, run_id) for run_id in ids)
    images, omitted = zip(*(_images(r, max_images, max_image_bytes) for r in records), strict=True)
    return Comparison(
        records=records,
        labels=tuple(run_label(r) for r in records),
        params=tuple(value_rows([r.params for r in records])),
        tags=tuple(value_rows([r.tags for r in records])),
        metrics=tuple(rank_metrics(records, directions or {})),
        frame=_frame(records),
        code=tuple(r.info.source or "" for r in records),
        images=images,
        images_omitted=omitted,
        env=tuple(env_rows(records)),
    )


def parse_direction(key: str, text: str) -> Direction:
    """``"min"``/``"max"`` (or lower/higher, minimize/maximize) as a direction; ValueError otherwise."""
    found = DIRECTION_WORDS.get(str(text).strip().lower())
    if found is None:
        raise ValueError(f"direction of metric {key!r} must be 'min' or 'max', got {text!r}")
    return found


def value_rows(per_run: Sequence[Mapping[str, Any]]) -> list[ValueRow]:
    """One row per key (sorted) of the runs' param or tag dicts; missing and unequal values differ."""
    keys = sorted({k for values in per_run for k in values})
    rows = []
    for key in keys:
        present = tuple(key in values for values in per_run)
        values = tuple(values.get(key) for values in per_run)
        forms = {_canonical(v) if here else None for v, here in zip(values, present, strict=True)}
        rows.append(ValueRow(key, values, present, differs=len(forms) > 1))
    return rows


def rank_metrics(records: Sequence[RunRecord], directions: Mapping[str, str]) -> list[MetricRow]:
    """One row per metric key (sorted): last values, direction and the runs with the best value."""
    keys = sorted({k for r in records for k in r.summaries})
    nan = float("nan")
    rows = []
    for key in keys:
        values = tuple(r.metrics.get(key, nan) for r in records)
        counts = tuple(r.summaries[key].count if key in r.summaries else 0 for r in records)
        explicit = key in directions
        direction = parse_direction(key, directions[key]) if explicit else _inferred(key)
        rows.append(MetricRow(key, values, counts, direction, explicit, best_runs(values, direction)))
    return rows


def best_runs(values: Sequence[float], direction: Direction) -> tuple[int, ...]:
    """Indexes of the best finite values (all of a tie); none unless at least two runs have one."""
    finite = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(finite) < 2:
        return ()
    best = (min if direction == "min" else max)(v for _, v in finite)
    return tuple(i for i, v in finite if v == best)


def env_rows(records: Sequence[RunRecord]) -> list[EnvRow]:
    """Where each run ran: context facts, git state and package versions (rows nobody knows are left out)."""
    contexts = [r.info.context or {} for r in records]
    gits = [_dict(c.get("git")) for c in contexts]
    rows: list[EnvRow] = []

    def add(group: Literal["run", "git", "package"], key: str, values: Sequence[Any]) -> None:
        texts = tuple(None if v is None else _env_text(v) for v in values)
        if any(t is not None for t in texts):
            rows.append(EnvRow(group, key, texts, differs=len(set(texts)) > 1))

    pairs = list(zip(records, contexts, strict=True))
    for key in RUN_ENV_KEYS:  # host, user and notebook are run columns too; the rest is context only
        add("run", key, [getattr(r.info, key, None) or c.get(key) for r, c in pairs])
    with_git = list(zip(records, gits, strict=True))
    commits = [r.info.git_commit or g.get("commit") for r, g in with_git]
    dirty = [g.get("dirty") if r.info.git_dirty is None else r.info.git_dirty for r, g in with_git]
    add("git", "commit", commits)
    add("git", "dirty", [None if d is None else ("dirty" if d else "clean") for d in dirty])
    for key in GIT_ENV_KEYS[2:]:
        add("git", key, [g.get(key) for g in gits])
    packages = [_dict(c.get("packages")) for c in contexts]
    for name in sorted({n for p in packages for n in p}, key=str.lower):
        add("package", name, [p.get(name) for p in packages])
    return rows


def diff_code(first: str, second: str) -> list[DiffLine]:
    """Every line of two cells' code, marked unchanged, deleted (first only) or added (second only)."""
    a, b = first.splitlines(), second.splitlines()
    lines: list[DiffLine] = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            lines += [DiffLine("same", a[a0 + i], a0 + i + 1, b0 + i + 1) for i in range(a1 - a0)]
            continue
        lines += [DiffLine("del", a[i], i + 1, None) for i in range(a0, a1)]
        lines += [DiffLine("add", b[i], None, i + 1) for i in range(b0, b1)]
    return lines


def load_curves(
    store: Store,
    comparison: Comparison,
    keys: Sequence[str],
    steps: tuple[float | None, float | None] = (None, None),
    max_points: int = DEFAULT_MAX_POINTS,
) -> list[RunCurve]:
    """The curves of ``keys`` for every run that logged them (run by run), within ``steps``."""
    curves = []
    for index, record in enumerate(comparison.records):
        for key in keys:
            if key in record.summaries:
                curve = load_curve(store, record.run_id, key, max_points=max_points, steps=steps)
                curves.append(RunCurve(index, key, curve))
    return curves


def _inferred(key: str) -> Direction:
    return "min" if lower_is_better(key) else "max"


def _canonical(value: Any) -> str:
    """A form in which equal values are equal strings (lists and dicts included, NaN equal to NaN)."""
    return json.dumps(value, sort_keys=True, default=repr)


def _dict(value: Any) -> dict[str, Any]:
    """A context entry that should be a dict (git, packages), or an empty one when it is not."""
    return value if isinstance(value, dict) else {}


def _scalar(value: Any) -> Any:
    """A param value as a chart axis can take it: lists and dicts become their JSON text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _env_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def image_artifacts(
    record: RunRecord, limit: int = MAX_IMAGES_PER_RUN, max_bytes: int = MAX_IMAGE_BYTES
) -> tuple[list[ArtifactInfo], int]:
    """The run's image artifacts worth showing (name order, at most ``limit`` of at most ``max_bytes``
    each), and how many others were left out."""
    shown: list[ArtifactInfo] = []
    omitted = 0
    for art in record.artifacts:
        if art.mime not in IMAGE_MIMES:
            continue
        if len(shown) >= limit or art.size > max_bytes:
            omitted += 1
            continue
        shown.append(art)
    return shown, omitted


def _images(record: RunRecord, limit: int, max_bytes: int) -> tuple[tuple[Image, ...], int]:
    """The run's image artifacts to show, with their bytes."""
    shown, omitted = image_artifacts(record, limit, max_bytes)
    return tuple(Image(a.name, a.mime, record.artifact_bytes(a.name)) for a in shown), omitted


def _frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per run: run_id, seq, name, experiment, ``params.<k>`` (lists and dicts as JSON text) and
    ``metrics.<k>`` (last values, NaN where missing)."""
    import pandas as pd

    nan = float("nan")
    data: dict[str, list[Any]] = {
        "run_id": [r.run_id for r in records],
        "seq": [r.seq for r in records],
        "name": [r.name for r in records],
        "experiment": [r.experiment for r in records],
    }
    for key in sorted({k for r in records for k in r.params}):
        data[f"params.{key}"] = [_scalar(r.params.get(key)) for r in records]
    for key in sorted({k for r in records for k in r.metrics}):
        data[f"metrics.{key}"] = [r.metrics.get(key, nan) for r in records]
    frame = pd.DataFrame(data)
    for column in frame.columns:
        if column.startswith("metrics."):
            frame[column] = frame[column].astype("float64")
    return frame
