"""The REST API over a real jupyter_server: answers, errors, authentication, XSRF, artifact access."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import pytest
from tornado.httpclient import HTTPClientError

import nbtrack
from nbtrack.api import Session

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def runs(session: Session) -> list[Any]:
    """Three finished runs in the test's store (the server reads the same NBTRACK_STORE)."""
    made = []
    for i in range(3):
        with nbtrack.start_run(
            name=f"r{i}", experiment="api", params={"lr": 0.1 * (i + 1), "opt": "adam" if i else "sgd"}
        ) as run:
            for step in range(5000):
                run.log(loss=1 / (step + 1 + i))
            run.log_artifact(b"weights", name="model.bin")
            run.log_artifact(f"<svg onload=alert({i})></svg>", name="plot.svg")
        made.append(run)
    session.tracker.writer.flush()
    return made


async def get_json(jp_fetch: Any, *parts: str, **params: Any) -> Any:
    response = await jp_fetch("nbtrack", "api", *parts, params=params)
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


async def error_of(jp_fetch: Any, *parts: str, method: str = "GET", **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(HTTPClientError) as raised:
        await jp_fetch("nbtrack", "api", *parts, method=method, **kwargs)
    response = raised.value.response
    assert response is not None
    return raised.value.code, json.loads(response.body)["error"]


async def test_runs_page_filter_order_and_columns(jp_fetch: Any, runs: list[Any]) -> None:
    page = await get_json(jp_fetch, "runs", order_by="metrics.loss ASC", columns="params.lr,metrics.loss")
    assert page["total"] == 3
    assert [r["name"] for r in page["runs"]] == ["r2", "r1", "r0"]
    assert page["runs"][0]["values"] == {
        "params.lr": pytest.approx(0.3),
        "metrics.loss": pytest.approx(1 / 5002),
    }
    assert page["columns"] == {"params": ["lr", "opt"], "metrics": ["loss"], "tags": []}
    assert set(page["varying"]) == {"params.lr", "params.opt", "metrics.loss"}
    one = await get_json(jp_fetch, "runs", filter="params.opt = 'sgd'", limit="1")
    assert [r["seq"] for r in one["runs"]] == [runs[0].seq] and one["total"] == 1


async def test_a_page_of_named_and_unnamed_runs_is_valid_json(jp_fetch: Any, session: Session) -> None:
    for name in ("named", None, None):
        with nbtrack.start_run(name=name, experiment="mixed") as run:
            run.log(acc=float("nan"))
    response = await jp_fetch("nbtrack", "api", "runs", params={"columns": "metrics.acc"})
    page = json.loads(response.body, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert sorted(str(r["name"]) for r in page["runs"]) == ["None", "None", "named"]
    assert {r["values"]["metrics.acc"] for r in page["runs"]} == {None}


async def test_a_bad_filter_or_argument_is_a_400_with_the_parsers_message(
    jp_fetch: Any, runs: list[Any]
) -> None:
    code, message = await error_of(jp_fetch, "runs", params={"filter": "metrics.loss <"})
    assert code == 400 and "expected" in message
    code, message = await error_of(jp_fetch, "runs", params={"limit": "lots"})
    assert code == 400 and "limit must be an integer" in message


async def test_one_run_its_curve_downsampled_and_exact_in_a_step_range(
    jp_fetch: Any, runs: list[Any]
) -> None:
    detail = await get_json(jp_fetch, "runs", str(runs[1].seq))
    assert detail["run"]["name"] == "r1" and detail["params"] == {"lr": pytest.approx(0.2), "opt": "adam"}
    assert detail["metrics"]["loss"]["count"] == 5000
    assert sorted(a["name"] for a in detail["artifacts"]) == ["model.bin", "plot.svg"]
    curve = await get_json(jp_fetch, "runs", runs[1].id, "metrics", "loss", max_points="500")
    assert not curve["exact"] and len(curve["steps"]) <= 500 and curve["total"] == 5000
    zoomed = await get_json(jp_fetch, "runs", runs[1].id, "metrics", "loss", start="100", end="199")
    assert zoomed["exact"] and zoomed["steps"] == list(range(100, 200))
    code, message = await error_of(jp_fetch, "runs", runs[1].id, "metrics", "nope")
    assert code == 404 and "no metric 'nope'" in message
    code, _ = await error_of(jp_fetch, "runs", "999")
    assert code == 404


async def test_artifacts_download_by_name_and_no_path_escapes_the_artifact_root(
    jp_fetch: Any, runs: list[Any]
) -> None:
    response = await jp_fetch("nbtrack", "api", "runs", runs[0].id, "artifacts", "model.bin")
    assert response.body == b"weights"
    svg = await jp_fetch("nbtrack", "api", "runs", runs[0].id, "artifacts", "plot.svg")
    assert svg.headers["Content-Type"] == "image/svg+xml"
    assert "sandbox" in svg.headers["Content-Security-Policy"]  # opened directly, its script cannot run
    for name in ("../../../../etc/passwd", "..%2F..%2Fnbtrack.db", "/etc/passwd", "model.bin/../model.bin"):
        code, _ = await error_of(jp_fetch, "runs", runs[0].id, "artifacts", name)
        assert code == 404, name


async def test_every_endpoint_refuses_requests_without_authentication(
    jp_fetch: Any, runs: list[Any], jp_base_url: str, http_server_client: Any
) -> None:
    import re

    from nbtrack.server.routes import ROUTES

    run = runs[0]
    values = {"ref": str(run.seq), "key": "loss", "name": "model.bin"}
    queries = {
        "cells": {"notebook": "x"},
        "compare": {"runs": str(run.seq)},
        "diff": {"first": "1", "second": "2"},
    }
    bodies = {"tags": {"tags": {"k": "v"}}, "notes": {"text": "n"}}
    checked = 0
    for pattern, handler in ROUTES:  # every route the extension serves, none forgotten
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], pattern)
        last = path.rsplit("/", 1)[-1]
        method = "GET" if "get" in vars(handler) else "POST"
        body = json.dumps(bodies[last]) if method == "POST" else None
        ok = await jp_fetch(*path.split("/"), method=method, body=body, params=queries.get(last, {}))
        assert ok.code == 200, path  # the path is right: with the token it answers
        query = "&".join(f"{k}={v}" for k, v in queries.get(last, {}).items())
        with pytest.raises(HTTPClientError) as raised:
            await http_server_client.fetch(f"{jp_base_url}{path}?{query}", method=method, body=body)
        assert raised.value.code == 403, path
        checked += 1
    assert checked == len(ROUTES) >= 10
    with pytest.raises(HTTPClientError) as raised:
        await http_server_client.fetch(f"{jp_base_url}nbtrack/api/runs/{runs[0].seq}", method="DELETE")
    assert raised.value.code == 403
    assert len(nbtrack.runs()) == 3


