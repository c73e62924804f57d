"""Static analysis of a cell's source: literal params, names read and bound, and the last expression.

Everything here is computed from the syntax tree; the user's code is never run or traced. See the
package doc of :mod:`nbtrack.capture.cellcode` for what each field of :class:`CellAnalysis` means.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from nbtrack.capture.cellcode.literals import literal_value
from nbtrack.capture.cellcode.names import (
    ModuleWalker,
    deleted_names,
    simple_bindings,
    target_names,
)

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")  # what Python counts as a line break (not \f, not \u2028)
_COMMENT = re.compile(r"#[^\r\n]*")

#: What IPython compiles cells with: top-level ``await``/``async for``/``async with`` are allowed.
PARSE_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


@dataclass(frozen=True)
class CellAnalysis:
    """What a cell's source says about the run it makes: params, inputs, outputs, last expression."""

    literal_params: dict[str, Any]
    reads: frozenset[str]
    bound: frozenset[str]
    unconditional: frozenset[str]
    last_expr: str | None
    last_expr_name: str | None
    literal_sites: dict[str, int]
    last_expr_ends_with_semicolon: bool = False


@dataclass(frozen=True)
class LiteralSite:
    """One place a top-level statement assigns a literal to a name: ``value`` is the literal's node."""

    name: str
    statement: ast.Assign | ast.AnnAssign
    target: ast.expr
    value: ast.expr


def parse(source: str) -> ast.Module:
    """The cell's syntax tree, parsed as IPython compiles cells; only SyntaxError escapes."""
    try:
        with warnings.catch_warnings():  # IPython warns when it compiles the cell; and never as an error here
            warnings.simplefilter("ignore")
            tree = compile(source, "<cell>", "exec", flags=PARSE_FLAGS, dont_inherit=True)
    except (RecursionError, MemoryError, ValueError) as exc:
        raise SyntaxError(f"cannot analyse this cell: {type(exc).__name__}: {exc}") from None
    assert isinstance(tree, ast.Module)
    return tree


def analyse(source: str) -> CellAnalysis:
    """Analyse a cell's (IPython-transformed) source; raises SyntaxError if it is not valid Python."""
    tree = parse(source)
    walker, params, sites = _literals(tree.body)
    last = tree.body[-1] if tree.body else None
    last_expr = last_name = None
    quiet = False
    if isinstance(last, ast.Expr):
        code = SourceBytes(source)
        start, end = code.span(last)
        last_expr = code.data[start:end].decode("utf-8")
        if isinstance(last.value, ast.Name):
            last_name = last.value.id
        quiet = _ends_with_semicolon(code.data[end:].decode("utf-8"))
    counts: dict[str, int] = {}
    for site in sites:
        counts[site.name] = counts.get(site.name, 0) + 1
    return CellAnalysis(
        literal_params=params,
        reads=frozenset(walker.reads),
        bound=frozenset(walker.bound),
        unconditional=frozenset(_unconditional(tree.body)),
        last_expr=last_expr,
        last_expr_name=last_name,
        literal_sites=counts,
        last_expr_ends_with_semicolon=quiet,
    )


def literal_sites(tree: ast.Module) -> list[LiteralSite]:
    """Every top-level literal assignment of a name, in source order (what a sweep can rewrite)."""
    return _literals(tree.body)[2]


# -- literal params ---------------------------------------------------------------------------------
_NOT_LITERAL = object()


def _literals(body: Sequence[ast.stmt]) -> tuple[ModuleWalker, dict[str, Any], list[LiteralSite]]:
    """Walk the module's statements: reads and bindings, literal params, literal sites.

    A name's literal is a param while no later binding (anywhere at module level, other than another
    top-level literal assignment) can have changed it.
    """
    walker = ModuleWalker()
    state: dict[str, Any] = {}
    sites: list[LiteralSite] = []
    for stmt in body:
        walker.touched = set()
        walker.stmt(stmt)
        literals: dict[str, Any] = {}
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for name, node in _pair_up(target, stmt.value):
                    ok, value = literal_value(node) if node is not None else (False, None)
                    if ok and node is not None:
                        literals[name] = value
                        sites.append(LiteralSite(name, stmt, target, node))
        for name in walker.touched - literals.keys():
            if name in state:
                state[name] = _NOT_LITERAL
        state.update(literals)
    params = {name: value for name, value in state.items() if value is not _NOT_LITERAL}
    return walker, params, sites


