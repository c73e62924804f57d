"""Property tests of the filter grammar.

1. No input string makes parse/apply raise anything but FilterError (and what parses also runs).
2. Random valid filter trees, written out as text, select in SQL exactly the runs that a small Python
   reference evaluator with SQL's three-valued logic selects, over a fixed random dataset.
3. Random order_by keys order the runs exactly as a Python sort with NULLs last and ``seq DESC`` last.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbtrack.errors import FilterError
from nbtrack.query.filter import (
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
    apply_filter,
    apply_order,
    parse_filter,
    parse_order_by,
    to_text,
)
from nbtrack.store import schema

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
T0 = datetime(2024, 5, 1, tzinfo=UTC).timestamp()

METRIC_KEYS = ["acc", "loss", "train/loss", "my key"]
METRIC_VALUES: list[float | None] = [0.0, 0.5, 1.0, -1.0, 2.5, 0.001, None]  # None: NaN
PARAM_KEYS = ["lr", "opt", "n.layers"]
PARAM_VALUES: list[Any] = [0.001, 0.5, 1, 5, "5", "adam", "Adam", "sgd", True, False, None, "a%b"]
TAG_KEYS = ["team", "build"]
TAG_VALUES = ["vision", "Vision", "nlp", "5", "5.0", "true", "False", "50%", "", "ä_b"]
STATUSES = ["RUNNING", "FINISHED", "FAILED", "INTERRUPTED", "CRASHED"]
NAMES = [None, "baseline", "Bigger", "a_b", "ab", "ÄB"]
USERS = [None, "ada", "bob"]


@dataclass
class Run:
    """One run of the reference dataset, in the shape the reference evaluator reads."""

    seq: int
    attrs: dict[str, Any]
    metrics: dict[str, float | None] = field(default_factory=dict)
    params: dict[str, tuple[str, float | None, str]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def _encode_param(value: Any) -> tuple[str, float | None, str]:
    """(value_str, value_num, vtype) as the store encodes a param."""
    if value is None:
        return "None", None, "none"
    if isinstance(value, bool):
        return str(value), float(value), "bool"
    if isinstance(value, int):
        return str(value), float(value), "int"
    if isinstance(value, float):
        return repr(value), value, "float"
    return value, None, "str"


def _dataset(seed: int = 20240501, size: int = 40) -> list[Run]:
    rng = random.Random(seed)
    runs = []
    for seq in range(1, size + 1):
        start = T0 + rng.randrange(0, 10 * 86400) + rng.choice([0.0, 0.25, 0.5])
        end = None if rng.random() < 0.2 else start + rng.choice([0.5, 10.0, 60.0, 3600.0])
        attrs = {
            "run_id": f"run{seq:03d}",
            "seq": seq,
            "name": rng.choice(NAMES),
            "status": rng.choice(STATUSES),
            "experiment": rng.choice(["mnist", "cifar"]),
            "start_time": start,
            "end_time": end,
            "user": rng.choice(USERS),
            "execution_count": rng.choice([None, 1, 2, 3]),
        }
        run = Run(seq, attrs)
        for key in METRIC_KEYS:
            if rng.random() < 0.7:
                run.metrics[key] = rng.choice(METRIC_VALUES)
        for key in PARAM_KEYS:
            if rng.random() < 0.7:
                run.params[key] = _encode_param(rng.choice(PARAM_VALUES))
        for key in TAG_KEYS:
            if rng.random() < 0.7:
                run.tags[key] = rng.choice(TAG_VALUES)
        runs.append(run)
    return runs


RUNS = _dataset()


def _case_sensitive_like(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A SQLite file holding :data:`RUNS`."""
    engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('props') / 'nbtrack.db'}")
    sa.event.listen(engine, "connect", _case_sensitive_like)
    schema.metadata.create_all(engine)
    experiment_ids = {"mnist": 1, "cifar": 2}
    with engine.begin() as conn:
        conn.execute(
            schema.experiments.insert(),
            [{"experiment_id": i, "name": n, "created": T0} for n, i in experiment_ids.items()],
        )
        for run in RUNS:
            row = {k: v for k, v in run.attrs.items() if k != "experiment"}
            row["experiment_id"] = experiment_ids[run.attrs["experiment"]]
            conn.execute(schema.runs.insert(), row)
            for key, last in run.metrics.items():
                conn.execute(
                    schema.metric_summaries.insert(),
                    {"run_id": row["run_id"], "key": key, "last": last, "last_step": 0,
                     "experiment_id": row["experiment_id"],
                     "min": last, "max": last, "count": 1, "last_time": T0},
                )  # fmt: skip
            for key, (value_str, value_num, vtype) in run.params.items():
                conn.execute(
                    schema.params.insert(),
                    {"run_id": row["run_id"], "key": key, "value_json": "null",
                     "value_str": value_str, "value_num": value_num, "vtype": vtype,
                     "origin": "explicit"},
                )  # fmt: skip
            for key, value in run.tags.items():
                conn.execute(schema.tags.insert(), {"run_id": row["run_id"], "key": key, "value": value})
    yield engine
    engine.dispose()