async def test_changes_with_a_login_cookie_need_the_xsrf_token(
    jp_fetch: Any, runs: list[Any], jp_base_url: str, http_server_client: Any, jp_serverapp: Any
) -> None:
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(f"{jp_base_url}api/status?token={token}")
    login_cookie = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert login_cookie.startswith("username-")  # a browser session, as JupyterLab's page has
    xsrf = "5eed" * 8  # tornado compares the _xsrf cookie with the X-XSRFToken header
    cookies = f"{login_cookie}; _xsrf={xsrf}"
    body = json.dumps({"tags": {"reviewed": "yes"}})
    url = f"{jp_base_url}nbtrack/api/runs/{runs[0].seq}/tags"
    with pytest.raises(HTTPClientError) as raised:
        await http_server_client.fetch(url, method="POST", body=body, headers={"Cookie": cookies})
    assert raised.value.code == 403
    assert nbtrack.get_run(runs[0].id).tags == {}
    ok = await http_server_client.fetch(
        url, method="POST", body=body, headers={"Cookie": cookies, "X-XSRFToken": xsrf}
    )
    assert json.loads(ok.body)["tags"] == {"reviewed": "yes"}


async def test_tags_notes_and_delete_through_the_api(jp_fetch: Any, runs: list[Any]) -> None:
    tagged = await jp_fetch("nbtrack", "api", "runs", str(runs[0].seq), "tags", method="POST",
                            body=json.dumps({"tags": {XSS: XSS}}))  # fmt: skip
    assert json.loads(tagged.body)["tags"] == {XSS: XSS}  # JSON carries it; the front end shows it as text
    noted = await jp_fetch("nbtrack", "api", "runs", str(runs[0].seq), "notes", method="POST",
                           body=json.dumps({"text": "good"}))  # fmt: skip
    assert json.loads(noted.body)["notes"] == ["good"]
    code, message = await error_of(jp_fetch, "runs", str(runs[0].seq), "notes", method="POST", body="[]")
    assert code == 400 and "JSON object" in message
    deleted = await jp_fetch("nbtrack", "api", "runs", str(runs[2].seq), method="DELETE")
    assert json.loads(deleted.body) == {"deleted": [runs[2].seq]}
    assert sorted(nbtrack.runs()["seq"]) == [runs[0].seq, runs[1].seq]


