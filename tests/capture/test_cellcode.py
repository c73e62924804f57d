"""Static analysis of cell code: literal params, reads, bindings, last expression, sweep rewriting."""

from __future__ import annotations

import ast
import math
import textwrap
import warnings
from typing import Any

import pytest

from nbtrack.capture.cellcode import (
    CellAnalysis,
    SweepError,
    analyse,
    literal_source,
    literal_value,
    parse_sweep,
    rewrite_literals,
)


def cell(source: str) -> CellAnalysis:
    return analyse(textwrap.dedent(source))


def value_of(expression: str) -> tuple[bool, Any]:
    return literal_value(ast.parse(expression, mode="eval").body)


# -- literal params ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("lr = 1e-3", {"lr": 0.001}),
        ("epochs: int = 5", {"epochs": 5}),
        ("layers = [64, 32]", {"layers": [64, 32]}),
        ("a, b = 1, 2", {"a": 1, "b": 2}),
        ("(a, b) = [1, 2]", {"a": 1, "b": 2}),
        ("[a, (b, c)] = 1, (2, 3)", {"a": 1, "b": 2, "c": 3}),
        ("a = b = 3", {"a": 3, "b": 3}),
        ("x = -3", {"x": -3}),
        ("x = +2", {"x": 2}),
        ("x = -1e-3", {"x": -0.001}),
        ("n = 2**10", {"n": 1024}),
        ("n = 64 * 2", {"n": 128}),
        ("third = 1 / 3", {"third": 1 / 3}),
        ("s = 'a' + 'b'", {"s": "ab"}),
        ("r = 3 % 2", {"r": 1}),
        ("q = 7 // 2", {"q": 3}),
        ("d = {'a': [1, 2]}", {"d": {"a": [1, 2]}}),
        ("t = (1, 'x', None, True)", {"t": (1, "x", None, True)}),
        ("s = {1, 2}", {"s": {1, 2}}),
        ("b = b'raw'", {"b": b"raw"}),
        ("flag = False", {"flag": False}),
        ("nothing = None", {"nothing": None}),
        ("name = f'plain'", {"name": "plain"}),
        ("name = 'a' f'b'", {"name": "ab"}),
        ("rule = '-' * 80", {"rule": "-" * 80}),
        ("x = float('nan')", {"x": math.nan}),
        ("x = float('-inf')", {"x": -math.inf}),
    ],
)
def test_literal_assignments_are_params(source: str, expected: dict[str, Any]) -> None:
    params = analyse(source).literal_params
    assert params.keys() == expected.keys()
    for name, value in expected.items():
        assert same(params[name], value), (name, params[name], value)


@pytest.mark.parametrize(
    "source",
    [
        "x = f()",
        "x = y",
        "x = y + 1",
        "x = [1, y]",
        "x = f'{y}'",
        "x = {**base}",
        "x = [*base]",
        "x = {[1]: 2}",  # unhashable key fails at run time
        "x = {[1]}",
        "x = 1 if c else 2",
        "x = ...",
        "x = 2j",
        "x = 'a' % 3",
        "x = '%s' % 'formatting'",
        "x = [1] * 3",
        "x = 1 / 0",
        "x = 0 ** -1",
        "x = 10 ** 10 ** 10",
        "x = 2 ** 65",
        "x = 'a' * 10 ** 9",
        "x = 10.0 ** 400",
        "x = (-8) ** 0.5",
        "x = -'a'",
        "x = not True",
        "x = float('1.5')",
        "x = lambda: 1",
        "x: int",
        "x, *rest = 1, 2, 3",
        "a, b = 1, 2, 3",
        "a, b = 'xy'",
    ],
)
def test_non_literal_assignments_are_not_params(source: str) -> None:
    assert analyse(source).literal_params == {}


def test_unpacking_takes_literal_elements_and_skips_the_rest() -> None:
    assert analyse("a, b = 1, f()").literal_params == {"a": 1}


