"""Sources that are a SQL query (``sql:``): joins, constants, unions and aggregates over the workspace's
files and canonical tables, validated and quarantined like a file; anything but a read is refused."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from healthscore.engine.backend import connect
from healthscore.errors import UserError
from healthscore.ingest.load import QUARANTINE_COLUMNS, TableReport, ingest_workspace
from healthscore.ingest.sql_source import lock_down
from healthscore.workspace import EngineConfig, SourceConfig, Workspace, WorkspaceConfig

ACCOUNTS = "account_id,account_name\nA1,Acme\nA2,Beta\nA3,Gamma\n"
SUBSCRIPTIONS = (
    "subscription_id,account_id,start_date,end_date,arr_amount\n"
    "S1,A1,2024-01-01,2025-01-01,1000\nS2,A1,2024-06-01,,500\nS3,A2,2024-02-01,2025-02-01,300\n"
)
USAGE = (
    "usage_id,subscription_id,usage_date,feature_name,usage_count\n"
    "U1,S1,2024-03-01,export,3\nU2,S3,2024-03-02,search,1\nU3,S2,2024-07-01,export,2\nU4,S9,2024-07-02,search,1\n"
)
CHURN = "churn_event_id,account_id,churn_date,refund\nC1,A2,2025-02-01,10\nC2,A3,not a date,0\n"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def workspace(root: Path, sources: dict) -> Workspace:
    for rel, text in {"data/accounts.csv": ACCOUNTS, "data/subscriptions.csv": SUBSCRIPTIONS,
                      "data/usage.csv": USAGE, "data/churn.csv": CHURN}.items():
        write(root, rel, text)
    config = WorkspaceConfig(engine=EngineConfig(path=str(root / "engine.duckdb")), sources=sources)
    return Workspace(root=root, config=config)


ACCOUNTS_SQL = {"sql": "SELECT account_id, account_name AS name FROM read_csv('data/accounts.csv')"}
SUBSCRIPTIONS_SQL = {"sql": """
    SELECT subscription_id, account_id, start_date AS starts_at, end_date AS ends_at, arr_amount AS arr
    FROM read_csv('data/subscriptions.csv')"""}


def run(ws: Workspace, **kw) -> tuple[object, dict[str, TableReport]]:
    con = connect(ws)
    reports = ingest_workspace(ws, con, **kw)
    for r in reports:
        assert r.read == r.accepted + r.quarantined
        assert list(r.quarantine.columns) == QUARANTINE_COLUMNS
    return con, {r.table: r for r in reports}


def rows(con, table: str, order: str) -> list[dict]:
    return sorted(con.table(table).to_pyarrow().to_pylist(), key=lambda r: r[order])


def test_join_through_another_canonical_table_and_quarantine_of_its_rows(tmp_path):
    # usage rows carry subscription_id; the account comes through the subscriptions table, ingested first
    # even though it is listed after usage_events.
    ws = workspace(tmp_path, {
        "accounts": ACCOUNTS_SQL,
        "usage_events": {"sql": """
            SELECT u.usage_id AS event_id, s.account_id, u.usage_date AS ts, u.feature_name AS event,
                   u.usage_count AS quantity
            FROM read_csv('data/usage.csv') AS u LEFT JOIN subscriptions AS s USING (subscription_id)
            ORDER BY u.usage_id"""},
        "subscriptions": SUBSCRIPTIONS_SQL,
    })
    con, reports = run(ws)
    assert [r.table for r in reports.values()] == ["accounts", "subscriptions", "usage_events"]
    usage = reports["usage_events"]
    assert (usage.read, usage.accepted, usage.quarantined) == (4, 3, 1)
    bad = usage.quarantine.iloc[0].to_dict()
    assert bad["file"] == "sources.usage_events.sql" and bad["line"] == 4 and bad["column"] == "account_id"
    assert "missing" in bad["reason"] and bad["raw"]["event_id"] == "U4"
    assert [(r["event_id"], r["account_id"], r["quantity"]) for r in rows(con, "usage_events", "event_id")] == [
        ("U1", "A1", 3.0), ("U2", "A2", 1.0), ("U3", "A1", 2.0)]
    assert usage.source.startswith("sql: SELECT u.usage_id")


def test_constant_and_bad_values_from_a_query_are_quarantined_with_reasons(tmp_path):
    # churn events have no outcome kind: the query sets it; a date that does not parse is quarantined
    ws = workspace(tmp_path, {
        "accounts": ACCOUNTS_SQL,
        "outcomes": {"sql": """
            SELECT account_id, churn_date AS ts, 'churned' AS kind, -refund AS arr_change
            FROM read_csv('data/churn.csv', all_varchar = false)"""},
    })
    con, reports = run(ws)
    out = reports["outcomes"]
    assert (out.accepted, out.quarantined) == (1, 1)
    bad = out.quarantine.iloc[0].to_dict()
    assert bad["column"] == "ts" and "'not a date' is not a date/time" in bad["reason"] and bad["line"] == 2
    assert [(r["account_id"], r["kind"], r["arr_change"]) for r in rows(con, "outcomes", "account_id")] == [
        ("A2", "churned", -10.0)]


def test_union_and_aggregate(tmp_path):
    ws = workspace(tmp_path, {
        "accounts": {"sql": """
            WITH arr AS (SELECT account_id, sum(arr_amount) AS arr, count(*) AS seats
                         FROM read_csv('data/subscriptions.csv') GROUP BY account_id)
            SELECT a.account_id, a.account_name AS name, coalesce(arr.arr, 0) AS arr, arr.seats
            FROM read_csv('data/accounts.csv') AS a LEFT JOIN arr USING (account_id)"""},
        "signals": {"sql": """
            SELECT account_id, DATE '2024-12-31' AS ts, 'subscriptions' AS name, count(*) AS value
            FROM read_csv('data/subscriptions.csv') GROUP BY account_id
            UNION ALL
            SELECT account_id, DATE '2024-12-31', 'usage', sum(usage_count)
            FROM read_csv('data/usage.csv') JOIN subscriptions USING (subscription_id) GROUP BY account_id"""},
        "subscriptions": SUBSCRIPTIONS_SQL,
    })
    con, reports = run(ws)
    assert [(r["account_id"], r["arr"], r["seats"]) for r in rows(con, "accounts", "account_id")] == [
        ("A1", 1500.0, 2), ("A2", 300.0, 1), ("A3", 0.0, None)]
    got = sorted((r["account_id"], r["name"], r["value"]) for r in rows(con, "signals", "account_id"))
    assert got == [("A1", "subscriptions", 2.0), ("A1", "usage", 5.0), ("A2", "subscriptions", 1.0),
                   ("A2", "usage", 1.0)]
    assert reports["signals"].quarantined == 0


@pytest.mark.parametrize("query, says", [
    ("CREATE TABLE t AS SELECT 1", "only a SELECT"),
    ("DROP TABLE accounts", "only a SELECT"),
    ("SELECT 'A1' AS account_id INTO copied", "only a SELECT"),
    ("INSERT INTO accounts VALUES ('x')", "only a SELECT"),
    ("ATTACH 'other.duckdb'", "only a SELECT"),
    ("COPY (SELECT 1) TO 'out.csv'", "only a SELECT"),
    ("INSTALL httpfs", "only a SELECT"),
    ("LOAD httpfs", "only a SELECT"),
    ("SELECT 1; DROP TABLE accounts", "one SELECT query, not 2 statements"),
    ("SELECT * FROM query('DROP TABLE accounts')", "table function query() is not allowed"),
    ("SELECT * FROM raw_usage", "'raw_usage' is neither a canonical table"),
    ("SELECT account_id FROM", "not valid SQL"),
    ("SELECT * FROM read_csv(getenv('HOME'))", "takes the file's path as a string"),
])
def test_anything_but_a_read_is_refused_when_the_workspace_is_read(query, says):
    with pytest.raises(ValidationError) as info:
        WorkspaceConfig(sources={"accounts": {"sql": query}})
    text = str(info.value)
    assert "sources.accounts" in text and says in text


def test_sql_takes_no_path_adapter_or_format():
    with pytest.raises(ValidationError, match="exactly one of"):
        SourceConfig(sql="SELECT 1 AS account_id", path="data/a.csv")
    with pytest.raises(ValidationError, match="takes no 'adapter'"):
        SourceConfig(sql="SELECT 1 AS account_id", format="csv")


def test_a_query_that_fails_at_run_time_is_a_clear_error(tmp_path):
    query = "SELECT account_id, no_such_column FROM read_csv('data/accounts.csv')"
    ws = workspace(tmp_path, {"accounts": {"sql": query}})
    with pytest.raises(UserError) as info:
        run(ws)
    assert "sources.accounts.sql: the query failed" in str(info.value) and "no_such_column" in str(info.value)
    assert info.value.field == "sources.accounts.sql"
    ws = workspace(tmp_path, {"accounts": {"sql": "SELECT * FROM read_csv('data/missing.csv')"}})
    with pytest.raises(UserError, match="sources.accounts.sql: the query failed"):
        run(ws)


def test_a_query_reading_a_table_that_is_not_there_names_it(tmp_path):
    ws = workspace(tmp_path, {"accounts": ACCOUNTS_SQL, "usage_events": {"sql": """
        SELECT usage_id AS event_id, account_id, usage_date AS ts, feature_name AS event
        FROM read_csv('data/usage.csv') JOIN subscriptions USING (subscription_id)"""}})
    with pytest.raises(UserError, match="reads subscriptions, which is not in the engine; add sources.subscriptions"):
        run(ws)


def test_the_query_reads_only_the_directories_it_names(tmp_path, monkeypatch):
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    write(outside, "secret.csv", "account_id\nX\n")
    monkeypatch.setenv("HS_TEST_OUTSIDE", str(outside))  # a directory it names (${VAR} expanded) is readable
    ws = workspace(tmp_path, {"accounts": {"sql": "SELECT * FROM read_csv('${HS_TEST_OUTSIDE}/secret.csv')"}})
    _, reports = run(ws)
    assert reports["accounts"].accepted == 1
    monkeypatch.delenv("HS_TEST_OUTSIDE")
    with pytest.raises(UserError, match=r"the environment variable \$\{HS_TEST_OUTSIDE\} in .* is not set"):
        run(ws)
    # a path computed at run time is refused when the workspace is read ...
    with pytest.raises(ValidationError, match="takes the file's path as a string"):
        SourceConfig(sql="SELECT * FROM read_csv(concat('/etc', '/hostname'))")
    # ... and the connection the query runs in cannot read anywhere else
    from healthscore.engine.adapters.duckdb import LocalDuckDB

    con = LocalDuckDB()
    try:
        lock_down(con, [str(tmp_path)])
        assert con.fetchall(f"SELECT count(*) FROM read_csv('{tmp_path}/data/accounts.csv')") == [(3,)]
        with pytest.raises(Exception, match="(?i)permission|not allowed|disabled"):
            con.fetchall(f"SELECT * FROM read_csv('{outside}/secret.csv')")
        with pytest.raises(Exception, match="(?i)lock|configuration"):
            con.fetchall("SET enable_external_access = true")
    finally:
        con.close()



PG_URL = os.environ.get("HEALTHSCORE_TEST_PG_URL")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="HEALTHSCORE_TEST_PG_URL not set: PostgreSQL tests skipped")
def test_on_a_postgres_engine_the_query_runs_locally_and_reads_canonical_tables_from_the_engine(tmp_path):
    import psycopg
    from psycopg import sql

    assert PG_URL is not None
    schema = f"hs_sql_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            ws = workspace(tmp_path, {"accounts": ACCOUNTS_SQL, "subscriptions": SUBSCRIPTIONS_SQL, "usage_events": {
                "sql": "SELECT u.usage_id AS event_id, s.account_id, u.usage_date AS ts, u.feature_name AS event"
                       " FROM read_csv('data/usage.csv') AS u JOIN subscriptions AS s USING (subscription_id)"}})
            ws.config.engine = EngineConfig(backend="postgres", url=f"{PG_URL.rstrip('/')}/{schema}")
            con, reports = run(ws)
            try:
                assert reports["usage_events"].accepted == 3
                assert sorted(r["account_id"] for r in con.table("usage_events").to_pyarrow().to_pylist()) == [
                    "A1", "A1", "A2"]
            finally:
                con.disconnect()
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


REPO = Path(__file__).resolve().parents[2]
# the third-party data sets sit beside the repository (../shared/datasets), never inside it
DATASETS = Path(os.environ.get("HEALTHSCORE_DATASETS", REPO.parent / "shared" / "datasets"))
RAVENSTACK = DATASETS / "ravenstack"
EXAMPLE = REPO / "examples" / "ravenstack"


@pytest.mark.skipif(not RAVENSTACK.is_dir(), reason=f"the RavenStack data set is not at {DATASETS} (HEALTHSCORE_DATASETS)")
def test_the_ravenstack_example_validates_ingests_and_scores_every_account(tmp_path):
    """examples/ravenstack maps the third-party data set with healthscore.yaml alone: every one of its
    500 accounts is scored or listed as excluded with a reason, and under 1% of any table is quarantined."""
    import json

    import yaml

    from tests.cli.runner import invoke

    config = yaml.safe_load((EXAMPLE / "healthscore.yaml").read_text())
    config["model"] = str((EXAMPLE / config["model"]).resolve())  # the shipped model, read where it is
    (tmp_path / "healthscore.yaml").write_text(yaml.safe_dump(config))
    env = {"RAVENSTACK_DATA": str(RAVENSTACK)}

    def ok(*args: str) -> str:
        proc = invoke(*args, "-w", str(tmp_path), env=env)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        return proc.stdout

    ok("validate")
    tables = {t["table"]: t for t in json.loads(ok("ingest", "--json"))["tables"]}
    assert set(tables) == {"accounts", "subscriptions", "usage_events", "tickets", "outcomes"}
    assert tables["accounts"]["accepted"] == 500
    for t in tables.values():
        assert t["quarantined"] <= 0.01 * t["read"], t
    snapshots = [json.loads(line) for line in ok("score", "--json").splitlines()]  # data_as_of: 2025-01-01
    assert {s["as_of"] for s in snapshots} == {"2025-01-01"}
    excluded = [json.loads(line) for line in
                ok("score", "--as-of", "2025-01-01", "--excluded", "--json", "--no-store").splitlines()]
    scored = {s["account_id"] for s in snapshots}
    assert all(e["reason"] for e in excluded)
    assert len(scored) + len(excluded) == 500 and not scored & {e["account_id"] for e in excluded}
