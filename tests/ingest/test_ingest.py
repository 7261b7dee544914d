"""Ingestion: sources validated against the contract, good rows loaded, bad rows quarantined."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthscore.engine.backend import connect
from healthscore.errors import UserError
from healthscore.ingest.load import QUARANTINE_COLUMNS, TableReport, ingest_workspace
from healthscore.workspace import EngineConfig, Workspace, WorkspaceConfig

ACCOUNTS_CSV = """account_id,name,segment,arr,seats,created_at,renewal_date
A1,Acme,enterprise,120000.5,40,2023-01-15,2025-01-15
A2,Beta,smb,9000,5,2023-06-01T00:00:00Z,2024-06-01
A3,Gamma,mid,0,,2023-03-01 08:00:00,
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_ws(root: Path, sources: dict, engine: EngineConfig | None = None) -> Workspace:
    engine = engine or EngineConfig(path=str(root / "engine.duckdb"))
    return Workspace(root=root, config=WorkspaceConfig(engine=engine, sources=sources))


def run(ws: Workspace, con=None, **kw) -> tuple[object, dict[str, TableReport]]:
    con = con or connect(ws)
    reports = ingest_workspace(ws, con, **kw)
    for r in reports:
        assert r.read == r.accepted + r.quarantined
        assert len(r.quarantine) == r.quarantined
        assert list(r.quarantine.columns) == QUARANTINE_COLUMNS
    return con, {r.table: r for r in reports}


def rows(con, table: str) -> list[dict]:
    return con.table(table).to_pyarrow().to_pylist()


def only(report: TableReport) -> dict:
    assert report.quarantined == 1, report.quarantine.to_dict("records")
    return report.quarantine.iloc[0].to_dict()


@pytest.fixture
def ws_events(tmp_path):
    """accounts + usage_events as CSV; the test writes data/events.csv."""
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)

    def make(events: str, **src) -> Workspace:
        write(tmp_path, "data/events.csv", events)
        return make_ws(
            tmp_path,
            {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events.csv", **src}},
        )

    return make


# --------------------------------------------------------------------------------------------
# Good rows


def test_good_rows_load_with_canonical_types(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    write(
        tmp_path,
        "data/tickets.csv",
        "ticket_id,account_id,opened_at,closed_at,priority,status,escalated,reopened,csat,ces,sla_met\n"
        "T1,A1,2024-05-01T09:30:00Z,2024-05-02,high,closed,true,NO,4.5,2,1\n"
        "T2, A2 ,2024-05-03,,low,open,False,yes,,,0\n",
    )
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "tickets": {"path": "data/tickets.csv"}})
    con, reports = run(ws)
    assert [r.table for r in reports.values()] == ["accounts", "tickets"]
    assert (reports["accounts"].read, reports["accounts"].accepted) == (3, 3)
    assert (reports["tickets"].read, reports["tickets"].accepted) == (2, 2)

    schema = con.table("accounts").schema()
    assert list(schema.names) == [
        "account_id", "name", "segment", "owner", "arr", "plan", "seats", "created_at", "renewal_date", "parent_id"
    ]
    assert str(schema["arr"]) == "float64" and str(schema["seats"]) == "int64"
    assert schema["created_at"].is_timestamp() and schema["created_at"].timezone is None
    assert schema["owner"].is_string()  # absent optional column: typed NULLs
    accounts = {r["account_id"]: r for r in rows(con, "accounts")}
    assert accounts["A1"]["arr"] == 120000.5 and accounts["A1"]["seats"] == 40
    assert accounts["A1"]["created_at"] == dt.datetime(2023, 1, 15)
    assert accounts["A3"]["seats"] is None and accounts["A3"]["renewal_date"] is None
    assert accounts["A3"]["created_at"] == dt.datetime(2023, 3, 1, 8, 0)
    assert accounts["A1"]["owner"] is None

    tschema = con.table("tickets").schema()
    assert tschema["escalated"].is_boolean() and tschema["csat"].is_floating()
    tickets = rows(con, "tickets")
    assert tickets[0] == {
        "ticket_id": "T1", "account_id": "A1", "opened_at": dt.datetime(2024, 5, 1, 9, 30),
        "closed_at": dt.datetime(2024, 5, 2), "priority": "high", "status": "closed", "escalated": True,
        "reopened": False, "csat": 4.5, "ces": 2.0, "sla_met": True, "subject": None, "subject_sentiment": None,
    }
    assert tickets[1]["account_id"] == "A2"  # trimmed
    assert (tickets[1]["escalated"], tickets[1]["reopened"], tickets[1]["sla_met"]) == (False, True, False)
    assert tickets[1]["csat"] is None and tickets[1]["closed_at"] is None


def test_default_applies_to_empty_and_absent_values(ws_events, tmp_path):
    ws = ws_events("account_id,ts,event,quantity\nA1,2024-05-01,login,\nA1,2024-05-01,login,2.5\n")
    con, reports = run(ws)
    assert [r["quantity"] for r in rows(con, "usage_events")] == [1.0, 2.5]
    write(tmp_path, "data/events.csv", "account_id,ts,event\nA1,2024-05-01,login\n")
    con, reports = run(ws, con)
    assert rows(con, "usage_events")[0]["quantity"] == 1.0
    assert rows(con, "usage_events")[0]["event_id"] is None


