"""Recursive-descent parser: filter text -> :mod:`.syntax` tree; order_by items -> keys.

Grammar (keywords case-insensitive; precedence NOT > AND > OR)::

    filter     := or EOF
    or         := and ("OR" and)*
    and        := not ("AND" not)*
    not        := "NOT" not | "(" or ")" | comparison
    comparison := field ( cmp value
                        | ["NOT"] ("LIKE" | "ILIKE") string
                        | ["NOT"] "IN" "(" value ("," value)* ")"
                        | "IS" ["NOT"] "NULL" )
    field      := prefix "." key | attribute
    value      := number | 'string' | "string" | TRUE | FALSE
    order_by   := field ["ASC" | "DESC"] ("," field ["ASC" | "DESC"])*

Every literal is checked against its field here (see :mod:`.operands`), so a tree that parses
also compiles. Limits on nesting, comparisons and distinct fields keep any input within what
Python and the databases can take: every malformed or oversized input is a :class:`FilterError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nbtrack.errors import FilterError
from nbtrack.query.filter.fields import attribute_name, known_attributes, prefix_kind
from nbtrack.query.filter.operands import OperandError, operand
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
)
from nbtrack.query.filter.tokens import Kind, Token, tokenize

MAX_DEPTH = 32  # nested parentheses / NOT: keeps compiling far from the recursion limit
MAX_COMPARISONS = 300  # SQLite nests AND/OR chains; its expression depth limit is 1000
MAX_FIELDS = 32  # one join per distinct metric/param/tag; SQLite joins at most 64 tables
MAX_VALUES = 10_000  # bound parameters: SQLite takes at most 32766 per statement
MAX_ORDER_KEYS = 16

LIKE_OPS = {
    (False, False): Op.LIKE,
    (True, False): Op.NOT_LIKE,
    (False, True): Op.ILIKE,
    (True, True): Op.NOT_ILIKE,
}
COMPARISON_OPS = {"=": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}
KEYWORDS = frozenset(
    {"and", "or", "not", "like", "ilike", "in", "is", "null", "true", "false", "asc", "desc"}
)


class _Parser:
    """One parse of one text: a cursor over its tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.comparisons = 0
        self.values = 0
        self.fields: set[Field] = set()

    # -- cursor ---------------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not Kind.EOF:
            self.index += 1
        return token

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind is Kind.NAME and self.token.text.lower() in words

    def error(self, message: str, position: int | None = None) -> FilterError:
        return FilterError(message, self.text, self.token.position if position is None else position)

    def unexpected(self, expected: str) -> FilterError:
        return self.error(f"expected {expected}, found {self.token.describe()}")

    def expect(self, kind: Kind, expected: str) -> Token:
        if self.token.kind is not kind:
            raise self.unexpected(expected)
        return self.advance()

    def expect_end(self, expected: str) -> None:
        if self.token.kind is Kind.RPAREN:
            raise self.error("unexpected ')' (no '(' to close)")
        if self.token.kind is not Kind.EOF:
            raise self.unexpected(expected)

    # -- filter ---------------------------------------------------------------------------------

    def parse_filter(self) -> Node:
        node = self.parse_or()
        self.expect_end("AND, OR or the end of the filter")
        return node

    def parse_or(self) -> Node:
        start = self.token.position
        terms = [self.parse_and()]
        while self.is_keyword("or"):
            self.advance()
            terms.append(self.parse_and())
        return terms[0] if len(terms) == 1 else Or(tuple(terms), start)

    def parse_and(self) -> Node:
        start = self.token.position
        terms = [self.parse_not()]
        while self.is_keyword("and"):
            self.advance()
            terms.append(self.parse_not())
        return terms[0] if len(terms) == 1 else And(tuple(terms), start)

    def parse_not(self) -> Node:
        start = self.token.position
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"filter is nested too deeply (more than {MAX_DEPTH} levels)")
        if self.is_keyword("not"):
            self.advance()
            node: Node = Not(self.parse_not(), start)
        elif self.token.kind is Kind.LPAREN:
            self.advance()
            node = self.parse_or()
            if self.token.kind is not Kind.RPAREN:
                raise self.unexpected(f"')' to close the '(' at position {start}")
            self.advance()
        else:
            node = self.parse_comparison()
        self.depth -= 1
        return node

    def parse_comparison(self) -> Comparison:
        start = self.token.position
        target = self.parse_field("a field (metrics.<key>, params.<key>, tags.<key> or an attribute)")
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.error(f"too many comparisons (more than {MAX_COMPARISONS})", start)
        if target.kind is not FieldKind.ATTRIBUTE:
            self.fields.add(target)
        if len(self.fields) > MAX_FIELDS:
            raise self.error(f"too many different fields (more than {MAX_FIELDS})", start)
        return self.parse_condition(target, start)

    def parse_condition(self, target: Field, start: int) -> Comparison:
        token = self.token
        if token.kind is Kind.OP:
            self.advance()
            op = COMPARISON_OPS[token.value]
            value = self.parse_value(target, op, f"a value after {token.text!r}")
            return Comparison(target, op, value, start)
        negated = self.is_keyword("not")
        if negated:
            self.advance()
            if not self.is_keyword("like", "ilike", "in"):
                raise self.unexpected("LIKE, ILIKE or IN after NOT")
        if self.is_keyword("like", "ilike"):
            # Keywords are matched by str.lower(); upper() may not give back ASCII (Kelvin sign K).
            case_insensitive = self.advance().text.lower() == "ilike"
            op = LIKE_OPS[negated, case_insensitive]
            if self.token.kind not in (Kind.STRING, Kind.QUOTED):
                raise self.unexpected(f"a quoted pattern after {op.value}")
            return Comparison(target, op, self.parse_value(target, op, "a pattern"), start)
        if self.is_keyword("in"):
            self.advance()
            op = Op.NOT_IN if negated else Op.IN
            return Comparison(target, op, self.parse_list(target, op), start)
        if self.is_keyword("is"):
            self.advance()
            negated = self.is_keyword("not")
            if negated:
                self.advance()
            if not self.is_keyword("null"):
                raise self.unexpected("NULL after IS NOT" if negated else "NULL or NOT NULL after IS")
            self.advance()
            return Comparison(target, Op.IS_NOT_NULL if negated else Op.IS_NULL, None, start)
        raise self.unexpected("an operator (= != < <= > >= LIKE ILIKE IN IS) after the field")

    def parse_list(self, target: Field, op: Op) -> tuple[Value, ...]:
        self.expect(Kind.LPAREN, f"'(' after {op.value}")
        values = [self.parse_value(target, op, f"a value in the {op.value} list")]
        while self.token.kind is Kind.COMMA:
            self.advance()
            values.append(self.parse_value(target, op, "a value after ','"))
        self.expect(Kind.RPAREN, "',' or ')' to close the IN list")
        return tuple(values)

    def parse_value(self, target: Field, op: Op, expected: str) -> Value:
        """Parse one literal and check that ``target`` can be compared with it by ``op``."""
        token = self.token
        value: Value
        if token.kind is Kind.NUMBER:
            number = float(token.text)  # the tokenizer only lets valid float syntax through
            if math.isinf(number):
                raise self.error(f"number {token.text} is out of range")
            value = Number(number, token.text)
        elif token.kind in (Kind.STRING, Kind.QUOTED):
            value = String(token.value)
        elif self.is_keyword("true", "false"):
            value = Boolean(token.text.lower() == "true")
        elif self.is_keyword("null"):
            raise self.error("NULL can only follow IS or IS NOT (write 'IS NULL')")
        else:
            raise self.unexpected(expected)
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.error(f"too many values (more than {MAX_VALUES})")
        try:
            operand(target, op, value)
        except OperandError as exc:
            raise self.error(str(exc)) from None
        self.advance()
        return value

    # -- fields ---------------------------------------------------------------------------------

    def parse_field(self, expected: str) -> Field:
        token = self.token
        if token.kind is not Kind.NAME:
            if token.kind is Kind.RPAREN:
                raise self.error(f"unexpected ')', expected {expected}")
            raise self.unexpected(expected)
        self.advance()
        prefix, dot, key = token.text.partition(".")
        if not dot:
            return Field(FieldKind.ATTRIBUTE, self.bare_attribute(token))
        kind = prefix_kind(prefix)
        if kind is None:
            raise self.error(
                f"unknown field prefix {prefix!r}: use metrics.{token.text}, "
                f"params.{token.text}, tags.{token.text} or attributes.<name>",
                token.position,
            )
        key_position = token.position + len(prefix) + 1
        if not key:
            if self.token.kind is not Kind.QUOTED:
                raise self.unexpected(f"a key after {token.text!r}")
            key_position = self.token.position
            key = self.advance().value
            if not key:
                raise self.error("a key cannot be empty", key_position)
        if kind is not FieldKind.ATTRIBUTE:
            return Field(kind, key)
        canonical = attribute_name(key)
        if canonical is None:
            raise self.error(f"unknown attribute {key!r}; attributes are: {known_attributes()}", key_position)
        return Field(kind, canonical)

    def bare_attribute(self, token: Token) -> str:
        canonical = attribute_name(token.text)
        if canonical is not None:
            return canonical
        if token.text.lower() in KEYWORDS:
            raise self.error(f"expected a field, found the keyword {token.text.upper()}", token.position)
        name = token.text
        raise self.error(
            f"unknown attribute {name!r}: did you mean metrics.{name}, params.{name} or "
            f"tags.{name}? (attributes are: {known_attributes()})",
            token.position,
        )

    # -- order_by -------------------------------------------------------------------------------

    def parse_order_by(self) -> list[OrderKey]:
        keys: list[OrderKey] = []
        while True:
            target = self.parse_field("a field to order by")
            descending = False
            if self.is_keyword("asc", "desc"):
                descending = self.advance().text.lower() == "desc"
            keys.append(OrderKey(target, descending))
            if self.token.kind is not Kind.COMMA:
                break
            self.advance()
        self.expect_end("ASC, DESC, ',' or the end of the order_by item")
        return keys


def parse_filter(text: str | None) -> Node | None:
    """Parse filter text into a syntax tree; None for blank text, FilterError if malformed."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise FilterError(f"a filter must be a string, not {type(text).__name__}")
    if not text.strip():
        return None
    return _Parser(text).parse_filter()


def parse_order_by(items: str | Sequence[str] | None) -> list[OrderKey]:
    """Parse order_by items (``"metrics.acc DESC"``, a list or comma-separated) into keys."""
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, Sequence):
        raise FilterError(f"order_by must be a string or a list of strings, not {type(items).__name__}")
    keys: list[OrderKey] = []
    for item in items:
        if not isinstance(item, str):
            raise FilterError(f"order_by items must be strings, not {type(item).__name__}")
        if item.strip():
            keys.extend(_Parser(item).parse_order_by())
        if len(keys) > MAX_ORDER_KEYS:
            raise FilterError(f"too many order_by keys (more than {MAX_ORDER_KEYS})")
    return keys
