"""The filter grammar compiled to SQL, run against a real SQLite file with a handful of runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from nbtrack.errors import FilterError
from nbtrack.query.filter import apply_filter, apply_order
from nbtrack.store import schema

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()
INJECTION = "x'); DROP TABLE runs; --"


def _param(run: int, key: str, value: Any) -> dict[str, Any]:
    """A params row encoded the way the store does (MLflow-style string, number when numeric)."""
    if value is None:
        return _param_row(run, key, "null", "None", None, "none")
    if isinstance(value, bool):
        return _param_row(run, key, str(value).lower(), str(value), float(value), "bool")
    if isinstance(value, int):
        return _param_row(run, key, str(value), str(value), float(value), "int")
    if isinstance(value, float):
        return _param_row(run, key, repr(value), repr(value), value, "float")
    return _param_row(run, key, f'"{value}"', value, None, "str")


def _param_row(
    run: int, key: str, value_json: str, value_str: str, value_num: float | None, vtype: str
) -> dict[str, Any]:
    return {
        "run_id": f"run{run}",
        "key": key,
        "value_json": value_json,
        "value_str": value_str,
        "value_num": value_num,
        "vtype": vtype,
        "origin": "explicit",
    }


def _metric(run: int, key: str, last: float | None) -> dict[str, Any]:
    return {
        "run_id": f"run{run}",
        "key": key,
        "last": last,
        "last_step": 10,
        "min": last,
        "max": last,
        "count": 11,
        "last_time": T0,
    }


def _tag(run: int, key: str, value: str) -> dict[str, Any]:
    return {"run_id": f"run{run}", "key": key, "value": value}


def _run(seq: int, experiment_id: int, status: str, start: float, **extra: Any) -> dict[str, Any]:
    optional = ("name", "end_time", "host", "user", "notebook", "cell_id", "git_commit")
    row: dict[str, Any] = dict.fromkeys((*optional, "execution_count"))
    row.update(run_id=f"run{seq}", seq=seq, experiment_id=experiment_id, status=status)
    row.update(start_time=start, **extra)
    return row


RUNS = [
    _run(
        1,
        1,
        "FINISHED",
        T0,
        name="baseline",
        end_time=T0 + 100,
        host="gpu1",
        user="ada",
        notebook="notebooks/train.ipynb",
        cell_id="cell-a",
        git_commit="abc123",
        execution_count=3,
    ),
    _run(
        2,
        1,
        "FAILED",
        T0 + 3600,
        name="Bigger",
        end_time=T0 + 3610,
        host="gpu2",
        user="bob",
        notebook="notebooks/train.ipynb",
        cell_id="cell-b",
        git_commit="def456",
        execution_count=4,
    ),
    _run(3, 2, "INTERRUPTED", T0 + 86400, name=INJECTION, end_time=T0 + 86400 + 50, user="ada"),
    _run(4, 2, "RUNNING", T0 + 2 * 86400),
]
PARAMS = [
    _param(1, "lr", 0.001),
    _param(1, "epochs", 5),
    _param(1, "optimizer", "adam"),
    _param(1, "optim.lr", 0.01),
    _param(1, "a.b c", "x"),
    _param(1, "flag", True),
    _param(1, "nothing", None),
    _param(2, "lr", 0.01),
    _param(2, "epochs", "5"),
    _param(2, "optimizer", "Adam"),
    _param(2, "flag", False),
    _param(2, "nothing", "something"),
    _param(3, "lr", 0.1),
    _param(3, "epochs", 10),
    _param(3, "optimizer", "sgd"),
]
METRICS = [
    _metric(1, "acc", 0.91),
    _metric(1, "loss", 0.3),
    _metric(1, "train/loss", 0.25),
    _metric(1, "my key", 1.0),
    _metric(1, "précision", 0.5),
    _metric(1, "we`ird", 7.0),
    _metric(2, "acc", None),  # the last value was NaN
    _metric(2, "loss", 0.5),
    _metric(2, "train/loss", 0.4),
    _metric(3, "acc", 0.75),
    _metric(3, "loss", 0.5),
]
TAGS = [
    _tag(1, "team", "vision"),
    _tag(1, "build", "5"),
    _tag(1, "release", "True"),
    _tag(1, "pct", "50%"),
    _tag(2, "team", "Vision"),
    _tag(2, "build", "5.0"),
    _tag(2, "release", "false"),
    _tag(2, "pct", "500"),
    _tag(3, "team", "nlp"),
    _tag(3, "标签", "值"),
]


def _case_sensitive_like(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """A store with the four runs above: a SQLite file (LIKE case-sensitive as in the real store),
    then a PostgreSQL database, so that every filter selects the same runs on both."""
    if request.param == "postgresql":
        from tests.postgres import create_database

        engine = sa.create_engine(create_database(request.getfixturevalue("postgres_base_url"), "filters"))
    else:
        engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('filter') / 'nbtrack.db'}")
        sa.event.listen(engine, "connect", _case_sensitive_like)
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            schema.experiments.insert(),
            [{"experiment_id": 1, "name": "mnist", "created": T0},
             {"experiment_id": 2, "name": "cifar", "created": T0}],
        )  # fmt: skip
        conn.execute(schema.runs.insert(), RUNS)
        conn.execute(schema.params.insert(), PARAMS)
        experiment_of = {run["run_id"]: run["experiment_id"] for run in RUNS}
        conn.execute(
            schema.metric_summaries.insert(),
            [{**metric, "experiment_id": experiment_of[metric["run_id"]]} for metric in METRICS],
        )
        conn.execute(schema.tags.insert(), TAGS)
    yield engine
    engine.dispose()


def _base() -> sa.Select[Any]:
    runs, experiments = schema.runs, schema.experiments
    return sa.select(runs.c.seq, experiments.c.name).select_from(
        runs.join(experiments, runs.c.experiment_id == experiments.c.experiment_id)
    )


def matching(engine: sa.Engine, text: str | None) -> set[int]:
    """The seq numbers of the runs that ``text`` selects."""
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(apply_filter(_base(), text))}


def ordered(engine: sa.Engine, order_by: str | Sequence[str] | None, text: str = "") -> list[int]:
    """The seq numbers of the runs in the order ``order_by`` gives."""
    with engine.connect() as conn:
        stmt = apply_order(apply_filter(_base(), text), order_by)
        return [row[0] for row in conn.execute(stmt)]


ALL = {1, 2, 3, 4}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.acc > 0.8", {1}),
        ("metrics.acc >= 0.75", {1, 3}),
        ("metrics.acc < 0.8", {3}),
        ("metrics.acc <= 0.91", {1, 3}),
        ("metrics.acc = 0.91", {1}),
        ("metrics.acc != 0.91", {3}),
        ("metrics.acc <> 0.91", {3}),
        ("metrics.loss = 5e-1", {2, 3}),
        ("metrics.loss > -1", {1, 2, 3}),
        ("metrics.acc IN (0.91, 0.75)", {1, 3}),
        ("metrics.acc NOT IN (0.91)", {3}),
        ("metrics.acc IS NULL", {2, 4}),
        ("metrics.acc IS NOT NULL", {1, 3}),
        ("metrics.nope IS NULL", ALL),
        ("metrics.nope > 0", set()),
    ],
)
def test_metric_comparisons_use_the_last_value(engine: sa.Engine, text: str, expected: set[int]) -> None:
    assert matching(engine, text) == expected


def test_missing_and_nan_metrics_match_no_comparison_not_even_a_negated_one(
    engine: sa.Engine,
) -> None:
    assert matching(engine, "NOT metrics.acc > 0.8") == {3}
    assert matching(engine, "NOT (metrics.acc > 0.8 AND metrics.acc < 0.95)") == {3}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.lr < 0.05", {1, 2}),
        ("params.lr = 0.01", {2}),
        ("params.lr = '0.001'", {1}),
        ("params.epochs = 5", {1}),
        ("params.epochs = '5'", {1, 2}),
        ("params.epochs > 4", {1, 3}),
        ("params.epochs != 5", {3}),
        ("params.optimizer = 'adam'", {1}),
        ('params.optimizer = "adam"', {1}),
        ("params.optimizer > 'b'", {3}),
        ("params.optimizer LIKE 'a%'", {1}),
        ("params.optimizer ILIKE 'a%'", {1, 2}),
        ("params.optimizer NOT ILIKE 'A%'", {3}),
        ("params.optimizer IN ('adam', 'sgd')", {1, 3}),
        ("params.epochs IN (10, '5')", {1, 2, 3}),
        ("params.epochs NOT IN (10, 'x')", {1}),
        ("params.flag = true", {1}),
        ("params.flag = FALSE", {2}),
        ("params.flag = 1", {1}),
        ("params.nothing IS NULL", {1, 3, 4}),
        ("params.nothing IS NOT NULL", {2}),
        ("params.lr IS NULL", {4}),
    ],
)
def test_params_compare_numbers_numerically_and_strings_as_text(
    engine: sa.Engine, text: str, expected: set[int]
) -> None:
    assert matching(engine, text) == expected


def test_a_non_numeric_param_matches_no_numeric_comparison(engine: sa.Engine) -> None:
    assert 2 not in matching(engine, "params.epochs < 100")
    assert 2 not in matching(engine, "params.epochs != 1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tags.team = 'vision'", {1}),
        ("tags.team != 'vision'", {2, 3}),
        ("tags.team LIKE 'v%'", {1}),
        ("tags.team LIKE 'V%'", {2}),
        ("tags.team ILIKE 'v%'", {1, 2}),
        ("tags.team ILIKE 'VISION'", {1, 2}),
        ("tags.team NOT LIKE 'v%'", {2, 3}),
        ("tags.team NOT ILIKE 'v%'", {3}),
        ("tags.team LIKE '_lp'", {3}),
        ("tags.team IN ('nlp', 'vision')", {1, 3}),
        ("tags.team IS NULL", {4}),
        ("tags.build = 5", {1}),
        ("tags.build = 5.0", {2}),
        ("tags.build IN (5, 7)", {1}),
        ("tags.build < '5.0'", {1}),
        ("tags.release = true", {1}),
        ("tags.release = false", {2}),
        ("tags.release != true", {2}),
        (r"tags.pct LIKE '50\%'", {1}),
        ("tags.pct LIKE '50%'", {1, 2}),
        (r"tags.pct LIKE '50\\'", set()),
    ],
)
def test_tags_compare_as_text(engine: sa.Engine, text: str, expected: set[int]) -> None:
    assert matching(engine, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status = 'FINISHED'", {1}),
        ("status = 'finished'", {1}),
        ("attributes.status != 'finished'", {2, 3, 4}),
        ("run.status IN ('failed', 'Running')", {2, 4}),
        ("attr.status LIKE 'f%'", {1, 2}),
        ("STATUS = 'crashed'", set()),
        ("experiment = 'cifar'", {3, 4}),
        ("attributes.experiment_name != 'cifar'", {1, 2}),
        ("experiment_id = 1", {1, 2}),
        ("name = 'baseline'", {1}),
        ("run_name ILIKE 'b%'", {1, 2}),
        ("name IS NULL", {4}),
        ("run_id = 'run3'", {3}),
        ("seq >= 3", {3, 4}),
        ("user = 'ada'", {1, 3}),
        ("user_id != 'ada'", {2}),
        ("host LIKE 'gpu%'", {1, 2}),
        ("notebook = 'notebooks/train.ipynb'", {1, 2}),
        ("cell_id = 'cell-b'", {2}),
        ("git_commit LIKE 'abc%'", {1}),
        ("execution_count > 3", {2}),
        ("end_time IS NULL", {4}),
        ("duration > 60", {1}),
        ("duration <= 50", {2, 3}),
        (f"start_time = {T0 * 1000:.0f}", {1}),
        (f"start_time > {T0 * 1000:.0f}", {2, 3, 4}),
        ("start_time >= '2024-05-02'", {3, 4}),
        ("start_time < '2024-05-01T13:00:00'", {1}),
        ("start_time < '2024-05-01T13:00:00+02:00'", set()),
        ("end_time < '2024-05-02T00:00Z'", {1, 2}),
    ],
)
def test_attributes_compare_with_run_columns(engine: sa.Engine, text: str, expected: set[int]) -> None:
    assert matching(engine, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.`my key` = 1", {1}),
        ('metrics."my key" = 1', {1}),
        ("metric.`we``ird` = 7", {1}),
        ("metrics.train/loss < 0.3", {1}),
        ("metrics.`train/loss` >= 0.3", {2}),
        ("metrics.précision = 0.5", {1}),
        ("params.optim.lr = 0.01", {1}),
        ('params."a.b c" = "x"', {1}),
        ("param.`a.b c` IS NOT NULL", {1}),
        ("tags.标签 = '值'", {3}),
        ('tag.`标签` = "值"', {3}),
    ],
)
def test_keys_may_be_unquoted_dotted_or_quoted(engine: sa.Engine, text: str, expected: set[int]) -> None:
    assert matching(engine, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status = 'FINISHED' OR status = 'FAILED' AND metrics.loss > 0.4", {1, 2}),
        ("(status = 'FINISHED' OR status = 'FAILED') AND metrics.loss > 0.4", {2}),
        ("NOT status = 'FINISHED' AND NOT status = 'RUNNING'", {2, 3}),
        ("NOT (status = 'FINISHED' OR status = 'RUNNING')", {2, 3}),
        ("experiment = 'mnist' and (tags.team = 'vision' or params.lr > 0.005)", {1, 2}),
        ("metrics.acc IS NULL OR metrics.acc < 0.8", {2, 3, 4}),
        ("not not seq = 1", {1}),
    ],
)
def test_boolean_logic_follows_sql_precedence(engine: sa.Engine, text: str, expected: set[int]) -> None:
    assert matching(engine, text) == expected


@pytest.mark.parametrize("text", [None, "", "   \n\t"])
def test_an_empty_filter_selects_every_run(engine: sa.Engine, text: str | None) -> None:
    assert matching(engine, text) == ALL


def test_an_injection_attempt_is_just_a_string(engine: sa.Engine) -> None:
    assert matching(engine, f'name = "{INJECTION}"') == {3}
    assert matching(engine, f'tags.team = "{INJECTION}"') == set()
    assert matching(engine, f"params.`{INJECTION}` = 1") == set()
    assert matching(engine, "name = 'x''); DROP TABLE runs; --'") == {3}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.runs)).scalar() == 4


def test_user_values_and_keys_are_bound_parameters_not_sql() -> None:
    stmt = apply_filter(_base(), f'tags.`{INJECTION}` = "{INJECTION}" AND metrics.acc > 0.5')
    sql = str(stmt.compile())
    assert INJECTION not in sql
    assert "acc" not in sql
    assert "0.5" not in sql
    assert set(stmt.compile().params.values()) >= {INJECTION, "acc", 0.5}


def test_each_distinct_field_is_joined_once() -> None:
    stmt = apply_filter(
        _base(), "metrics.acc > 0.5 AND metrics.acc < 1 OR metrics.loss > 0 OR tags.acc = 'x'"
    )
    assert str(stmt.compile()).count("LEFT OUTER JOIN") == 3


@pytest.mark.parametrize(
    "text",
    [
        "metrics.acc = 'high'",
        "metrics.acc LIKE '9%'",
        "tags.build < 5",
        "seq = 'one'",
        "start_time > 'yesterday'",
        "params.flag < true",
    ],
)
def test_type_errors_are_filter_errors(engine: sa.Engine, text: str) -> None:
    with pytest.raises(FilterError):
        matching(engine, text)


def test_default_order_is_newest_first(engine: sa.Engine) -> None:
    assert ordered(engine, None) == [4, 3, 2, 1]
    assert ordered(engine, []) == [4, 3, 2, 1]
    assert ordered(engine, " ") == [4, 3, 2, 1]


def test_order_puts_nulls_last_in_both_directions(engine: sa.Engine) -> None:
    assert ordered(engine, "metrics.acc") == [3, 1, 4, 2]
    assert ordered(engine, "metrics.acc ASC") == [3, 1, 4, 2]
    assert ordered(engine, "metrics.acc DESC") == [1, 3, 4, 2]
    assert ordered(engine, "name desc") == [3, 1, 2, 4]
    assert ordered(engine, "attributes.name asc") == [2, 1, 3, 4]


def test_order_ties_break_by_seq_descending(engine: sa.Engine) -> None:
    assert ordered(engine, "metrics.loss DESC") == [3, 2, 1, 4]
    assert ordered(engine, "experiment") == [4, 3, 2, 1]


def test_params_order_by_number_then_by_string(engine: sa.Engine) -> None:
    assert ordered(engine, "params.epochs") == [1, 3, 2, 4]
    assert ordered(engine, "params.epochs DESC") == [3, 1, 2, 4]
    assert ordered(engine, "params.optimizer") == [2, 1, 3, 4]


def test_order_by_several_keys_as_a_list_or_comma_separated(engine: sa.Engine) -> None:
    assert ordered(engine, ["user", "metrics.acc DESC"]) == [1, 3, 2, 4]
    assert ordered(engine, "user, metrics.acc DESC") == [1, 3, 2, 4]
    assert ordered(engine, ["tags.team", "seq"]) == [2, 3, 1, 4]


def test_filter_and_order_on_the_same_key_combine(engine: sa.Engine) -> None:
    assert ordered(engine, "metrics.`train/loss` DESC", "metrics.train/loss > 0") == [2, 1]
    assert ordered(engine, "duration", "duration IS NOT NULL") == [2, 3, 1]