def _pair_up(target: ast.expr, value: ast.expr) -> Iterator[tuple[str, ast.expr | None]]:
    """(name, the value node it receives) for each name in an assignment target; None if unknown."""
    if isinstance(target, ast.Name):
        yield target.id, value
    elif (
        isinstance(target, ast.Tuple | ast.List)
        and isinstance(value, ast.Tuple | ast.List)
        and len(target.elts) == len(value.elts)
        and not any(isinstance(node, ast.Starred) for node in (*target.elts, *value.elts))
    ):
        for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
            yield from _pair_up(sub_target, sub_value)
    else:
        for name in target_names(target):
            yield name, None


# -- unconditional bindings -------------------------------------------------------------------------
def _unconditional(body: Sequence[ast.stmt]) -> set[str]:
    """Names certainly bound at the end if the cell completed: top-level (and ``with``-body) bindings."""
    names: set[str] = set()

    def visit(stmts: Sequence[ast.stmt], certain: bool) -> None:
        for stmt in stmts:
            if certain:
                names.update(simple_bindings(stmt))
            names.difference_update(deleted_names(stmt))
            if isinstance(stmt, ast.With | ast.AsyncWith):
                targets = [item.optional_vars for item in stmt.items if item.optional_vars is not None]
                if certain:
                    names.update(name for target in targets for name in target_names(target))
                visit(stmt.body, certain)
            elif isinstance(stmt, ast.Try | ast.TryStar):
                visit([*stmt.body, *stmt.orelse], False)
                for handler in stmt.handlers:
                    visit(handler.body, False)
                    names.discard(handler.name or "")  # `except E as e` unbinds e when the handler ends
                visit(stmt.finalbody, certain)
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    visit(case.body, False)
            elif isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While):
                visit([*stmt.body, *stmt.orelse], False)

    visit(body, True)
    return names


# -- positions ---------------------------------------------------------------------------------------
class SourceBytes:
    """The source as UTF-8 bytes, addressed by AST positions (line numbers and byte columns)."""

    def __init__(self, source: str) -> None:
        self.data = source.encode("utf-8")
        self.line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(self.data)]

    def span(self, node: ast.expr | ast.stmt) -> tuple[int, int]:
        """Byte offsets of a node's first and one-past-last characters."""
        assert node.end_lineno is not None
        assert node.end_col_offset is not None
        start = self.line_starts[node.lineno - 1] + node.col_offset
        return start, self.line_starts[node.end_lineno - 1] + node.end_col_offset

    def segment(self, node: ast.expr, edits: list[tuple[int, int, bytes]]) -> bytes:
        """A node's text with some splices (inside it) applied."""
        start, end = self.span(node)
        text = self.data[start:end]
        for edit_start, edit_end, replacement in sorted(edits, reverse=True):
            text = text[: edit_start - start] + replacement + text[edit_end - start :]
        return text

    def apply(self, edits: list[tuple[int, int, bytes]]) -> str:
        """The whole source with the (non-overlapping) splices applied."""
        data = self.data
        for start, end, replacement in sorted(edits, reverse=True):
            data = data[:start] + replacement + data[end:]
        return data.decode("utf-8")


# -- the last expression -------------------------------------------------------------------------------
def _ends_with_semicolon(rest: str) -> bool:
    """Whether the text after the last statement holds a ``;`` (IPython then does not show its value).

    Only blanks, comments, line continuations and that ``;`` can follow the last statement.
    """
    return "".join(_COMMENT.sub("", rest).split()).replace("\\", "") == ";"