def _base() -> sa.Select[Any]:
    runs, experiments = schema.runs, schema.experiments
    return sa.select(runs.c.seq).select_from(
        runs.join(experiments, runs.c.experiment_id == experiments.c.experiment_id)
    )


# -- the reference evaluator ------------------------------------------------------------------

Truth = bool | None  # None: unknown (SQL NULL)

TEXT_ATTRIBUTES = {"run_id", "name", "status", "experiment", "user"}
TIME_ATTRIBUTES = {"start_time", "end_time"}


def _ascii_lower(text: str) -> str:
    """SQLite's lower() without ICU folds ASCII letters only."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _like(value: str, pattern: str, insensitive: bool) -> bool:
    """SQL LIKE with ``\\`` as the escape character."""
    if insensitive:
        value, pattern = _ascii_lower(value), _ascii_lower(pattern)
    regex, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            regex.append(re.escape(next(chars)))
        elif char == "%":
            regex.append(".*")
        elif char == "_":
            regex.append(".")
        else:
            regex.append(re.escape(char))
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def _field_value(run: Run, target: Field, literal: Value) -> tuple[Any, Any]:
    """(the run's value, the literal's value) in the form they compare in; None when missing."""
    key = target.key
    if target.kind is FieldKind.METRIC:
        assert isinstance(literal, Number)
        return run.metrics.get(key), literal.value
    if target.kind is FieldKind.PARAM:
        stored = run.params.get(key)
        if isinstance(literal, Number):
            return (stored[1] if stored else None), literal.value
        text = ("True" if literal.value else "False") if isinstance(literal, Boolean) else literal.value
        return (stored[0] if stored else None), text
    if target.kind is FieldKind.TAG or key in TEXT_ATTRIBUTES:
        value = run.tags.get(key) if target.kind is FieldKind.TAG else run.attrs[key]
        if isinstance(literal, Boolean):
            return (None if value is None else _ascii_lower(value)), str(literal.value).lower()
        text = literal.text if isinstance(literal, Number) else literal.value
        return value, text.upper() if key == "status" else text
    if key == "duration":
        end = run.attrs["end_time"]
        value = None if end is None else end - run.attrs["start_time"]
    else:
        value = run.attrs[key]
    if key in TIME_ATTRIBUTES:
        if isinstance(literal, String):
            moment = datetime.fromisoformat(literal.value)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return value, moment.timestamp()
        assert isinstance(literal, Number)
        return value, literal.value / 1000.0
    assert isinstance(literal, Number)
    return value, literal.value


def _is_null(run: Run, target: Field) -> bool:
    key = target.key
    if target.kind is FieldKind.METRIC:
        return run.metrics.get(key) is None
    if target.kind is FieldKind.PARAM:
        return key not in run.params or run.params[key][2] == "none"
    if target.kind is FieldKind.TAG:
        return key not in run.tags
    if key == "duration":
        return run.attrs["end_time"] is None
    return run.attrs[key] is None


BINARY: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: lambda a, b: a == b,
    Op.NE: lambda a, b: a != b,
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
    Op.LIKE: lambda a, b: _like(a, b, insensitive=False),
    Op.ILIKE: lambda a, b: _like(a, b, insensitive=True),
}
NEGATED = {Op.NOT_LIKE: Op.LIKE, Op.NOT_ILIKE: Op.ILIKE, Op.NOT_IN: Op.IN}


def _not(value: Truth) -> Truth:
    return None if value is None else not value


def _any(values: list[Truth]) -> Truth:
    return True if True in values else None if None in values else False


def _all(values: list[Truth]) -> Truth:
    return False if False in values else None if None in values else True


def _compare(run: Run, node: Comparison) -> Truth:
    if node.op is Op.IS_NULL:
        return _is_null(run, node.field)
    if node.op is Op.IS_NOT_NULL:
        return not _is_null(run, node.field)
    if node.op in NEGATED:
        return _not(_compare(run, Comparison(node.field, NEGATED[node.op], node.value)))
    if node.op is Op.IN:
        return _any([_compare(run, Comparison(node.field, Op.EQ, v)) for v in node.values()])
    left, right = _field_value(run, node.field, node.values()[0])
    return None if left is None else BINARY[node.op](left, right)


def evaluate(run: Run, node: Node) -> Truth:
    """The truth of ``node`` for ``run`` under SQL's three-valued logic."""
    if isinstance(node, Comparison):
        return _compare(run, node)
    if isinstance(node, Not):
        return _not(evaluate(run, node.operand))
    results = [evaluate(run, term) for term in node.terms]
    return _all(results) if isinstance(node, And) else _any(results)


