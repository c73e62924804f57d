"""Property tests of cell analysis and sweep rewriting.

Programs are built as random syntax trees from a small grammar of Python statements and expressions
and written out with ``ast.unparse``, so every one is valid Python; comments (with non-ASCII text) are
added after top-level statements to check that rewriting keeps them.

1. ``analyse`` never raises on valid Python, and what it says agrees with CPython's own ``symtable``.
2. On arbitrary text ``analyse``/``rewrite_literals``/``parse_sweep`` raise only their documented errors.
3. ``rewrite_literals`` output always parses, reads back the new value, and keeps every comment.
4. Rewriting with the literal params' own values changes nothing ``analyse`` reports.
5. Values written with ``literal_source`` come back unchanged through ``parse_sweep``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import symtable
import tokenize
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nbtrack.capture.cellcode import (
    SweepError,
    analyse,
    literal_source,
    parse_sweep,
    rewrite_literals,
)
from tests.capture.test_cellcode import same

SETTINGS = settings(deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow])
PARSE_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
NAMES = ["a", "b", "lr", "x", "π", "名前", "print", "float"]

# -- a small grammar of Python ----------------------------------------------------------------------------
names = st.sampled_from(NAMES)
constants = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.binary(max_size=3),
    st.booleans(),
    st.none(),
)


def load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def store(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Store())


def _compound_expressions(children: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
    operators = st.sampled_from([ast.Add(), ast.Sub(), ast.Mult(), ast.Div(), ast.Pow(), ast.Mod()])
    lists = st.lists(children, max_size=3)
    return st.one_of(
        st.builds(ast.BinOp, left=children, op=operators, right=children),
        st.builds(ast.UnaryOp, op=st.sampled_from([ast.USub(), ast.UAdd(), ast.Not()]), operand=children),
        st.builds(ast.Call, func=names.map(load), args=lists, keywords=st.just([])),
        st.builds(ast.List, elts=lists, ctx=st.just(ast.Load())),
        st.builds(ast.Tuple, elts=lists, ctx=st.just(ast.Load())),
        st.builds(ast.Set, elts=st.lists(children, min_size=1, max_size=3)),
        st.lists(st.tuples(children, children), max_size=3).map(
            lambda pairs: ast.Dict(keys=[k for k, _ in pairs], values=[v for _, v in pairs])
        ),
        st.builds(
            ast.Compare, left=children, ops=st.just([ast.Lt()]), comparators=children.map(lambda c: [c])
        ),
        st.builds(ast.IfExp, test=children, body=children, orelse=children),
        st.builds(ast.Attribute, value=children, attr=st.just("attr"), ctx=st.just(ast.Load())),
        st.builds(ast.Subscript, value=children, slice=children, ctx=st.just(ast.Load())),
        st.builds(
            lambda elt, target, iterable, cond: ast.ListComp(
                elt=elt,
                generators=[ast.comprehension(target=store(target), iter=iterable, ifs=cond, is_async=0)],
            ),
            children,
            names,
            children,
            st.lists(children, max_size=1),
        ),
        st.builds(
            lambda default, body: ast.Lambda(
                args=ast.arguments(
                    posonlyargs=[], args=[ast.arg(arg="p")], kwonlyargs=[], kw_defaults=[], defaults=[default]
                ),
                body=body,
            ),
            children,
            children,
        ),
        st.builds(lambda target, value: ast.NamedExpr(target=store(target), value=value), names, children),
        st.builds(
            lambda text, value: ast.JoinedStr(
                values=[ast.Constant(value=text), ast.FormattedValue(value=value, conversion=-1)]
            ),
            st.text(alphabet="abc é", max_size=3),
            children,
        ),
        st.builds(ast.Await, value=children),
    )


expressions: st.SearchStrategy[ast.expr] = st.recursive(
    st.one_of(names.map(load), constants.map(lambda v: ast.Constant(value=v))),
    _compound_expressions,
    max_leaves=8,
)
targets = st.one_of(
    names.map(store),
    st.lists(names.map(store), min_size=1, max_size=3).map(
        lambda elts: ast.Tuple(elts=elts, ctx=ast.Store())
    ),
    st.builds(lambda n: ast.Attribute(value=load(n), attr="attr", ctx=ast.Store()), names),
    st.builds(lambda n, i: ast.Subscript(value=load(n), slice=i, ctx=ast.Store()), names, expressions),
)
simple_statements = st.one_of(
    st.builds(
        lambda ts, v: ast.Assign(targets=ts, value=v), st.lists(targets, min_size=1, max_size=2), expressions
    ),
    st.builds(ast.AugAssign, target=names.map(store), op=st.just(ast.Add()), value=expressions),
    st.builds(
        lambda n, v: ast.AnnAssign(target=store(n), annotation=load("int"), value=v, simple=1),
        names,
        st.none() | expressions,
    ),
    st.builds(ast.Expr, value=expressions),
    st.builds(lambda n: ast.Import(names=[ast.alias(name=f"{n}.sub")]), names),
    st.builds(
        lambda n, m: ast.ImportFrom(module="mod", names=[ast.alias(name=n, asname=m)], level=0), names, names
    ),
    st.builds(lambda n: ast.Delete(targets=[ast.Name(id=n, ctx=ast.Del())]), names),
    st.just(ast.Pass()),
)


def _compound_statements(blocks: st.SearchStrategy[list[ast.stmt]]) -> st.SearchStrategy[ast.stmt]:
    return st.one_of(
        st.builds(ast.If, test=expressions, body=blocks, orelse=st.just([]) | blocks),
        st.builds(ast.For, target=targets, iter=expressions, body=blocks, orelse=st.just([])),
        st.builds(ast.While, test=expressions, body=blocks, orelse=st.just([])),
        st.builds(
            lambda e, n, body: ast.With(items=[ast.withitem(context_expr=e, optional_vars=n)], body=body),
            expressions,
            st.none() | names.map(store),
            blocks,
        ),
        st.builds(
            lambda body, name, handler, final: ast.Try(
                body=body,
                handlers=[ast.ExceptHandler(type=load("Exception"), name=name, body=handler)],
                orelse=[],
                finalbody=final,
            ),
            blocks,
            st.none() | names,
            blocks,
            st.just([]) | blocks,
        ),
        st.builds(
            lambda name, default, body, value: ast.FunctionDef(
                name=name,
                args=ast.arguments(
                    posonlyargs=[], args=[ast.arg(arg="q")], kwonlyargs=[], kw_defaults=[], defaults=[default]
                ),
                body=[*body, ast.Return(value=value)],
                decorator_list=[],
                returns=None,
            ),
            names,
            expressions,
            blocks,
            expressions,
        ),
        st.builds(
            lambda name, base, body: ast.ClassDef(
                name=name, bases=[base], keywords=[], body=body, decorator_list=[]
            ),
            names,
            expressions,
            blocks,
        ),
        st.builds(
            lambda subject, capture, value, body: ast.Match(
                subject=subject,
                cases=[
                    ast.match_case(pattern=ast.MatchValue(value=ast.Constant(value=value)), body=body),
                    ast.match_case(
                        pattern=ast.MatchSequence(
                            patterns=[ast.MatchAs(name=capture), ast.MatchStar(name=None)]
                        ),
                        body=body,
                    ),
                ],
            ),
            expressions,
            names,
            st.integers(0, 9),
            blocks,
        ),
    )


def statements(depth: int = 2) -> st.SearchStrategy[ast.stmt]:
    """Simple statements, and compound ones nesting at most ``depth`` deep."""
    if depth == 0:
        return simple_statements
    return st.one_of(
        simple_statements, _compound_statements(st.lists(statements(depth - 1), min_size=1, max_size=2))
    )


comments = st.text(
    st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"], blacklist_characters="\\"), max_size=8
)


@st.composite
def programs(draw: st.DrawFn, extra: list[ast.stmt] | None = None, last: ast.stmt | None = None) -> str:
    """Valid Python: random top-level statements, ``extra`` ones mixed in, ``last``; some with comments."""
    body = draw(st.lists(statements(), max_size=5))
    for stmt in extra or []:
        body.insert(draw(st.integers(0, len(body))), stmt)
    if last is not None:
        body.append(last)
    lines = []
    for stmt in body:
        try:
            text = ast.unparse(ast.fix_missing_locations(ast.Module(body=[stmt], type_ignores=[])))
        except ValueError:  # Python 3.11 cannot write a backslash inside an f-string's {}
            assume(False)
        comment = draw(st.none() | comments)
        lines.append(text if comment is None else f"{text}  # {comment}")
    source = "\n".join(lines) + draw(st.sampled_from(["", "\n", ";", "\n# end"]))
    try:
        compile(source, "<cell>", "exec", flags=PARSE_FLAGS)
    except SyntaxError:
        assume(False)  # a rare tree ast.unparse cannot write validly (e.g. `;` after a compound statement)
    return source


# -- 1. valid programs --------------------------------------------------------------------------------
@SETTINGS
@given(programs())
def test_analyse_never_raises_on_valid_python_and_agrees_with_symtable(source: str) -> None:
    analysis = analyse(source)
    assert analysis.unconditional <= analysis.bound
    assert set(analysis.literal_params) <= set(analysis.literal_sites) <= analysis.bound
    assert all(count >= 1 for count in analysis.literal_sites.values())
    identifiers = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    assert analysis.reads <= identifiers
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except SyntaxError:
        return  # valid to the parser but not to the compiler (e.g. a walrus rebinding a loop variable)
    module_symbols = {symbol.get_name(): symbol for symbol in table.get_symbols()}
    walrus = {
        node.target.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name)
    }
    assert analysis.bound <= set(module_symbols) | walrus
    deleted_or_annotated = {
        node.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del)
    } | {
        node.target.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.AnnAssign) and node.value is None and isinstance(node.target, ast.Name)
    }
    certainly_bound = {
        name for name, symbol in module_symbols.items() if symbol.is_assigned() or symbol.is_imported()
    }
    assert certainly_bound - deleted_or_annotated <= analysis.bound


# -- 2. arbitrary text -----------------------------------------------------------------------------------
@st.composite
def mangled_programs(draw: st.DrawFn) -> str:
    """A valid program with a random slice replaced by random text: mostly invalid, sometimes not."""
    source = draw(programs())
    start = draw(st.integers(0, len(source)))
    end = draw(st.integers(start, len(source)))
    return source[:start] + draw(st.text(max_size=4)) + source[end:]


@SETTINGS
@given(st.one_of(st.text(), mangled_programs()))
def test_arbitrary_text_raises_only_the_documented_errors(text: str) -> None:
    with contextlib.suppress(SyntaxError):
        analyse(text)
    with contextlib.suppress(SyntaxError, SweepError):
        rewrite_literals(text, {"lr": 1})
    with contextlib.suppress(SweepError):
        parse_sweep(text)


# -- 3. rewriting ------------------------------------------------------------------------------------------
hashables = st.one_of(st.integers(-(10**30), 10**30), st.text(max_size=4), st.booleans(), st.none())
literal_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**200), 2**200),
        st.floats(),  # nan, inf and -0.0 included
        st.text(max_size=10),
        st.binary(max_size=4),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(hashables, children, max_size=3),
        st.sets(hashables, min_size=1, max_size=3),
    ),
    max_leaves=6,
)
SITE_FORMS = ["lr = {v}", "lr: float = {v}", "x, lr = 0, {v}", "lr = a = {v}", "(lr, (b, x)) = [{v}, (1, 2)]"]


@SETTINGS
@given(st.data(), literal_values)
def test_rewritten_cells_parse_read_back_the_value_and_keep_comments(data: st.DataObject, value: Any) -> None:
    forms = data.draw(st.lists(st.sampled_from(SITE_FORMS), min_size=1, max_size=3))
    sites = [ast.parse(form.format(v=repr(0.5))).body[0] for form in forms]
    source = data.draw(programs(extra=sites[1:], last=sites[0]))
    before = analyse(source)
    assert "lr" in before.literal_params
    rewritten = rewrite_literals(source, {"lr": value})
    after = analyse(rewritten)
    assert same(after.literal_params["lr"], value)
    assert after.literal_sites == before.literal_sites
    assert after.bound == before.bound
    assert after.unconditional == before.unconditional
    assert _comments(rewritten) == _comments(source)


@SETTINGS
@given(programs())
def test_rewriting_with_the_cells_own_values_is_a_fixed_point(source: str) -> None:
    before = analyse(source)
    rewritten = rewrite_literals(source, before.literal_params)
    after = analyse(rewritten)
    assert after.literal_params.keys() == before.literal_params.keys()
    assert all(same(after.literal_params[k], v) for k, v in before.literal_params.items())
    assert after.literal_sites == before.literal_sites
    assert after.reads - {"float"} == before.reads - {"float"}  # 1e309 comes back as float('inf')
    assert (after.bound, after.unconditional) == (before.bound, before.unconditional)
    assert after.last_expr_name == before.last_expr_name
    if not before.literal_params:
        assert rewritten == source


# -- 5. sweep specs -------------------------------------------------------------------------------------
@SETTINGS
@given(st.lists(literal_values, min_size=1, max_size=4))
def test_values_written_as_literals_come_back_through_parse_sweep(values: list[Any]) -> None:
    name, parsed = parse_sweep("lr=" + ",".join(literal_source(v) for v in values))
    assert name == "lr"
    assert len(parsed) == len(values)
    assert all(same(p, v) for p, v in zip(parsed, values, strict=True))


# -- helpers -----------------------------------------------------------------------------------------------
def _comments(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [token.string for token in tokens if token.type == tokenize.COMMENT]
