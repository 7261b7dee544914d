"""Engine adapters: the SQL each backend emits, capability flags, and round trips on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from healthscore.engine.adapters import adapter_for, open_engine
from healthscore.engine.adapters.base import EngineAdapter
from healthscore.engine.adapters.duckdb import DuckDBAdapter
from healthscore.engine.adapters.postgres import PostgresAdapter
from healthscore.engine.adapters.pyspark import PySparkAdapter
from healthscore.engine.adapters.sql import column, lit, table, template
from healthscore.errors import EngineBusy, UserError
from healthscore.ingest.append import Mark, _exists, _insert_marks, watermarks
from healthscore.workspace import EngineConfig, Workspace, WorkspaceConfig


def _sql(adapter_cls: type[EngineAdapter], expr) -> str:
    return expr.sql(dialect=adapter_cls.dialect)


class _Offline:
    """Stands in for an Ibis backend where only the SQL an adapter builds is looked at."""

    name = "offline"
    con = None


# ---- SQL per dialect ------------------------------------------------------------------------------------


def test_create_like_differs_per_dialect():
    duck, pg = DuckDBAdapter(_Offline()), PostgresAdapter(_Offline())
    assert _sql(DuckDBAdapter, duck.create_like("health_snapshots", table("stage"))) == \
        'CREATE TABLE IF NOT EXISTS "health_snapshots" AS SELECT * FROM "stage" LIMIT 0'
    assert _sql(PostgresAdapter, pg.create_like("health_snapshots", table("stage"))) == \
        'CREATE TABLE IF NOT EXISTS "health_snapshots" (LIKE "stage")'


def test_postgres_locks_the_table_it_appends_to():
    pg = PostgresAdapter(_Offline())
    assert _sql(PostgresAdapter, pg.lock_table('we"ird')) == 'LOCK TABLE "we""ird" IN SHARE ROW EXCLUSIVE MODE'


def test_identifiers_and_literals_are_quoted_by_sqlglot():
    expr = template("SELECT * FROM :t WHERE :c = :v", "duckdb", t=table('a "b"'), c=column("x y"), v=lit("o'k"))
    assert expr.sql(dialect="duckdb") == 'SELECT * FROM "a ""b""" WHERE "x y" = \'o\'\'k\''
    assert lit(None).sql() == "NULL" and lit(True).sql() == "TRUE" and lit(3).sql() == "3"
    assert lit(dt.datetime(2024, 5, 1, 9, 30)).sql(dialect="postgres") == "CAST('2024-05-01 09:30:00' AS TIMESTAMP)"


def test_append_exists_probe_per_dialect():
    probe = _exists("tickets", ["ticket_id", "account_id"], table("stage"), all_ids=True)
    assert probe.sql(dialect="postgres") == (
        's."ticket_id" IN (SELECT t."ticket_id" FROM "tickets" AS t WHERE t."ticket_id" IN'
        ' (SELECT "ticket_id" FROM "stage") AND NOT t."ticket_id" IS NULL)')
    whole = _exists("surveys", ["account_id", "ts", "kind", "score"])
    assert whole.sql(dialect="duckdb") == (
        'EXISTS(SELECT 1 FROM "surveys" AS t WHERE t."account_id" IS NOT DISTINCT FROM s."account_id"'
        ' AND t."ts" IS NOT DISTINCT FROM s."ts" AND t."kind" IS NOT DISTINCT FROM s."kind"'
        ' AND t."score" IS NOT DISTINCT FROM s."score")')


def test_watermark_rows_are_literals():
    insert = _insert_marks("postgres", "tickets", "db#t", [Mark("time", "updated_at", high_water="2024-05-01 00:00:00",
                                                                rows=2)])
    sql = insert.sql(dialect="postgres")
    assert sql.startswith(
        "INSERT INTO \"_healthscore_watermarks\" VALUES ('tickets', 'db#t', 'time', 'updated_at',"
        " NULL, CAST('2024-05-01 00:00:00' AS TIMESTAMP), 2, CAST('"
    )