# -- strategies -------------------------------------------------------------------------------

NUMBER_TEXTS = ["0", "0.5", "1", "-1", "2.5", "1e-3", "0.001", "5", "5.0", "+1", ".5", "10"]
STRINGS = [*TAG_VALUES, "adam", "Adam", "sgd", "5", "True", "a%b", "baseline", "ÄB", "ada", "mnist"]
STRINGS += ["run007", "it's", 'say "hi"']
PATTERNS = ["%", "v%", "V%", "%a%", "_", "5%", "a\\%b", "a%", "%b", "a_b", "Ä%", "%1%", "fin%", "%ING"]
TIME_MS = [f"{(T0 + day * 86400) * 1000:.0f}" for day in range(0, 11, 2)]
TIME_ISO = ["2024-05-03", "2024-05-05T12:00:00", "2024-05-04T00:00+02:00", "2024-05-09 06:30Z"]

numbers = st.sampled_from(NUMBER_TEXTS).map(lambda text: Number(float(text), text))
strings = st.sampled_from(STRINGS).map(String)
patterns = st.sampled_from(PATTERNS + STRINGS).map(String)
booleans = st.booleans().map(Boolean)
status_strings = st.sampled_from(["finished", "FAILED", "Running", "crashed", "x"]).map(String)
times = st.one_of(
    st.sampled_from(TIME_MS).map(lambda text: Number(float(text), text)),
    st.sampled_from(TIME_ISO).map(String),
)
ORDERING = [Op.LT, Op.LE, Op.GT, Op.GE]
EQUALITY = [Op.EQ, Op.NE]
LIKES = [Op.LIKE, Op.NOT_LIKE, Op.ILIKE, Op.NOT_ILIKE]