async def test_the_change_feed_reports_new_ended_and_deleted_runs(jp_fetch: Any, runs: list[Any]) -> None:
    first = await get_json(jp_fetch, "changes")
    assert first["runs"] == [] and first["cursor"]
    quiet = await get_json(jp_fetch, "changes", since=first["cursor"])
    assert quiet["runs"] == [] and quiet["deleted"] is False
    time.sleep(0.01)
    with nbtrack.start_run(name="new", experiment="api") as run:
        run.log(loss=0.5)
    after = await get_json(jp_fetch, "changes", since=quiet["cursor"])
    assert [r["name"] for r in after["runs"]] == ["new"] and after["deleted"] is False
    nbtrack.delete_runs([runs[0].id])
    gone = await get_json(jp_fetch, "changes", since=after["cursor"])
    assert gone["deleted"] is True
    code, message = await error_of(jp_fetch, "changes", params={"since": "yesterday"})
    assert code == 400 and "cursor" in message


async def test_cells_lists_a_notebooks_runs_by_cell_id(
    jp_fetch: Any, session: Session, jp_root_dir: Any
) -> None:
    notebook = str(jp_root_dir / "train.ipynb")
    for cell in ("c1", "c1", "c2"):
        with nbtrack.start_run(experiment="nb", notebook=notebook, cell_id=cell):
            pass
    with nbtrack.start_run(experiment="nb", notebook="/elsewhere.ipynb", cell_id="c1"):
        pass
    cells = await get_json(jp_fetch, "cells", notebook="train.ipynb")  # relative to the server's root
    assert cells["notebook"] == notebook
    assert {k: len(v) for k, v in cells["cells"].items()} == {"c1": 2, "c2": 1}
    assert cells["cells"]["c1"][0]["seq"] > cells["cells"]["c1"][1]["seq"]  # newest first
    code, _ = await error_of(jp_fetch, "cells")
    assert code == 400


