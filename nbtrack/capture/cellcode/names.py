"""Which names a cell's module-level code reads before binding them, and which names it binds.

:class:`ModuleWalker` walks statements in source order (approximating control flow: a loop body as its
first iteration; ``if``/``else`` branches, ``match`` cases and ``except`` handlers as alternatives that
do not see each other's bindings) and each expression in evaluation order, iteratively, because
expressions can nest deeper than Python's recursion limit. The small functions below say what one
statement or target binds; :mod:`.analysis` uses them too.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator, Sequence

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def target_names(target: ast.expr) -> list[str]:
    """Names an assignment target binds (``a, (b, *c)`` -> a, b, c; ``x.y`` and ``x[i]`` bind none)."""
    return [node.id for node in walk_target(target) if isinstance(node, ast.Name)]


def simple_bindings(stmt: ast.stmt) -> set[str]:
    """Names a simple (non-compound) statement, or a def/class, binds in the module scope."""
    if isinstance(stmt, ast.Assign):
        return {name for target in stmt.targets for name in target_names(target)}
    if isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            return set()
        return set(target_names(stmt.target))
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return set(import_names(stmt))
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    name = getattr(stmt, "name", None)  # `type X = ...` (3.12+)
    if type(stmt).__name__ == "TypeAlias" and isinstance(name, ast.Name):
        return {name.id}
    return set()


def import_names(stmt: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Names an import binds (``import a.b`` binds ``a``); none for ``from m import *``."""
    for alias in stmt.names:
        if alias.name == "*":
            continue  # which names is unknowable statically
        yield alias.asname or alias.name.split(".")[0]


def deleted_names(stmt: ast.stmt) -> set[str]:
    """Names a ``del`` statement unbinds (``del a, b``; not ``del a[i]``, which only reads ``a``)."""
    if not isinstance(stmt, ast.Delete):
        return set()
    return {
        node.id
        for target in stmt.targets
        for node in ast.walk(target)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del)
    }


