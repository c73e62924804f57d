"""Field names: prefixes and their aliases, the run attributes, and the columns they stand for.

``metrics.<key>``, ``params.<key>``, ``tags.<key>`` and ``attributes.<name>`` name a field; the
prefixes also have the aliases ``metric.``, ``param.``, ``tag.``, ``attribute.``, ``attr.`` and
``run.``. A bare name (``status``) may only be an attribute. Attribute names are canonicalised here
(``run_name`` -> ``name``) so that the rest of the package only sees the names in
:data:`ATTRIBUTES`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbtrack.query.filter.syntax import FieldKind

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement


PREFIXES: dict[str, FieldKind] = {
    "metrics": FieldKind.METRIC,
    "metric": FieldKind.METRIC,
    "params": FieldKind.PARAM,
    "param": FieldKind.PARAM,
    "tags": FieldKind.TAG,
    "tag": FieldKind.TAG,
    "attributes": FieldKind.ATTRIBUTE,
    "attribute": FieldKind.ATTRIBUTE,
    "attr": FieldKind.ATTRIBUTE,
    "run": FieldKind.ATTRIBUTE,
}


class AttributeType(enum.StrEnum):
    """How an attribute's values compare: as text, as numbers, or as times (ms or ISO dates)."""

    TEXT = "text"
    NUMBER = "number"
    TIME = "time"


@dataclass(frozen=True)
class Attribute:
    """One filterable attribute of a run: its canonical name, value type and what it means."""

    name: str
    type: AttributeType
    help: str


ATTRIBUTES: dict[str, Attribute] = {
    attribute.name: attribute
    for attribute in (
        Attribute("run_id", AttributeType.TEXT, "the run's unique id"),
        Attribute("seq", AttributeType.NUMBER, "the run's number, as in 'run #12'"),
        Attribute("name", AttributeType.TEXT, "the run's name"),
        Attribute("status", AttributeType.TEXT, "RUNNING FINISHED FAILED INTERRUPTED CRASHED"),
        Attribute("experiment", AttributeType.TEXT, "the experiment's name"),
        Attribute("experiment_id", AttributeType.NUMBER, "the experiment's id"),
        Attribute("start_time", AttributeType.TIME, "ms since the epoch, or an ISO-8601 date"),
        Attribute("end_time", AttributeType.TIME, "ms since the epoch, or an ISO-8601 date"),
        Attribute("duration", AttributeType.NUMBER, "seconds from start to end"),
        Attribute("host", AttributeType.TEXT, "the machine the run ran on"),
        Attribute("user", AttributeType.TEXT, "who ran it"),
        Attribute("notebook", AttributeType.TEXT, "the notebook's path"),
        Attribute("cell_id", AttributeType.TEXT, "the notebook cell's id"),
        Attribute("git_commit", AttributeType.TEXT, "the git commit of the work tree"),
        Attribute("execution_count", AttributeType.NUMBER, "the cell's execution count"),
    )
}

ATTRIBUTE_ALIASES: dict[str, str] = {
    "run_name": "name",
    "experiment_name": "experiment",
    "user_id": "user",
}


def attribute_name(name: str) -> str | None:
    """The canonical attribute called ``name`` (case-insensitive, aliases resolved), or None."""
    lowered = name.lower()
    canonical = ATTRIBUTE_ALIASES.get(lowered, lowered)
    return canonical if canonical in ATTRIBUTES else None


def known_attributes() -> str:
    """The attribute names, for error messages."""
    return ", ".join(ATTRIBUTES)


def prefix_kind(prefix: str) -> FieldKind | None:
    """The field kind a prefix such as ``metric`` or ``attr`` stands for, or None."""
    return PREFIXES.get(prefix.lower())


def attribute_column(name: str) -> ColumnElement[object]:
    """The SQL expression of attribute ``name`` over the ``runs`` and ``experiments`` tables."""
    from nbtrack.store.schema import experiments, runs

    if name == "experiment":
        return experiments.c.name
    if name == "duration":
        return runs.c.end_time - runs.c.start_time
    return runs.c[name]