def test_iso_z_and_offsets_become_naive_utc(ws_events):
    ws = ws_events(
        "account_id,ts,event\n"
        "A1,2024-05-01T09:30:00Z,a\n"
        "A1,2024-05-01T09:30:00+02:00,b\n"
        "A1,2024-05-01T23:30:00-05:00,c\n"
        "A1,2024-05-01 09:30:00,d\n"
        "A1,2024-05-01,e\n"
        "A1,2024-05-01T09:30:00.250Z,f\n"
    )
    con, reports = run(ws)
    assert reports["usage_events"].accepted == 6
    got = {r["event"]: r["ts"] for r in rows(con, "usage_events")}
    assert got == {
        "a": dt.datetime(2024, 5, 1, 9, 30),
        "b": dt.datetime(2024, 5, 1, 7, 30),
        "c": dt.datetime(2024, 5, 2, 4, 30),
        "d": dt.datetime(2024, 5, 1, 9, 30),
        "e": dt.datetime(2024, 5, 1),
        "f": dt.datetime(2024, 5, 1, 9, 30, 0, 250000),
    }
    assert con.table("usage_events").schema()["ts"].timezone is None


# --------------------------------------------------------------------------------------------
# Unknown and missing columns


def test_unknown_columns_error_names_file_columns_and_fixes(ws_events):
    ws = ws_events("account_id,ts,event,browser,os\nA1,2024-05-01,login,ff,linux\n")
    con = connect(ws)
    with pytest.raises(UserError) as exc:
        ingest_workspace(ws, con)
    msg = str(exc.value)
    assert "data/events.csv" in msg
    assert "'browser'" in msg and "'os'" in msg
    assert "account_id, ts, event, user_id, quantity, event_id" in msg  # the allowed columns
    assert "sources.usage_events.columns" in msg
    assert "extra_columns: ignore" in msg
    # the header check runs before anything is written: not even accounts was loaded
    assert "accounts" not in con.list_tables()


def test_unknown_columns_ignored_with_a_warning(ws_events):
    ws = ws_events("account_id,ts,event,browser\nA1,2024-05-01,login,ff\n", extra_columns="ignore")
    con, reports = run(ws)
    report = reports["usage_events"]
    assert (report.read, report.accepted, report.quarantined) == (1, 1, 0)
    assert any("browser" in w and "data/events.csv" in w for w in report.warnings)
    assert "browser" not in con.table("usage_events").columns


def test_missing_required_column_is_an_error(ws_events):
    ws = ws_events("account_id,event\nA1,login\n")
    with pytest.raises(UserError) as exc:
        run(ws)
    assert "data/events.csv" in str(exc.value) and "ts" in str(exc.value)


def test_no_file_matches_names_the_key_and_pattern(tmp_path):
    ws = make_ws(tmp_path, {"usage_events": {"path": "data/missing-*.csv"}})
    with pytest.raises(UserError) as exc:
        run(ws)
    assert "sources.usage_events.path" in str(exc.value) and "data/missing-*.csv" in str(exc.value)


def test_column_map(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    write(
        tmp_path,
        "data/nps.csv",
        "Customer,Answered At,Type,Score,Comment\nA1,2024-05-01,nps,9,great\nA2,2024-05-02,nps,abc,\n",
    )
    ws = make_ws(
        tmp_path,
        {
            "accounts": {"path": "data/accounts.csv"},
            "surveys": {
                "path": "data/nps.csv",
                "columns": {
                    "Customer": "account_id",
                    "Answered At": "ts",
                    "Type": "kind",
                    "Score": "score",
                    "Comment": "comment",
                },
            },
        },
    )
    con, reports = run(ws)
    assert rows(con, "surveys") == [
        {
            "account_id": "A1",
            "ts": dt.datetime(2024, 5, 1),
            "kind": "nps",
            "score": 9.0,
            "comment": "great",
            "respondent": None,
            "comment_sentiment": pytest.approx(0.6249, abs=1e-3),
        }
    ]
    bad = only(reports["surveys"])
    assert bad["column"] == "score" and bad["line"] == 3 and bad["value"] == "abc"
    assert "score" in bad["reason"] and "'abc' is not a number" in bad["reason"] and "Score" in bad["reason"]
    assert bad["raw"]["Score"] == "abc" and bad["raw"]["Customer"] == "A2"  # the source's own names


# --------------------------------------------------------------------------------------------
# Bad rows: each quarantined with its column and reason, counts add up


def test_bad_date(ws_events):
    ws = ws_events("account_id,ts,event\nA1,2024-05-01,login\nA1,2024-13-45,login\nA1,yesterday,login\n")
    con, reports = run(ws)
    report = reports["usage_events"]
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    q = report.quarantine
    assert list(q["line"]) == [3, 4] and set(q["column"]) == {"ts"}
    assert q.iloc[0]["reason"] == (
        "ts: '2024-13-45' is not a date/time (use ISO 8601, e.g. 2024-05-01 or 2024-05-01T09:30:00Z)"
    )
    assert q.iloc[0]["file"] == "data/events.csv"
    assert q.iloc[0]["raw"] == {"account_id": "A1", "ts": "2024-13-45", "event": "login"}
    assert len(rows(con, "usage_events")) == 1


def test_negative_quantity(ws_events):
    ws = ws_events("account_id,ts,event,quantity\nA1,2024-05-01,login,2\nA1,2024-05-01,login,-3\n")
    _, reports = run(ws)
    bad = only(reports["usage_events"])
    assert (bad["line"], bad["column"], bad["value"]) == (3, "quantity", "-3")
    assert bad["reason"] == "quantity: -3 is negative; must be >= 0"
    assert reports["usage_events"].accepted == 1


def test_bad_number(ws_events):
    ws = ws_events(
        "account_id,ts,event,quantity\nA1,2024-05-01,login,1.5\nA1,2024-05-01,login,abc\nA1,2024-05-01,login,1_000\n"
    )
    _, reports = run(ws)
    report = reports["usage_events"]
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    assert list(report.quarantine["reason"]) == ["quantity: 'abc' is not a number", "quantity: '1_000' is not a number"]


def test_bad_int_and_bool(tmp_path):
    write(tmp_path, "data/accounts.csv", "account_id,seats\nA1,3\nA2,2.5\nA3,many\n")
    write(tmp_path, "data/tickets.csv", "ticket_id,account_id,opened_at,escalated\nT1,A1,2024-05-01,maybe\n")
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "tickets": {"path": "data/tickets.csv"}})
    _, reports = run(ws)
    assert list(reports["accounts"].quarantine["reason"]) == [
        "seats: '2.5' is not a whole number",
        "seats: 'many' is not a whole number",
    ]
    bad = only(reports["tickets"])
    assert bad["column"] == "escalated" and "'maybe' is not true/false" in bad["reason"]


