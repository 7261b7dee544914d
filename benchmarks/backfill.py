"""Benchmark: backfill snapshot history into a fresh store.

    .venv/bin/python benchmarks/backfill.py                       # (a) demo portfolio and (b) 10k x 365 daily
    .venv/bin/python benchmarks/backfill.py --only a              # 2,000 demo accounts, weekly over 18 months
    .venv/bin/python benchmarks/backfill.py --only b --b-accounts 500 --b-days 30 --no-save   # a quick check

Scenarios (each backfill runs in a fresh subprocess, so its peak RSS is its own):

(a) The default demo portfolio (``healthscore demo``'s generator: 2,000 accounts, 18 months),
    ingested into a fresh workspace, then ``Project.backfill`` weekly over the 18 months into an
    empty SQLite store. Reports generation, ingestion and backfill times, snapshots and evidence rows.
(b) Synthetic canonical Parquet (benchmarks/_data.py, as score_portfolio.py) for --b-accounts
    accounts behind DuckDB views, backfilled daily over the last --b-days days into an empty store.

Results are printed and written to benchmarks/results/backfill.json (unless --no-save).
Wall times are measured inside the child around the operation; peak memory is the child's ru_maxrss.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUT = HERE / "data" / "backfill"
RESULTS = HERE / "results" / "backfill.json"
RESULT_MARK = "@@RESULT@@ "
DEMO_END = dt.date(2026, 11, 1)  # the demo generator's default end

sys.path.insert(0, str(HERE))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def months_before(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return dt.date(y, m + 1, 1) if d.day == 1 else dt.date(y, m + 1, min(d.day, 28))


TARGET_BYTES_PER_SNAPSHOT = 300  # issue 18: storage per snapshot, its evidence included
HISTORY_DIR = Path(".healthscore") / "history"  # the workspace's default snapshot history (docs/scale.md)


def store_rows(ws: Path) -> dict:
    """Rows of the store's snapshot tables: the old snapshots/evidence, or the latest snapshot per account."""
    import sqlite3

    with sqlite3.connect(ws / "store.db") as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 (fixed names)
                for t in ("snapshots", "evidence", "latest_snapshots") if t in names}


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def storage(ws: Path, snapshots: int) -> dict:
    """Bytes on disk: the SQLite store (its WAL included) and the Parquet history, per stored snapshot."""
    store = sum(p.stat().st_size for p in ws.glob("store.db*"))
    history = dir_bytes(ws / HISTORY_DIR)
    per = (store + history) / snapshots if snapshots else None
    return {"store_bytes": store, "history_bytes": history,
            "history_files": sum(1 for _ in (ws / HISTORY_DIR).rglob("*.parquet")),
            "bytes_per_snapshot": round(per, 1) if per else None,
            "history_bytes_per_snapshot": round(history / snapshots, 1) if snapshots and history else None,
            "target_bytes_per_snapshot": TARGET_BYTES_PER_SNAPSHOT}


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def fresh_store(ws: Path) -> None:
    for p in ws.glob("store.db*"):
        p.unlink()
    shutil.rmtree(ws / HISTORY_DIR, ignore_errors=True)


# ---- children ------------------------------------------------------------------------------------


def child_prepare_a(a: dict) -> dict:
    """Generate the demo portfolio and ingest it into a fresh workspace (cached by parameters)."""
    from healthscore.demo.generate import generate_portfolio
    from healthscore.project import Project
    from healthscore.scaffold import EXAMPLES_DIR, demo_config

    ws = Path(a["ws"])
    params = {"accounts": a["accounts"], "months": a["months"], "end": DEMO_END.isoformat(), "seed": 7}
    marker = ws / "prepared.json"
    if marker.exists() and json.loads(marker.read_text()).get("params") == params:
        return {**json.loads(marker.read_text()), "cached": True}
    shutil.rmtree(ws, ignore_errors=True)
    (ws / "models").mkdir(parents=True)
    shutil.copyfile(EXAMPLES_DIR / "seed-standard.yaml", ws / "models" / "health.yaml")
    t0 = time.perf_counter()
    counts = generate_portfolio(ws / "data", accounts=a["accounts"], months=a["months"], end=DEMO_END)
    gen_s = time.perf_counter() - t0
    files = {t: f"data/{sorted((ws / 'data').glob(f'{t}.*'))[0].name}" for t in counts}
    (ws / "healthscore.yaml").write_text(demo_config(files) + "store: sqlite:///store.db\n")
    t0 = time.perf_counter()
    with Project(ws) as p:
        p.ingest()
    out = {"params": params, "rows": counts, "generate_s": round(gen_s, 2), "ingest_s": round(time.perf_counter() - t0, 2)}
    marker.write_text(json.dumps(out))
    return out


def child_prepare_b(a: dict) -> dict:
    """Synthetic Parquet for --b-accounts accounts behind DuckDB views (as score_portfolio.py)."""
    import _data
    from score_portfolio import build_workspace

    manifest = _data.generate(Path(a["data"]), a["accounts"], a["events"], log=lambda *_: None)
    build_workspace(Path(a["ws"]), Path(a["data"]))
    return {"rows": manifest.get("rows", {}), "end": _data.END.date().isoformat()}


