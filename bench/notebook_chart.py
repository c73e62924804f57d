"""A 100,000-point curve in a saved notebook: bytes it adds, and time to draw it in a real JupyterLab.

    .venv/bin/python bench/notebook_chart.py [--quick] [--opens 5] [--json out.json] [--keep DIR]

Issue 8's target: a 100,000-point curve adds <= 200 KB to the saved notebook (JupyterLab's default
settings; one copy of any JavaScript library per notebook not counted) and draws in <= 0.5 s.

1. **Execute** one notebook in a real kernel the way JupyterLab runs it (tests/e2e/kernel.py,
   ``store_widget_state=False``: JupyterLab does not save widget state by default): ``%load_ext
   nbtrack``; a ``%%track`` cell logging 100,000 points of bench/core.py's loss curve in about 2 s (the
   live chart appears once a cell has run for 1 s, ui/live.py, and is frozen into a plain Plotly
   output when the cell ends); ``nbtrack.compare([run])`` (the compare panel); and a reference, a
   2,000-point line made directly with ``plotly.express`` and ``fig.show()``.
2. **Bytes**: each chart output's size in the saved ``.ipynb`` = the notebook's bytes minus the bytes
   of the same notebook with that output removed (nbformat's own writer both times). An output
   embedding plotly.js would have one copy subtracted; the outputs are checked for it.
3. **Draw time**: one notebook per chart (the others' chart outputs removed) plus one with no chart,
   each *trusted* (as a notebook JupyterLab saved itself is) and opened in a real JupyterLab in
   headless Debian Chromium (tests/e2e/lab.py and labserver.py), a fresh workspace per open. A
   script installed before the page loads marks, on every animation frame, when the notebook's
   first cell is in the DOM and when a Plotly trace's SVG path has its ``d`` drawn. Figures are
   medians of ``--opens`` opens, notebooks interleaved: the chart's time after the notebook's cells
   appeared (same page load), and from navigation start; the 2,000-point plotly chart (SVG, as
   nbtrack's) and the notebook without a chart are the same-run references. A chart not drawn
   ``--wait`` seconds after the cells appeared counts as not drawn.
4. **Where the time goes**, without JupyterLab: plotly.js (the copy plotly.py ships) loaded into a
   blank tab, then each saved Plotly figure drawn twice there with ``Plotly.newPlot``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.e2e: the project's kernel and browser harness, imported as is

from common import revision  # noqa: E402  (bench/ is sys.path[0])

from tests.e2e.kernel import Job, execute  # noqa: E402
from tests.e2e.lab import KERNELSPEC, VIEWPORT  # noqa: E402
from tests.e2e.labserver import lab_server  # noqa: E402

PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"
TARGET_BYTES = 200_000
TARGET_DRAW_S = 0.5

TRACKED_CELL = """%%track
import math, random, time
rng = random.Random(42)
n = {n}
for i in range(n):
    base = 0.08 + 2.2 * math.exp(-i / (n / 6))
    loss = base * (1.5 if rng.random() < 1e-4 else 1.0) * (1.0 + 0.05 * rng.gauss(0.0, 1.0))
    nbtrack.log(loss=loss, step=i)
    if i % (n // 20) == 0:
        time.sleep(0.1)  # spread over ~2 s: the live chart shows after 1 s, as in a real training loop
"""

CELLS = {
    "load": "%load_ext nbtrack\nimport nbtrack",
    "tracked": TRACKED_CELL,
    "compare": "nbtrack.compare(nbtrack.runs())",  # the one run of this store
    "reference": (
        "import numpy as np\nimport plotly.express as px\n\n"
        "x = np.arange(2000)\ny = np.exp(-x / 300) + 0.05 * np.sin(x)\n"
        "px.line(x=x, y=y, height=230, render_mode='svg').show()  # SVG, as nbtrack's chart (not WebGL)"
    ),
}

#: marks (ms since navigation start) when the notebook's first cell, its first output and its first
#: drawn chart line (a Plotly trace's SVG path, or nbtrack's own SVG chart's line, with its ``d``) are in
#: the DOM, and which of the two it was; checked on every animation frame
MARKS_SCRIPT = """
window.__marks = {};
(function poll() {
  const marks = window.__marks, now = performance.now();
  if (marks.cells === undefined && document.querySelector('.jp-Notebook .jp-Cell')) {
    marks.cells = now;
  }
  if (marks.output === undefined && document.querySelector('.jp-Notebook .jp-OutputArea-output')) {
    marks.output = now;
  }
  if (marks.chart === undefined) {
    const drawn = '.js-plotly-plot .scatterlayer .trace path, .nbtrack-Chart-static .nbtrack-Chart-line';
    for (const path of document.querySelectorAll(drawn)) {
      const d = path.getAttribute('d');
      if (d && d.length > 20) {
        marks.chart = now; marks.d = d.length;
        marks.kind = path.closest('.nbtrack-Chart-static') ? 'nbtrack SVG' : 'plotly';
        break;
      }
    }
    if (marks.chart !== undefined) {  // where the time went: the plotly.js chunk Lab's renderer loads
      const chunks = performance.getEntriesByType('resource')
        .filter((e) => e.name.includes('jupyterlab-plotly'))
        .sort((a, b) => b.decodedBodySize - a.decodedBodySize);
      if (chunks.length) {
        marks.js_start = chunks[0].startTime;
        marks.js_end = chunks[0].responseEnd;
        marks.js_bytes = chunks[0].decodedBodySize;
        marks.js_transferred = chunks[0].transferSize;
      }
    }
  }
  requestAnimationFrame(poll);
})();
"""


def notebook(n: int) -> nbformat.NotebookNode:
    cells = [CELLS["load"], CELLS["tracked"].format(n=n), CELLS["compare"], CELLS["reference"]]
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )


def size(nb: nbformat.NotebookNode) -> int:
    return len(nbformat.writes(nb).encode())


def chart_outputs(nb: nbformat.NotebookNode) -> dict[str, tuple[int, int]]:
    """Where each chart's output is: name -> (cell index, output index)."""
    found: dict[str, tuple[int, int]] = {}
    for c, cell in enumerate(nb.cells):
        for o, out in enumerate(cell.get("outputs", [])):
            data = out.get("data", {})
            if c == 1 and PLOTLY in data:
                found["live chart (frozen)"] = (c, o)
            elif c == 2 and (WIDGET in data or "text/html" in data):
                found["compare panel"] = (c, o)
            elif c == 3 and PLOTLY in data:
                found["plotly 2,000 points (reference)"] = (c, o)
    return found


def without(nb: nbformat.NotebookNode, places: list[tuple[int, int]]) -> nbformat.NotebookNode:
    out = copy.deepcopy(nb)
    for c, o in sorted(places, reverse=True):
        del out.cells[c].outputs[o]
    return out


def plotly_js_bytes() -> int:
    """Bytes of one copy of plotly.js (what an output embedding it would carry)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path.stat().st_size if path.exists() else 0


def trace_points(x: Any) -> int:
    """Points of a Plotly trace's ``x``: a list, or plotly's typed array ``{"dtype", "bdata"}``."""
    if isinstance(x, dict) and "bdata" in x:
        import base64

        import numpy as np

        return len(base64.b64decode(x["bdata"])) // np.dtype(x["dtype"]).itemsize
    return len(x or [])


def describe(out: dict[str, Any]) -> str:
    """Mime types of an output with their bytes, and how many points its Plotly traces hold."""
    parts = []
    for mime, value in out.get("data", {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"{mime} {len(text.encode()):,} B")
    points = [trace_points(t.get("x")) for t in out.get("data", {}).get(PLOTLY, {}).get("data", [])]
    if points:
        parts.append(f"trace points {points}")
    return "; ".join(parts)


def bytes_table(nb: nbformat.NotebookNode) -> tuple[list[dict[str, Any]], dict[str, tuple[int, int]]]:
    places = chart_outputs(nb)
    total = size(nb)
    js = plotly_js_bytes()
    rows = []
    for name, (c, o) in places.items():
        out = nb.cells[c].outputs[o]
        added = total - size(without(nb, [(c, o)]))
        html = out.get("data", {}).get("text/html", "")
        embeds = js > 0 and len(html) > js * 0.9
        rows.append(
            {
                "output": name,
                "bytes": added,
                "counted": added - js if embeds else added,
                "embeds_plotly_js": embeds,
                "cdn_script": "cdn.plot.ly" in html,
                "mimes": describe(out),
            }
        )
    return rows, places


# -- the browser part -------------------------------------------------------------------------------
def sign(path: Path, data_dir: Path) -> None:
    """Trust the notebook in the server's signature store, as JupyterLab does for what it saves."""
    from nbformat.sign import NotebookNotary

    nb = nbformat.read(path, as_version=4)
    NotebookNotary(data_dir=str(data_dir)).sign(nb)


def open_once(browser: Any, lab: Any, name: str, wait_s: float, cold: bool) -> dict[str, Any]:
    """Open ``name`` in a fresh tab and workspace; the page's marks (ms since navigation).

    ``browser`` is a context whose HTTP cache is warm (as a user's browser), or with ``cold`` a
    browser in which each open gets a fresh context (no cache).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport=VIEWPORT) if cold else browser
    page = context.new_page()
    try:
        page.goto(lab.lab_url(name, workspace="w" + os.urandom(4).hex()))
        page.wait_for_function("() => window.__marks?.cells !== undefined", timeout=120_000, polling=100)
        with contextlib.suppress(PlaywrightTimeout):  # not drawn within wait_s: recorded as such
            page.wait_for_function(
                "() => window.__marks.chart !== undefined", timeout=wait_s * 1e3, polling=100
            )
        marks = page.evaluate("() => window.__marks")
    finally:
        page.close()
        if cold:
            context.close()
        lab.shutdown_sessions()
    keys = ("cells", "output", "chart", "d", "kind", "js_start", "js_end", "js_bytes", "js_transferred")
    return {key: marks.get(key) for key in keys}


def bare_page(browser: Any, variants: dict[str, nbformat.NotebookNode], repeats: int) -> dict[str, Any]:
    """Where the time goes without JupyterLab: plotly.js loaded into a blank page, then each saved
    Plotly figure drawn twice with ``Plotly.newPlot`` (first and second draw); medians of ``repeats``."""
    import plotly

    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    figures = {}
    for name, nb in variants.items():
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if PLOTLY in out.get("data", {}):
                    figures[name] = out["data"][PLOTLY]
    loads: list[float] = []
    draws: dict[str, list[tuple[float, float]]] = {name: [] for name in figures}
    for _ in range(repeats):
        for name, figure in figures.items():
            page = browser.new_page(viewport=VIEWPORT)
            try:
                page.set_content('<div id="a"></div><div id="b"></div>')
                t0 = time.perf_counter()
                page.add_script_tag(path=str(js))
                loads.append((time.perf_counter() - t0) * 1e3)
                first, second = page.evaluate(
                    """async (fig) => {
                        const t0 = performance.now();
                        await Plotly.newPlot('a', fig.data, fig.layout, fig.config || {});
                        const t1 = performance.now();
                        await Plotly.newPlot('b', fig.data, fig.layout, fig.config || {});
                        return [t1 - t0, performance.now() - t1];
                    }""",
                    figure,
                )
                draws[name].append((first, second))
            finally:
                page.close()
    return {
        "plotly_js_bytes": js.stat().st_size,
        "load_ms": statistics.median(loads),
        "draw_ms": {
            name: [statistics.median(d[0] for d in ds), statistics.median(d[1] for d in ds)]
            for name, ds in draws.items()
        },
    }


def draw_times(
    variants: dict[str, nbformat.NotebookNode], opens: int, folder: Path, wait_s: float, cold: bool
) -> dict[str, Any]:
    """Median marks per variant over ``opens`` opens, variants interleaved."""
    from tests.e2e.lab import chromium

    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with lab_server(folder / "lab") as lab, chromium() as browser:
        data_dir = lab.root_dir.parent / "data"
        for name, nb in variants.items():
            path = lab.root_dir / f"{name}.ipynb"
            nbformat.write(nb, path)
            sign(path, data_dir)
        target = browser if cold else browser.new_context(viewport=VIEWPORT)
        if not cold:
            target.add_init_script(MARKS_SCRIPT)
        open_once(target, lab, "reference.ipynb", wait_s, cold)  # warms the server and the cache
        for _ in range(opens):
            for name in variants:
                results[name].append(open_once(target, lab, f"{name}.ipynb", wait_s, cold))
        bare = bare_page(browser, variants, opens)
    out: dict[str, Any] = {"bare page": bare}
    for name, marks in results.items():
        drawn = [m for m in marks if m["chart"] is not None and m["cells"] is not None]
        shown = [m["cells"] for m in marks if m["cells"] is not None]
        out[name] = {
            "opens": len(marks),
            "drawn": len(drawn),
            "cells_ms": statistics.median(shown) if shown else None,
            "chart_ms": statistics.median(m["chart"] for m in drawn) if drawn else None,
            "after_cells_ms": statistics.median(m["chart"] - m["cells"] for m in drawn) if drawn else None,
            "path_chars": drawn[0]["d"] if drawn else None,
            "drawn_by": sorted({str(m.get("kind")) for m in drawn}),
            "js_loaded_after_cells_ms": statistics.median(
                m["js_end"] - m["cells"] for m in drawn if m["js_end"]
            )
            if any(m["js_end"] for m in drawn)
            else None,
            "js_fetch_ms": statistics.median(m["js_end"] - m["js_start"] for m in drawn if m["js_end"])
            if any(m["js_end"] for m in drawn)
            else None,
            "js_bytes": drawn[0]["js_bytes"] if drawn else None,
            "js_transferred": statistics.median(m["js_transferred"] or 0 for m in drawn) if drawn else None,
            "raw": marks,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 opens per notebook")
    parser.add_argument("--opens", type=int, default=5, help="opens per notebook (default 5)")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument(
        "--cold-cache", action="store_true", help="a fresh browser context (no cache) per open"
    )
    parser.add_argument("--wait", type=float, default=10.0, help="seconds a chart may take (default 10)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", type=Path, help="also save the executed notebooks in this folder")
    args = parser.parse_args()
    opens = 3 if args.quick else args.opens
    started = time.perf_counter()
    print(f"nbtrack: a {args.points:,}-point curve in a saved notebook; {opens} opens per notebook")
    print(revision())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-chart-") as tmp_name:
        folder = Path(tmp_name)
        store = folder / "store" / "nbtrack.db"
        store.parent.mkdir()
        job = Job(
            notebook(args.points),
            folder / "work" / "chart.ipynb",
            env={"NBTRACK_STORE": str(store)},
            timeout=300,
            allow_errors=False,
            store_widget_state=False,
        )
        executed = execute(job).notebook
        rows, places = bytes_table(executed)
        if "live chart (frozen)" not in places:
            raise SystemExit("the tracked cell showed no chart: the live chart did not appear")
        all_charts = list(places.values())
        variants = {"none": without(executed, all_charts)}
        for name, place in places.items():
            key = {"live chart (frozen)": "live", "compare panel": "compare"}.get(name, "reference")
            variants[key] = without(executed, [p for p in all_charts if p != place])
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name, nb in variants.items():
                nbformat.write(nb, args.keep / f"{name}.ipynb")
            nbformat.write(executed, args.keep / "executed.ipynb")
        load_before = os.getloadavg()[0]
        times = draw_times(variants, opens, folder, args.wait, args.cold_cache)
        load_after = os.getloadavg()[0]
    cache = (
        "a fresh browser context (empty HTTP cache) per open"
        if args.cold_cache
        else "one browser context for all opens (HTTP cache warm, as a user's browser), a new tab each"
    )
    print_report(executed, rows, times, load_before, load_after, cache)
    print(f"wall time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps({"bytes": rows, "draw": times, "notebook_bytes": size(executed)}, indent=2)
        )


def print_report(
    nb: nbformat.NotebookNode,
    rows: list[dict[str, Any]],
    times: dict[str, Any],
    load_before: float,
    load_after: float,
    cache: str,
) -> None:
    key = {
        "live chart (frozen)": "live",
        "compare panel": "compare",
        "plotly 2,000 points (reference)": "reference",
    }
    print()
    print(f"saved notebook: {size(nb):,} bytes (nbformat's writer, widget state not saved)")
    print(f"browser opens: load average {load_before:.2f} before, {load_after:.2f} after; {cache}")
    none = times["none"]
    print(
        f"notebook without a chart: cells shown {fmt_ms(none['cells_ms'])} after navigation "
        f"(median of {none['opens']} opens); a chart drawn in {none['drawn']} of them"
    )
    print()
    head = (
        "output",
        "bytes added",
        "target",
        "",
        "drawn",
        "after cells shown",
        "from navigation",
        "target",
        "",
    )
    lines = [head]
    for row in rows:
        t = times[key[row["output"]]]
        reference = row["output"].endswith("(reference)")
        after = t["after_cells_ms"]
        lines.append(
            (
                row["output"],
                f"{row['counted']:,}" + (" (plotly.js subtracted)" if row["embeds_plotly_js"] else ""),
                "" if reference else f"<= {TARGET_BYTES:,}",
                "" if reference else ("PASS" if row["counted"] <= TARGET_BYTES else "MISS"),
                f"{t['drawn']}/{t['opens']}",
                fmt_ms(after),
                fmt_ms(t["chart_ms"]),
                "" if reference else f"<= {TARGET_DRAW_S * 1e3:.0f} ms",
                "" if reference else ("MISS" if after is None or after > TARGET_DRAW_S * 1e3 else "PASS"),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for k, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for row in rows:
        cdn = "; its HTML loads plotly.js from cdn.plot.ly" if row["cdn_script"] else ""
        drawn_by = ", ".join(times[key[row["output"]]]["drawn_by"]) or "nothing"
        print(f"{row['output']}: {row['mimes']}{cdn}; drawn by {drawn_by}")
    print()
    bare = times["bare page"]
    print(
        f"bare page (no JupyterLab): plotly.min.js ({bare['plotly_js_bytes'] / 1e6:.1f} MB) loaded and "
        f"evaluated in {fmt_ms(bare['load_ms'])}; Plotly.newPlot of the saved figure, first / second draw: "
        + "; ".join(f"{name} {fmt_ms(a)} / {fmt_ms(b)}" for name, (a, b) in bare["draw_ms"].items())
    )
    for row in rows:
        t = times[key[row["output"]]]
        if t["js_loaded_after_cells_ms"] is None or t["drawn_by"] != ["plotly"]:
            continue  # plotly.js matters only where Plotly drew the chart
        print(
            f"{row['output']}: JupyterLab's Plotly renderer loaded its plotly.js chunk "
            f"({t['js_bytes'] / 1e6:.1f} MB, {t['js_transferred'] / 1e6:.1f} MB over the network) "
            f"{fmt_ms(t['js_loaded_after_cells_ms'])} after the cells appeared "
            f"(fetch {fmt_ms(t['js_fetch_ms'])}); "
            f"the trace was drawn {fmt_ms(t['after_cells_ms'] - t['js_loaded_after_cells_ms'])} after that"
        )


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


if __name__ == "__main__":
    main()
