"""Golden SQL: the seed-standard model's metrics compiled for each dialect at a fixed as-of date.

A change to the compiler shows up here as a diff of tests/engine/golden/*.sql. When the change is
intended, regenerate the files and review the diff in the commit:

    HEALTHSCORE_UPDATE_GOLDEN=1 python -m pytest tests/engine/test_golden_sql.py
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from healthscore.engine.compile import SQL_DIALECTS, build_expr, dialect_sql, plan_model
from healthscore.model.load import load_health_model
from healthscore.contract import TABLES
from tests.fixtures import canonical_frame, load_into, small_portfolio

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
MODEL = load_health_model(ROOT / "examples" / "seed-standard.yaml")
AS_OF = dt.date(2025, 6, 1)
UPDATE = os.environ.get("HEALTHSCORE_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("dialect", list(SQL_DIALECTS))
def test_golden_sql(dialect):
    path = GOLDEN / f"seed-standard.{dialect}.sql"
    sql = dialect_sql(MODEL.ir, [AS_OF], dialect)
    if UPDATE:
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with HEALTHSCORE_UPDATE_GOLDEN=1 to create it"
    assert sql == path.read_text(encoding="utf-8"), (
        f"the compiled {dialect} SQL differs from {path.name}; if the change is intended, regenerate with"
        " HEALTHSCORE_UPDATE_GOLDEN=1 and review the diff")


def test_golden_sql_is_stable_and_names_every_source():
    assert dialect_sql(MODEL.ir, [AS_OF], "duckdb") == dialect_sql(MODEL.ir, [AS_OF], "duckdb")
    sql = (GOLDEN / "seed-standard.snowflake.sql").read_text()
    for table in {p.source for p in plan_model(MODEL.ir).primitives}:
        assert f'"{table}"' in sql, table
    assert "TIMESTAMP_FROM_PARTS(2025, 6, 1, 0, 0, 0, 0)" in sql  # the as-of date


def attribute_history() -> dict:
    """Subscriptions and attribute changes for the hand-made portfolio (engine/attributes.py):
    A1 renews on 2025-01-01 with more ARR; A2's only term ends on 2025-04-15 (no ARR, no renewal
    after it) and its owner changes on 2025-05-10; A4 moves segment; A3 has no history (today's row)."""
    from tests.fixtures import ts

    subs = [
        dict(account_id="A1", subscription_id="S1", starts_at=ts("2024-01-01"), ends_at=ts("2025-01-01"),
             arr=10000.0, seats=8, plan="Starter", status="ended"),
        dict(account_id="A1", subscription_id="S2", starts_at=ts("2025-01-01"), ends_at=ts("2026-01-01"),
             arr=12000.0, seats=10, plan="Pro", status="active"),
        dict(account_id="A2", subscription_id="S3", starts_at=ts("2024-01-01"), ends_at=ts("2025-04-15"),
             arr=300000.0, seats=15, plan="Enterprise", status="canceled"),
    ]
    changes = [
        dict(account_id="A2", ts=ts("2024-01-01"), field="owner", value="kim"),
        dict(account_id="A2", ts=ts("2025-05-10"), field="owner", value="lee"),
        dict(account_id="A4", ts=ts("2025-05-10 09:30"), field="segment", value="enterprise"),
        dict(account_id="A4", ts=ts("2025-05-01"), field="seats", value="not a number"),  # ignored: not a number
    ]
    return {"subscriptions": canonical_frame("subscriptions", subs),
            "account_changes": canonical_frame("account_changes", changes)}


def load(con) -> None:
    """The hand-made portfolio with its attribute history, and the canonical tables it has no rows for
    created empty."""
    frames = {**small_portfolio(), **attribute_history()}
    for name in TABLES:
        if name not in frames:
            frames[name] = canonical_frame(name, [])
    load_into(con, frames)


def run_golden(con, dialect: str):
    """Execute a golden file on a real engine and compare with what the engine compiles itself."""
    sql = (GOLDEN / f"seed-standard.{dialect}.sql").read_text()
    golden = con.sql(sql).execute()
    expr, _, _ = build_expr(con, MODEL.ir, plan_model(MODEL.ir), [AS_OF])
    own = expr.execute()
    key = ["account_id"]
    golden = golden.sort_values(key, ignore_index=True)
    own = own.sort_values(key, ignore_index=True)[list(golden.columns)]
    assert len(golden) >= 3
    import pandas as pd

    def plain(df):  # None and NaN are both missing (Spark returns None in object columns)
        return df.astype(object).where(df.notna(), None)

    pd.testing.assert_frame_equal(plain(golden), plain(own), check_dtype=False)


def test_golden_duckdb_sql_runs_and_equals_the_engine(tmp_path):
    import ibis

    con = ibis.duckdb.connect()
    load(con)
    run_golden(con, "duckdb")


@pytest.mark.postgres
def test_golden_postgres_sql_runs_and_equals_the_engine(pg_database):
    from healthscore.engine.backend import connect_url

    con = connect_url(pg_database)
    try:
        load(con)
        run_golden(con, "postgres")
    finally:
        con.disconnect()
