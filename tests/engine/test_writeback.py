"""Write-back: snapshots and evidence as engine tables (health_snapshots, health_evidence), idempotent."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from healthscore.errors import UserError
from healthscore.project import Project
from tests.fixtures import small_portfolio, write_ungated_model

ROOT = Path(__file__).resolve().parents[2]
JUNE, MAY = dt.date(2025, 6, 1), dt.date(2025, 5, 15)


def make_ws(root: Path, engine: dict, write_back: bool = False) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "models").mkdir()
    write_ungated_model(ROOT / "examples" / "seed-standard.yaml", root / "models" / "health.yaml")
    sources = {}
    for table, df in small_portfolio().items():
        df.to_csv(root / "data" / f"{table}.csv", index=False)
        sources[table] = {"path": f"data/{table}.csv"}
    cfg = {"engine": engine, "sources": sources, "write_back": write_back}
    (root / "healthscore.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    with Project(root) as p:
        p.ingest()
    return root


def q(p: Project, sql: str) -> list[tuple]:
    t = p.con.sql(sql).to_pyarrow()
    return list(zip(*[c.to_pylist() for c in t.columns]))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_cfg(request):
    if request.param == "duckdb":
        return {"backend": "duckdb", "path": ".healthscore/engine.duckdb"}
    return {"backend": "postgres", "url": request.getfixturevalue("pg_database")}


def test_write_back_tables_match_the_snapshots_and_are_idempotent(tmp_path, engine_cfg):
    root = make_ws(tmp_path, engine_cfg, write_back=True)
    with Project(root) as p:
        run = p.score(as_of_dates=[MAY, JUNE])
        snaps = {(s["account_id"], s["as_of"]): s for s in run.snapshots}
        assert run.written_back == len(snaps) >= 5
        rows = q(
            p, "SELECT account_id, CAST(as_of AS VARCHAR), model_version, score, tier, status FROM health_snapshots"
        )
        assert len(rows) == len(snaps)
        for acc, as_of, version, score, tier, status in rows:
            s = snaps[(acc, as_of)]
            assert (version, tier, status) == (s["model_version"], s["tier"], s["status"])
            assert score == pytest.approx(s["score"]) if s["score"] is not None else score is None
        # evidence adds up to the score in SQL, as in the snapshot
        sums = q(
            p,
            """SELECT s.account_id, s.score, sum(e.points) FROM health_snapshots s
                       JOIN health_evidence e USING (account_id, as_of, model_version)
                       WHERE s.status = 'scored' GROUP BY s.account_id, s.as_of, s.score""",
        )
        assert len(sums) >= 3
        for _, score, points in sums:
            assert points == pytest.approx(score, abs=0.01)
        n_evidence = q(p, "SELECT count(*) FROM health_evidence")[0][0]
        assert n_evidence == sum(len(s["evidence"]) for s in snaps.values())
        # BI joins with the customer's own tables
        joined = q(
            p,
            "SELECT a.name, h.tier FROM health_snapshots h JOIN accounts a USING (account_id)"
            " WHERE h.as_of = DATE '2025-06-01' AND h.account_id = 'A1'",
        )
        assert joined == [("Acme", snaps[("A1", "2025-06-01")]["tier"])]
        # scoring the same dates again replaces, never duplicates
        again = p.score(as_of_dates=[JUNE])
        assert again.written_back == sum(1 for k in snaps if k[1] == "2025-06-01")
        assert q(p, "SELECT count(*) FROM health_snapshots")[0][0] == len(snaps)
        assert q(p, "SELECT count(*) FROM health_evidence")[0][0] == n_evidence
        assert q(p, "SELECT count(*) FROM (SELECT DISTINCT account_id, as_of, model_version FROM health_snapshots) x")[
            0
        ][0] == len(snaps)


def test_write_back_is_off_by_default_and_backfill_writes_dates_stored_before(tmp_path):
    root = make_ws(tmp_path, {"backend": "duckdb", "path": ".healthscore/engine.duckdb"})
    with Project(root) as p:
        p.backfill(dt.date(2025, 5, 4), JUNE, 7)
        assert "health_snapshots" not in p.con.list_tables()
        stored = len(p.store.snapshots(date_from=dt.date(2025, 5, 4), date_to=JUNE, with_evidence=False))
        result = p.backfill(dt.date(2025, 5, 4), dt.date(2025, 6, 8), 7, write_back=True)
        assert result["scored_dates"] == 1 and result["already_stored"] == 5
        total = q(p, "SELECT count(*) FROM health_snapshots")[0][0]
        assert result["written_back"] == total > stored
        assert q(p, "SELECT count(DISTINCT as_of) FROM health_snapshots")[0][0] == 6


@pytest.mark.slow
def test_cli_score_write_back_flag(tmp_path):
    root = make_ws(tmp_path, {"backend": "duckdb", "path": ".healthscore/engine.duckdb"})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

    def score(*flags):
        proc = subprocess.run(
            [sys.executable, "-m", "healthscore", "score", "-w", str(root), "--as-of", "2025-06-01", "--json", *flags],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    score()
    with Project(root) as p:
        assert "health_snapshots" not in p.con.list_tables()
    snaps = score("--write-back")
    score("--write-back")
    with Project(root) as p:
        assert q(p, "SELECT count(*) FROM health_snapshots")[0][0] == len(snaps)


def test_write_back_needs_a_transactional_engine():
    from healthscore.engine.writeback import write_back

    class Fake:
        name = "pyspark"

    with pytest.raises(UserError, match="write-back needs a DuckDB or PostgreSQL engine"):
        write_back(Fake(), [])
