"""The filter and order_by parser: the trees it builds and the errors it reports."""

from __future__ import annotations

import pytest

from nbtrack.errors import FilterError
from nbtrack.query.filter import (
    And,
    Boolean,
    Comparison,
    Field,
    FieldKind,
    Not,
    Number,
    Op,
    Or,
    OrderKey,
    String,
    parse_filter,
    parse_order_by,
    to_text,
)

METRIC, PARAM, TAG, ATTR = FieldKind.METRIC, FieldKind.PARAM, FieldKind.TAG, FieldKind.ATTRIBUTE


def cmp(kind: FieldKind, key: str, op: Op, value: object = None) -> Comparison:
    """A comparison node, for expected trees."""
    return Comparison(Field(kind, key), op, value)  # type: ignore[arg-type]


def error_of(text: str) -> FilterError:
    """The FilterError that parsing ``text`` raises."""
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    return info.value


@pytest.mark.parametrize("text", [None, "", "  ", "\n\t "])
def test_blank_filters_parse_to_none(text: str | None) -> None:
    assert parse_filter(text) is None


def test_comparison_of_a_metric_with_a_number() -> None:
    assert parse_filter("metrics.acc > 0.9") == cmp(METRIC, "acc", Op.GT, Number(0.9, "0.9"))


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("metrics", METRIC),
        ("metric", METRIC),
        ("params", PARAM),
        ("param", PARAM),
        ("tags", TAG),
        ("tag", TAG),
        ("METRICS", METRIC),
    ],
)
def test_prefix_aliases_name_the_same_kind(prefix: str, kind: FieldKind) -> None:
    assert parse_filter(f"{prefix}.k IS NULL") == cmp(kind, "k", Op.IS_NULL)


@pytest.mark.parametrize(
    "text",
    [
        "status = 'x'",
        "attributes.status = 'x'",
        "attribute.status = 'x'",
        "attr.status = 'x'",
        "run.status = 'x'",
        "attributes.`status` = 'x'",
        "Status = 'x'",
    ],
)
def test_attributes_may_be_bare_or_prefixed(text: str) -> None:
    assert parse_filter(text) == cmp(ATTR, "status", Op.EQ, String("x"))


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [("run_name", "name"), ("experiment_name", "experiment"), ("user_id", "user")],
)
def test_attribute_aliases_resolve_to_canonical_names(alias: str, canonical: str) -> None:
    assert parse_filter(f"{alias} = 'x'") == cmp(ATTR, canonical, Op.EQ, String("x"))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("metrics.train/loss > 1", "train/loss"),
        ("metrics.val.loss.mean > 1", "val.loss.mean"),
        ("metrics.`my key` > 1", "my key"),
        ('metrics."my key" > 1', "my key"),
        ("metrics.`a``b` > 1", "a`b"),
        ('metrics."a""b" > 1', 'a"b'),
        ("metrics.précision > 1", "précision"),
        ("metrics.損失 > 1", "損失"),
        ("metrics.2nd > 1", "2nd"),
        ("metrics.`x'); DROP TABLE runs; --` > 1", "x'); DROP TABLE runs; --"),
    ],
)
def test_keys_are_unquoted_through_dots_and_slashes_or_quoted(text: str, key: str) -> None:
    assert parse_filter(text) == cmp(METRIC, key, Op.GT, Number(1.0, "1"))


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("12", Number(12.0, "12")),
        ("-0.5", Number(-0.5, "-0.5")),
        ("+3", Number(3.0, "+3")),
        (".5", Number(0.5, ".5")),
        ("1.", Number(1.0, "1.")),
        ("1e-3", Number(0.001, "1e-3")),
        ("2.5E+2", Number(250.0, "2.5E+2")),
        ("'adam'", String("adam")),
        ('"adam"', String("adam")),
        ("'it''s'", String("it's")),
        ("''", String("")),
        ("'a \"quoted\" word'", String('a "quoted" word')),
        ("true", Boolean(True)),
        ("FALSE", Boolean(False)),
        ("True", Boolean(True)),
    ],
)
def test_literals_on_the_right_hand_side(literal: str, value: object) -> None:
    assert parse_filter(f"params.x = {literal}") == cmp(PARAM, "x", Op.EQ, value)


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("tags.t = 'v'", Op.EQ),
        ("tags.t == 'v'", Op.EQ),
        ("tags.t != 'v'", Op.NE),
        ("tags.t <> 'v'", Op.NE),
        ("tags.t < 'v'", Op.LT),
        ("tags.t <= 'v'", Op.LE),
        ("tags.t > 'v'", Op.GT),
        ("tags.t >= 'v'", Op.GE),
        ("tags.t LIKE 'v'", Op.LIKE),
        ("tags.t like 'v'", Op.LIKE),
        ("tags.t NOT LIKE 'v'", Op.NOT_LIKE),
        ("tags.t ILIKE 'v'", Op.ILIKE),
        ("tags.t not ilike 'v'", Op.NOT_ILIKE),
        ("tags.t LI\u212aE 'v'", Op.LIKE),  # a Kelvin sign lower-cases to k
    ],
)
def test_binary_operators(text: str, op: Op) -> None:
    assert parse_filter(text) == cmp(TAG, "t", op, String("v"))