def test_only_top_level_statements_make_params() -> None:
    analysis = cell(
        """
        if fast:
            lr = 0.1
        for _ in range(3):
            epochs = 3
        with ctx():
            batch = 32
        def f():
            hidden = 128
        class C:
            width = 10
        seed = 0
        """
    )
    assert analysis.literal_params == {"seed": 0}


def test_later_assignment_wins_and_first_seen_order_is_kept() -> None:
    params = cell(
        """
        a = 1
        b = 2
        a = 3
        """
    ).literal_params
    assert list(params.items()) == [("a", 3), ("b", 2)]


@pytest.mark.parametrize(
    "rebinding",
    ["lr = lr * 2", "lr += 1", "del lr", "import lr", "def lr(): pass", "lr, b = f()", "class lr: pass"],
)
def test_later_non_literal_top_level_binding_removes_the_param(rebinding: str) -> None:
    analysis = analyse(f"lr = 0.1\n{rebinding}\n")
    assert "lr" not in analysis.literal_params
    assert analysis.literal_sites["lr"] == 1  # still sweepable


def test_a_literal_after_a_non_literal_binding_is_a_param_again() -> None:
    assert analyse("lr = 0.1\nlr = lr * 2\nlr = 0.5").literal_params == {"lr": 0.5}


@pytest.mark.parametrize(
    "rebinding",
    [
        "for _ in range(3):\n    lr *= 0.9",
        "if fast:\n    lr = 0.5",
        "for lr in (1, 2):\n    pass",
        "with ctx() as lr:\n    pass",
        "try:\n    pass\nexcept E as lr:\n    pass",
        "print(lr := 2)",
        "seen = [(lr := v) for v in vs]",
        "while c:\n    del lr",
        "match v:\n    case [lr]:\n        pass",
    ],
)
def test_a_later_binding_anywhere_at_module_level_drops_the_param(rebinding: str) -> None:
    analysis = analyse(f"lr = 0.1\n{rebinding}\n")
    assert "lr" not in analysis.literal_params  # its final value may not be the one written
    assert analysis.literal_sites == {"lr": 1}


def test_bindings_inside_function_and_class_bodies_do_not_drop_the_param() -> None:
    source = "lr = 0.1\ndef f():\n    lr = 2\nclass C:\n    lr = 3\n"
    assert analyse(source).literal_params == {"lr": 0.1}


def test_literal_sites_count_every_top_level_literal_assignment() -> None:
    analysis = cell(
        """
        lr = 0.1
        a = lr2 = 3
        x, lr = 1, 2
        if c:
            lr = 5
        y = f()
        """
    )
    assert analysis.literal_sites == {"lr": 2, "a": 1, "lr2": 1, "x": 1}


def test_literal_value_refuses_huge_or_failing_arithmetic_quickly() -> None:
    for expression in [
        "9 ** 9 ** 9",
        "(10 ** 64) ** 64",
        "2 ** 64 * 2 ** 4096",
        "'ab' * (2 ** 64)",
        "1 // 0",
    ]:
        assert value_of(expression) == (False, None)
    assert value_of("2 ** 64") == (True, 2**64)
    assert value_of("2 ** -2") == (True, 0.25)
    assert value_of("0x" + "f" * 2000) == (False, None)


def test_expressions_deeper_than_the_recursion_limit_are_analysed_without_error() -> None:
    deep_sum = "+".join(["1"] * 2500)
    analysis = analyse(f"x = {deep_sum}\ny = {deep_sum.replace('1', 'a')}")
    assert analysis.reads == {"a"}
    assert analysis.bound == {"x", "y"}
    assert "x" not in analysis.literal_params  # too deep to evaluate: not a literal, and no error
    assert value_of("[[[[[[1]]]]]]") == (True, [[[[[[1]]]]]])


