"""Project.ingest_rows: rows validated like a file, appended idempotently, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthscore.errors import UserError
from healthscore.project import Project
from tests.conftest import PG_SKIP_REASON, PG_URL

ACCOUNTS = [{"account_id": "A1", "name": "Acme"}, {"account_id": "A2", "name": "Beta"}]


def workspace(root: Path, engine: str, pg_url: str | None = None, sources: str = "") -> Path:
    eng = "engine: {backend: duckdb, path: .healthscore/engine.duckdb}" if engine == "duckdb" else \
        f"engine: {{backend: postgres, url: '{pg_url}'}}"
    (root / "healthscore.yaml").write_text(f"model: models/health.yaml\n{eng}\n{sources}", encoding="utf-8")
    return root


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def project(request, tmp_path):
    url = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    with Project(workspace(tmp_path, request.param, url)) as p:
        yield p


def table_rows(p: Project, table: str, key: str) -> list[dict]:
    return sorted(p.con.table(table).to_pyarrow().to_pylist(), key=lambda r: str(r[key]))


def test_rows_are_validated_appended_and_recorded(project):
    p = project
    r = p.ingest_rows("accounts", ACCOUNTS)
    assert (r.read, r.accepted, r.quarantined, r.already_ingested) == (2, 2, 0, 0)
    r = p.ingest_rows(
        "tickets",
        [
            {
                "ticket_id": "T1",
                "account_id": "A1",
                "opened_at": "2024-05-01T10:00:00+02:00",
                "csat": 4,
                "escalated": "yes",
            },
            {"ticket_id": "T2", "account_id": "X9", "opened_at": "2024-05-01"},
            {"ticket_id": "T3", "account_id": "A1", "opened_at": "2024-13-45"},
            {"ticket_id": "T1", "account_id": "A2", "opened_at": "2024-05-02"},
            {"ticket_id": "T4", "account_id": "A2", "opened_at": "2024-05-03", "csat": -1},
            "not an object",
        ],
        source="webhook:zendesk",
    )
    assert (r.read, r.accepted, r.quarantined) == (6, 1, 5)
    q = r.quarantine.to_dict("records")
    assert [(x["file"], x["line"], x["column"]) for x in q] == [
        ("webhook:zendesk", 2, "account_id"),
        ("webhook:zendesk", 3, "opened_at"),
        ("webhook:zendesk", 4, "ticket_id"),
        ("webhook:zendesk", 5, "csat"),
        ("webhook:zendesk", 6, ""),
    ]
    assert q[0]["reason"] == "account_id: 'X9' is not in accounts"
    assert q[2]["reason"] == "duplicate ticket_id T1 (first seen at row 1)"
    assert q[3]["reason"] == "csat: -1 is negative; must be >= 0"
    # raw: the row as given (keys of the batch that this row lacks are None, as in an NDJSON file)
    assert q[1]["raw"] == {
        "ticket_id": "T3",
        "account_id": "A1",
        "opened_at": "2024-13-45",
        "csat": None,
        "escalated": None,
    }
    rows = table_rows(p, "tickets", "ticket_id")
    assert [(x["ticket_id"], str(x["opened_at"]), x["csat"], x["escalated"]) for x in rows] == [
        ("T1", "2024-05-01 08:00:00", 4.0, True)
    ]
    # the store has the batch and its quarantine, like a file ingest
    stored = p.store.quarantine(table_name="tickets")
    assert len(stored) == 5 and stored[0]["file"] == "webhook:zendesk"


def test_same_rows_twice_add_nothing_and_new_ids_are_appended(project):
    p = project
    p.ingest_rows("accounts", ACCOUNTS)
    batch = [
        {"invoice_id": "I1", "account_id": "A1", "issued_at": "2024-05-01", "amount": 10, "status": "paid"},
        {"invoice_id": "I2", "account_id": "A2", "issued_at": "2024-05-02", "amount": 20, "status": "open"},
    ]
    first = p.ingest_rows("invoices", batch)
    before = table_rows(p, "invoices", "invoice_id")
    again = p.ingest_rows("invoices", batch)
    assert (again.read, again.accepted, again.quarantined, again.already_ingested) == (2, 2, 0, 2)
    assert table_rows(p, "invoices", "invoice_id") == before
    # a redelivered id with changed values is not an update: the first version stays
    more = p.ingest_rows(
        "invoices", [dict(batch[1], status="paid"), {"invoice_id": "I3", "account_id": "A1", "issued_at": "2024-06-01"}]
    )
    assert (more.accepted, more.already_ingested) == (2, 1)
    after = table_rows(p, "invoices", "invoice_id")
    assert [(r["invoice_id"], r["status"]) for r in after] == [("I1", "paid"), ("I2", "open"), ("I3", None)]
    assert first.already_ingested == 0


def test_tables_without_an_id_compare_whole_rows(project):
    p = project
    p.ingest_rows("accounts", ACCOUNTS)
    row = {"account_id": "A1", "ts": "2024-05-01", "kind": "nps", "score": 9, "comment": "great product"}
    first = p.ingest_rows("surveys", [row, row])  # identical rows in one batch are kept, as a file ingest keeps them
    assert (first.accepted, first.already_ingested) == (2, 0)
    second = p.ingest_rows("surveys", [row, dict(row, score=3)])
    assert (second.accepted, second.already_ingested) == (2, 1)
    rows = table_rows(p, "surveys", "score")
    assert [r["score"] for r in rows] == [3.0, 9.0, 9.0]
    assert rows[1]["comment_sentiment"] > 0.3  # derived at ingestion, as for files


def test_unknown_key_is_a_user_error_and_writes_nothing(project):
    p = project
    p.ingest_rows("accounts", ACCOUNTS)
    with pytest.raises(UserError, match="unknown column.*'severity'"):
        p.ingest_rows("tickets", [{"ticket_id": "T1", "account_id": "A1", "opened_at": "2024-05-01", "severity": 3}])
    assert "tickets" not in p.con.list_tables()
    with pytest.raises(UserError, match="not a canonical table"):
        p.ingest_rows("ticket", [])
    with pytest.raises(UserError, match="must be a list"):
        p.ingest_rows("tickets", {"ticket_id": "T1"})  # type: ignore[arg-type]


def test_rows_give_the_same_reasons_as_the_same_rows_in_a_file(tmp_path):
    """One validator: the quarantine of ingest_rows equals that of an NDJSON file with the same rows."""
    rows = [
        {"account_id": "A1", "ts": "2024-05-01", "event": "login", "event_id": "E1", "quantity": "2"},
        {"account_id": "A1", "ts": "yesterday", "event": "login", "event_id": "E2"},
        {"account_id": "A1", "ts": "2024-05-01", "event": "", "event_id": "E3"},
        {"account_id": "A1", "ts": "2024-05-01", "event": "x", "event_id": "E1"},
        {"account_id": "A1", "ts": "2024-05-01", "event": "x", "quantity": "1,000"},
    ]
    api_root, file_root = tmp_path / "api", tmp_path / "file"
    api_root.mkdir(), file_root.mkdir()
    (file_root / "events.ndjson").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (file_root / "accounts.csv").write_text("account_id\nA1\n")
    workspace(
        file_root,
        "duckdb",
        sources="sources:\n  accounts: {path: accounts.csv}\n  usage_events: {path: events.ndjson}\n",
    )
    with Project(workspace(api_root, "duckdb")) as a, Project(file_root) as f:
        a.ingest_rows("accounts", [{"account_id": "A1"}])
        via_api = a.ingest_rows("usage_events", rows, source="events.ndjson")
        via_file = {r.table: r for r in f.ingest()}["usage_events"]
        cols = ["file", "column", "value", "reason", "raw"]
        api = via_api.quarantine[cols].to_dict("records")
        for q in api:  # the only difference: a row of a call is a 'row', a row of a file a 'line'
            q["reason"] = q["reason"].replace("first seen at row", "first seen at line")
        assert api == via_file.quarantine[cols].to_dict("records")
        assert via_api.quarantined == 4
        assert table_rows(a, "usage_events", "event_id") == table_rows(f, "usage_events", "event_id")


# --------------------------------------------------------------------------------------------
# Properties: read = accepted + quarantined; the same rows twice add nothing; no good row is lost


@st.composite
def ticket_batches(draw):
    ids = st.sampled_from(["T1", "T2", "T3", "T4", "T5"])
    row = st.fixed_dictionaries(
        {
            "ticket_id": ids,
            "account_id": st.sampled_from(["A1", "A2", "X9"]),
            "opened_at": st.sampled_from(["2024-05-01", "2024-05-02T10:00:00Z", "not a date", ""]),
            "csat": st.sampled_from([None, 1, 4.5, -2, "abc"]),
        }
    )
    return draw(st.lists(row, max_size=8)), draw(st.lists(row, max_size=8))


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=ticket_batches())
def test_property_idempotent_append(batches):
    first, second = batches
    with tempfile.TemporaryDirectory() as d, Project(workspace(Path(d), "duckdb")) as p:
        p.ingest_rows("accounts", ACCOUNTS)
        seen: dict[str, dict] = {}
        for batch in (first, second, first, second):
            r = p.ingest_rows("tickets", batch)
            assert r.read == r.accepted + r.quarantined == len(batch)
            assert len(r.quarantine) == r.quarantined
            assert 0 <= r.already_ingested <= r.accepted
            ok = [
                row
                for row in batch
                if row["account_id"] != "X9"
                and row["opened_at"] not in ("", "not a date")
                and row["csat"] not in (-2, "abc")
            ]
            for row in ok:  # the first valid row of an id that is not in the table yet is added
                seen.setdefault(row["ticket_id"], row)
            rows = table_rows(p, "tickets", "ticket_id")
            assert [x["ticket_id"] for x in rows] == sorted(seen)
            assert [x["account_id"] for x in rows] == [seen[k]["account_id"] for k in sorted(seen)]
        again = p.ingest_rows("tickets", first)
        assert again.accepted == again.already_ingested


@pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)
@pytest.mark.postgres
def test_postgres_concurrent_batches_do_not_both_add_an_id(pg_database, tmp_path):
    """Two projects (two connections) append the same ids at once: each id lands once."""
    import threading

    root = workspace(tmp_path, "postgres", pg_database)
    with Project(root) as p:
        p.ingest_rows("accounts", ACCOUNTS)
    batch = [{"event_id": f"E{i}", "account_id": "A1", "ts": "2024-05-01", "event": "login"} for i in range(200)]
    results, errors = [], []

    def run():
        try:
            with Project(root) as q:
                results.append(q.ingest_rows("usage_events", batch))
        except Exception as exc:  # pragma: no cover - shown by the assert
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Project(root) as p:
        assert p.con.table("usage_events").count().execute() == 200
    assert sum(r.accepted - r.already_ingested for r in results) == 200