async def test_compare_puts_runs_side_by_side_with_the_best_marked_and_image_urls(
    jp_fetch: Any, runs: list[Any]
) -> None:
    refs = ",".join(str(r.seq) for r in runs)
    data = await get_json(jp_fetch, "compare", runs=refs)
    assert data["labels"] == [f"#{r.seq} r{i}" for i, r in enumerate(runs)]
    assert [r["run_id"] for r in data["runs"]] == [r.id for r in runs]
    params = {row["key"]: row for row in data["params"]}
    assert params["lr"]["values"] == [pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.3)]
    assert params["lr"]["differs"] and params["opt"]["values"] == ["sgd", "adam", "adam"]
    (loss,) = data["metrics"]
    assert loss["key"] == "loss" and loss["direction"] == "min" and loss["counts"] == [5000] * 3
    assert loss["best"] == [2] and not loss["explicit"]  # r2's last loss, 1/5002, is the lowest
    flipped = await get_json(jp_fetch, "compare", runs=refs, directions="loss:max")
    assert flipped["metrics"][0]["best"] == [0] and flipped["metrics"][0]["explicit"]
    assert [[i["name"] for i in per_run] for per_run in data["images"]] == [["plot.svg"]] * 3
    assert data["images_omitted"] == [0, 0, 0]
    url = data["images"][1][0]["url"]
    assert url.endswith(f"/nbtrack/api/runs/{runs[1].id}/artifacts/plot.svg")
    image = await jp_fetch("nbtrack", "api", *url.split("/nbtrack/api/")[1].split("/"))
    assert image.body == b"<svg onload=alert(1)></svg>"
    assert any(row["key"] == "host" for row in data["env"])
    assert data["code"] == ["", "", ""]  # made by start_run, not by a cell


async def test_compare_rejects_no_runs_unknown_runs_and_bad_directions(
    jp_fetch: Any, runs: list[Any]
) -> None:
    assert (await error_of(jp_fetch, "compare"))[0] == 400
    code, message = await error_of(jp_fetch, "compare", params={"runs": "1,999"})
    assert code == 404 and "999" in message
    code, message = await error_of(jp_fetch, "compare", params={"runs": "1,2", "directions": "loss:sideways"})
    assert code == 400 and "sideways" in message
    code, _ = await error_of(jp_fetch, "compare", params={"runs": "1,2", "directions": "loss"})
    assert code == 400


async def test_diff_compares_two_runs_code_line_by_line(jp_fetch: Any, session: Session) -> None:
    with nbtrack.start_run(source="lr = 0.1\nfit(lr)\n") as a:
        pass
    with nbtrack.start_run(source=f"lr = 0.2\nfit(lr)\n# {XSS}\n") as b:
        pass
    diff = await get_json(jp_fetch, "diff", first=str(a.seq), second=b.id)
    assert (diff["first"], diff["second"]) == (a.id, b.id)
    assert [(d["kind"], d["text"], d["old"], d["new"]) for d in diff["lines"]] == [
        ("del", "lr = 0.1", 1, None),
        ("add", "lr = 0.2", None, 1),
        ("same", "fit(lr)", 2, 2),
        ("add", f"# {XSS}", None, 3),
    ]
    assert (await error_of(jp_fetch, "diff", params={"first": str(a.seq)}))[0] == 400
    assert (await error_of(jp_fetch, "diff", params={"first": "1", "second": "999"}))[0] == 404


async def test_an_unreachable_store_is_a_503(
    jp_fetch: Any, monkeypatch: pytest.MonkeyPatch, jp_serverapp: Any
) -> None:
    from nbtrack.errors import StoreError

    def down() -> Any:
        raise StoreError("the store at postgresql://db/runs is unreachable")

    monkeypatch.setitem(jp_serverapp.web_app.settings, "nbtrack_source", down)
    code, message = await error_of(jp_fetch, "runs")
    assert code == 503 and "unreachable" in message


def test_the_wheel_enables_the_server_extension() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).parents[2]
    shared = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"][
        "wheel"
    ]
    target = shared["shared-data"]["jupyter-config/jupyter_server_config.d/nbtrack.json"]
    assert target == "etc/jupyter/jupyter_server_config.d/nbtrack.json"
    config = json.loads((root / "jupyter-config/jupyter_server_config.d/nbtrack.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"nbtrack": True}}}
    assert nbtrack._jupyter_server_extension_points() == [{"module": "nbtrack"}]
    assert quote("a b") == "a%20b"