def test_in_and_not_in_take_a_list_of_values() -> None:
    assert parse_filter("params.x IN (1, 'a', true)") == cmp(
        PARAM, "x", Op.IN, (Number(1.0, "1"), String("a"), Boolean(True))
    )
    assert parse_filter("params.x not in ('a')") == cmp(PARAM, "x", Op.NOT_IN, (String("a"),))


def test_is_null_and_is_not_null() -> None:
    assert parse_filter("tags.t IS NULL") == cmp(TAG, "t", Op.IS_NULL)
    assert parse_filter("tags.t is not null") == cmp(TAG, "t", Op.IS_NOT_NULL)


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    a = cmp(ATTR, "seq", Op.EQ, Number(1.0, "1"))
    b = cmp(ATTR, "seq", Op.EQ, Number(2.0, "2"))
    c = cmp(ATTR, "seq", Op.EQ, Number(3.0, "3"))
    assert parse_filter("seq = 1 OR seq = 2 AND seq = 3") == Or((a, And((b, c))))
    assert parse_filter("NOT seq = 1 AND seq = 2") == And((Not(a), b))
    assert parse_filter("(seq = 1 OR seq = 2) AND seq = 3") == And((Or((a, b)), c))
    assert parse_filter("NOT (seq = 1 OR seq = 2)") == Not(Or((a, b)))
    assert parse_filter("seq = 1 and seq = 2 and seq = 3") == And((a, b, c))
    assert parse_filter("((seq = 1))") == a


def test_to_text_writes_a_filter_that_parses_back_to_the_same_tree() -> None:
    text = (
        "metrics.`my key` >= -1e-3 AND NOT (params.optim.lr IN (1, 'a''b', true) OR "
        "tags.x IS NOT NULL) OR experiment_name NOT ILIKE '%mnist%'"
    )
    tree = parse_filter(text)
    assert tree is not None
    assert parse_filter(to_text(tree)) == tree


def test_nodes_remember_where_they_start() -> None:
    tree = parse_filter("seq = 1 AND  tags.x = 'y'")
    assert isinstance(tree, And)
    assert [term.position for term in tree.terms] == [0, 13]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("metrics.acc >", "expected a value after '>'", 13),
        ("metrics.acc > ", "expected a value after '>'", 14),
        ("tags.team = 'vision' AND name = 'abc", "unterminated string", 32),
        ("metrics.`abc = 1", "unterminated quoted name", 8),
        ("seq = 1)", "unexpected ')'", 7),
        ("(seq = 1", "expected ')' to close the '(' at position 0", 8),
        (")", "unexpected ')'", 0),
        ("seq = 1 seq = 2", "expected AND, OR or the end of the filter", 8),
        ("seq = 1 AND", "expected a field", 11),
        ("seq 1", "expected an operator", 4),
        ("metrics.acc NOT > 1", "expected LIKE, ILIKE or IN after NOT", 16),
        ("tags.t IN 'a'", "expected '(' after IN", 10),
        ("tags.t IN ()", "expected a value in the IN list", 11),
        ("tags.t IN ('a',)", "expected a value after ','", 15),
        ("tags.t IN ('a' 'b')", "expected ',' or ')' to close the IN list", 15),
        ("tags.t IS 'a'", "expected NULL or NOT NULL after IS", 10),
        ("tags.t = NULL", "NULL can only follow IS or IS NOT", 9),
        ("tags.t LIKE 5", "expected a quoted pattern after LIKE", 12),
        ("metrics. > 1", "expected a key after 'metrics.'", 9),
        ("metrics.`` > 1", "a key cannot be empty", 8),
        ("acc > 0.9", "did you mean metrics.acc, params.acc or tags.acc?", 0),
        ("train.loss > 1", "unknown field prefix 'train': use metrics.train.loss", 0),
        ("attributes.colour = 'red'", "unknown attribute 'colour'; attributes are: run_id", 11),
        ("AND seq = 1", "expected a field, found the keyword AND", 0),
        ("seq = 1abc", "invalid number '1abc'", 6),
        ("seq = 1e", "expected digits after the exponent", 7),
        ("seq = 1e999", "number 1e999 is out of range", 6),
        ("seq = -", "unexpected '-', expected a number", 6),
        ("seq ! 1", "unexpected character '!' (did you mean '!='?)", 4),
        ("seq = 1 ; DROP TABLE runs", "unexpected character ';'", 8),
        ("metrics.acc = 'high'", "metrics are numbers", 14),
        ("metrics.acc ILIKE 'h%'", "metrics are numbers", 18),
        ("metrics.acc IN (1, 'a')", "metrics are numbers", 19),
        ("tags.build < 5", "tags.build is text", 13),
        ("seq = 'one'", "seq is a number", 6),
        ("duration LIKE '1%'", "LIKE and ILIKE only apply to text", 14),
        ("start_time > 'last tuesday'", "takes milliseconds since the epoch or an ISO-8601", 13),
        ("params.flag >= true", "true/false can only be compared with = != IN", 15),
        ("tags.p LIKE 'a\\'", "LIKE pattern ends with a lone", 12),
    ],
)
def test_errors_say_what_was_expected_and_where(text: str, message: str, position: int) -> None:
    error = error_of(text)
    assert message in str(error)
    assert error.position == position
    assert f"(at position {position})" in str(error)
    assert error.text == text


