"""Benchmark: the same portfolio scored on DuckDB, PostgreSQL and local Spark (docs/scale.md).

    .venv/bin/python benchmarks/engines.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/engines.py --accounts 500 --no-spark --no-save     # a quick check

The demo generator writes a portfolio (--accounts accounts, 18 months); it is ingested into DuckDB
and the canonical tables are copied, as they are, into a fresh PostgreSQL database and into the
catalog of a local Spark session (local[N], N = --spark-cores). On each engine the seed-standard
model is computed and scored for one as-of date and for 13 weekly dates in one query; the
snapshots of every engine are checked against DuckDB's (score, tier, status to 1e-6). Load times
are the copy of the tables into the engine. Results go to benchmarks/results/engines.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
RESULTS = HERE / "results" / "engines.json"
END = dt.date(2026, 11, 1)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 2)


def score(con, model, dates):
    from healthscore.engine.compile import compute_frame
    from healthscore.scoring.score import score_frame

    frame, plan, missing = compute_frame(con, model.ir, dates)
    frames = score_frame(model.ir, model.version, plan, frame, missing)
    return frames.snapshots


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--pg-url", default=os.environ.get("HEALTHSCORE_TEST_PG_URL"))
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--spark-cores", type=int, default=2)
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args()

    import ibis
    import numpy as np

    from healthscore.demo.generate import generate_portfolio
    from healthscore.engine.backend import connect_spark, connect_url
    from healthscore.model.load import load_health_model
    from healthscore.project import Project
    from healthscore.scaffold import EXAMPLES_DIR, demo_config

    model = load_health_model(EXAMPLES_DIR / "seed-standard.yaml")
    one = [END]
    weekly = [END - dt.timedelta(days=7 * i) for i in range(12, -1, -1)]
    tmp = Path(tempfile.mkdtemp(prefix="hs-engines-"))
    result: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
                    "accounts": a.accounts, "months": 18, "as_of": END.isoformat(), "engines": {}}
    try:
        ws = tmp / "ws"
        (ws / "models").mkdir(parents=True)
        shutil.copyfile(EXAMPLES_DIR / "seed-standard.yaml", ws / "models" / "health.yaml")
        counts, result["generate_s"] = timed(lambda: generate_portfolio(ws / "data", accounts=a.accounts, months=18, end=END))
        result["rows"] = counts
        files = {t: f"data/{sorted((ws / 'data').glob(f'{t}.*'))[0].name}" for t in counts}
        (ws / "healthscore.yaml").write_text(demo_config(files) + "store: sqlite:///store.db\n")
        with Project(ws) as p:
            _, result["ingest_duckdb_s"] = timed(p.ingest)
        duck = ibis.duckdb.connect(str(ws / ".healthscore" / "engine.duckdb"), read_only=True)
        tables = {name: duck.table(name).to_pyarrow() for name in duck.list_tables() if not name.startswith("_")}
        result["rows_in_engine"] = {k: v.num_rows for k, v in tables.items()}
        engines = [("duckdb", lambda: duck, None)]
        if a.pg_url:
            import psycopg

            db = f"hs_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(a.pg_url, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{db}"')
            pg_url = a.pg_url.rsplit("/", 1)[0] + "/" + db
            engines.append(("postgres", lambda: connect_url(pg_url), db))
        if not a.no_spark:
            engines.append(("pyspark", lambda: connect_spark({"spark.master": f"local[{a.spark_cores}]",
                                                                "spark.driver.memory": "2g"}, tmp / "warehouse"), None))
        reference = None
        for name, connect, db in engines:
            con, start_s = timed(connect)
            entry: dict = {"connect_s": start_s}
            if name != "duckdb":
                from healthscore.ingest.load import _write_table

                def load():
                    for t, data in tables.items():
                        _write_table(con, t, data)

                _, entry["load_s"] = timed(load)
            score(con, model, one)  # warm-up (Spark: JIT, catalog)
            snaps1, entry["score_1_date_s"] = timed(lambda: score(con, model, one))
            snaps13, entry["score_13_dates_s"] = timed(lambda: score(con, model, weekly))
            entry["snapshots_13_dates"] = len(snaps13)
            key = ["account_id", "as_of"]
            s = snaps13.sort_values(key, ignore_index=True)[key + ["score", "tier", "status"]]
            if reference is None:
                reference = s
            else:
                same = (len(s) == len(reference) and (s[["account_id", "tier", "status"]].fillna("-")
                        == reference[["account_id", "tier", "status"]].fillna("-")).all().all()
                        and np.allclose(s["score"].astype(float), reference["score"].astype(float), atol=1e-6,
                                        equal_nan=True))
                entry["same_snapshots_as_duckdb"] = bool(same)
            result["engines"][name] = entry
            print(name, json.dumps(entry), flush=True)
            if name == "postgres":
                con.disconnect()
                import psycopg

                with psycopg.connect(a.pg_url, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        duck.disconnect()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    if not a.no_save:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
