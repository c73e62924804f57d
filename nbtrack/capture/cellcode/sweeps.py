"""Sweeps: parse ``--sweep NAME=V1,V2`` and rewrite a cell's literal assignments to other values.

The rewrite splices new value text into the original source at the literal's position, so comments,
formatting and every other line stay byte-for-byte the same. AST column offsets are UTF-8 byte offsets,
so the splice is done on the encoded source.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Mapping
from typing import Any

from nbtrack.capture.cellcode.analysis import LiteralSite, SourceBytes, literal_sites, parse
from nbtrack.capture.cellcode.literals import literal_value

_MAX_DEPTH = 50
_EXAMPLE = "e.g. --sweep lr=1e-3,1e-2"


class SweepError(ValueError):
    """A sweep that cannot run: a malformed spec, a name with no literal to rewrite, an unwritable value."""


def parse_sweep(spec: str) -> tuple[str, list[Any]]:
    """``"lr=1e-3,1e-2"`` -> ``("lr", [0.001, 0.01])``; bare words become strings; SweepError if malformed."""
    name, equals, right = spec.partition("=")
    name = name.strip()
    if not equals:
        raise SweepError(f"{spec!r} has no '=': expected NAME=VALUE[,VALUE...], {_EXAMPLE}")
    if not name:
        raise SweepError(f"{spec!r} has no name before '=': expected NAME=VALUE[,VALUE...], {_EXAMPLE}")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise SweepError(f"{name!r} in {spec!r} is not a Python variable name")
    items = [item.strip() for item in _split_top_level(right, spec)]
    if len(items) > 1 and not items[-1]:
        items.pop()  # a trailing comma, as in a Python tuple
    if items == [""]:
        raise SweepError(f"{spec!r} gives no values for {name}: {_EXAMPLE}")
    if "" in items:
        raise SweepError(f"{spec!r} has an empty value between commas")
    return name, [_sweep_value(item) for item in items]


def _sweep_value(item: str) -> Any:
    """A literal if the item is one (``1e-3``, ``[64, 32]``, ``'sgd'``, ``2**10``), else the item as text."""
    try:
        node = ast.parse(item, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return item
    ok, value = literal_value(node)
    return value if ok else item


def _split_top_level(text: str, spec: str) -> list[str]:
    """Split at commas outside brackets and quotes; SweepError on an unclosed bracket or quote."""
    pairs = {")": "(", "]": "[", "}": "{"}
    items: list[str] = []
    opened: list[str] = []
    quote: str | None = None
    start = index = 0
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([{":
            opened.append(char)
        elif char in pairs:
            if not opened or opened.pop() != pairs[char]:
                raise SweepError(f"{spec!r}: unmatched {char!r}")
        elif char == "," and not opened:
            items.append(text[start:index])
            start = index + 1
        index += 1
    if quote is not None:
        raise SweepError(f"{spec!r}: unclosed quote {quote}")
    if opened:
        raise SweepError(f"{spec!r}: unclosed {opened[-1]!r}")
    items.append(text[start:])
    return items


def literal_source(value: Any, depth: int = 0) -> str:
    """Python source for ``value`` that nbtrack reads back as a literal; SweepError if there is none."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        try:
            return int.__repr__(value)  # a subclass's repr (numpy's) may not be Python source
        except ValueError:
            raise SweepError(
                f"an int of {value.bit_length()} bits is too large to write into the cell"
            ) from None
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return float.__repr__(value)
    if isinstance(value, str):
        return str.__repr__(value)
    if isinstance(value, bytes):
        return bytes.__repr__(value)
    if depth >= _MAX_DEPTH:
        raise SweepError(f"a sweep value nested more than {_MAX_DEPTH} deep cannot be written into the cell")
    if isinstance(value, list):
        return "[" + ", ".join(literal_source(item, depth + 1) for item in value) + "]"
    if isinstance(value, tuple):
        inner = [literal_source(item, depth + 1) for item in value]
        return f"({inner[0]},)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
    if isinstance(value, set) and value:
        return "{" + ", ".join(literal_source(item, depth + 1) for item in value) + "}"
    if isinstance(value, dict):
        pairs = (f"{literal_source(k, depth + 1)}: {literal_source(v, depth + 1)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise SweepError(
        f"a {type(value).__name__} cannot be written into the cell as a literal: sweep numbers, strings, "
        "bools, None, or lists/tuples/dicts/non-empty sets of those"
    )


def rewrite_literals(source: str, values: Mapping[str, Any]) -> str:
    """``source`` with every top-level literal assignment of each name in ``values`` set to that value."""
    sites = literal_sites(parse(source))
    sweepable = sorted({site.name for site in sites})
    missing = [name for name in values if name not in sweepable]
    if missing:
        raise SweepError(
            f"the cell assigns no literal to {', '.join(missing)} in a top-level statement "
            f"(names that can be swept: {', '.join(sweepable) or 'none'})"
        )
    texts = {name: literal_source(value).encode() for name, value in values.items()}
    code = SourceBytes(source)
    statements: dict[int, list[LiteralSite]] = {}
    for site in sites:
        if site.name in texts:
            statements.setdefault(id(site.statement), []).append(site)
    edits: list[tuple[int, int, bytes]] = []
    for swept in statements.values():
        edits.extend(_statement_edits(code, swept, texts))
    return code.apply(edits)


def _statement_edits(
    code: SourceBytes, swept: list[LiteralSite], texts: dict[str, bytes]
) -> list[tuple[int, int, bytes]]:
    """The splices for one statement's swept sites.

    A chained assignment (``a = b = 3``) shares one value between targets; when sweeping changes one
    target's value and not another's, the statement is split into one assignment per target
    (``a = 5; b = 3``) so each name gets what it should.
    """
    statement = swept[0].statement
    value = statement.value
    assert value is not None
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    if len(targets) == 1:
        return [(*code.span(site.value), texts[site.name]) for site in swept]
    new_values = [
        code.segment(value, [(*code.span(s.value), texts[s.name]) for s in swept if s.target is target])
        for target in targets
    ]
    if all(text == new_values[0] for text in new_values):
        return [(*code.span(value), new_values[0])]
    parts = [
        _grouped(code.segment(t, [])) + b" = " + _grouped(v) for t, v in zip(targets, new_values, strict=True)
    ]
    return [(*code.span(statement), b"; ".join(parts))]


def _grouped(text: bytes) -> bytes:
    """Text safe to place on one logical line: parenthesised if it spans lines."""
    return b"(" + text + b")" if b"\n" in text or b"\r" in text else text