def test_error_message_draws_a_caret_under_the_position() -> None:
    lines = str(error_of("metrics.acc > ")).splitlines()
    assert lines[1].strip() == "metrics.acc >"
    assert lines[2].index("^") - lines[1].index("m") == 14


def test_deep_nesting_is_a_filter_error_not_a_recursion_error() -> None:
    assert parse_filter("(" * 30 + "seq = 1" + ")" * 30) is not None
    assert "nested too deeply" in str(error_of("(" * 5000 + "seq = 1" + ")" * 5000))
    assert "nested too deeply" in str(error_of("NOT " * 5000 + "seq = 1"))


def test_oversized_filters_are_filter_errors() -> None:
    assert "too many comparisons" in str(error_of(" OR ".join(["seq = 1"] * 301)))
    many_keys = " OR ".join(f"metrics.m{i} > 0" for i in range(33))
    assert "too many different fields" in str(error_of(many_keys))
    many_values = "tags.t IN (" + ", ".join(["1"] * 10_001) + ")"
    assert "too many values" in str(error_of(many_values))


def test_a_long_chain_of_ands_is_one_flat_node() -> None:
    tree = parse_filter(" AND ".join(f"seq = {i}" for i in range(300)))
    assert isinstance(tree, And)
    assert len(tree.terms) == 300


@pytest.mark.parametrize("bad", [42, b"seq = 1", ["seq = 1"]])
def test_a_filter_that_is_not_a_string_is_a_filter_error(bad: object) -> None:
    with pytest.raises(FilterError, match="must be a string"):
        parse_filter(bad)  # type: ignore[arg-type]


def test_order_by_items_parse_to_keys() -> None:
    assert parse_order_by(None) == []
    assert parse_order_by([]) == []
    assert parse_order_by("") == []
    assert parse_order_by("metrics.acc") == [OrderKey(Field(METRIC, "acc"))]
    assert parse_order_by(["metrics.acc DESC", "params.`lr x` asc", "run_name"]) == [
        OrderKey(Field(METRIC, "acc"), descending=True),
        OrderKey(Field(PARAM, "lr x")),
        OrderKey(Field(ATTR, "name")),
    ]
    assert parse_order_by("start_time desc, tags.t") == [
        OrderKey(Field(ATTR, "start_time"), descending=True),
        OrderKey(Field(TAG, "t")),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("metrics.acc DOWN", "expected ASC, DESC, ',' or the end of the order_by item"),
        ("acc", "did you mean metrics.acc"),
        ("metrics.acc,", "expected a field to order by"),
        ("metrics.acc DESC DESC", "expected ASC, DESC"),
        (["seq", 3], "order_by items must be strings"),
        (7, "order_by must be a string or a list of strings"),
        (["seq"] * 17, "too many order_by keys"),
    ],
)
def test_order_by_errors_are_filter_errors(items: object, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_order_by(items)  # type: ignore[arg-type]