@st.composite
def _comparison(
    draw: st.DrawFn,
    target: Field,
    values: st.SearchStrategy[Value],
    ops: list[Op],
    in_values: st.SearchStrategy[Value] | None = None,
) -> Comparison:
    op = draw(st.sampled_from([*ops, Op.IN, Op.NOT_IN, Op.IS_NULL, Op.IS_NOT_NULL]))
    if op in (Op.IS_NULL, Op.IS_NOT_NULL):
        return Comparison(target, op)
    if op in (Op.IN, Op.NOT_IN):
        items = draw(st.lists(values if in_values is None else in_values, min_size=1, max_size=4))
        return Comparison(target, op, tuple(items))
    if op in LIKES:
        return Comparison(target, op, draw(patterns))
    return Comparison(target, op, draw(values))


def _text_field(target: Field) -> st.SearchStrategy[Comparison]:
    texts = status_strings if target.key == "status" else strings
    return st.one_of(
        _comparison(target, texts, EQUALITY + ORDERING + LIKES, texts | numbers | booleans),
        _comparison(target, numbers | booleans, EQUALITY, strings | numbers | booleans),
    )


def _metric(key: str) -> st.SearchStrategy[Comparison]:
    return _comparison(Field(FieldKind.METRIC, key), numbers, EQUALITY + ORDERING)


def _param(key: str) -> st.SearchStrategy[Comparison]:
    target = Field(FieldKind.PARAM, key)
    return st.one_of(
        _comparison(target, numbers | strings, EQUALITY + ORDERING + LIKES, numbers | strings),
        _comparison(target, booleans, EQUALITY, booleans | numbers | strings),
    )


def _attribute(name: str) -> st.SearchStrategy[Comparison]:
    target = Field(FieldKind.ATTRIBUTE, name)
    if name in TEXT_ATTRIBUTES:
        return _text_field(target)
    values = times if name in TIME_ATTRIBUTES else numbers
    return _comparison(target, values, EQUALITY + ORDERING)


# A field is sampled first (uniformly), then a comparison for it: one_of over all the fields' own
# strategies would favour the first few.
FIELD_STRATEGIES = [
    *[_metric(key) for key in METRIC_KEYS],
    *[_param(key) for key in PARAM_KEYS],
    *[_text_field(Field(FieldKind.TAG, key)) for key in TAG_KEYS],
    *[_attribute(name) for name in sorted(TEXT_ATTRIBUTES | TIME_ATTRIBUTES)],
    *[_attribute(name) for name in ["seq", "duration", "execution_count"]],
]
comparisons = st.sampled_from(FIELD_STRATEGIES).flatmap(lambda strategy: strategy)
trees: st.SearchStrategy[Node] = st.recursive(
    comparisons,
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=3).map(lambda terms: And(tuple(terms))),
        st.lists(children, min_size=2, max_size=3).map(lambda terms: Or(tuple(terms))),
    ),
    max_leaves=8,
)


@settings(SETTINGS, max_examples=300)
@given(comparison=comparisons)
def test_each_comparison_selects_what_the_reference_evaluator_selects(
    engine: sa.Engine, comparison: Comparison
) -> None:
    text = to_text(comparison)
    with engine.connect() as conn:
        selected = {row[0] for row in conn.execute(apply_filter(_base(), text))}
    assert selected == {run.seq for run in RUNS if evaluate(run, comparison) is True}, text


@settings(SETTINGS, max_examples=200)
@given(tree=trees)
def test_sql_selects_the_runs_the_reference_evaluator_selects(engine: sa.Engine, tree: Node) -> None:
    text = to_text(tree)
    assert parse_filter(text) == tree
    with engine.connect() as conn:
        selected = {row[0] for row in conn.execute(apply_filter(_base(), text))}
    expected = {run.seq for run in RUNS if evaluate(run, tree) is True}
    assert selected == expected, text


# -- ordering -------------------------------------------------------------------------------


def _sort_values(run: Run, target: Field) -> list[Any]:
    key = target.key
    if target.kind is FieldKind.METRIC:
        return [run.metrics.get(key)]
    if target.kind is FieldKind.PARAM:
        stored = run.params.get(key)
        return [stored[1], stored[0]] if stored else [None, None]
    if target.kind is FieldKind.TAG:
        return [run.tags.get(key)]
    if key == "duration":
        end = run.attrs["end_time"]
        return [None if end is None else end - run.attrs["start_time"]]
    return [run.attrs[key]]