def test_capabilities():
    assert DuckDBAdapter.transactions and DuckDBAdapter.single_writer_file and DuckDBAdapter.reads_files
    assert DuckDBAdapter.keeps_appended_rows and DuckDBAdapter.supports_try_cast
    assert not DuckDBAdapter.index_probes_subqueries and not DuckDBAdapter.locks_tables
    assert PostgresAdapter.transactions and PostgresAdapter.transactional_ddl and PostgresAdapter.locks_tables
    assert PostgresAdapter.index_probes_subqueries and not PostgresAdapter.single_writer_file
    assert not PySparkAdapter.transactions and not PySparkAdapter.reads_files


# ---- round trips ----------------------------------------------------------------------------------------


def test_round_trip(engine):
    adapter = adapter_for(engine)
    assert type(adapter) is {"duckdb": DuckDBAdapter, "postgres": PostgresAdapter}[engine.name]
    rows = pa.table({"id": ["a", "b"], "n": [1, 2]})
    adapter.replace_table("t1", rows)
    assert adapter.has_table("t1") and not adapter.has_table("nope")
    assert adapter.columns("t1") == ["id", "n"]
    adapter.replace_table("t1", rows.slice(0, 1))  # replaced, not appended
    assert adapter.fetch_arrow(adapter.sql(template("SELECT id FROM :t", adapter.dialect, t=table("t1")))).column(
        "id"
    ).to_pylist() == ["a"]

    with pytest.raises(RuntimeError), adapter.staged(rows, "hs_test") as stage, adapter.transaction() as tx:
        tx.execute(adapter.create_like("t2", stage))
        inserted = tx.execute(template("INSERT INTO :t SELECT * FROM :s", adapter.dialect, t=table("t2"), s=stage))
        assert inserted == 2
        raise RuntimeError("rolled back")
    assert not adapter.has_table("t2")  # transactional DDL: the table went with the rollback
    assert not [t for t in adapter.list_tables() if t.startswith("hs_test")]  # the stage is gone

    adapter.create_empty_table("ids", {"account_id": "string"})
    adapter.replace_rows("ids", pa.table({"account_id": ["x", "y"]}))
    adapter.replace_rows("ids", pa.table({"account_id": ["z"]}))
    assert adapter.fetchall(template("SELECT account_id FROM :t", adapter.dialect, t=table("ids"))) == [("z",)]
    assert watermarks(adapter) == []


def test_duckdb_bulk_tuning_is_restored(tmp_path):
    import ibis

    adapter = adapter_for(ibis.duckdb.connect(str(tmp_path / "e.duckdb")))
    before = {n: adapter.setting(n) for n in ("TimeZone", "preserve_insertion_order", "memory_limit")}
    with adapter.bulk_tuning(tmp_path / "spill"):
        assert adapter.setting("TimeZone") == "UTC"
        assert adapter.setting("preserve_insertion_order") is False
    assert {n: adapter.setting(n) for n in before} == before
    previous = adapter.set_threads(1)
    assert adapter.setting("threads") == 1
    adapter.reset_threads(previous)
    assert adapter.setting("threads") == previous


def _workspace(root: Path) -> Workspace:
    return Workspace(root=root, config=WorkspaceConfig(engine=EngineConfig(path=str(root / "engine.duckdb"))))


def test_open_raises_engine_busy_while_another_process_holds_the_file(tmp_path):
    ws = _workspace(tmp_path)
    open_engine(ws).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time, duckdb
            con = duckdb.connect({str(tmp_path / "engine.duckdb")!r})
            print("holding", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(EngineBusy, match="in use by process"):
            open_engine(ws, lock_timeout=0)
    finally:
        holder.kill()
        holder.wait()
    adapter = open_engine(ws, lock_timeout=5)  # free again
    assert isinstance(adapter, DuckDBAdapter)
    adapter.close()


def test_postgres_needs_a_url(tmp_path):
    ws = Workspace(root=tmp_path, config=WorkspaceConfig(engine=EngineConfig(backend="postgres")))
    with pytest.raises(UserError, match="engine.url is required"):
        open_engine(ws)
