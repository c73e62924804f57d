"""The typing rules of the filter: which literal a field accepts, and what SQL value it becomes.

Each literal of a comparison becomes an :class:`Operand`: the *slot* of the field it is compared
with (the numeric value, the text, or the lower-cased text) and the Python value to bind. The rules:

- metrics are numbers: they compare their ``last`` value with numeric literals only.
- params compare numeric literals with their numeric value (a non-numeric param never matches) and
  strings with their MLflow-style string form; ``true``/``false`` become ``'True'``/``'False'``.
- tags and text attributes are text: a number compares with its source text (``5.0`` ->
  ``'5.0'``) with ``=``/``!=``/``IN`` only; ``true``/``false`` compare case-insensitively with
  ``'true'``/``'false'``. ``status`` literals are upper-cased.
- numeric attributes take numbers; ``start_time``/``end_time`` take milliseconds since the epoch
  (as in MLflow) or an ISO-8601 date/datetime string (naive means UTC), both made float seconds.
- LIKE/ILIKE patterns use ``%`` and ``_``, with ``\\`` as the escape character on every database.

Violations raise :class:`OperandError`; the parser turns it into a positioned FilterError.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from nbtrack.query.filter.fields import ATTRIBUTES, AttributeType
from nbtrack.query.filter.syntax import (
    LIKE_OPS,
    ORDERING_OPS,
    Boolean,
    Field,
    FieldKind,
    Number,
    Op,
    String,
    Value,
    field_text,
    value_text,
)

LIKE_ESCAPE = "\\"
# SQLite refuses LIKE patterns longer than this (SQLITE_MAX_LIKE_PATTERN_LENGTH) at execution time.
MAX_PATTERN_LENGTH = 50_000


class OperandError(Exception):
    """A literal that the field it is compared with cannot take (turned into a FilterError)."""


class Slot(enum.StrEnum):
    """Which form of a field's value a literal is compared with."""

    NUMBER = "number"
    TEXT = "text"
    LOWER_TEXT = "lower_text"


@dataclass(frozen=True)
class Operand:
    """A literal ready to bind: the slot it compares with and its Python value."""

    slot: Slot
    value: float | str


def operand(target: Field, op: Op, value: Value) -> Operand:
    """What ``value`` becomes when compared with ``target`` by ``op``; OperandError if it can't."""
    name = field_text(target)
    if target.kind is FieldKind.METRIC:
        if isinstance(value, Number):
            return Operand(Slot.NUMBER, value.value)
        raise OperandError(f"metrics are numbers: compare {name} with a number, not {value_text(value)}")
    if isinstance(value, Boolean) and op in ORDERING_OPS:
        raise OperandError(f"true/false can only be compared with = != IN, not {op.value}")
    if target.kind is FieldKind.PARAM:
        if isinstance(value, Number):
            return Operand(Slot.NUMBER, value.value)
        if isinstance(value, Boolean):
            return Operand(Slot.TEXT, "True" if value.value else "False")
        return Operand(Slot.TEXT, _pattern(value.value) if op in LIKE_OPS else value.value)
    if target.kind is FieldKind.TAG:
        return _text_operand(name, op, value)
    attribute = ATTRIBUTES[target.key]
    if attribute.type is AttributeType.TEXT:
        result = _text_operand(name, op, value)
        if target.key == "status" and result.slot is Slot.TEXT:
            return Operand(Slot.TEXT, str(result.value).upper())
        return result
    return _number_operand(name, attribute.type, op, value)


def _text_operand(name: str, op: Op, value: Value) -> Operand:
    if isinstance(value, Boolean):
        return Operand(Slot.LOWER_TEXT, "true" if value.value else "false")
    if isinstance(value, Number):
        if op in ORDERING_OPS:
            raise OperandError(
                f"{name} is text: order it against a quoted string ('{value.text}'), not a number"
            )
        return Operand(Slot.TEXT, value.text)
    return Operand(Slot.TEXT, _pattern(value.value) if op in LIKE_OPS else value.value)


def _number_operand(name: str, kind: AttributeType, op: Op, value: Value) -> Operand:
    if op in LIKE_OPS:
        raise OperandError(f"{name} is a number: LIKE and ILIKE only apply to text")
    if isinstance(value, Number):
        seconds = value.value / 1000.0 if kind is AttributeType.TIME else value.value
        return Operand(Slot.NUMBER, seconds)
    if kind is AttributeType.TIME and isinstance(value, String):
        return Operand(Slot.NUMBER, _iso_seconds(name, value.value))
    time = kind is AttributeType.TIME
    expected = "milliseconds since the epoch or an ISO-8601 date" if time else "a number"
    raise OperandError(f"{name} is a number: compare it with {expected}, not {value_text(value)}")


def _iso_seconds(name: str, text: str) -> float:
    """Seconds since the epoch of an ISO-8601 date or datetime; naive means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (ValueError, OverflowError):
        raise OperandError(
            f"{name} takes milliseconds since the epoch or an ISO-8601 date such as "
            f"'2024-05-01' or '2024-05-01T13:30:00+02:00', not {text!r}"
        ) from None


def _pattern(pattern: str) -> str:
    """Check a LIKE pattern: not too long for SQLite, and no dangling escape character."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise OperandError(f"LIKE pattern is too long ({len(pattern)} > {MAX_PATTERN_LENGTH})")
    trailing = len(pattern) - len(pattern.rstrip(LIKE_ESCAPE))
    if trailing % 2:
        raise OperandError(
            "LIKE pattern ends with a lone '\\' (the escape character): write '\\\\' for a backslash"
        )
    return pattern