# -- reads ---------------------------------------------------------------------------------------------
def test_reads_are_names_used_before_the_cell_binds_them() -> None:
    analysis = cell(
        """
        model = build(width, depth=depth)
        score = model.fit(X_train).score(X_test)
        width = 3
        print(width)
        """
    )
    assert analysis.reads == {"build", "width", "depth", "X_train", "X_test", "print"}


def test_augmented_assignment_reads_its_target() -> None:
    assert analyse("x += 1").reads == {"x"}
    assert analyse("x = 0\nx += 1").reads == frozenset()


def test_assignment_value_is_read_before_the_target_is_bound() -> None:
    assert analyse("x = x + 1").reads == {"x"}


def test_subscript_and_attribute_targets_read_their_object() -> None:
    assert analyse("d[key] = 1\nobj.attr = 2").reads == {"d", "key", "obj"}
    assert analyse("del d[key]").reads == {"d", "key"}
    assert analyse("del x").reads == frozenset()


def test_loop_body_reads_follow_the_first_iteration() -> None:
    analysis = cell(
        """
        for i in range(n):
            total = total + i
            last = i
            print(last)
        """
    )
    assert analysis.reads == {"range", "n", "total", "print"}


def test_if_and_else_branches_do_not_see_each_other() -> None:
    analysis = cell(
        """
        if cond:
            x = 1
        else:
            y = x
        print(x, y)
        """
    )
    assert analysis.reads == {"cond", "x", "print"}


def test_match_cases_bind_captures_and_read_values() -> None:
    analysis = cell(
        """
        match command:
            case Point(x=0, y=yy):
                out = yy
            case [first, *others]:
                out = first
            case {"k": Color.RED, **rest}:
                out = rest
            case _:
                out = yy
        """
    )
    assert analysis.reads == {"command", "Point", "Color", "yy"}
    assert {"yy", "first", "others", "rest", "out"} <= analysis.bound


def test_def_and_lambda_bodies_are_not_walked_but_defaults_and_decorators_are() -> None:
    analysis = cell(
        """
        @register(registry)
        def train(lr=default_lr, *, epochs: Epochs = n_epochs) -> Result:
            return helper(lr, later)
        f = lambda a=lam_default: a + body_name
        class Net(Base, metaclass=Meta):
            width = class_body_name
        """
    )
    assert analysis.reads == {
        "register",
        "registry",
        "default_lr",
        "Epochs",
        "n_epochs",
        "Result",
        "lam_default",
        "Base",
        "Meta",
    }


def test_comprehension_targets_do_not_leak_but_their_first_iterable_is_read() -> None:
    analysis = cell(
        """
        squares = [k * k for k in ks if k > threshold]
        pairs = {a: b for a in range(3) for b in other[a]}
        gen = list(j for j in js)
        print(k)
        """
    )
    assert analysis.reads == {"ks", "threshold", "range", "other", "list", "js", "print", "k"}
    assert analysis.bound == {"squares", "pairs", "gen"}


def test_walrus_binds_at_module_level_even_inside_a_comprehension() -> None:
    analysis = cell(
        """
        if (n := len(data)) > 10:
            pass
        values = [(last := v) for v in data]
        print(n, last)
        """
    )
    assert {"n", "last", "values"} <= analysis.bound
    assert analysis.reads == {"len", "data", "print"}
    assert "n" not in analysis.unconditional


def test_builtins_are_not_filtered_out_of_reads() -> None:
    assert analyse("print(len(x))").reads == {"print", "len", "x"}


def test_top_level_await_and_async_statements_are_valid() -> None:
    analysis = cell(
        """
        result = await fetch(url)
        async for item in stream:
            pass
        async with lock as held:
            pass
        """
    )
    assert analysis.reads == {"fetch", "url", "stream", "lock"}
    assert analysis.bound == {"result", "item", "held"}


