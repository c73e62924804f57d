"""The syntax tree of a run filter: frozen dataclasses, and :func:`to_text` to write one back.

A filter is a :data:`Node`: a :class:`Comparison` of one :class:`Field` with literal values, or
an :class:`And` / :class:`Or` of several nodes, or a :class:`Not`. Trees compare equal when they
mean the same filter text; the ``position`` of a node (where it starts in the text it came from)
is kept for error messages and ignored by ``==``.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass


class FieldKind(enum.StrEnum):
    """Where a field's value lives: a metric summary, a param, a tag or a column of the run."""

    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"


class Op(enum.StrEnum):
    """A comparison operator, spelled as in the filter text (``<>`` is read as ``!=``)."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "LIKE"
    NOT_LIKE = "NOT LIKE"
    ILIKE = "ILIKE"
    NOT_ILIKE = "NOT ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


ORDERING_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})
LIKE_OPS = frozenset({Op.LIKE, Op.NOT_LIKE, Op.ILIKE, Op.NOT_ILIKE})
IN_OPS = frozenset({Op.IN, Op.NOT_IN})
NULL_OPS = frozenset({Op.IS_NULL, Op.IS_NOT_NULL})


@dataclass(frozen=True)
class Field:
    """A field of a run: ``kind`` and ``key`` (for attributes, the canonical attribute name)."""

    kind: FieldKind
    key: str


@dataclass(frozen=True)
class Number:
    """A numeric literal: its value and source text (tags compare with the text, e.g. ``'5.0'``)."""

    value: float
    text: str


@dataclass(frozen=True)
class String:
    """A quoted string literal, unescaped."""

    value: str


@dataclass(frozen=True)
class Boolean:
    """``true`` or ``false`` (any case)."""

    value: bool


Value = Number | String | Boolean


@dataclass(frozen=True)
class Comparison:
    """``field op value``: one value for most operators, a tuple for IN, none for IS [NOT] NULL."""

    field: Field
    op: Op
    value: Value | tuple[Value, ...] | None = None
    position: int = dataclasses.field(default=0, compare=False)

    def values(self) -> tuple[Value, ...]:
        """The literal values of this comparison as a tuple (empty for IS [NOT] NULL)."""
        if self.value is None:
            return ()
        if isinstance(self.value, tuple):
            return self.value
        return (self.value,)


@dataclass(frozen=True)
class And:
    """All of ``terms`` hold (two or more)."""

    terms: tuple[Node, ...]
    position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class Or:
    """At least one of ``terms`` holds (two or more)."""

    terms: tuple[Node, ...]
    position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    """``operand`` does not hold (and is not unknown: SQL three-valued logic)."""

    operand: Node
    position: int = dataclasses.field(default=0, compare=False)


Node = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    """One ``order_by`` item: a field and a direction (NULLs always sort last)."""

    field: Field
    descending: bool = False


def _quote(text: str, quote: str) -> str:
    return quote + text.replace(quote, quote * 2) + quote


def _key_text(key: str) -> str:
    plain = bool(key) and (key[0].isalpha() or key[0] == "_")
    plain = plain and all(char.isalnum() or char in "_./" for char in key)
    return key if plain else _quote(key, "`")


def field_text(target: Field) -> str:
    """The field as filter text, e.g. ``metrics.`my key``` or ``attributes.status``."""
    return f"{target.kind.value}.{_key_text(target.key)}"


def value_text(value: Value) -> str:
    """A literal as filter text."""
    if isinstance(value, Number):
        return value.text
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    return _quote(value.value, "'")


def to_text(node: Node) -> str:
    """Write ``node`` back as filter text that parses to an equal tree."""
    if isinstance(node, Comparison):
        left = f"{field_text(node.field)} {node.op.value}"
        if node.op in NULL_OPS:
            return left
        if node.op in IN_OPS:
            return f"{left} ({', '.join(value_text(value) for value in node.values())})"
        return f"{left} {value_text(node.values()[0])}"
    if isinstance(node, Not):
        return f"NOT {_operand_text(node.operand)}"
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(_operand_text(term) for term in node.terms)


def _operand_text(node: Node) -> str:
    return to_text(node) if isinstance(node, Comparison | Not) else f"({to_text(node)})"
