"""nbtrack's core benchmark: prints figures next to same-run references; never asserts timings.

    .venv/bin/python bench/core.py [--quick] [--json out.json]

Every measurement runs in a fresh store in a temporary folder and, where it matters, in a fresh
subprocess (this script calling itself with ``--child NAME ARGS``); figures are medians of a few
repeats. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import revision

HEAVY = ("pandas", "sqlalchemy", "numpy", "plotly", "ipywidgets", "traitlets")
FULL = {"points": 1_000_000, "runs": 10_000, "creates": 200, "repeats": 3, "imports": 10}
QUICK = {"points": 100_000, "runs": 1_000, "creates": 50, "repeats": 3, "imports": 5}
RAW_DDL = (
    "CREATE TABLE points (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, "
    "value REAL NOT NULL, timestamp REAL NOT NULL, PRIMARY KEY (run_id, key, step))"
)
RAW_RUN_ID = "019ab0c1d2e34f5a6b7c8d9e0f1a2b3c"  # 32 characters, like nbtrack's run ids
RAW_HISTORY = (
    "SELECT step, value, timestamp FROM points "
    "WHERE run_id = '019ab0c1d2e34f5a6b7c8d9e0f1a2b3c' AND key = 'loss' ORDER BY step"
)
RAW_RUNS = [
    "SELECT r.run_id, r.seq, r.name, e.name, r.status, r.start_time, r.end_time "
    "FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id",
    "SELECT * FROM params",
    "SELECT * FROM metric_summaries",
]


# -- helpers shared by parent and children ---------------------------------------------------------
def loss_curve(n: int) -> array[float]:
    """A realistic noisy loss curve: exponential decay to a floor, multiplicative noise, spikes."""
    rng = random.Random(42)
    out = array("d", bytes(8 * n))
    for i in range(n):
        base = 0.08 + 2.2 * math.exp(-i / (n / 6))
        spike = 1.5 if rng.random() < 1e-4 else 1.0
        out[i] = base * spike * (1.0 + 0.05 * rng.gauss(0.0, 1.0))
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def raw_db(path: str | Path) -> sqlite3.Connection:
    """A plain sqlite3 connection in WAL mode with nbtrack's synchronous=NORMAL; BEGIN is explicit."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def disk_bytes(db: Path) -> int:
    """Size of the database after a WAL checkpoint that truncates the -wal file."""
    conn = sqlite3.connect(db)
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    conn.close()
    if busy:
        raise RuntimeError(f"checkpoint of {db} was blocked")
    wal = db.with_name(db.name + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def session(db: Path) -> Any:
    from nbtrack.api import Session
    from nbtrack.config import NbtrackConfig

    return Session(NbtrackConfig(store=str(db)))


def cold_warm(call: Any, warm: int) -> dict[str, Any]:
    """Seconds of the first ``call()`` in this process and the median of ``warm`` more."""
    times = []
    for _ in range(1 + warm):
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
    return {"cold_s": times[0], "warm_s": statistics.median(times[1:]), "shape": list(result.shape)}


# -- children: each runs in a fresh interpreter and returns a dict of figures ----------------------
def child_log(db: str, n: int) -> dict[str, Any]:
    """(1, 5, 7) log() n points of one key with explicit steps; persisted by run.end()."""
    values = loss_curve(n)
    sess = session(Path(db))
    run = sess.tracker.start_run("bench-log")
    before = disk_bytes(Path(db))
    log = run.log
    t0 = time.perf_counter()
    for i in range(n):
        log(loss=values[i], step=i)
    t1 = time.perf_counter()
    run.end()
    t2 = time.perf_counter()
    after = disk_bytes(Path(db))
    return {
        "caller_us": (t1 - t0) / n * 1e6,
        "persisted_us": (t2 - t0) / n * 1e6,
        "bytes_per_point": (after - before) / n,
        "rss_mb": peak_rss_mb(),
    }


def child_bare(n: int) -> dict[str, Any]:
    """References for (1) and (7): a bare call with log()'s signature, nbtrack not imported."""

    def log(metrics: Any = None, /, *, step: Any = None, **kw: Any) -> None:
        pass

    values = loss_curve(n)
    t0 = time.perf_counter()
    for i in range(n):
        log(loss=values[i], step=i)
    t1 = time.perf_counter()
    return {"call_us": (t1 - t0) / n * 1e6, "rss_mb": peak_rss_mb()}


def child_raw_write(db: str, n: int) -> dict[str, Any]:
    """Reference for (1) and (5): a row per point, sqlite3 executemany into a fresh WAL file."""
    values = loss_curve(n)
    now = time.time()
    rows = [(RAW_RUN_ID, "loss", i, values[i], now + i * 1e-6) for i in range(n)]
    conn = raw_db(db)
    conn.execute(RAW_DDL)
    before = disk_bytes(Path(db))
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    t1 = time.perf_counter()
    conn.close()
    return {"row_us": (t1 - t0) / n * 1e6, "bytes_per_row": (disk_bytes(Path(db)) - before) / n}


def child_raw_select(db: str, queries: list[str]) -> dict[str, Any]:
    """References for (3) and (4): plain sqlite3 SELECTs, every row fetched into Python lists."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    rows = sum(len(conn.execute(q).fetchall()) for q in queries)
    t1 = time.perf_counter()
    conn.close()
    return {"read_s": t1 - t0, "rows": rows}


def child_history(db: str, warm: int) -> dict[str, Any]:
    """(4) nbtrack.get_run(1).history("loss"): first call in this process, then warm calls."""
    os.environ["NBTRACK_STORE"] = db
    import nbtrack

    return cold_warm(lambda: nbtrack.get_run(1).history("loss"), warm)


def child_create(db: str, n: int) -> dict[str, Any]:
    """(2) start_run + 10 params + end, ms per run after a warm-up; reference: INSERT + commit."""
    sess = session(Path(db))
    params = {f"p{i}": v for i, v in enumerate([0.01, 32, "adam", True, None, 0.9, 3, "x" * 20])}
    params.update(layers=[64, 64], sched={"kind": "cos", "warmup": 100})

    def one() -> float:
        t0 = time.perf_counter()
        sess.tracker.start_run("bench-create", params=params).end()
        return time.perf_counter() - t0

    for _ in range(max(10, n // 10)):
        one()
    ms = statistics.median(one() * 1e3 for _ in range(n))
    raw = raw_db(Path(db).with_name("raw.db"))
    raw.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, seq INTEGER, start_time REAL)")
    ref = []
    for i in range(n + 20):
        t0 = time.perf_counter()
        raw.execute("BEGIN")
        raw.execute("INSERT INTO runs VALUES (?, ?, ?)", (f"{i:032x}", i, time.time()))
        raw.execute("COMMIT")
        ref.append(time.perf_counter() - t0)
    return {"run_ms": ms, "insert_ms": statistics.median(ref[20:]) * 1e3}


def child_build(db: str, n_runs: int, n_params: int, n_metrics: int) -> dict[str, Any]:
    """(3) setup: the store is created through the API, then rows go in with SQLAlchemy Core."""
    from nbtrack.store import schema as t
    from nbtrack.store.values import encode_param

    store = session(Path(db)).store()
    rng = random.Random(7)
    now = time.time() - 86400
    runs, params, metrics = [], [], []
    for r in range(n_runs):
        run_id = f"{int((now + r) * 1000):012x}{r:020x}"
        end = now + r + 30.0
        runs.append((run_id, r + 1, f"run-{r}", 1, "FINISHED", now + r, end, end, "bench", 1))
        for p in range(n_params):
            value = [rng.random(), rng.randrange(1000), f"opt{p % 3}", p % 2 == 0][p % 4]
            e = encode_param(f"param_{p}", value)
            params.append((run_id, f"param_{p}", e.value_json, e.value_str, e.value_num, e.vtype))
        for m in range(n_metrics):
            last = rng.random()
            metrics.append((run_id, f"metric_{m}", 1, last, 999, last / 2, last * 2, 1000, end))
    with store.engine.begin() as conn:
        conn.execute(t.experiments.insert(), [{"experiment_id": 1, "name": "bench", "created": now}])
        for table, rows in ((t.runs, runs), (t.params, params), (t.metric_summaries, metrics)):
            cols = [c.name for c in table.columns][: len(rows[0])]
            extra = {"origin": "explicit"} if table is t.params else {}
            conn.execute(table.insert(), [{**dict(zip(cols, r, strict=True)), **extra} for r in rows])
    store.dispose()
    return {"runs": n_runs}


def child_runs(db: str, warm: int) -> dict[str, Any]:
    """(3) nbtrack.runs(): the first call in a fresh process (lazy imports included), then warm."""
    os.environ["NBTRACK_STORE"] = db
    import nbtrack

    return cold_warm(lambda: nbtrack.runs(), warm)  # the lazy import of nbtrack.api counts


def child_modules() -> dict[str, Any]:
    """(6) which heavy modules ``import nbtrack`` loads."""
    import nbtrack  # noqa: F401

    return {"heavy": [m for m in HEAVY if m in sys.modules]}


# -- parent --------------------------------------------------------------------------------------
def child(name: str, cwd: Path, **args: Any) -> dict[str, Any]:
    """Run one child in a fresh interpreter (cwd: a temp dir; NBTRACK_STORE never the repo's)."""
    env = {**os.environ, "NBTRACK_STORE": str(cwd / "unused.db")}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, json.dumps(args)]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"child {name} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def med(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def interpreter_ms(code: str, cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True)
    return (time.perf_counter() - t0) * 1e3


@dataclass
class Row:
    """One line of the table: a figure, its same-run reference and the issue's target."""

    id: str
    measurement: str
    value: float
    unit: str
    reference: float | None = None
    reference_name: str = ""
    target: float | None = None

    @property
    def result(self) -> str:
        return "" if self.target is None else ("PASS" if self.value <= self.target else "MISS")


def bench_points(tmp: Path, size: dict[str, int]) -> list[Row]:
    """(1) log() per point, (4) history read, (5) bytes per point, (7) peak RSS."""
    n = size["points"]
    logs, raws, bares, hists, reads = [], [], [], [], []
    for i in range(size["repeats"]):
        d = tmp / f"points{i}"
        d.mkdir()
        db, raw = str(d / "nbtrack.db"), str(d / "raw.db")
        logs.append(child("log", d, db=db, n=n))
        raws.append(child("raw_write", d, db=raw, n=n))
        bares.append(child("bare", d, n=n))
        hists.append(child("history", d, db=db, warm=3))
        reads.append(child("raw_select", d, db=raw, queries=[RAW_HISTORY]))
    if any(h["shape"][0] != n for h in hists) or any(r["rows"] != n for r in reads):
        raise RuntimeError("a history read returned the wrong number of points")
    read = med(reads, "read_s")
    return [
        Row("1a", "log(), caller thread", med(logs, "caller_us"), "us/pt",
            med(bares, "call_us"), "bare call", 2.0),
        Row("1b", "log() until persisted (+end)", med(logs, "persisted_us"), "us/pt",
            med(raws, "row_us"), "sqlite executemany"),
        Row("4a", "history(), cold process", med(hists, "cold_s"), "s", read, "sqlite read", 0.3),
        Row("4b", "history(), warm", med(hists, "warm_s"), "s", read, "sqlite read", 0.3),
        Row("5", "bytes per point on disk", med(logs, "bytes_per_point"), "B/pt",
            med(raws, "bytes_per_row"), "raw row"),
        Row("7", "peak RSS while logging", med(logs, "rss_mb"), "MB",
            med(bares, "rss_mb"), "bare interpreter"),
    ]  # fmt: skip


def bench_create(tmp: Path, size: dict[str, int]) -> list[Row]:
    """(2) run create + 10 params + end."""
    results = []
    for i in range(size["repeats"]):
        d = tmp / f"create{i}"
        d.mkdir()
        results.append(child("create", d, db=str(d / "nbtrack.db"), n=size["creates"]))
    run_ms, insert_ms = med(results, "run_ms"), med(results, "insert_ms")
    return [Row("2", "run create+10 params+end", run_ms, "ms", insert_ms, "INSERT+commit", 2.0)]


def bench_runs(tmp: Path, size: dict[str, int]) -> list[Row]:
    """(3) nbtrack.runs() over runs x 20 params x 5 metrics (rows written with SQLAlchemy Core)."""
    d = tmp / "runs"
    d.mkdir()
    db = str(d / "nbtrack.db")
    child("build", d, db=db, n_runs=size["runs"], n_params=20, n_metrics=5)
    frames = [child("runs", d, db=db, warm=3) for _ in range(size["repeats"])]
    if frames[0]["shape"] != [size["runs"], 8 + 20 + 5]:
        raise RuntimeError(f"runs() returned a frame of shape {frames[0]['shape']}")
    ref = med([child("raw_select", d, db=db, queries=RAW_RUNS) for _ in frames], "read_s")
    return [
        Row("3a", "runs(), cold process", med(frames, "cold_s"), "s", ref, "sqlite SELECT", 0.5),
        Row("3b", "runs(), warm", med(frames, "warm_s"), "s", ref, "sqlite SELECT", 0.5),
    ]


def bench_import(tmp: Path, size: dict[str, int]) -> tuple[list[Row], list[str]]:
    """(6) import time (fresh interpreters, interleaved) and the heavy modules it loads."""
    base, plain, api = [], [], []
    for _ in range(size["imports"]):
        base.append(interpreter_ms("pass", tmp))
        plain.append(interpreter_ms("import nbtrack", tmp))
        api.append(interpreter_ms("import nbtrack.api", tmp))
    ref = statistics.median(base)
    rows = [
        Row("6a", "import nbtrack", statistics.median(plain) - ref, "ms", ref, "python -c pass",
            150.0),
        Row("6b", "import nbtrack.api (1st use)", statistics.median(api) - ref, "ms", ref,
            "python -c pass"),
    ]  # fmt: skip
    return rows, child("modules", tmp)["heavy"]


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    return f"{value:.{3 if abs(value) < 10 else 1}f} {unit}"


def print_table(rows: list[Row]) -> None:
    lines = [("measurement", "nbtrack", "reference", "ratio", "target", "")]
    for r in rows:
        ref = "" if r.reference is None else f"{fmt(r.reference, r.unit)} {r.reference_name}"
        ratio = f"{r.value / r.reference:.1f}x" if r.reference else ""
        target = "" if r.target is None else f"<= {fmt(r.target, r.unit)}"
        name = f"{r.id:<3}{r.measurement}"
        lines.append((name, fmt(r.value, r.unit), ref, ratio, target, r.result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for k, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "ARGS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, child_args = args.child
        print(json.dumps(globals()[f"child_{name}"](**json.loads(child_args))))
        return
    size = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(f"nbtrack core benchmark ({'quick' if args.quick else 'full'}): {size}")
    print(revision())
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-") as tmp_name:
        tmp = Path(tmp_name)
        rows = bench_points(tmp, size) + bench_create(tmp, size) + bench_runs(tmp, size)
        import_rows, heavy = bench_import(tmp, size)
    rows = sorted(rows + import_rows, key=lambda r: r.id)
    wall = time.perf_counter() - started
    print()
    print_table(rows)
    print()
    print(f"heavy modules after `import nbtrack`: {', '.join(heavy) or 'none'}")
    print(f"(3) store created through the API, then {size['runs']} runs x 20 params x 5 metric "
          "summaries written with SQLAlchemy Core into nbtrack's tables")  # fmt: skip
    print(f"wall time {wall:.1f} s; medians of {size['repeats']} fresh processes per figure")
    if args.json:
        meta = {"size": size, "wall_s": wall, "nbtrack": revision(), "heavy_modules": heavy,
                "python": sys.version, "sqlite": sqlite3.sqlite_version}  # fmt: skip
        out = [{**asdict(r), "result": r.result} for r in rows]
        args.json.write_text(json.dumps({"meta": meta, "rows": out}, indent=2))


if __name__ == "__main__":
    main()