# -- bound and unconditional -----------------------------------------------------------------------------
def test_bound_covers_every_kind_of_module_level_binding() -> None:
    analysis = cell(
        """
        import os.path
        import numpy as np
        from math import pi, tau as two_pi
        from helpers import *
        a = 1
        b: int = 2
        c: int
        d += 1
        e, (f, *g) = h = items
        obj.attr = 1
        if cond:
            i = 1
        for j, k in pairs:
            while w:
                l = 1
        try:
            m = 1
        except ValueError as err:
            n = 1
        with open(p) as fh, lock as (x, y):
            o = 1
        def func(local_arg):
            local = 1
        class Klass:
            attr = 1
        lam = lambda q: q
        del a
        """
    )
    expected = {"os", "np", "pi", "two_pi", "a", "b", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
    expected |= {"m", "err", "n", "fh", "x", "y", "o", "func", "Klass", "lam"}
    assert analysis.bound == expected


def test_unconditional_names_are_those_bound_by_statements_that_always_run() -> None:
    analysis = cell(
        """
        import numpy as np
        a = 1
        b += 1
        def f(): pass
        class C: pass
        with ctx() as handle:
            inside_with = 1
            with other():
                nested_with = 2
            if c:
                in_if = 1
        if c:
            in_if = 2
        for i in range(3):
            in_for = 1
        while w:
            in_while = 1
        try:
            in_try = 1
        except E:
            in_except = 1
        else:
            in_else = 1
        finally:
            in_finally = 1
        match v:
            case 1:
                in_case = 1
        """
    )
    assert analysis.unconditional == {
        "np",
        "a",
        "b",
        "f",
        "C",
        "handle",
        "inside_with",
        "nested_with",
        "in_finally",
    }


def test_deleted_names_are_not_unconditional_unless_bound_again() -> None:
    assert analyse("a = 1\ndel a").unconditional == frozenset()
    assert analyse("a = 1\nif c:\n    del a").unconditional == frozenset()
    assert analyse("a = 1\ndel a\na = 2").unconditional == {"a"}


def test_except_as_unbinds_its_name_after_the_handler() -> None:
    source = "e = 1\ntry:\n    pass\nexcept ValueError as e:\n    pass\n"
    assert "e" not in analyse(source).unconditional


# -- last expression -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "expr", "name", "quiet"),
    [
        ("acc = 0.9\nacc", "acc", "acc", False),
        ("model.score(X)", "model.score(X)", None, False),
        ("acc = model.score(X)", None, None, False),
        ("acc = 0.9\nacc;", "acc", "acc", True),
        ("acc = 0.9\nacc ;  # quiet\n\n", "acc", "acc", True),
        ("acc = 0.9; acc", "acc", "acc", False),
        ("acc \\\n  ;", "acc", "acc", True),
        ("acc  # a ; in a comment", "acc", "acc", False),
        ("((acc));", "((acc))", "acc", True),
        ("x = 1;", None, None, False),
        ("(acc)", "(acc)", "acc", False),
        ("f(\n  1,\n  2)\n# trailing comment", "f(\n  1,\n  2)", None, False),
        ("for i in r:\n    i", None, None, False),
        ("# only a comment", None, None, False),
        ("", None, None, False),
        ("'ünïcode'", "'ünïcode'", None, False),
    ],
)
def test_last_expression_is_detected(source: str, expr: str | None, name: str | None, quiet: bool) -> None:
    analysis = analyse(source)
    assert analysis.last_expr == expr
    assert analysis.last_expr_name == name
    assert analysis.last_expr_ends_with_semicolon is quiet


# -- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    ["x = = 1", "def f(:\n", "a\x00b", "x = '\udc80'", "x = " + "+".join(["1"] * 20000), "lr ="],
)
def test_invalid_or_unanalysable_code_raises_syntax_error_only(source: str) -> None:
    with pytest.raises(SyntaxError):
        analyse(source)


def test_analysing_code_with_compile_warnings_warns_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert analyse("path = '\\_d'\npath").last_expr_name == "path"