def child_backfill(a: dict) -> dict:
    from healthscore.project import Project

    ws = Path(a["ws"])
    fresh_store(ws)
    start, cpu = time.perf_counter(), cpu_s()
    with Project(ws) as p:
        res = p.backfill(dt.date.fromisoformat(a["from"]), dt.date.fromisoformat(a["to"]), a["every"])
    wall, cpu = time.perf_counter() - start, cpu_s() - cpu
    rows = store_rows(ws)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(peak_rss_mb(), 1), **res,
            "store_rows": rows, **storage(ws, res["snapshots_written"]),
            "snapshots_per_s": round(res["snapshots_written"] / wall, 1) if wall else None}


CHILDREN = {"prepare_a": child_prepare_a, "prepare_b": child_prepare_b, "backfill": child_backfill}


def run_child(phase: str, args: dict, log) -> dict:
    s = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", phase, json.dumps(args)],
                          capture_output=True, text=True, cwd=str(REPO))
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{phase} child failed with exit code {proc.returncode}")
    line = next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith(RESULT_MARK))
    out = json.loads(line[len(RESULT_MARK):])
    out["process_s"] = round(time.perf_counter() - s, 2)
    log(f"  {phase}: done in {out['process_s']:.1f}s" + (f", peak {out['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in out else ""))
    return out


# ---- orchestration -------------------------------------------------------------------------------


def scenario_a(args, log) -> dict:
    ws = args.out / f"demo-{args.a_accounts}"
    log(f"(a) demo portfolio: {args.a_accounts:,} accounts, weekly over {args.a_months} months")
    prep = run_child("prepare_a", {"ws": str(ws), "accounts": args.a_accounts, "months": args.a_months}, log)
    date_from = months_before(DEMO_END, args.a_months)
    res = run_child("backfill", {"ws": str(ws), "from": date_from.isoformat(),
                                 "to": (DEMO_END - dt.timedelta(days=1)).isoformat(), "every": 7}, log)
    return {"params": {"accounts": args.a_accounts, "months": args.a_months, "every_days": 7,
                       "from": date_from.isoformat(), "to": (DEMO_END - dt.timedelta(days=1)).isoformat()},
            "prepare": prep, "backfill": res}


def scenario_b(args, log) -> dict:
    data = args.out / f"synthetic-{args.b_accounts}"
    ws = args.out / f"ws-synthetic-{args.b_accounts}"
    events = args.b_events or args.b_accounts * 200
    log(f"(b) synthetic: {args.b_accounts:,} accounts, {events:,} usage events, {args.b_days} daily dates")
    prep = run_child("prepare_b", {"data": str(data), "ws": str(ws), "accounts": args.b_accounts, "events": events}, log)
    end = dt.date.fromisoformat(prep["end"])
    date_from = end - dt.timedelta(days=args.b_days - 1)
    res = run_child("backfill", {"ws": str(ws), "from": date_from.isoformat(), "to": end.isoformat(), "every": 1}, log)
    return {"params": {"accounts": args.b_accounts, "usage_events": events, "daily_dates": args.b_days,
                       "from": date_from.isoformat(), "to": end.isoformat()},
            "prepare": prep, "backfill": res}


def print_table(results: dict) -> None:
    print(f"\n{'scenario':<10} {'accounts':>9} {'dates':>6} {'snapshots':>10} {'wall s':>8} {'cpu s':>8}"
          f" {'snap/s':>9} {'peak MB':>8} {'dates/pass':>10} {'store MB':>9} {'history MB':>10}"
          f" {'B/snapshot':>10} {'target':>7}")
    for name, r in results.items():
        b = r["backfill"]
        per = b.get("bytes_per_snapshot")
        verdict = "" if per is None else ("ok" if per <= TARGET_BYTES_PER_SNAPSHOT else "OVER")
        print(f"{name:<10} {r['params']['accounts']:>9,} {b['dates']:>6} {b['snapshots_written']:>10,}"
              f" {b['wall_s']:>8.1f} {b['cpu_s']:>8.1f} {b['snapshots_per_s']:>9,.0f}"
              f" {b['peak_rss_mb']:>8.0f} {b['dates_per_pass']:>10} {b['store_bytes'] / 1e6:>9.1f}"
              f" {b['history_bytes'] / 1e6:>10.1f} {per or 0:>10.0f}"
              f" {'<= ' + str(TARGET_BYTES_PER_SNAPSHOT):>7} {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["a", "b"], help="run one scenario")
    ap.add_argument("--a-accounts", type=int, default=2000)
    ap.add_argument("--a-months", type=int, default=18)
    ap.add_argument("--b-accounts", type=int, default=10_000)
    ap.add_argument("--b-days", type=int, default=365)
    ap.add_argument("--b-events", type=int, default=None, help="usage events (default: 200 per account)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data and workspaces (cached between runs)")
    ap.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS.relative_to(REPO)}")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        phase, payload = args.child
        result = CHILDREN[phase](json.loads(payload))
        result.setdefault("peak_rss_mb", round(peak_rss_mb(), 1))
        print(RESULT_MARK + json.dumps(result, default=str), flush=True)
        return

    log = lambda msg: print(msg, flush=True)  # noqa: E731
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    results = {}
    if args.only in (None, "a"):
        results["a_demo"] = scenario_a(args, log)
    if args.only in (None, "b"):
        results["b_daily"] = scenario_b(args, log)
    print_table(results)
    if not args.no_save:
        import duckdb
        import ibis
        import pandas

        report = {
            "benchmark": "backfill",
            "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "duckdb": duckdb.__version__, "ibis": ibis.__version__, "pandas": pandas.__version__},
            "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                    "after": [round(x, 2) for x in os.getloadavg()]},
            "results": results,
        }
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        if previous.get("results"):  # keep the other scenario's figures when running one
            report["results"] = {**previous["results"], **results}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwritten to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