def test_duplicate_event_ids(ws_events):
    ws = ws_events(
        "account_id,ts,event,event_id\n"
        "A1,2024-05-01,login,E1\n"
        "A1,2024-05-01,login,E2\n"
        "A1,2024-05-02,logout,E1\n"
        "A1,2024-05-02,login,\n"
        "A1,2024-05-02,login,\n"
    )
    con, reports = run(ws)
    bad = only(reports["usage_events"])
    assert (bad["line"], bad["column"], bad["value"]) == (4, "event_id", "E1")
    assert bad["reason"] == "duplicate event_id E1 (first seen at line 2)"
    assert reports["usage_events"].accepted == 4  # rows without an event_id are not deduplicated
    assert [r["event_id"] for r in rows(con, "usage_events")] == ["E1", "E2", None, None]


def test_a_bad_row_does_not_claim_an_id(ws_events):
    ws = ws_events("account_id,ts,event,event_id\nA1,not-a-date,login,E1\nA1,2024-05-01,login,E1\n")
    con, reports = run(ws)
    bad = only(reports["usage_events"])
    assert bad["line"] == 2 and bad["column"] == "ts"
    assert [r["event_id"] for r in rows(con, "usage_events")] == ["E1"]


def test_unknown_account(ws_events):
    ws = ws_events("account_id,ts,event\nA1,2024-05-01,login\nX9,2024-05-01,login\n")
    _, reports = run(ws)
    bad = only(reports["usage_events"])
    assert (bad["line"], bad["column"], bad["value"]) == (3, "account_id", "X9")
    assert bad["reason"] == "account_id: 'X9' is not in accounts"


def test_unknown_account_checked_against_the_engine_when_accounts_not_reingested(ws_events):
    ws = ws_events("account_id,ts,event\nA1,2024-05-01,login\nX9,2024-05-01,login\n")
    con, _ = run(ws)
    con, reports = run(ws, con, tables=["usage_events"])
    assert list(reports) == ["usage_events"]
    assert only(reports["usage_events"])["reason"] == "account_id: 'X9' is not in accounts"


def test_without_accounts_the_account_check_is_skipped_with_a_warning(tmp_path):
    write(tmp_path, "data/events.csv", "account_id,ts,event\nX9,2024-05-01,login\n")
    ws = make_ws(tmp_path, {"usage_events": {"path": "data/events.csv"}})
    _, reports = run(ws)
    assert reports["usage_events"].accepted == 1
    assert any("not checked against accounts" in w for w in reports["usage_events"].warnings)


def test_bad_enum_value(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    write(
        tmp_path,
        "data/surveys.csv",
        "account_id,ts,kind,score\nA1,2024-05-01,nps,9\nA1,2024-05-01,promoter,9\nA1,2024-05-01,NPS,9\n",
    )
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "surveys": {"path": "data/surveys.csv"}})
    _, reports = run(ws)
    report = reports["surveys"]
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    assert list(report.quarantine["column"]) == ["kind", "kind"]
    assert report.quarantine.iloc[0]["reason"] == "kind: 'promoter' is not one of nps, csat, ces, pulse"
    assert "'NPS'" in report.quarantine.iloc[1]["reason"]  # case-sensitive


def test_missing_required_value(ws_events):
    ws = ws_events("account_id,ts,event\nA1,2024-05-01,login\nA1,2024-05-01,\nA1,,   \n")
    _, reports = run(ws)
    report = reports["usage_events"]
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    q = report.quarantine
    assert list(q["column"]) == ["event", "ts"]  # the first problem, in contract order
    assert q.iloc[0]["reason"] == "event: missing; it is required"


def test_first_problem_wins_in_a_stable_order(ws_events):
    # missing required beats a bad date, which beats a negative quantity
    ws = ws_events("account_id,ts,event,quantity\nX9,bad,,-1\nX9,bad,login,-1\nX9,2024-05-01,login,-1\n")
    _, reports = run(ws)
    assert list(reports["usage_events"].quarantine["column"]) == ["event", "ts", "quantity"]


def test_malformed_and_empty_lines_are_quarantined_with_exact_lines(ws_events):
    ws = ws_events(
        'account_id,ts,event\nA1,2024-05-01,"two\nlines"\nA1,2024-05-01\n\nA1,2024-05-01,login\nX9,2024-05-01,x\n'
    )
    con, reports = run(ws)
    report = reports["usage_events"]
    assert (report.read, report.accepted, report.quarantined) == (5, 2, 3)
    q = report.quarantine
    assert list(q["line"]) == [4, 5, 7]
    assert "line has 2 value(s) but the header has 3" in q.iloc[0]["reason"]
    assert q.iloc[0]["raw"] == {"_raw_line": "A1,2024-05-01"}
    assert q.iloc[1]["reason"].startswith("empty row")
    assert q.iloc[2]["value"] == "X9"
    assert [r["event"] for r in rows(con, "usage_events")] == ["two\nlines", "login"]