def reference_order(keys: list[OrderKey]) -> list[int]:
    """The seq numbers in ``keys`` order, NULLs last either way, ties by seq descending."""
    ordered = sorted(RUNS, key=lambda run: run.seq, reverse=True)
    if not keys:
        ordered.sort(key=lambda run: run.attrs["start_time"], reverse=True)
    columns = [(key.field, i, key.descending) for key in keys for i in range(2)]
    for target, index, descending in reversed(columns):
        values = [_sort_values(run, target) for run in ordered]
        if index >= len(values[0]):
            continue
        present = [run for run, v in zip(ordered, values, strict=True) if v[index] is not None]
        missing = [run for run, v in zip(ordered, values, strict=True) if v[index] is None]
        present.sort(key=lambda run: _sort_values(run, target)[index], reverse=descending)
        ordered = present + missing
    return [run.seq for run in ordered]


ORDER_FIELDS = [
    *[f"metrics.`{key}`" for key in METRIC_KEYS],
    *[f"params.`{key}`" for key in PARAM_KEYS],
    *[f"tags.{key}" for key in TAG_KEYS],
    *sorted(TEXT_ATTRIBUTES | TIME_ATTRIBUTES | {"seq", "duration", "execution_count"}),
]
order_items = st.tuples(st.sampled_from(ORDER_FIELDS), st.sampled_from(["", " ASC", " desc"]))


@SETTINGS
@given(items=st.lists(order_items.map("".join), max_size=3))
def test_sql_orders_runs_as_a_python_sort_with_nulls_last(engine: sa.Engine, items: list[str]) -> None:
    with engine.connect() as conn:
        got = [row[0] for row in conn.execute(apply_order(_base(), items))]
    assert got == reference_order(parse_order_by(items)), items


# -- robustness -------------------------------------------------------------------------------

TOKENS = [
    "metrics.acc", "params.lr", "tags.team", "status", "seq", "start_time", "duration",
    "metrics.`my key`", 'params."a b"', "metrics.", "attr.", "unknown.key", "nosuch", "x",
    "AND", "OR", "NOT", "and", "(", ")", "((", "))", "=", "==", "!=", "<>", "<", "<=", ">", ">=",
    "!", "LIKE", "ILIKE", "IN", "IS", "NULL", "TRUE", "false", "ASC", "DESC", ",", ".",
    "'adam'", "'", '"', "`", "''", "'it''s'", "'%a\\'", "'2024-05-01'", "'not a date'",
    "1", "-2.5e3", "1e", "1e999", "+", "-", ".5", "1abc", "0x10", ";", "--", "\\", "é", "\n",
    "LI\u212aE", "\u0130S", "nul\u0131",
]  # fmt: skip
token_text = st.lists(st.sampled_from(TOKENS), max_size=12).flatmap(
    lambda tokens: st.sampled_from([" ".join(tokens), "".join(tokens)])
)


def _try_everything(engine: sa.Engine, text: str) -> None:
    """Parse and apply ``text`` as a filter and as order_by; run what parses."""
    for apply in (apply_filter, apply_order):
        try:
            stmt = apply(_base(), text)
        except FilterError:
            continue
        with engine.connect() as conn:
            conn.execute(stmt).all()
    for parse in (parse_filter, parse_order_by):
        position: int | None = None
        try:
            parse(text)
        except FilterError as error:
            position = error.position
        assert position is None or 0 <= position <= len(text)


@settings(SETTINGS, max_examples=200)
@given(text=st.text())
def test_arbitrary_text_raises_nothing_but_filter_error(engine: sa.Engine, text: str) -> None:
    _try_everything(engine, text)


@settings(SETTINGS, max_examples=400)
@given(text=token_text)
def test_token_soup_raises_nothing_but_filter_error(engine: sa.Engine, text: str) -> None:
    _try_everything(engine, text)
