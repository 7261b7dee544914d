"""Incremental ingestion: mode: append / --incremental, watermarks, crash safety, database sources."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthscore.engine.adapters import adapter_for
from healthscore.errors import UserError
from healthscore.ingest.append import PAUSE_ENV, watermarks
from healthscore.project import Project

SRC = Path(__file__).resolve().parents[2] / "src"


def write_ws(root: Path, sources: dict, engine: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cfg = {
        "model": "models/health.yaml",
        "engine": engine or {"backend": "duckdb", "path": ".healthscore/engine.duckdb"},
        "sources": sources,
    }
    (root / "healthscore.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return root


def events_csv(path: Path, ids: list[int], account: str = "A1") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["event_id,account_id,ts,event"] + [f"E{i},{account},2024-05-{1 + i % 28:02d},login" for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def ids_in(p: Project, table: str = "usage_events", col: str = "event_id") -> list[str]:
    return sorted(p.con.table(table).select(col).to_pyarrow().column(0).to_pylist())


@pytest.fixture
def events_ws(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "accounts.csv").write_text("account_id\nA1\nA2\n")
    return write_ws(
        tmp_path,
        {"accounts": {"path": "data/accounts.csv"}, "usage_events": {"path": "data/events/*.csv", "mode": "append"}},
    )


def test_append_mode_reads_only_new_files(events_ws):
    root = events_ws
    events_csv(root / "data/events/2024-05-01.csv", [1, 2, 3])
    events_csv(root / "data/events/2024-05-02.csv", [4, 5])
    with Project(root) as p:
        r = {x.table: x for x in p.ingest()}["usage_events"]
        assert (r.read, r.accepted, r.already_ingested) == (5, 5, 0)
        assert r.files == ["data/events/2024-05-01.csv", "data/events/2024-05-02.csv"]
    events_csv(root / "data/events/2024-05-03.csv", [6, 7, 1])  # E1 was loaded from the first file
    with Project(root) as p:
        r = {x.table: x for x in p.ingest()}["usage_events"]
        assert r.files == ["data/events/2024-05-03.csv"]
        assert (r.read, r.accepted, r.quarantined, r.already_ingested) == (3, 3, 0, 1)
        assert "2 file(s) already loaded before" in r.warnings[0]
        assert ids_in(p) == [f"E{i}" for i in range(1, 8)]
        # nothing new: nothing read, nothing added
        again = {x.table: x for x in p.ingest(["usage_events"])}["usage_events"]
        assert (again.read, again.files) == (0, [])
        assert "no new file since the last ingest" in again.warnings
        assert ids_in(p) == [f"E{i}" for i in range(1, 8)]
        # the same content under another name is not read again; a grown file is, and only its new rows land
    (root / "data/events/copy.csv").write_bytes((root / "data/events/2024-05-02.csv").read_bytes())
    events_csv(root / "data/events/2024-05-01.csv", [1, 2, 3, 8])
    with Project(root) as p:
        r = {x.table: x for x in p.ingest(["usage_events"])}["usage_events"]
        assert r.files == ["data/events/2024-05-01.csv"]
        assert (r.read, r.accepted, r.already_ingested) == (4, 4, 3)
        assert ids_in(p) == [f"E{i}" for i in range(1, 9)]
        marks = [m for m in watermarks(adapter_for(p.con)) if m["table_name"] == "usage_events"]
        assert len(marks) == 4 and {m["kind"] for m in marks} == {"file"}


def test_replace_then_incremental_flag_reads_nothing_new(tmp_path):
    """A full ingest records what it read: `ingest --incremental` right after it reads no file."""
    root = write_ws(tmp_path, {"accounts": {"path": "accounts.csv"}, "usage_events": {"path": "ev/*.csv"}})
    (root / "accounts.csv").write_text("account_id\nA1\n")
    events_csv(root / "ev/a.csv", [1, 2])
    with Project(root) as p:
        p.ingest()
    events_csv(root / "ev/b.csv", [3])
    out = subprocess.run(
        [sys.executable, "-m", "healthscore", "ingest", "-w", str(root), "--incremental", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    import json

    tables = {t["table"]: t for t in json.loads(out.stdout)["tables"]}
    assert tables["accounts"]["read"] == 0 and tables["usage_events"]["read"] == 1
    assert tables["usage_events"]["already_ingested"] == 0
    with Project(root) as p:
        assert ids_in(p) == ["E1", "E2", "E3"]
        # a full ingest replaces the table again, from every file
        p.ingest(["usage_events"])
        assert ids_in(p) == ["E1", "E2", "E3"]


# --------------------------------------------------------------------------------------------
# A crash mid-ingest leaves all or none of a batch; a rerun completes it


def _engine_cfg(kind: str, request) -> dict:
    if kind == "duckdb":
        return {"backend": "duckdb", "path": ".healthscore/engine.duckdb"}
    return {"backend": "postgres", "url": request.getfixturevalue("pg_database")}


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("point, expect_batch", [("appended", False), ("committed", True)])
def test_killed_ingest_leaves_all_or_none_and_a_rerun_completes(tmp_path, request, engine, point, expect_batch):
    root = write_ws(
        tmp_path,
        {"accounts": {"path": "accounts.csv"}, "usage_events": {"path": "ev/*.csv", "mode": "append"}},
        _engine_cfg(engine, request),
    )
    (root / "accounts.csv").write_text("account_id\nA1\n")
    events_csv(root / "ev/a.csv", list(range(100)))
    with Project(root) as p:
        p.ingest()
    events_csv(root / "ev/b.csv", list(range(100, 1100)))  # the batch that the crash interrupts
    env = {**os.environ, "PYTHONPATH": str(SRC), PAUSE_ENV: f"{point}:120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "healthscore", "ingest", "-w", str(root), "--table", "usage_events", "--json"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        for line in proc.stderr:  # wait until ingestion stands at the hook (a deterministic point)
            if f"ingest paused at {point}" in line:
                break
        else:
            pytest.fail(f"the ingest never reached {point}; exit code {proc.wait()}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    with Project(root) as p:
        ids = ids_in(p)
        assert len(ids) == (1100 if expect_batch else 100)  # all or none of the batch
        assert len(set(ids)) == len(ids)
        r = {x.table: x for x in p.ingest(["usage_events"])}["usage_events"]
        assert r.read == (0 if expect_batch else 1000)
        assert sorted(ids_in(p)) == sorted(f"E{i}" for i in range(1100))
        again = {x.table: x for x in p.ingest(["usage_events"])}["usage_events"]
        assert again.read == 0 and len(ids_in(p)) == 1100


# --------------------------------------------------------------------------------------------
# Property: loading files one at a time (incremental) gives the table one full load gives


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.lists(st.integers(0, 30), min_size=0, max_size=12), min_size=1, max_size=4))
def test_property_incremental_file_by_file_equals_one_full_load(files):
    with tempfile.TemporaryDirectory() as d:
        full = write_ws(Path(d) / "full", {"accounts": {"path": "accounts.csv"}, "usage_events": {"path": "ev/*.csv"}})
        inc = write_ws(
            Path(d) / "inc",
            {"accounts": {"path": "accounts.csv"}, "usage_events": {"path": "ev/*.csv", "mode": "append"}},
        )
        for root in (full, inc):
            (root / "accounts.csv").write_text("account_id\nA1\n")
        for i, ids in enumerate(files):
            events_csv(full / f"ev/{i:02d}.csv", ids)
        with Project(full) as p:
            # empty files are part of the property: allow them to empty the table (refused by default)
            expected = (
                p.con.table("usage_events").to_pyarrow().sort_by("event_id") if p.ingest(allow_empty=True) else None
            )
        read = accepted = quarantined = added = 0
        with Project(inc) as p:
            for i, ids in enumerate(files):
                events_csv(inc / f"ev/{i:02d}.csv", ids)
                r = {x.table: x for x in p.ingest()}["usage_events"]
                assert r.read == r.accepted + r.quarantined
                read, accepted, quarantined = read + r.read, accepted + r.accepted, quarantined + r.quarantined
                added += r.accepted - r.already_ingested
            got = p.con.table("usage_events").to_pyarrow().sort_by("event_id")
            assert got.to_pylist() == expected.to_pylist()
            # a file whose content was loaded before (under any name) is not read again
            distinct = {tuple(ids) for ids in files}
            assert read == sum(len(ids) for ids in distinct) and added == got.num_rows
            before = got.num_rows
            p.ingest()
            assert p.con.table("usage_events").count().execute() == before


# --------------------------------------------------------------------------------------------
# Tables of the engine and of another database as sources


def test_engine_table_source_in_append_mode_reads_rows_after_the_watermark(tmp_path):
    root = write_ws(
        tmp_path,
        {
            "accounts": {"path": "accounts.csv"},
            "tickets": {
                "table": "raw.zd_tickets",
                "mode": "append",
                "columns": {"id": "ticket_id", "org": "account_id", "created": "opened_at"},
            },
        },
    )
    (root / "accounts.csv").write_text("account_id\nA1\n")
    with Project(root) as p:
        raw = p.con.con
        raw.execute("CREATE SCHEMA raw")
        raw.execute("CREATE TABLE raw.zd_tickets (id VARCHAR, org VARCHAR, created TIMESTAMPTZ)")
        raw.execute(
            "INSERT INTO raw.zd_tickets VALUES ('T1', 'A1', '2024-05-01 10:00:00+00'),"
            " ('T2', 'A1', '2024-05-02 10:00:00+00')"
        )
        first = {x.table: x for x in p.ingest()}["tickets"]
        assert (first.read, first.accepted) == (2, 2)
        raw.execute(
            "INSERT INTO raw.zd_tickets VALUES ('T3', 'A1', '2024-05-03 12:00:00+02'),"
            " ('T0', 'A1', '2024-04-01 00:00:00+00')"
        )
        second = {x.table: x for x in p.ingest(["tickets"])}["tickets"]
        # rows at or after the newest loaded time: T2 again (skipped by id) and T3; T0 is older: not read
        assert (second.read, second.accepted, second.already_ingested) == (2, 2, 1)
        assert ids_in(p, "tickets", "ticket_id") == ["T1", "T2", "T3"]
        [mark] = [m for m in watermarks(adapter_for(p.con)) if m["kind"] == "time" and m["table_name"] == "tickets"][
            -1:
        ]
        assert str(mark["high_water"]) == "2024-05-03 10:00:00"


@pytest.mark.postgres
def test_postgres_database_table_as_a_source(tmp_path, pg_database):
    """sources.tickets: {database: postgresql://..., table: support.tickets, columns: {...}} into a DuckDB engine."""
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA support")
        conn.execute(
            "CREATE TABLE support.tickets (id integer, org_ref text, created_at timestamptz, priority text,"
            " satisfaction numeric(3,1), internal_note text)"
        )
        conn.execute(
            "INSERT INTO support.tickets VALUES (1, 'A1', '2024-05-01 10:00+00', 'high', 4.5, 'x'),"
            " (2, 'A9', '2024-05-02 10:00+00', 'low', null, null), (3, 'A1', '2024-05-03 10:00+00', 'low', -1, null)"
        )
    os.environ["HS_TEST_SUPPORT_DB"] = pg_database
    try:
        root = write_ws(
            tmp_path,
            {
                "accounts": {"path": "accounts.csv"},
                "tickets": {
                    "database": "${HS_TEST_SUPPORT_DB}",
                    "table": "support.tickets",
                    "mode": "append",
                    "columns": {
                        "id": "ticket_id",
                        "org_ref": "account_id",
                        "created_at": "opened_at",
                        "satisfaction": "csat",
                    },
                    "extra_columns": "ignore",
                },
            },
        )
        (root / "accounts.csv").write_text("account_id\nA1\n")
        with Project(root) as p:
            r = {x.table: x for x in p.ingest()}["tickets"]
            # named as written in healthscore.yaml: ${VAR} not expanded, so no secret reaches reports or the store
            assert r.source == "${HS_TEST_SUPPORT_DB}#support.tickets"
            assert (r.read, r.accepted, r.quarantined) == (3, 1, 2)
            q = r.quarantine.to_dict("records")
            assert [(x["line"], x["column"]) for x in q] == [(2, "account_id"), (3, "csat")]
            assert q[1]["reason"] == "csat (source column 'satisfaction'): -1.0 is negative; must be >= 0"
            assert q[0]["file"].endswith("#support.tickets")
            assert "internal_note" in r.warnings[0]
            rows = p.con.table("tickets").to_pyarrow().to_pylist()
            assert [(x["ticket_id"], str(x["opened_at"]), x["csat"], x["priority"]) for x in rows] == [
                ("1", "2024-05-01 10:00:00", 4.5, "high")
            ]
            with psycopg.connect(pg_database, autocommit=True) as conn:
                conn.execute("INSERT INTO support.tickets VALUES (4, 'A1', '2024-05-04 09:00+00', 'high', 5, null)")
            r2 = {x.table: x for x in p.ingest(["tickets"])}["tickets"]
            # rows at or after the newest time read before (2024-05-03, the quarantined row 3): rows that share
            # the boundary time are read again rather than missed; row 1 and 2 are not read
            assert (r2.read, r2.accepted, r2.quarantined) == (2, 1, 1)
            assert r2.quarantine["column"].tolist() == ["csat"]
            assert ids_in(p, "tickets", "ticket_id") == ["1", "4"]
    finally:
        os.environ.pop("HS_TEST_SUPPORT_DB", None)


def test_database_source_errors_name_the_key(tmp_path):
    root = write_ws(
        tmp_path, {"tickets": {"database": "postgresql://nobody@127.0.0.1:1/none", "table": "support.tickets"}}
    )
    with Project(root) as p, pytest.raises(UserError, match="cannot connect"):
        p.ingest()
    root2 = write_ws(tmp_path / "b", {"tickets": {"database": "postgresql://x@y/z"}})
    with pytest.raises(UserError, match="sources.tickets.*give exactly one of 'path'"):
        Project(root2).ws  # noqa: B018
    root3 = write_ws(tmp_path / "c", {"tickets": {"path": "t.json", "adapter": "zendesk_tikets"}})
    with pytest.raises(UserError, match="unknown adapter 'zendesk_tikets'"):
        Project(root3).ws  # noqa: B018