def test_code_that_parses_but_cannot_compile_is_still_analysed() -> None:
    assert analyse("return x").reads == {"x"}  # CPython rejects it when compiling; the run records that


def test_ipython_transformed_magics_are_ordinary_calls() -> None:
    source = "get_ipython().run_line_magic('time', 'x = 1')\nfiles = get_ipython().getoutput('ls')\n"
    analysis = analyse(source)
    assert analysis.reads == {"get_ipython"}
    assert analysis.bound == {"files"}
    assert analysis.literal_params == {}


# -- rewrite_literals ------------------------------------------------------------------------------------
def test_rewrite_changes_only_the_literal_and_keeps_comments_and_formatting() -> None:
    source = textwrap.dedent(
        """\
        # hyper-parameters
        lr   =   1e-3     # learning rate
        epochs: int = 5;  batch = 32
        layers = [
            64,   # first
            32,
        ]
        model = train(lr, epochs)  # uses lr
        """
    )
    rewritten = rewrite_literals(source, {"lr": 0.01, "layers": [128], "batch": 64})
    assert rewritten == textwrap.dedent(
        """\
        # hyper-parameters
        lr   =   0.01     # learning rate
        epochs: int = 5;  batch = 64
        layers = [128]
        model = train(lr, epochs)  # uses lr
        """
    )


def test_rewrite_handles_multi_byte_characters_before_the_literal() -> None:
    source = "名前 = 'ü'; lr = 0.1  # ← rate\nπ = 3.14\n"
    rewritten = rewrite_literals(source, {"lr": 0.2, "π": 3.0, "名前": "ß"})
    assert rewritten == "名前 = 'ß'; lr = 0.2  # ← rate\nπ = 3.0\n"


def test_rewrite_keeps_crlf_and_lone_cr_line_endings() -> None:
    source = "a = 1\r\nb = 2\rc = 3\n"
    assert rewrite_literals(source, {"b": 20, "c": 30}) == "a = 1\r\nb = 20\rc = 30\n"


def test_rewrite_changes_every_top_level_site_but_not_nested_ones() -> None:
    source = "lr = 0.1\nif c:\n    lr = 0.2\nlr = 0.3\n"
    assert rewrite_literals(source, {"lr": 1}) == "lr = 1\nif c:\n    lr = 0.2\nlr = 1\n"


def test_rewrite_of_an_unpacking_changes_just_that_element() -> None:
    assert rewrite_literals("a, b = 1, 2  # pair", {"b": [3]}) == "a, b = 1, [3]  # pair"
    assert rewrite_literals("(a, (b, c)) = [1, (2, 3)]", {"c": -4}) == "(a, (b, c)) = [1, (2, -4)]"


def test_rewrite_splits_a_chained_assignment_when_targets_would_differ() -> None:
    assert rewrite_literals("a = b = 3  # both", {"a": 5}) == "a = 5; b = 3  # both"
    assert rewrite_literals("a = b = 3", {"a": 5, "b": 5}) == "a = b = 5"
    split = rewrite_literals("x = 1\na = (b, c) = (\n    1,\n    2)\n", {"c": 9})
    assert split == "x = 1\na = ((\n    1,\n    2)); (b, c) = ((\n    1,\n    9))\n"
    assert analyse(split).literal_params == {"x": 1, "a": (1, 2), "b": 1, "c": 9}


def test_rewrite_of_annotated_assignment_keeps_the_annotation() -> None:
    assert rewrite_literals("epochs: int = 5", {"epochs": 10}) == "epochs: int = 10"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (math.nan, "float('nan')"),
        (math.inf, "float('inf')"),
        (-math.inf, "float('-inf')"),
        ([1.5, math.nan], "[1.5, float('nan')]"),
        ((1,), "(1,)"),
        ((), "()"),
        ({"a": (1, None)}, "{'a': (1, None)}"),
        (True, "True"),
        (b"x", "b'x'"),
    ],
)
def test_values_are_written_as_source_that_reads_back_as_literals(value: Any, text: str) -> None:
    assert literal_source(value) == text
    rewritten = rewrite_literals("v = 0", {"v": value})
    assert rewritten == f"v = {text}"
    assert same(analyse(rewritten).literal_params["v"], value)


