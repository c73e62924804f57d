"""Syntax tree -> SQLAlchemy Core: the outer joins a filter or order_by needs, WHERE and ORDER BY.

Each distinct metric/param/tag field gets one aliased ``metric_summaries``/``params``/``tags``
table, LEFT OUTER JOINed on ``run_id`` and ``key`` (the key is a bound parameter). A run lacking
the key therefore sees NULLs, and SQL's three-valued logic does the rest: it matches no
comparison (not even ``!=``, nor a ``NOT`` around one) and matches ``IS NULL``. Every literal is
a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import ColumnElement, FromClause, Select

from nbtrack.query.filter.fields import attribute_column
from nbtrack.query.filter.operands import LIKE_ESCAPE, Operand, Slot, operand
from nbtrack.query.filter.syntax import (
    IN_OPS,
    And,
    Comparison,
    Field,
    FieldKind,
    Node,
    Not,
    Op,
    OrderKey,
)

# Unparameterised on purpose: Select is generic over a TypeVar in SQLAlchemy 2.0,
# over a TypeVarTuple in 2.1.
SelectT = TypeVar("SelectT", bound=Select)

_TABLES = {FieldKind.METRIC: "metric_summaries", FieldKind.PARAM: "params", FieldKind.TAG: "tags"}


class _Joins:
    """The aliased side tables a statement needs, one per distinct (kind, key), in order of use."""

    def __init__(self) -> None:
        self.aliases: dict[Field, FromClause] = {}

    def table(self, target: Field) -> FromClause:
        alias = self.aliases.get(target)
        if alias is None:
            from nbtrack.store import schema

            alias = schema.metadata.tables[_TABLES[target.kind]].alias()
            self.aliases[target] = alias
        return alias

    def apply(self, stmt: SelectT) -> SelectT:
        from nbtrack.store.schema import runs

        for target, alias in self.aliases.items():
            on = sa.and_(alias.c.run_id == runs.c.run_id, alias.c.key == target.key)
            stmt = stmt.outerjoin(alias, on)
        return stmt


def _slot_column(joins: _Joins, target: Field, slot: Slot) -> ColumnElement[object]:
    """The SQL expression holding ``slot`` of ``target``'s value."""
    if target.kind is FieldKind.ATTRIBUTE:
        column = attribute_column(target.key)
    elif target.kind is FieldKind.METRIC:
        column = joins.table(target).c.last
    elif target.kind is FieldKind.PARAM:
        alias = joins.table(target)
        column = alias.c.value_num if slot is Slot.NUMBER else alias.c.value_str
    else:
        column = joins.table(target).c.value
    return sa.func.lower(column) if slot is Slot.LOWER_TEXT else column


def _bind(item: Operand) -> ColumnElement[object]:
    if item.slot is Slot.NUMBER:
        return sa.literal(item.value, sa.Float())
    return sa.literal(item.value, sa.Text())


def _compare(column: ColumnElement[object], op: Op, item: Operand) -> ColumnElement[bool]:
    value = _bind(item)
    if op is Op.EQ:
        return column == value
    if op is Op.NE:
        return column != value
    if op is Op.LT:
        return column < value
    if op is Op.LE:
        return column <= value
    if op is Op.GT:
        return column > value
    if op is Op.GE:
        return column >= value
    if op is Op.LIKE:
        return column.like(value, escape=LIKE_ESCAPE)
    if op is Op.NOT_LIKE:
        return column.not_like(value, escape=LIKE_ESCAPE)
    if op is Op.ILIKE:
        return column.ilike(value, escape=LIKE_ESCAPE)
    if op is Op.NOT_ILIKE:
        return column.not_ilike(value, escape=LIKE_ESCAPE)
    raise AssertionError(f"not a binary operator: {op}")


def _is_null(joins: _Joins, target: Field) -> ColumnElement[bool]:
    """The field is missing: no such key, a NaN last metric, a None param, or a NULL column."""
    if target.kind is FieldKind.ATTRIBUTE:
        return attribute_column(target.key).is_(None)
    alias = joins.table(target)
    if target.kind is FieldKind.METRIC:
        return alias.c.last.is_(None)
    if target.kind is FieldKind.PARAM:
        return sa.or_(alias.c.run_id.is_(None), alias.c.vtype == "none")
    return alias.c.run_id.is_(None)


def _comparison(joins: _Joins, node: Comparison) -> ColumnElement[bool]:
    if node.op is Op.IS_NULL:
        return _is_null(joins, node.field)
    if node.op is Op.IS_NOT_NULL:
        return sa.not_(_is_null(joins, node.field))
    operands = [operand(node.field, node.op, value) for value in node.values()]
    if node.op not in IN_OPS:
        (item,) = operands
        return _compare(_slot_column(joins, node.field, item.slot), node.op, item)
    # IN over several slots (params.x IN (1, 'a')) is an OR of one IN per slot; NOT IN negates
    # it, so under three-valued logic it means the same as a chain of != ... AND != ...
    groups: dict[Slot, list[Operand]] = {}
    for item in operands:
        groups.setdefault(item.slot, []).append(item)
    tests = [
        _slot_column(joins, node.field, slot).in_([_bind(item) for item in items])
        for slot, items in groups.items()
    ]
    membership = tests[0] if len(tests) == 1 else sa.or_(*tests)
    return sa.not_(membership) if node.op is Op.NOT_IN else membership


def _condition(joins: _Joins, node: Node) -> ColumnElement[bool]:
    if isinstance(node, Comparison):
        return _comparison(joins, node)
    if isinstance(node, Not):
        return sa.not_(_condition(joins, node.operand))
    terms = [_condition(joins, term) for term in node.terms]
    return sa.and_(*terms) if isinstance(node, And) else sa.or_(*terms)


def compile_filter(stmt: SelectT, node: Node) -> SelectT:
    """Add the outer joins and the WHERE clause that ``node`` needs to ``stmt``."""
    joins = _Joins()
    condition = _condition(joins, node)
    return joins.apply(stmt).where(condition)


def _order_columns(joins: _Joins, key: OrderKey) -> list[ColumnElement[object]]:
    target = key.field
    if target.kind is FieldKind.PARAM:
        columns = [_slot_column(joins, target, Slot.NUMBER), _slot_column(joins, target, Slot.TEXT)]
    else:
        slot = Slot.NUMBER if target.kind is FieldKind.METRIC else Slot.TEXT
        columns = [_slot_column(joins, target, slot)]
    return [(column.desc() if key.descending else column.asc()).nulls_last() for column in columns]


def compile_order(stmt: SelectT, keys: Sequence[OrderKey]) -> SelectT:
    """Add the outer joins and ORDER BY for ``keys`` (default: newest first), then ``seq DESC``."""
    from nbtrack.store.schema import runs

    joins = _Joins()
    clauses: list[ColumnElement[object]] = []
    for key in keys:
        clauses.extend(_order_columns(joins, key))
    if not keys:
        clauses.append(runs.c.start_time.desc())
    clauses.append(runs.c.seq.desc())
    return joins.apply(stmt).order_by(*clauses)