class ModuleWalker:
    """Walks module-level code in source order, recording names read before being bound, and bindings."""

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.bound: set[str] = set()
        self.seen: set[str] = set()  # bound earlier in source order, on the path being walked
        self.touched: set[str] = set()  # bound or deleted since the caller last cleared it

    def bind(self, name: str) -> None:
        """Record that the code binds ``name`` at module level (from here on it is not a read)."""
        self.bound.add(name)
        self.seen.add(name)
        self.touched.add(name)

    def load(self, name: str, local: frozenset[str] = frozenset()) -> None:
        """Record a read of ``name`` unless it is comprehension-local or already bound."""
        if name not in local and name not in self.seen:
            self.reads.add(name)

    def block(self, stmts: Sequence[ast.stmt]) -> None:
        """A sequence of statements, in order."""
        for stmt in stmts:
            self.stmt(stmt)

    def branches(self, paths: Sequence[Callable[[], None]]) -> None:
        """Alternative paths (if/else, match cases, except handlers): none sees another's bindings."""
        start = set(self.seen)
        union = set(start)
        for path in paths:
            self.seen = set(start)
            path()
            union |= self.seen
        self.seen = union

    def stmt(self, node: ast.stmt) -> None:
        """One module-level statement, in evaluation order."""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.exprs([*node.decorator_list, *_argument_expressions(node.args), node.returns])
            self.bind(node.name)
        elif isinstance(node, ast.ClassDef):
            self.exprs([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)])
            self.bind(node.name)  # the body is its own scope: not walked
        elif isinstance(node, ast.Assign):
            self.expr(node.value)
            for target in node.targets:
                self.target(target)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name):
                self.load(node.target.id)
            self.expr(node.value)
            self.target(node.target)
        elif isinstance(node, ast.AnnAssign):
            self.exprs([node.value, node.annotation])
            if node.value is not None:
                self.target(node.target)
            elif not isinstance(node.target, ast.Name):
                self.expr(node.target)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.expr(node.iter)
            self.target(node.target)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, ast.While):
            self.expr(node.test)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, ast.If):
            self.expr(node.test)
            self.branches(
                [functools.partial(self.block, node.body), functools.partial(self.block, node.orelse)]
            )
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.target(item.optional_vars)
            self.block(node.body)
        elif isinstance(node, ast.Try | ast.TryStar):
            self.try_(node)
        elif isinstance(node, ast.Match):
            self.expr(node.subject)
            self.branches([functools.partial(self.case, case) for case in node.cases])
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for name in import_names(node):
                self.bind(name)
        elif isinstance(node, ast.Delete):
            self.touched.update(deleted_names(node))
            for target in node.targets:
                if not isinstance(target, ast.Name):
                    self.target_loads(target)
        elif type(node).__name__ == "TypeAlias":  # `type X = ...` (3.12+): the value is evaluated lazily
            for name in simple_bindings(node):
                self.bind(name)
        else:  # Expr, Raise, Assert, Return...: their expressions in field order
            self.exprs([child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)])

    def try_(self, node: ast.Try | ast.TryStar) -> None:
        """The body; then each handler and the ``else`` as alternatives; then ``finally``."""
        self.block(node.body)

        def handler(h: ast.ExceptHandler) -> None:
            self.exprs([h.type])
            if h.name:
                self.bind(h.name)
            self.block(h.body)

        paths = [functools.partial(handler, h) for h in node.handlers]
        self.branches([*paths, functools.partial(self.block, node.orelse)])
        self.block(node.finalbody)

    def case(self, case: ast.match_case) -> None:
        """One ``case``: its pattern's captures and values, guard, body."""
        self.pattern(case.pattern)
        self.exprs([case.guard])
        self.block(case.body)

    def pattern(self, node: ast.pattern) -> None:
        """A ``match`` pattern: captures bind; value and class expressions are read."""
        for child in ast.walk(node):  # capture names and value expressions; order barely matters here
            if isinstance(child, ast.MatchValue):
                self.expr(child.value)
            elif isinstance(child, ast.MatchMapping):
                self.exprs(list(child.keys))
                if child.rest:
                    self.bind(child.rest)
            elif isinstance(child, ast.MatchClass):
                self.expr(child.cls)
            elif isinstance(child, ast.MatchAs | ast.MatchStar) and child.name:
                self.bind(child.name)

    def target(self, node: ast.expr) -> None:
        """An assignment target: bind its names; what it subscripts or gets attributes of is read."""
        for child in walk_target(node):
            if isinstance(child, ast.Name):
                self.bind(child.id)
            else:
                self.target_loads(child)

    def target_loads(self, node: ast.expr) -> None:
        """What an attribute/subscript target evaluates (``a[i] = ...`` reads ``a`` and ``i``)."""
        if isinstance(node, ast.Attribute):
            self.expr(node.value)
        elif isinstance(node, ast.Subscript):
            self.exprs([node.value, node.slice])
        else:
            self.expr(node)

    def exprs(self, nodes: Sequence[ast.expr | None]) -> None:
        """Several expressions in order (None entries, such as a missing default, are skipped)."""
        for node in nodes:
            if node is not None:
                self.expr(node)

    def expr(self, root: ast.expr) -> None:
        """Walk one expression in evaluation order without recursion (expressions can nest deeply)."""
        stack: list[tuple[ast.AST | str, frozenset[str]]] = [(root, frozenset())]
        while stack:
            node, local = stack.pop()
            if isinstance(node, str):  # a walrus target, bound once its value is computed
                self.bind(node)
            elif isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    self.load(node.id, local)
            elif isinstance(node, ast.NamedExpr):
                stack.append((node.target.id if isinstance(node.target, ast.Name) else node.target, local))
                stack.append((node.value, local))
            elif isinstance(node, ast.Lambda):
                stack.extend((child, local) for child in reversed(_argument_expressions(node.args, False)))
            elif isinstance(node, _COMPREHENSIONS):
                stack.extend(reversed(_comprehension_order(node, local)))
            elif isinstance(node, ast.Dict):
                pairs = [
                    n for k, v in zip(node.keys, node.values, strict=True) for n in (k, v) if n is not None
                ]
                stack.extend((child, local) for child in reversed(pairs))
            else:
                stack.extend((child, local) for child in reversed(list(ast.iter_child_nodes(node))))


def walk_target(node: ast.expr) -> Iterator[ast.expr]:
    """The leaves of an assignment target: Names, Attributes, Subscripts (through tuples and stars)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Tuple | ast.List):
            pending.extend(reversed(current.elts))
        elif isinstance(current, ast.Starred):
            pending.append(current.value)
        else:
            yield current


def _argument_expressions(args: ast.arguments, annotations: bool = True) -> list[ast.expr]:
    """What a def or lambda evaluates where it is defined: defaults, and (for def) annotations."""
    found: list[ast.expr] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    if annotations:
        every = [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg]
        found.extend(a.annotation for a in every if a is not None and a.annotation is not None)
    return found


def _comprehension_order(
    node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, local: frozenset[str]
) -> list[tuple[ast.AST, frozenset[str]]]:
    """A comprehension's parts in evaluation order, each with the comprehension-local names it sees.

    The first iterable runs in the enclosing scope; each ``for`` target is local to the comprehension.
    """
    order: list[tuple[ast.AST, frozenset[str]]] = []
    for generator in node.generators:
        order.append((generator.iter, local))
        local = local | frozenset(target_names(generator.target))
        order.append((generator.target, local))
        order.extend((condition, local) for condition in generator.ifs)
    results = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    order.extend((result, local) for result in results)
    return order
