"""Run filters and ordering: MLflow's search syntax, parsed (never eval'd) into SQLAlchemy Core.

>>> parse_filter("metrics.acc > 0.9 AND params.optimizer = 'adam'")  # doctest: +SKIP
And(terms=(Comparison(field=Field(kind=<FieldKind.METRIC: 'metrics'>, key='acc'), ...), ...))

``apply_filter(stmt, text)`` adds to a ``select(...)`` over ``runs JOIN experiments`` one LEFT
OUTER JOIN per metric/param/tag the filter names and a WHERE clause, with every user value as a
bound parameter. ``apply_order(stmt, order_by)`` does the same for ORDER BY (default: newest
first; NULLs last; ``seq`` as the final tie-breaker). Malformed input of any kind raises
:class:`~nbtrack.errors.FilterError`.

Modules: :mod:`.tokens` (text -> tokens), :mod:`.parser` (tokens -> tree), :mod:`.syntax` (the
tree), :mod:`.fields` (field names, attributes), :mod:`.operands` (typing rules) and
:mod:`.compiler` (tree -> SQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nbtrack.query.filter.parser import parse_filter, parse_order_by
from nbtrack.query.filter.syntax import (
    And,
    Boolean,
    Comparison,
    Field,
    FieldKind,
    Node,
    Not,
    Number,
    Op,
    Or,
    OrderKey,
    String,
    Value,
    to_text,
)

if TYPE_CHECKING:
    from nbtrack.query.filter.compiler import SelectT

__all__ = [
    "And",
    "Boolean",
    "Comparison",
    "Field",
    "FieldKind",
    "Node",
    "Not",
    "Number",
    "Op",
    "Or",
    "OrderKey",
    "String",
    "Value",
    "apply_filter",
    "apply_order",
    "parse_filter",
    "parse_order_by",
    "to_text",
]


def apply_filter(stmt: SelectT, text: str | None) -> SelectT:
    """Restrict ``stmt`` (a select over runs JOIN experiments) to the runs matching ``text``."""
    from nbtrack.query.filter.compiler import compile_filter

    node = parse_filter(text)
    return stmt if node is None else compile_filter(stmt, node)


def apply_order(stmt: SelectT, order_by: str | Sequence[str] | None) -> SelectT:
    """Order ``stmt`` by ``order_by`` (default: newest first), NULLs last, then ``seq DESC``."""
    from nbtrack.query.filter.compiler import compile_order

    return compile_order(stmt, parse_order_by(order_by))
