"""Which expressions are *literals* — values a cell's author wrote down — and their values, computed safely.

A literal is a constant (number, string, bytes, bool, None), ``+``/``-`` of a number, arithmetic
(``+ - * / // % **``) of int/float/str literals, an f-string without placeholders,
``float('nan')``/``float('inf')``/``float('-inf')`` (how nbtrack writes non-finite sweep values), or a
list/tuple/set/dict of literals. Arithmetic is evaluated here, never by ``eval``, under limits that make
hanging or exhausting memory impossible: ints stay within :data:`MAX_INT_BITS`, computed strings within
:data:`MAX_STR_LEN`, an int exponent within :data:`MAX_INT_EXPONENT`, everything one expression
computes within :data:`BUDGET`. Whatever breaks a limit, or fails (``1/0``), is simply not a literal.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

#: Largest int (in bits) a literal may hold or compute; also keeps ``str(int)`` within Python's limit.
MAX_INT_BITS = 4096
#: Longest string arithmetic may build (``"-" * 80`` is fine, ``"a" * 10**9`` is not a literal).
MAX_STR_LEN = 10_000
#: Largest ``|exponent|`` for ``int ** int``.
MAX_INT_EXPONENT = 64
#: Total size (characters, or bytes of int) one expression's arithmetic may compute.
BUDGET = 100_000

_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


class _NotLiteral(Exception):
    """Raised inside the evaluator as soon as a node is not a literal."""


def literal_value(node: ast.expr) -> tuple[bool, Any]:
    """``(True, value)`` if ``node`` is a literal (see the module doc), else ``(False, None)``."""
    try:
        return True, _Evaluator().value(node)
    except (_NotLiteral, RecursionError):
        return False, None


class _Evaluator:
    """Evaluates one literal expression, charging what it computes to a budget."""

    def __init__(self) -> None:
        self.budget = BUDGET

    def value(self, node: ast.expr) -> Any:
        """The literal's value, or raise _NotLiteral."""
        if isinstance(node, ast.Constant):
            return _constant(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            operand = self.value(node.operand)
            if not isinstance(operand, int | float):
                raise _NotLiteral
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            return self.arithmetic(node.op, self.value(node.left), self.value(node.right))
        if isinstance(node, ast.JoinedStr):
            parts = [part.value for part in node.values if isinstance(part, ast.Constant)]
            if len(parts) != len(node.values) or not all(isinstance(part, str) for part in parts):
                raise _NotLiteral  # has a placeholder
            return "".join(str(part) for part in parts)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return self.container(node)
        if isinstance(node, ast.Dict):
            return self.mapping(node)
        if isinstance(node, ast.Call):
            return _non_finite(node)
        raise _NotLiteral

    def container(self, node: ast.List | ast.Tuple | ast.Set) -> Any:
        """A list, tuple or set display whose elements are all literals (no ``*unpacking``)."""
        if any(isinstance(elt, ast.Starred) for elt in node.elts):
            raise _NotLiteral
        items = [self.value(elt) for elt in node.elts]
        if isinstance(node, ast.List):
            return items
        if isinstance(node, ast.Tuple):
            return tuple(items)
        try:
            return set(items)
        except TypeError:  # an unhashable element: {[1]} fails when it runs
            raise _NotLiteral from None

    def mapping(self, node: ast.Dict) -> dict[Any, Any]:
        """A dict display with literal keys and values (no ``**unpacking``)."""
        result: dict[Any, Any] = {}
        for key, val in zip(node.keys, node.values, strict=True):
            if key is None:
                raise _NotLiteral
            k = self.value(key)
            try:
                result[k] = self.value(val)
            except TypeError:
                raise _NotLiteral from None
        return result

    def arithmetic(self, op: ast.operator, left: Any, right: Any) -> Any:
        """``left op right`` for int/float/str operands, refusing anything too big before computing it."""
        function = _ARITHMETIC.get(type(op))
        if (
            function is None
            or not isinstance(left, int | float | str)
            or not isinstance(right, int | float | str)
        ):
            raise _NotLiteral
        if isinstance(left, str) or isinstance(right, str):
            _check_string_operation(op, left, right)
        elif isinstance(left, int) and isinstance(right, int):
            _check_int_operation(op, left, right)
        try:
            result = function(left, right)
        except (ArithmeticError, ValueError, TypeError):  # 1/0, 10.0**400, int too large for a float
            raise _NotLiteral from None
        if not isinstance(result, int | float | str):  # (-8) ** 0.5 is complex
            raise _NotLiteral
        self.charge(result)
        return result

    def charge(self, result: int | float | str) -> None:
        """Count a computed value against the budget (and the int size limit)."""
        if isinstance(result, str):
            self.budget -= len(result)
        elif isinstance(result, int):
            if result.bit_length() > MAX_INT_BITS:
                raise _NotLiteral
            self.budget -= result.bit_length() // 8
        if self.budget < 0:
            raise _NotLiteral


def _constant(value: Any) -> Any:
    if value is None or isinstance(value, bool | float | str | bytes):
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:  # a huge hex literal
            raise _NotLiteral
        return value
    raise _NotLiteral  # complex, Ellipsis


def _check_string_operation(op: ast.operator, left: Any, right: Any) -> None:
    """Allow only str + str and str * int (either order) of bounded size; ``%`` formatting never."""
    if isinstance(op, ast.Add) and isinstance(left, str) and isinstance(right, str):
        size = len(left) + len(right)
    elif isinstance(op, ast.Mult) and isinstance(left, str) and isinstance(right, int):
        size = len(left) * max(right, 0)
    elif isinstance(op, ast.Mult) and isinstance(left, int) and isinstance(right, str):
        size = len(right) * max(left, 0)
    else:
        raise _NotLiteral
    if size > MAX_STR_LEN:
        raise _NotLiteral


def _check_int_operation(op: ast.operator, left: int, right: int) -> None:
    """Refuse int products and powers whose result would exceed MAX_INT_BITS, before computing them."""
    if isinstance(op, ast.Pow):
        if abs(right) > MAX_INT_EXPONENT or (right > 0 and left.bit_length() * right > MAX_INT_BITS + right):
            raise _NotLiteral
    elif isinstance(op, ast.Mult) and left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
        raise _NotLiteral


def _non_finite(node: ast.Call) -> float:
    """``float('nan')``, ``float('inf')``, ``float('-inf')``: the non-finite floats, spelled as Python can."""
    if (
        isinstance(node.func, ast.Name)
        and node.func.id == "float"
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and len(node.args[0].value) <= 16
    ):
        try:
            number = float(node.args[0].value)
        except ValueError:
            raise _NotLiteral from None
        if not math.isfinite(number):
            return number
    raise _NotLiteral
