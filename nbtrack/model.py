"""Plain data shared by all layers: run statuses, run info, artifact records.

Nothing here talks to a store or imports anything heavy; it is the vocabulary the layers exchange.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    """Life state of a run; only RUNNING is not final."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    CRASHED = "CRASHED"

    @property
    def is_final(self) -> bool:
        return self is not Status.RUNNING


class ParamOrigin(enum.StrEnum):
    """Where a param value came from."""

    LITERAL = "literal"  # a literal assignment in a tracked cell
    NAMESPACE = "namespace"  # read by the cell from the kernel namespace
    EXPLICIT = "explicit"  # passed by the user (start_run(params=...), log_params, --params)


_LOWER_IS_BETTER = frozenset(
    [
        "loss",
        "error",
        "err",
        "mae",
        "mse",
        "rmse",
        "mape",
        "smape",
        "perplexity",
        "ppl",
        "wer",
        "cer",
        "regret",
        "latency",
        "time",
        "duration",
        "cost",
        "distance",
        "divergence",
        "kl",
        "nll",
        "bpd",
    ]
)


def lower_is_better(key: str) -> bool:
    """Whether smaller values of metric ``key`` are better, inferred from its name (loss, error, mae...)."""
    words = "".join(c if c.isalnum() else " " for c in key.lower()).split()
    return any({w, w.removesuffix("s"), w.removesuffix("es")} & _LOWER_IS_BETTER for w in words)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The attributes of one run as stored (times are seconds since the epoch, UTC)."""

    run_id: str
    seq: int
    name: str | None
    experiment: str
    status: Status
    start_time: float
    end_time: float | None = None
    heartbeat: float | None = None
    host: str | None = None
    pid: int | None = None
    user: str | None = None
    source: str | None = None
    notebook: str | None = None
    cell_id: str | None = None
    execution_count: int | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    error: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Wall time in seconds, or None while the run has no end time."""
        return None if self.end_time is None else self.end_time - self.start_time


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One artifact of a run: a content-addressed file under the artifact root."""

    name: str
    mime: str
    size: int
    sha256: str
    uri: str
    created: float


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """Per-run, per-key summary kept by the writer so tables never scan point histories."""

    key: str
    last: float
    last_step: int
    min: float
    max: float
    count: int


@dataclass(frozen=True)
class RunPlace:
    """Where a run stands: what identifies its experiment and cell."""

    run_id: str
    seq: int
    experiment: str
    notebook: str | None = None
    cell_id: str | None = None


@dataclass(frozen=True)
class UnsavedMetric:
    """Another run's latest value of a metric, in this process's memory but not in the store yet.

    ``value`` is None when that value is NaN (as the store keeps it).
    """

    place: RunPlace
    value: float | None
