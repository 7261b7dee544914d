"""Benchmark: latency of the web application on a large store, under concurrent clients.

    .venv/bin/python benchmarks/web_latency.py                                  # 100,000 accounts x 52 weeks, SQLite
    .venv/bin/python benchmarks/web_latency.py --accounts 100000 --stores sqlite,postgres \
        --pg-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/web_latency.py --accounts 2000 --weeks 8 --no-save   # a quick check

For each store (SQLite file, PostgreSQL database) it writes --accounts accounts with --weeks weekly
snapshots each, or --days daily ones (3 evidence rows per snapshot), straight through
`Store.write_snapshots`, one date per call, plus an engine accounts table (DuckDB) with owner, segment
and ARR. Then it starts
`uvicorn healthscore.web.asgi:app` (one worker) in a subprocess and measures, with --clients
three loads, --requests requests per endpoint each:

  portfolio page   GET /portfolio                         (session cookie)
  account page     GET /accounts/{random account}         (session cookie)
  accounts API     GET /api/v1/accounts?tier=red          (API token)

  single      one client, one request at a time: p50 against issue 18's target (< 50 ms)
  concurrent  --clients clients at once (10): p95 against its target (< 300 ms)
  writing     the same, while another process appends snapshot weeks as a backfill does
              (Store.write_snapshots): p95 against the same target ("unchanged while a backfill writes")

The first request of each endpoint is reported apart as `cold_ms` (it fills the in-memory cache of
the latest snapshots, which a scoring run invalidates); p50/p95/max are over the rest. The account
page's change attribution is a separate request its page makes (it reads stored snapshots) and is
not measured here. Figures go to benchmarks/results/web_latency.json (unless --no-save).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "web_latency.json"
END = dt.date(2026, 11, 2)
OWNERS = [f"csm.{i:03d}" for i in range(50)]
SEGMENTS = ["SMB", "mid-market", "enterprise"]
COMPONENTS = [{"name": n, "score": 60.0, "weight": w, "coverage": 1.0}
              for n, w in (("support", 0.35), ("engagement", 0.4), ("business", 0.2), ("relationship", 0.05))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_workspace(root: Path, store_url: str, accounts: int, seed: int) -> Path:
    import duckdb

    from healthscore.scaffold import init_workspace

    if root.exists():
        shutil.rmtree(root)
    init_workspace(root)
    (root / "healthscore.yaml").write_text(f"model: models/health.yaml\nstore: {store_url}\n", encoding="utf-8")
    rng = np.random.default_rng(seed)
    ids = np.array([f"B{i:06d}" for i in range(accounts)])
    frame = pd.DataFrame({
        "account_id": ids, "name": [f"Account {i}" for i in range(accounts)],
        "segment": rng.choice(SEGMENTS, accounts), "owner": rng.choice(OWNERS, accounts),
        "arr": rng.lognormal(10, 1, accounts).round(-2),
        "renewal_date": pd.Timestamp(END) + pd.to_timedelta(rng.integers(1, 365, accounts), unit="D"),
    })
    (root / ".healthscore").mkdir(exist_ok=True)
    con = duckdb.connect(str(root / ".healthscore" / "engine.duckdb"))
    con.register("frame", frame)
    con.execute("CREATE TABLE accounts AS SELECT * FROM frame")
    con.close()
    return root


def fill_store(ws: Path, accounts: int, dates_n: int, step_days: int, seed: int) -> dict:
    from healthscore.project import Project

    rng = np.random.default_rng(seed + 1)
    t0 = time.perf_counter()
    with Project(ws) as p:
        version = p.model.version
        p.store.record_model_version(version, p.model.ir.name, str(p.model.path), p.model.yaml_text, p.model.ir_json)
        ids = np.array([f"B{i:06d}" for i in range(accounts)])
        seg = np.random.default_rng(seed).choice(SEGMENTS, accounts)  # the same draw as the accounts table
        level = rng.uniform(20, 95, accounts)
        written = 0
        dates = [END - dt.timedelta(days=step_days * k) for k in range(dates_n - 1, -1, -1)]
        for d in dates:
            level = np.clip(level + rng.normal(0, 3, accounts), 0, 100)
            score = level.round(2)
            tier = np.where(score >= 70, "green", np.where(score >= 40, "yellow", "red"))
            status = np.where(rng.random(accounts) < 0.02, "paused", "scored")
            snaps = pd.DataFrame({
                "account_id": ids, "as_of": pd.Timestamp(d), "model_version": version, "score": score,
                "tier": tier, "status": status, "confidence": 0.9, "coverage": 0.95, "segment": seg,
                "components": [COMPONENTS] * accounts, "reasons": [[]] * accounts,
                "primary_driver": rng.choice(["login_frequency", "csat_90d", "nps"], accounts),
                "trend_note": None,
            })
            ev = pd.concat([pd.DataFrame({
                "account_id": ids, "as_of": pd.Timestamp(d), "model_version": version, "metric": m,
                "component": c, "value": rng.random(accounts).round(3), "window": "30d", "source": "usage_events",
                "rows": 10, "latest_at": pd.Timestamp(d) - pd.Timedelta(days=1), "score": score,
                "weight": w, "points": (score * w).round(4)}) for m, c, w in
                (("login_frequency", "engagement", 0.5), ("csat_90d", "support", 0.3), ("nps", "relationship", 0.2))])
            run = p.store.start_run(version, [d], "duckdb")
            written += p.store.write_snapshots(run, snaps, ev)
            p.store.finish_run(run, accounts=accounts, snapshots_written=accounts)
        p.user_add("bench.admin", "admin", "bench.admin", password="bench-admin-pass")
        secret = p.token_create("bench.admin", "bench", ["read"], "bench.admin")[1]
    return {"snapshots": written, "evidence_rows": written * 3, "fill_s": round(time.perf_counter() - t0, 1),
            "token": secret}


def write_more(ws: Path, accounts: int, weeks: int, seed: int) -> None:
    """The backfill-like writer of the "writing" load: appends `weeks` weekly snapshot dates after END."""
    from healthscore.project import Project

    rng = np.random.default_rng(seed + 2)
    with Project(ws) as p:
        version = p.model.version
        ids = np.array([f"B{i:06d}" for i in range(accounts)])
        seg = np.random.default_rng(seed).choice(SEGMENTS, accounts)
        start = max(END, p.store.latest_as_of(version) or END)  # new keys on a reused store too
        for k in range(1, weeks + 1):
            d = start + dt.timedelta(days=7 * k)
            score = rng.uniform(0, 100, accounts).round(2)
            snaps = pd.DataFrame({
                "account_id": ids, "as_of": pd.Timestamp(d), "model_version": version, "score": score,
                "tier": np.where(score >= 70, "green", np.where(score >= 40, "yellow", "red")), "status": "scored",
                "confidence": 0.9, "coverage": 0.95, "segment": seg, "components": [COMPONENTS] * accounts,
                "reasons": [[]] * accounts, "primary_driver": "nps", "trend_note": None})
            ev = pd.DataFrame({
                "account_id": ids, "as_of": pd.Timestamp(d), "model_version": version, "metric": "nps",
                "component": "relationship", "value": 8.0, "window": "90d", "source": "surveys", "rows": 1,
                "latest_at": pd.Timestamp(d) - pd.Timedelta(days=1), "score": score, "weight": 1.0, "points": score})
            run = p.store.start_run(version, [d], "duckdb")
            p.store.write_snapshots(run, snaps, ev)
            p.store.finish_run(run, accounts=accounts, snapshots_written=accounts)


TARGETS = {"single": ("p50_ms", 50.0), "concurrent": ("p95_ms", 300.0), "writing": ("p95_ms", 300.0)}


def start_server(ws: Path, port: int, workers: int = 1) -> subprocess.Popen:
    env = {**os.environ, "HEALTHSCORE_WORKSPACE": str(ws), "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "healthscore.web.asgi:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--workers", str(workers)], env=env)
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def session_cookie(base: str) -> dict:
    import httpx

    with httpx.Client(base_url=base) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "bench.admin", "password": "bench-admin-pass", "csrf_token": token,
                                   "next": "/"})
        assert r.status_code in (200, 303), r.text
        return dict(c.cookies)


async def measure(base: str, make_path, headers: dict, cookies: dict, clients: int, requests: int,
                  warm_workers: int = 1) -> dict:
    import httpx

    async with httpx.AsyncClient(base_url=base, headers=headers, cookies=cookies, timeout=60) as c:
        t = time.perf_counter()
        r = await c.get(make_path())
        cold = (time.perf_counter() - t) * 1000
        assert r.status_code == 200, (r.status_code, r.text[:300])
        # with several workers, each fills its own cache: warm them all (not measured)
        await asyncio.gather(*(c.get(make_path()) for _ in range(4 * warm_workers - 1)))
        times: list[float] = []
        errors = 0
        per_client = max(1, requests // clients)

        async def worker():
            nonlocal errors
            for _ in range(per_client):
                t = time.perf_counter()
                r = await c.get(make_path())
                times.append((time.perf_counter() - t) * 1000)
                errors += r.status_code != 200

        t_all = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t_all
    times.sort()
    return {"cold_ms": round(cold, 1), "requests": len(times), "errors": errors,
            "p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "max_ms": round(times[-1], 1), "throughput_rps": round(len(times) / wall, 1)}


def run_store(kind: str, args, pg_url: str | None) -> dict:
    root = Path(args.out) / kind
    marker = root / ".healthscore" / "bench-params.json"
    params = {"accounts": args.accounts, "weeks": args.weeks, "seed": args.seed,
              **({"days": args.days} if args.days else {})}
    reuse = args.reuse and marker.is_file() and json.loads(marker.read_text()) == params
    if kind == "sqlite":
        url = f"sqlite:///{root / '.healthscore' / 'store.db'}"
    else:
        import psycopg

        name = "hs_web_bench"
        admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
        if not reuse:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.rsplit("/", 1)[0] + f"/{name}"
    if reuse:
        from healthscore.project import Project

        ws = root
        with Project(ws) as p:
            filled = {"reused": True, "token": p.token_create("bench.admin", "bench", ["read"], "bench.admin")[1]}
        print(f"{kind}: reusing the store in {root}", flush=True)
    else:
        ws = make_workspace(root, url, args.accounts, args.seed)
        filled = fill_store(ws, args.accounts, *((args.days, 1) if args.days else (args.weeks, 7)), args.seed)
        marker.write_text(json.dumps(params))
        print(f"{kind}: {filled['snapshots']:,} snapshots written in {filled['fill_s']} s", flush=True)
    port = free_port()
    proc = start_server(ws, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        cookies = session_cookie(base)
        rng = random.Random(args.seed)
        out = {"store": url.split("://")[0], "fill": {k: v for k, v in filled.items() if k != "token"}}
        endpoints = {
            "portfolio_page": (lambda: "/portfolio", {}, cookies),
            "account_page": (lambda: f"/accounts/B{rng.randrange(args.accounts):06d}", {}, cookies),
            "api_accounts_tier_red": (lambda: "/api/v1/accounts?tier=red",
                                      {"Authorization": f"Bearer {filled['token']}"}, {}),
        }
        for load in ("single", "concurrent", "writing"):
            writer = None
            if load == "writing":  # a separate process, as a backfill or stream consumer would be
                code = ("import sys; sys.path.insert(0, sys.argv[1]); from web_latency import write_more; "
                        "write_more(__import__('pathlib').Path(sys.argv[2]), *map(int, sys.argv[3:]))")
                writer = subprocess.Popen([sys.executable, "-c", code, str(HERE), str(ws), str(args.accounts),
                                           "52", str(args.seed)], env={**os.environ, "PYTHONPATH": str(REPO / "src")})
                time.sleep(1.0)
            clients = 1 if load == "single" else args.clients
            out[load] = {}
            for name, (path, headers, cks) in endpoints.items():
                got = asyncio.run(measure(base, path, headers, cks, clients, args.requests, args.workers))
                key, target = TARGETS[load]
                got["target"] = f"{key} < {target:g}"
                got["met"] = got[key] < target
                out[load][name] = got
                print(f"  {kind} {load:<10} {name:<22} p50 {got['p50_ms']:7.1f} ms  p95 {got['p95_ms']:7.1f} ms  "
                      f"(target {key[:3]} < {target:g} ms) {'met' if got['met'] else 'MISSED'}", flush=True)
            if writer is not None:  # the figures count only if it was still writing when they ended
                out[load]["writer_wrote_throughout"] = writer.poll() is None
                writer.terminate()
                writer.wait(60)
                print(f"  the writer was {'still writing' if out[load]['writer_wrote_throughout'] else 'DONE before'}"
                      " the end of the measurement", flush=True)
    finally:
        proc.terminate()
        proc.wait(20)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--days", type=int, default=0,
                    help="fill this many daily dates instead of --weeks weekly ones (365: a year scored daily)")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--requests", type=int, default=200, help="requests per endpoint and load (after the cold one)")
    ap.add_argument("--stores", default="sqlite", help="sqlite, postgres or sqlite,postgres")
    ap.add_argument("--pg-url", default=os.environ.get("HEALTHSCORE_TEST_PG_URL"))
    ap.add_argument("--out", default=str(HERE / "data" / "web_latency"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--results", default=str(RESULTS), help="where to write the figures")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--reuse", action="store_true", help="measure again on the stores of an earlier run (same sizes)")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    before_load = list(os.getloadavg())
    results = {}
    for kind in args.stores.split(","):
        if kind == "postgres" and not args.pg_url:
            print("postgres skipped: give --pg-url or set HEALTHSCORE_TEST_PG_URL")
            continue
        results[kind] = run_store(kind, args, args.pg_url)
    report = {"benchmark": "web_latency", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "load_average_1_5_15": {"before": before_load, "after": list(os.getloadavg())},
              "params": {"accounts": args.accounts, "weeks": args.weeks, "days": args.days, "clients": args.clients,
                         "requests_per_endpoint": args.requests, "evidence_rows_per_snapshot": 3,
                         "server": f"uvicorn, {args.workers} worker(s)"},
              "targets": {load: f"{key} < {t:g} ms" for load, (key, t) in TARGETS.items()}, "results": results}
    print(json.dumps(report, indent=2))
    if not args.no_save:
        out = Path(args.results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