# --------------------------------------------------------------------------------------------
# Formats, globs, engine tables


def test_glob_of_two_files(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    write(
        tmp_path,
        "data/events/2024-05.csv",
        "account_id,ts,event,event_id\nA1,2024-05-01,login,E1\nA1,2024-05-02,bad-row,\n",
    )
    write(
        tmp_path,
        "data/events/2024-06.csv",
        "account_id,ts,event,event_id\nA2,2024-06-01,login,E2\nA2,2024-06-02,login,E1\nX9,2024-06-03,login,E3\n",
    )
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events/*.csv"}})
    con, reports = run(ws)
    report = reports["usage_events"]
    assert report.files == ["data/events/2024-05.csv", "data/events/2024-06.csv"]
    assert (report.read, report.accepted, report.quarantined) == (5, 3, 2)
    q = report.quarantine
    assert list(zip(q["file"], q["line"])) == [("data/events/2024-06.csv", 3), ("data/events/2024-06.csv", 4)]
    assert q.iloc[0]["reason"] == "duplicate event_id E1 (first seen at data/events/2024-05.csv line 2)"
    assert sorted(r["event_id"] or "" for r in rows(con, "usage_events")) == ["", "E1", "E2"]


def test_ndjson(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    lines = [
        {"account_id": "A1", "ts": "2024-05-01T09:30:00Z", "event": "login", "quantity": 2},
        {"account_id": "A1", "ts": "2024-05-01", "event": "login", "quantity": -1},
        {"account_id": "A2", "ts": "2024-05-01", "event": "export", "user_id": "u1"},
    ]
    write(tmp_path, "data/events.ndjson", "".join(json.dumps(x) + "\n" for x in lines))
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events.ndjson"}})
    con, reports = run(ws)
    bad = only(reports["usage_events"])
    assert (bad["line"], bad["column"], bad["value"]) == (2, "quantity", "-1")
    got = rows(con, "usage_events")
    assert [(r["account_id"], r["ts"], r["quantity"], r["user_id"]) for r in got] == [
        ("A1", dt.datetime(2024, 5, 1, 9, 30), 2.0, None),
        ("A2", dt.datetime(2024, 5, 1), 1.0, "u1"),
    ]


def test_ndjson_with_mixed_types_blank_and_broken_lines(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    text = (
        '{"account_id": "A1", "ts": "2024-05-01", "event": "login", "quantity": 2}\n'
        '{"account_id": "A1", "ts": "2024-05-01", "event": "login", "quantity": "lots"}\n'
        "\n"
        "{not json\n"
        '["A1"]\n'
        '{"account_id": "A2", "ts": "2024-05-02T10:00:00+02:00", "event": "login", "quantity": 1.5}\n'
    )
    write(tmp_path, "data/events.jsonl", text)
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events.jsonl"}})
    con, reports = run(ws)
    report = reports["usage_events"]
    assert (report.read, report.accepted, report.quarantined) == (5, 2, 3)  # the blank line is not a row
    q = report.quarantine
    assert list(q["line"]) == [2, 4, 5]
    assert q.iloc[0]["reason"] == "quantity: 'lots' is not a number"
    assert "not valid JSON" in q.iloc[1]["reason"] and q.iloc[1]["raw"] == {"_raw_line": "{not json"}
    assert "not a JSON object" in q.iloc[2]["reason"]
    got = rows(con, "usage_events")
    assert [(r["ts"], r["quantity"]) for r in got] == [
        (dt.datetime(2024, 5, 1), 2.0),
        (dt.datetime(2024, 5, 2, 8), 1.5),
    ]


def test_parquet_keeps_types_and_validates_the_same_way(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    table = pa.table(
        {
            "ticket_id": ["T1", "T2", "T3", "T1"],
            "account_id": ["A1", "A2", "X9", "A1"],
            "opened_at": pa.array(
                [dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)] * 4, pa.timestamp("ms", tz="Europe/Paris")
            ),
            "csat": pa.array([4.0, -1.0, 3.0, None], pa.float64()),
            "escalated": [True, False, None, True],
            "sla_met": pa.array([1, 0, 1, 1], pa.int64()),  # ints as booleans go through text
        }
    )
    pq.write_table(table, tmp_path / "data" / "tickets.parquet")
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "tickets": {"path": "data/tickets.parquet"}})
    con, reports = run(ws)
    report = reports["tickets"]
    assert (report.read, report.accepted, report.quarantined) == (4, 1, 3)
    q = report.quarantine
    assert list(q["line"]) == [2, 3, 4]
    assert q.iloc[0]["reason"] == "csat: -1.0 is negative; must be >= 0"
    assert q.iloc[1]["reason"] == "account_id: 'X9' is not in accounts"
    assert q.iloc[2]["reason"] == "duplicate ticket_id T1 (first seen at row 1)"
    [t1] = rows(con, "tickets")
    assert t1["opened_at"] == dt.datetime(2024, 5, 1, 9, 30)  # tz-aware -> naive UTC
    assert (t1["csat"], t1["escalated"], t1["sla_met"]) == (4.0, True, True)


def test_engine_table_source_is_copied(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    ws = make_ws(
        tmp_path,
        {
            "accounts": {"path": "data/accounts.csv"},
            "tickets": {
                "table": "raw.tickets",
                "columns": {"id": "ticket_id", "acct": "account_id", "opened": "opened_at"},
            },
        },
    )
    con = connect(ws)
    con.con.execute("CREATE SCHEMA raw")
    con.con.execute(
        "CREATE TABLE raw.tickets AS SELECT * FROM (VALUES ('T1', 'A1', TIMESTAMP '2024-05-01 10:00:00'),"
        " ('T2', 'A1', NULL), ('T3', 'X9', TIMESTAMP '2024-05-02 10:00:00')) t(id, acct, opened)"
    )
    con, reports = run(ws, con)
    report = reports["tickets"]
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    assert list(report.quarantine["file"]) == ["raw.tickets", "raw.tickets"]
    assert list(report.quarantine["line"]) == [2, 3]
    assert report.quarantine.iloc[0]["reason"] == "opened_at (source column 'opened'): missing; it is required"
    assert [r["ticket_id"] for r in rows(con, "tickets")] == ["T1"]
    assert con.table("tickets", database="raw").count().execute() == 3  # the source is untouched


# --------------------------------------------------------------------------------------------
# Replacing tables


def test_reingest_replaces_the_table(ws_events, tmp_path):
    ws = ws_events("account_id,ts,event\nA1,2024-05-01,login\nA2,2024-05-01,login\n")
    con, _ = run(ws)
    con, reports = run(ws, con)
    assert len(rows(con, "usage_events")) == 2
    assert len(rows(con, "accounts")) == 3
    write(tmp_path, "data/events.csv", "account_id,ts,event\nA1,2024-06-01,x\n")
    con, reports = run(ws, con, tables=["usage_events"])
    assert [r["event"] for r in rows(con, "usage_events")] == ["x"]


class _FailingRaw:
    """A DuckDB connection whose registered data breaks off half-way through the write."""

    def __init__(self, raw):
        self._raw = raw

    def register(self, name, data):
        batches = data.to_batches(max_chunksize=1)

        def gen():
            yield batches[0]
            raise RuntimeError("disk on fire")

        return self._raw.register(name, pa.RecordBatchReader.from_batches(data.schema, gen()))

    def __getattr__(self, attr):
        return getattr(self._raw, attr)


class _FailingEngine:
    name = "duckdb"

    def __init__(self, con):
        self._con = con
        self.con = _FailingRaw(con.con)

    def __getattr__(self, attr):
        return getattr(self._con, attr)


def test_a_failed_write_leaves_the_previous_table(ws_events, tmp_path):
    ws = ws_events("account_id,ts,event\nA1,2024-05-01,old\nA2,2024-05-01,old\n")
    con, _ = run(ws)
    write(tmp_path, "data/events.csv", "account_id,ts,event\nA1,2024-06-01,new\nA1,2024-06-02,new\nA1,2024-06-03,new\n")
    with pytest.raises(Exception, match="disk on fire"):
        ingest_workspace(ws, _FailingEngine(con), tables=["usage_events"])
    assert [r["event"] for r in rows(con, "usage_events")] == ["old", "old"]


def test_tables_must_be_configured(ws_events):
    ws = ws_events("account_id,ts,event\nA1,2024-05-01,login\n")
    with pytest.raises(UserError, match="sources.tickets"):
        run(ws, tables=["tickets"])


# --------------------------------------------------------------------------------------------
# Property: nothing is lost


_GOOD_TS = ["2024-05-01", "2024-05-01 09:30:00", "2024-05-01T09:30:00Z", "2024-05-01T09:30:00+02:00"]
_GOOD_QTY = ["", "0", "2.5", " 3 ", "1e2"]
_BAD = {
    "bad_ts": {"ts": "2024-02-30"},
    "negative": {"quantity": "-1"},
    "bad_qty": {"quantity": "ten"},
    "unknown_account": {"account_id": "NOPE"},
    "missing_event": {"event": ""},
    "missing_ts": {"ts": " "},
}


@st.composite
def event_rows(draw):
    kinds = draw(st.lists(st.sampled_from(["good", "good", "duplicate", *_BAD]), max_size=40))
    rows_, good_ids = [], []
    for i, kind in enumerate(kinds):
        row = {
            "account_id": draw(st.sampled_from(["A1", "A2", " A3 "])),
            "ts": draw(st.sampled_from(_GOOD_TS)),
            "event": draw(st.sampled_from(["login", "export"])),
            "quantity": draw(st.sampled_from(_GOOD_QTY)),
            "event_id": f"E{i}",
        }
        if kind == "duplicate":
            if not good_ids:
                continue
            row["event_id"] = draw(st.sampled_from(good_ids))
        elif kind in _BAD:
            row.update(_BAD[kind])
            if draw(st.booleans()):  # a bad row may carry an id that a later good row uses
                row["event_id"] = f"E{i + 1}"
        else:
            good_ids.append(row["event_id"])
        rows_.append((kind, row))
    return rows_


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=event_rows(), fmt=st.sampled_from(["csv", "ndjson"]))
def test_property_read_equals_accepted_plus_quarantined_and_no_good_row_is_lost(data, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root, "data/accounts.csv", ACCOUNTS_CSV)
        cols = ["account_id", "ts", "event", "quantity", "event_id"]
        if fmt == "csv":
            body = "".join(",".join(row[c] for c in cols) + "\n" for _, row in data)
            write(root, "data/events.csv", ",".join(cols) + "\n" + body)
        else:
            write(root, "data/events.csv.ndjson", "".join(json.dumps(row) + "\n" for _, row in data))
        path = "data/events.csv" if fmt == "csv" else "data/events.csv.ndjson"
        ws = make_ws(root, {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": path}})
        con, reports = run(ws)
        report = reports["usage_events"]
        good = [row["event_id"] for kind, row in data if kind == "good"]
        assert report.read == len(data) == report.accepted + report.quarantined
        assert report.accepted == len(good)
        assert sorted(r["event_id"] for r in rows(con, "usage_events")) == sorted(good)
        assert sorted(report.quarantine["line"]) == sorted(
            i + (2 if fmt == "csv" else 1) for i, (kind, _) in enumerate(data) if kind != "good"
        )
        con.disconnect()


# --------------------------------------------------------------------------------------------
# PostgreSQL as the engine

PG_URL = os.environ.get("HEALTHSCORE_TEST_PG_URL")


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_URL, reason="set HEALTHSCORE_TEST_PG_URL=postgresql://user@host:port/db to run against PostgreSQL"
)
def test_postgres_engine(tmp_path):
    import psycopg

    schema = f"hs_ingest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
            write(
                tmp_path,
                "data/events.csv",
                "account_id,ts,event,quantity,event_id\n"
                "A1,2024-05-01T09:30:00Z,login,,E1\n"
                "A2,2024-05-01T09:30:00+02:00,login,2,E2\n"
                "X9,2024-05-01,login,1,E3\n"
                "A1,2024-05-01,login,-1,E4\n"
                "A1,2024-05-01,login,1,E1\n",
            )
            engine = EngineConfig(backend="postgres", url=f"{PG_URL.rstrip('/')}/{schema}")
            ws = make_ws(
                tmp_path,
                {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events.csv"}},
                engine,
            )
            con = connect(ws)
            assert con.name == "postgres"
            con, reports = run(ws, con)
            report = reports["usage_events"]
            assert (report.read, report.accepted, report.quarantined) == (5, 2, 3)
            assert list(report.quarantine["column"]) == ["account_id", "quantity", "event_id"]

            schema_ = con.table("usage_events").schema()
            assert schema_["ts"].is_timestamp() and schema_["quantity"].is_floating()
            got = sorted(rows(con, "usage_events"), key=lambda r: r["event_id"])
            assert [(r["event_id"], r["ts"], r["quantity"]) for r in got] == [
                ("E1", dt.datetime(2024, 5, 1, 9, 30), 1.0),
                ("E2", dt.datetime(2024, 5, 1, 7, 30), 2.0),
            ]
            # the tables live in the test schema
            tables = {
                r[0]
                for r in admin.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
                )
            }
            assert {"accounts", "usage_events"} <= tables

            # re-ingest replaces (no duplication); accounts come from the engine
            con, reports = run(ws, con, tables=["usage_events"])
            assert reports["usage_events"].quarantine.iloc[0]["reason"] == "account_id: 'X9' is not in accounts"
            assert con.table("usage_events").count().execute() == 2
            con.disconnect()
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


# --------------------------------------------------------------------------------------------
# Streaming: Parquet sources are validated and loaded inside the DuckDB engine


def _events_parquet(path: Path, n: int, start: int = 0) -> None:
    table = pa.table(
        {
            "account_id": ["A1", "A2"] * (n // 2),
            "ts": pa.array(
                [dt.datetime(2024, 5, 1, 9, 30) + dt.timedelta(hours=i) for i in range(n)], pa.timestamp("us")
            ),
            "event": ["login"] * n,
            "quantity": pa.array([1.0 + i for i in range(n)], pa.float64()),
            "event_id": [f"E{start + i}" for i in range(n)],
        }
    )
    pq.write_table(table, path, row_group_size=3)


def _with_path(monkeypatch, stream: bool) -> list:
    """Force the streaming (or the in-memory) path; returns the list of streamed tables."""
    from healthscore.ingest import streaming

    streamed: list[str] = []
    original = streaming.ingest_streaming

    def spy(ws, con, vcon, name, *args):
        result = original(ws, con, vcon, name, *args)
        if result is not None:
            streamed.append(name)
        return result

    monkeypatch.setattr(streaming, "ingest_streaming", spy)
    if not stream:
        monkeypatch.setattr(streaming, "can_stream", lambda *_a: False)
    return streamed


def _snapshot(con, reports: dict) -> tuple:
    out = []
    for r in reports.values():
        out.append(
            (r.table, r.source, r.read, r.accepted, r.quarantined, r.warnings, r.files, r.quarantine.to_dict("records"))
        )
    tables = {t: con.table(t).to_pyarrow() for t in reports}
    return out, tables


def _bad_events(root: Path) -> None:
    write(root, "data/accounts.csv", ACCOUNTS_CSV)
    n = 8
    table = pa.table(
        {
            "account_id": ["A1", "A2", "A1", "X9", "A2", "A1", "A3", "A1"],
            "ts": pa.array(
                [dt.datetime(2024, 5, 1, 9, 30) + dt.timedelta(hours=i) for i in range(n)], pa.timestamp("us")
            ),
            "event": ["login", "export", "login", "login", None, "login", "login", "login"],
            "quantity": pa.array([1.0, -2.0, None, 1.0, 1.0, 3.0, float("nan"), 4.0], pa.float64()),
            "event_id": ["E1", "E2", "E3", "E9", "E5", "E1", "E7", "E9"],
            "browser": ["ff"] * n,
        }
    )
    (root / "data").mkdir(exist_ok=True)
    pq.write_table(table, root / "data" / "events.parquet", row_group_size=3)


def _bad_events_ws(root: Path) -> Workspace:
    return make_ws(
        root,
        {
            "accounts": {"path": "data/accounts.csv"},
            "usage_events": {"path": "data/events.parquet", "extra_columns": "ignore"},
        },
    )


def test_parquet_streams_through_the_engine_with_the_same_reasons_and_rows(tmp_path, monkeypatch):
    _bad_events(tmp_path)
    streamed = _with_path(monkeypatch, stream=True)
    con, reports = run(_bad_events_ws(tmp_path))
    assert streamed == ["usage_events"]  # accounts is a small CSV: the in-memory path
    report = reports["usage_events"]
    assert (report.read, report.accepted, report.quarantined) == (8, 4, 4)
    assert report.files == ["data/events.parquet"]
    assert report.warnings == ["data/events.parquet: ignored column(s) not in the usage_events contract: 'browser'"]
    q = report.quarantine.to_dict("records")
    assert [(r["file"], r["line"], r["column"], r["value"], r["reason"]) for r in q] == [
        ("data/events.parquet", 2, "quantity", "-2.0", "quantity: -2.0 is negative; must be >= 0"),
        # row 4 has an unknown account: it does not claim E9, so row 8 is accepted
        ("data/events.parquet", 4, "account_id", "X9", "account_id: 'X9' is not in accounts"),
        ("data/events.parquet", 5, "event", None, "event: missing; it is required"),
        ("data/events.parquet", 6, "event_id", "E1", "duplicate event_id E1 (first seen at row 1)"),
    ]
    assert q[0]["raw"] == {
        "account_id": "A2",
        "ts": "2024-05-01 10:30:00",
        "event": "export",
        "quantity": "-2.0",
        "event_id": "E2",
        "browser": "ff",
    }
    got = rows(con, "usage_events")
    assert [(r["event_id"], r["quantity"]) for r in got] == [("E1", 1.0), ("E3", 1.0), ("E7", 1.0), ("E9", 4.0)]
    assert got[0]["ts"] == dt.datetime(2024, 5, 1, 9, 30) and got[0]["user_id"] is None
    schema = con.table("usage_events").schema()
    assert list(schema.names) == ["account_id", "ts", "event", "user_id", "quantity", "event_id"]
    assert str(schema["quantity"]) == "float64" and schema["ts"].is_timestamp() and schema["user_id"].is_string()

    # the in-memory path gives the same report and table
    got = _snapshot(con, reports)
    con.disconnect()
    monkeypatch.undo()
    (tmp_path / "engine.duckdb").unlink()
    _with_path(monkeypatch, stream=False)
    con, reports = run(_bad_events_ws(tmp_path))
    expected = _snapshot(con, reports)
    assert got[0] == expected[0]
    assert all(got[1][t].equals(expected[1][t]) for t in expected[1])


@pytest.mark.parametrize("inline", [64, 0])  # rows left out by their values (file order kept), or by an anti-join
def test_streaming_and_in_memory_paths_agree_on_a_glob(tmp_path, monkeypatch, inline):
    from healthscore.ingest import streaming

    monkeypatch.setattr(streaming, "STREAM_INLINE_VALUES", inline)
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    (tmp_path / "data" / "events").mkdir()
    _events_parquet(tmp_path / "data" / "events" / "a.parquet", 10)
    b = pa.table(
        {
            "event_id": ["E20", "E3", "E21", "E22", "E23", "E20", "E24"],
            "account_id": ["A2", "A1", "X9", "A1", "A1", "A2", " A3 "],
            "ts": [
                "2024-06-01",
                "2024-06-02",
                "2024-06-03",
                "not a date",
                "2024-06-05T10:00:00+02:00",
                "2024-06-06",
                "2024-06-07",
            ],
            "event": ["login"] * 7,
            "quantity": ["1", "2", "3", "4", "-5", "6", "ten"],
        }
    )
    pq.write_table(b, tmp_path / "data" / "events" / "b.parquet")  # other column order and types: text
    ws = make_ws(
        tmp_path, {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events/*.parquet"}}
    )

    streamed = _with_path(monkeypatch, stream=True)
    con, reports = run(ws)
    assert streamed == ["usage_events"]
    got = _snapshot(con, reports)
    con.disconnect()

    monkeypatch.undo()
    (tmp_path / "engine.duckdb").unlink()
    _with_path(monkeypatch, stream=False)
    con, reports = run(ws)
    expected = _snapshot(con, reports)
    assert got[0] == expected[0]
    for name, table in expected[1].items():
        if inline or name == "accounts":
            assert got[1][name].equals(table), name  # same rows, same types, same order
        else:  # the anti-join keeps about the file order only
            assert got[1][name].sort_by("event_id").equals(table.sort_by("event_id")), name

    q = reports["usage_events"].quarantine
    assert list(zip(q["file"], q["line"], q["column"])) == [
        ("data/events/b.parquet", 2, "event_id"),
        ("data/events/b.parquet", 3, "account_id"),
        ("data/events/b.parquet", 4, "ts"),
        ("data/events/b.parquet", 5, "quantity"),
        ("data/events/b.parquet", 6, "event_id"),
        ("data/events/b.parquet", 7, "quantity"),
    ]
    assert q.iloc[0]["reason"] == "duplicate event_id E3 (first seen at data/events/a.parquet row 4)"
    assert q.iloc[4]["reason"] == "duplicate event_id E20 (first seen at row 1)"


def test_streaming_keeps_the_previous_table_when_a_file_cannot_be_read(tmp_path, monkeypatch):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    (tmp_path / "data" / "events").mkdir()
    _events_parquet(tmp_path / "data" / "events" / "a.parquet", 4)
    ws = make_ws(
        tmp_path, {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events/*.parquet"}}
    )
    con, reports = run(ws)
    assert reports["usage_events"].accepted == 4
    # a second file whose footer is intact but whose pages are not: found only while streaming
    path = tmp_path / "data" / "events" / "b.parquet"
    _events_parquet(path, 4, start=10)
    data = path.read_bytes()
    path.write_bytes(data[:4] + b"\xff" * 300 + data[304:])
    with pytest.raises(UserError, match="cannot read as Parquet"):
        ingest_workspace(ws, con, tables=["usage_events"])
    assert [r["event_id"] for r in rows(con, "usage_events")] == ["E0", "E1", "E2", "E3"]
    assert "__hs_" not in " ".join(con.list_tables())  # no temporary table left behind


@pytest.mark.parametrize("block", [None, 64])  # one batch, or many small ones (lines across batches)
def test_large_csv_streams_with_the_same_lines_as_in_memory(tmp_path, monkeypatch, block):
    from healthscore.ingest import streaming

    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    write(
        tmp_path,
        "data/events/1.csv",
        "account_id,ts,event,event_id,note\n"
        'A1,2024-05-01,"two\nlines",E1,x\n'
        "A1,2024-05-01\n"
        "\n"
        'A2,2024-05-02,login,E2,"a ""quoted""\nnote\non three lines"\n'
        "A1,2024-05-03,login,E1,dup\n"
        "X9,2024-05-04,login,E3,\n"
        "A1,2024-05-05,login,E3,first valid E3\n"
        "A1,2024-05-06,login,E4,too,many\n"
        "A1,2024-05-07,login,E5,\n",
    )
    write(
        tmp_path,
        "data/events/2.csv",
        "event_id,account_id,ts,event\nE5,A2,2024-06-01,login\nE6, A3 ,2024-06-02,\nE7,A3,bad,login\n",
    )
    ws = make_ws(
        tmp_path,
        {
            "accounts": {"path": "data/accounts.csv"},
            "usage_events": {"path": "data/events/*.csv", "extra_columns": "ignore"},
        },
    )
    if block:  # pyarrow's batches end every few lines
        import pyarrow.csv as pv

        real = pv.ReadOptions
        monkeypatch.setattr(pv, "ReadOptions", lambda **kw: real(**{**kw, "block_size": block}))

    monkeypatch.setattr(streaming, "STREAM_CSV_MIN_BYTES", 0)
    streamed = _with_path(monkeypatch, stream=True)
    con, reports = run(ws)
    assert streamed == ["accounts", "usage_events"]
    got = _snapshot(con, reports)
    con.disconnect()
    assert not [p for p in (tmp_path / ".healthscore").iterdir() if p.name.startswith("ingest-")]  # spool removed

    monkeypatch.setattr(streaming, "STREAM_CSV_MIN_BYTES", 1 << 40)
    (tmp_path / "engine.duckdb").unlink()
    con, reports = run(ws)
    expected = _snapshot(con, reports)
    assert got[0] == expected[0]
    for name, table in expected[1].items():
        assert got[1][name].equals(table), name

    q = reports["usage_events"].quarantine
    assert list(zip(q["file"], q["line"], q["column"])) == [
        ("data/events/1.csv", 4, ""),
        ("data/events/1.csv", 5, "account_id"),
        ("data/events/1.csv", 9, "event_id"),
        ("data/events/1.csv", 10, "account_id"),
        ("data/events/1.csv", 12, ""),
        ("data/events/2.csv", 2, "event_id"),
        ("data/events/2.csv", 3, "event"),
        ("data/events/2.csv", 4, "ts"),
    ]
    assert q.iloc[0]["raw"] == {"_raw_line": "A1,2024-05-01"}
    assert q.iloc[1]["reason"].startswith("empty row")
    assert q.iloc[2]["reason"] == "duplicate event_id E1 (first seen at line 2)"
    assert q.iloc[5]["reason"] == "duplicate event_id E5 (first seen at data/events/1.csv line 13)"
    assert (reports["usage_events"].read, reports["usage_events"].accepted) == (12, 4)


def test_goals_table_loads_and_quarantines_bad_targets(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    write(
        tmp_path,
        "data/goals.csv",
        "account_id,metric,target,ts\n"
        "A1,weekly_active_users,40,2024-01-10\n"
        "A2,weekly_active_users,-3,2024-01-10\n"
        "A9,weekly_active_users,10,2024-01-10\n",
    )
    ws = make_ws(tmp_path, {"accounts": {"path": "data/accounts.csv"}, "goals": {"path": "data/goals.csv"}})
    con, reports = run(ws)
    assert (reports["goals"].accepted, reports["goals"].quarantined) == (1, 2)
    assert rows(con, "goals") == [
        {"account_id": "A1", "metric": "weekly_active_users", "target": 40.0, "ts": dt.datetime(2024, 1, 10)}
    ]


def test_text_sentiment_is_derived_at_ingestion(tmp_path):
    write(tmp_path, "data/accounts.csv", ACCOUNTS_CSV)
    write(
        tmp_path,
        "data/surveys.csv",
        "account_id,ts,kind,score,comment,comment_sentiment\n"
        'A1,2024-01-10,nps,2,"terrible support, we are cancelling",0.9\n'
        'A1,2024-01-11,nps,10,"love it, great team",\n'
        'A2,2024-01-12,csat,4,"love it, great team",\n'
        "A2,2024-01-13,csat,3,,\n",
    )
    write(
        tmp_path,
        "data/tickets.csv",
        "ticket_id,account_id,opened_at,subject\n"
        "T1,A1,2024-01-10,Export keeps crashing - awful experience\n"
        "T2,A1,2024-01-11,\n",
    )
    ws = make_ws(
        tmp_path,
        {
            "accounts": {"path": "data/accounts.csv"},
            "surveys": {"path": "data/surveys.csv"},
            "tickets": {"path": "data/tickets.csv"},
        },
    )
    con, reports = run(ws)
    s = [r["comment_sentiment"] for r in sorted(rows(con, "surveys"), key=lambda r: r["ts"])]
    assert s[0] < -0.2 and s[1] > 0.5 and s[2] == s[1] and s[3] is None  # a source value is replaced
    t = {r["ticket_id"]: r["subject_sentiment"] for r in rows(con, "tickets")}
    assert t["T1"] < -0.2 and t["T2"] is None