def test_numpy_like_subclasses_are_written_as_plain_numbers() -> None:
    class Float64(float):
        def __repr__(self) -> str:
            return f"np.float64({float(self)!r})"

    assert rewrite_literals("lr = 1", {"lr": Float64(0.5)}) == "lr = 0.5"


@pytest.mark.parametrize("value", [object(), set(), 1j, frozenset({1}), range(3)])
def test_values_with_no_literal_spelling_are_a_sweep_error(value: Any) -> None:
    with pytest.raises(SweepError, match="cannot be written"):
        rewrite_literals("v = 0", {"v": value})


def test_self_referential_values_are_a_sweep_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SweepError, match="nested"):
        rewrite_literals("v = 0", {"v": loop})


def test_rewrite_of_a_name_without_a_literal_names_it_and_lists_what_can_be_swept() -> None:
    source = "lr = 0.1\nepochs = 3\nmodel = build()\nif c:\n    hidden = 3\n"
    with pytest.raises(SweepError) as info:
        rewrite_literals(source, {"model": 1, "hidden": 2})
    message = str(info.value)
    assert "model, hidden" in message
    assert "epochs, lr" in message


def test_rewrite_of_invalid_code_is_a_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        rewrite_literals("lr = = 1", {"lr": 1})


# -- parse_sweep --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("lr=1e-3,1e-2", ("lr", [0.001, 0.01])),
        ("lr = 1e-3, 1e-2", ("lr", [0.001, 0.01])),
        ("epochs=3", ("epochs", [3])),
        ("layers=[64,32],[128]", ("layers", [[64, 32], [128]])),
        ("layers=[64, 32]", ("layers", [[64, 32]])),
        ("opt=adam,'sgd'", ("opt", ["adam", "sgd"])),
        ("name = 'a,b', c", ("name", ["a,b", "c"])),
        ('name="it\\"s, fine",x', ("name", ['it"s, fine', "x"])),
        ("n=2**10,2**12", ("n", [1024, 4096])),
        ("x=None,True,false", ("x", [None, True, "false"])),
        ("cfg={'a': 1, 'b': 2},{}", ("cfg", [{"a": 1, "b": 2}, {}])),
        ("lr=0.1,", ("lr", [0.1])),
        ("path=/tmp/a b,./c", ("path", ["/tmp/a b", "./c"])),
        ("x=-1,+2", ("x", [-1, 2])),
        ("eq=a=b", ("eq", ["a=b"])),
    ],
)
def test_parse_sweep(spec: str, expected: tuple[str, list[Any]]) -> None:
    assert parse_sweep(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lr", "no '='"),
        ("=1,2", "no name"),
        ("lr=", "no values"),
        ("lr=  ", "no values"),
        ("lr=1,,2", "empty value"),
        ("lr=,", "no values"),
        ("2lr=1", "not a Python variable name"),
        ("for=1", "not a Python variable name"),
        ("a.b=1", "not a Python variable name"),
        ("lr=[1,2", "unclosed"),
        ("lr=1],2", "unmatched"),
        ("lr='abc", "unclosed quote"),
    ],
)
def test_malformed_sweep_specs_are_sweep_errors(spec: str, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        parse_sweep(spec)


def test_sweep_error_is_a_value_error() -> None:
    assert issubclass(SweepError, ValueError)


def test_parsed_sweep_values_rewrite_and_read_back() -> None:
    name, values = parse_sweep("layers=[64,32],(128,),{'a': 'b'},word")
    for value in values:
        assert analyse(rewrite_literals("layers = [1]", {name: value})).literal_params == {name: value}


# -- helpers --------------------------------------------------------------------------------------------
def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)
