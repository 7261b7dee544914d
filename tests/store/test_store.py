"""The store on SQLite and, when HEALTHSCORE_TEST_PG_URL is set, on a real PostgreSQL server."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from healthscore.errors import UserError
from healthscore.store import encode, tables
from healthscore.store.store import Store, alembic_config, head_revision, normalise_url

# evidence: revision 0009 moved it to the snapshot history (Parquet files beside the store)
STORE_TABLES = {"model_versions", "scoring_runs", "snapshots", "ingest_batches", "quarantine"}
D1, D2, D3 = date(2024, 6, 28), date(2024, 6, 29), date(2024, 6, 30)
# What a snapshot written without the history columns (revision 0002) reads back with.
HISTORY_DEFAULTS = {
    "smoothed_score": None,
    "primary_driver": None,
    "trend_note": None,
    "flags": [],
    "review_required": False,
    "last_trusted": None,
}


def batch(keys, metrics=("logins", "tickets"), model_version="v1", score=50.0):
    """Snapshots and evidence for (account_id, as_of) keys, with evidence points adding up to the score."""
    snaps, ev = [], []
    for account_id, as_of in keys:
        snaps.append(
            {
                "account_id": account_id,
                "as_of": as_of,
                "model_version": model_version,
                "score": score,
                "tier": "yellow",
                "status": "scored",
                "confidence": 0.8,
                "coverage": 1.0,
                "segment": "smb",
                "components": [{"name": "usage", "score": score, "weight": 1.0, "coverage": 1.0}],
                "reasons": [],
            }
        )
        for metric in metrics:
            ev.append(
                {
                    "account_id": account_id,
                    "as_of": as_of,
                    "model_version": model_version,
                    "metric": metric,
                    "component": "usage",
                    "value": 3.0,
                    "window": "30d",
                    "source": "usage_events",
                    "rows": 7,
                    "latest_at": pd.Timestamp(as_of) - pd.Timedelta(hours=6),
                    "score": score,
                    "weight": 1 / len(metrics),
                    "points": score / len(metrics),
                }
            )
    return pd.DataFrame(snaps), pd.DataFrame(ev)


def write(store, keys, **kwargs):
    run_id = store.start_run(kwargs.get("model_version", "v1"), sorted({as_of for _, as_of in keys}), "duckdb")
    return store.write_snapshots(run_id, *batch(keys, **kwargs))


def row_counts(store):
    with store.engine.connect() as conn:
        count = sa.select(sa.func.count())
        return {name: conn.scalar(count.select_from(tables.metadata.tables[name])) for name in STORE_TABLES}


def test_migrations_create_every_table_and_upgrading_again_changes_nothing(url):
    with Store(url) as store:
        store.record_model_version("abc", "default", "models/default.yaml", "name: default\n", {"name": "default"})
        assert STORE_TABLES | {"alembic_version"} <= set(sa.inspect(store.engine).get_table_names())

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    command.upgrade(alembic_config(url), "head")
    with Store(url) as store:  # opening upgrades again: a no-op
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
        assert row_counts(store)["model_versions"] == 1


def test_the_head_read_from_the_migration_files_is_alembics(url):
    # a store at this revision opens without loading Alembic (store.head_revision)
    assert head_revision() == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_migrations_build_exactly_the_schema_of_tables_py(store):
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), tables.metadata) == []


def test_postgres_urls_use_psycopg():
    assert normalise_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:////tmp/store.db") == "sqlite:////tmp/store.db"


def test_bad_urls_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="sqlite or postgresql"):
        Store("mysql://someone@localhost/db")
    with pytest.raises(UserError, match="cannot open the store"):
        Store(f"sqlite:///{tmp_path / 'missing-dir' / 'store.db'}")


def test_round_trip_keeps_json_nulls_and_datetimes(store):
    run_id = store.start_run("v1", [D3], "duckdb")
    snaps = pd.DataFrame(
        {
            "account_id": ["acme", "zenith"],
            "as_of": [D3, D3],
            "model_version": ["v1", "v1"],
            "score": [72.5, np.nan],
            "tier": ["green", None],
            "status": ["scored", "insufficient_data"],
            "confidence": [0.9, 0.2],
            "coverage": [1.0, 0.25],
            "segment": ["enterprise", pd.NA],
            "components": [
                [
                    {"name": "usage", "score": np.float64(80.0), "weight": 0.5, "coverage": 1.0},
                    {"name": "support", "score": 65.0, "weight": 0.5, "coverage": 1.0},
                ],
                [{"name": "usage", "score": None, "weight": 1.0, "coverage": 0.25}],
            ],
            "reasons": [[], ["usage_events stale: newest row 19 days old"]],
        }
    )
    ev = pd.DataFrame(
        {
            "account_id": ["acme", "acme", "acme", "acme"],
            "as_of": pd.to_datetime([D3] * 4),
            "model_version": ["v1"] * 4,
            "metric": ["seats_used", "logins", "plan", "nps"],
            "component": ["usage", "usage", "usage", "support"],
            "value": [np.int64(12), 0.75, "gold", np.nan],
            "window": ["30d", "30d", "now", "90d"],
            "source": ["usage_events", "usage_events", "accounts", "surveys"],
            "rows": pd.array([40, 40, pd.NA, 0], dtype="Int64"),
            "latest_at": [
                pd.Timestamp("2024-06-29 23:30", tz="America/New_York"),
                pd.Timestamp("2024-06-29 08:15:30.250"),
                pd.NaT,
                pd.NaT,
            ],
            "score": [80.0, 80.0, 65.0, np.nan],
            "weight": [0.25, 0.25, 0.5, 0.0],
            "points": [20.0, 20.0, 32.5, np.nan],
        }
    )

    assert store.write_snapshots(run_id, snaps, ev) == 2

    acme, zenith = store.snapshots()
    assert acme == {
        "account_id": "acme",
        "as_of": "2024-06-30",
        "model_version": "v1",
        "score": 72.5,
        "tier": "green",
        "status": "scored",
        "confidence": 0.9,
        "coverage": 1.0,
        "segment": "enterprise",
        "components": [
            {"name": "usage", "score": 80.0, "weight": 0.5, "coverage": 1.0},
            {"name": "support", "score": 65.0, "weight": 0.5, "coverage": 1.0},
        ],
        "evidence": [  # points descending, ties by metric, missing points last
            {"metric": "plan", "component": "usage", "value": "gold", "window": "now", "source": "accounts",
             "rows": None, "latest_at": None, "score": 65.0, "weight": 0.5, "points": 32.5},
            {"metric": "logins", "component": "usage", "value": 0.75, "window": "30d", "source": "usage_events",
             "rows": 40, "latest_at": "2024-06-29T08:15:30.250000", "score": 80.0, "weight": 0.25, "points": 20.0},
            {"metric": "seats_used", "component": "usage", "value": 12, "window": "30d", "source": "usage_events",
             "rows": 40, "latest_at": "2024-06-30T03:30:00", "score": 80.0, "weight": 0.25, "points": 20.0},
            {"metric": "nps", "component": "support", "value": None, "window": "90d", "source": "surveys",
             "rows": 0, "latest_at": None, "score": None, "weight": 0.0, "points": None},
        ],
        "reasons": [],
        **HISTORY_DEFAULTS,
    }
    assert zenith == {
        "account_id": "zenith",
        "as_of": "2024-06-30",
        "model_version": "v1",
        "score": None,
        "tier": None,
        "status": "insufficient_data",
        "confidence": 0.2,
        "coverage": 0.25,
        "segment": None,
        "components": [{"name": "usage", "score": None, "weight": 1.0, "coverage": 0.25}],
        "evidence": [],
        "reasons": ["usage_events stale: newest row 19 days old"],
        **HISTORY_DEFAULTS,
    }
    # NaN is a missing value in the history (neither a number nor a text)
    (stored,) = store.history_table(["evidence"], account_id="acme").column("evidence").to_pylist()
    assert [e["metric"] for e in stored if e["value_num"] is None and e["value_text"] is None] == ["nps"]
    with store.engine.connect() as conn:
        run_ids = conn.scalars(sa.select(tables.snapshots.c.run_id).distinct()).all()
    assert run_ids == [run_id]


def test_writing_the_same_snapshots_again_inserts_nothing_and_changes_nothing(store):
    keys = [("a1", D1), ("a2", D1), ("a1", D2)]
    assert write(store, keys) == 3
    before, counts = store.snapshots(), row_counts(store)

    assert write(store, keys, score=99.0, metrics=("logins", "tickets", "nps")) == 0

    assert store.snapshots() == before
    assert row_counts(store) == counts | {"scoring_runs": counts["scoring_runs"] + 1}


def test_a_batch_of_new_and_stored_keys_inserts_only_the_new(store):
    assert write(store, [("a1", D1), ("a2", D1)], score=40.0) == 2

    assert write(store, [("a2", D1), ("a3", D1), ("a1", D2)], score=60.0, metrics=("logins", "tickets", "nps")) == 2

    got = {(s["account_id"], s["as_of"]): s for s in store.snapshots()}
    assert sorted(got) == [("a1", "2024-06-28"), ("a1", "2024-06-29"), ("a2", "2024-06-28"), ("a3", "2024-06-28")]
    stored = got[("a2", "2024-06-28")]  # untouched, and none of the new batch's evidence added to it
    assert stored["score"] == 40.0
    assert [e["metric"] for e in stored["evidence"]] == ["logins", "tickets"]
    assert got[("a3", "2024-06-28")]["score"] == 60.0
    assert [e["metric"] for e in got[("a1", "2024-06-29")]["evidence"]] == ["logins", "nps", "tickets"]


def test_large_batches_are_written_in_chunks(store, monkeypatch):
    monkeypatch.setattr(encode, "_CHUNK_ROWS", 3)
    keys = [(f"a{i:02d}", D3) for i in range(10)]

    assert write(store, keys, metrics=("m1", "m2", "m3", "m4")) == 10

    got = store.snapshots()
    assert [s["account_id"] for s in got] == [k for k, _ in keys]
    assert all(sum(e["points"] for e in s["evidence"]) == pytest.approx(s["score"]) for s in got)


def test_a_failing_batch_writes_nothing(store, monkeypatch):
    monkeypatch.setattr(encode, "_CHUNK_ROWS", 2)  # several chunks land before the failure
    snaps, ev = batch([(f"a{i}", D3) for i in range(5)])
    ev = pd.concat([ev, ev.tail(1)], ignore_index=True)  # one evidence row twice: refused before any write
    run_id = store.start_run("v1", [D3], "duckdb")

    with pytest.raises(ValueError, match=r"metric 'tickets' of snapshot \(account_id='a4'.*more than once"):
        store.write_snapshots(run_id, snaps, ev)

    assert store.snapshots() == []
    assert row_counts(store)["snapshots"] == 0 and store.history.files() == []


def test_malformed_batches_are_refused(store):
    run_id = store.start_run("v1", [D3], "duckdb")
    snaps, ev = batch([("a1", D3), ("a2", D3)])
    with pytest.raises(ValueError, match=r"account_id='a1', as_of=2024-06-30.*more than once"):
        store.write_snapshots(run_id, pd.concat([snaps, snaps.head(1)]), ev)
    with pytest.raises(ValueError, match=r"2 rows belong to no snapshot"):
        store.write_snapshots(run_id, snaps.head(1), ev)
    with pytest.raises(ValueError, match="missing columns tier, segment"):
        store.write_snapshots(run_id, snaps.drop(columns=["segment", "tier"]), ev)
    unnamed = ev.copy()
    unnamed.loc[2, "metric"] = None
    with pytest.raises(ValueError, match=r"a row of snapshot \(account_id='a2'.*has no metric name"):
        store.write_snapshots(run_id, snaps, unnamed)
    assert store.snapshots() == []


def test_snapshot_filters_and_latest_as_of(store):
    assert store.latest_as_of() is None
    write(store, [("a1", D1), ("a1", D2), ("a2", D2), ("a1", D3)])
    write(store, [("a1", D1)], model_version="v2")

    def keys(**filters):
        return [(s["account_id"], s["as_of"], s["model_version"]) for s in store.snapshots(**filters)]

    assert keys() == [
        ("a1", "2024-06-28", "v1"),
        ("a1", "2024-06-28", "v2"),
        ("a1", "2024-06-29", "v1"),
        ("a1", "2024-06-30", "v1"),
        ("a2", "2024-06-29", "v1"),
    ]
    assert keys(account_id="a2") == [("a2", "2024-06-29", "v1")]
    assert keys(as_of=D2) == keys(as_of="2024-06-29") == keys(as_of=datetime(2024, 6, 29, 15)) == [
        ("a1", "2024-06-29", "v1"),
        ("a2", "2024-06-29", "v1"),
    ]
    assert keys(account_id="a1", date_from=D2, date_to=D3) == [("a1", "2024-06-29", "v1"), ("a1", "2024-06-30", "v1")]
    assert keys(date_to=D1, model_version="v2") == [("a1", "2024-06-28", "v2")]
    assert keys(account_id="nobody") == []
    assert "evidence" not in store.snapshots("a2", with_evidence=False)[0]
    assert store.latest_as_of() == D3
    assert store.latest_as_of("v2") == D1
    assert store.latest_as_of("v3") is None


def test_scoring_runs_are_recorded(store):
    run_id = store.start_run("v1", [D1, datetime(2024, 6, 29)], "postgres")
    assert len(run_id) == 32

    store.finish_run(run_id, accounts=12, snapshots_written=24)

    with store.engine.connect() as conn:
        run = conn.execute(sa.select(tables.scoring_runs)).one()
    assert run.as_of_dates == ["2024-06-28", "2024-06-29"]
    assert (run.model_version, run.engine, run.accounts, run.snapshots_written) == ("v1", "postgres", 12, 24)
    assert run.started_at <= run.finished_at
    with pytest.raises(ValueError, match="no scoring run 'nope'"):
        store.finish_run("nope", accounts=0, snapshots_written=0)


def test_model_versions_are_recorded_once(store):
    ir = {"name": "default", "components": [{"name": "usage", "weight": 1.0}]}
    store.record_model_version("abc123", "default", "models/default.yaml", "name: default\n", ir)
    store.record_model_version("abc123", "default", "models/default.yaml", "name: default\n", ir)
    # ir_json may also come as JSON text (pydantic's model_dump_json)
    store.record_model_version("def456", "default", "models/default.yaml", "name: v2\n", '{"name": "default"}')

    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(tables.model_versions).order_by(tables.model_versions.c.version)).all()
    assert [(r.version, r.ir_json) for r in rows] == [("abc123", ir), ("def456", {"name": "default"})]


def test_quarantine_round_trip(store):
    batch_id = store.record_ingest_batch("usage_events", "data/usage.csv", read=10, accepted=8, quarantined=2)
    other = store.record_ingest_batch("tickets", "crm.tickets", read=1, accepted=0, quarantined=1)
    rows = pd.DataFrame(
        {
            "file": ["data/usage.csv", "data/usage.csv"],
            "line": [3, np.nan],
            "column": ["ts", None],
            "value": ["yesterday", None],
            "reason": ["not a timestamp", "row has 3 fields, header has 4"],
            "raw": [
                {"account_id": "a1", "ts": "yesterday", "quantity": np.int64(2), "score": np.nan},
                {"account_id": "a2", "ts": pd.Timestamp("2024-06-01 10:00"), "extra": [1, 2]},
            ],
        }
    )

    assert store.write_quarantine(batch_id, "usage_events", rows) == 2
    store.write_quarantine(other, "tickets", rows.head(1).assign(file=None, line=pd.NA))

    got = store.quarantine(table_name="usage_events")
    assert [{k: v for k, v in r.items() if k not in ("id", "created_at")} for r in got] == [
        {
            "batch_id": batch_id,
            "table_name": "usage_events",
            "file": "data/usage.csv",
            "line": 3,
            "column": "ts",
            "value": "yesterday",
            "reason": "not a timestamp",
            "raw": {"account_id": "a1", "ts": "yesterday", "quantity": 2, "score": None},
        },
        {
            "batch_id": batch_id,
            "table_name": "usage_events",
            "file": "data/usage.csv",
            "line": None,
            "column": None,
            "value": None,
            "reason": "row has 3 fields, header has 4",
            "raw": {"account_id": "a2", "ts": "2024-06-01T10:00:00", "extra": [1, 2]},
        },
    ]
    assert got[0]["id"] < got[1]["id"]
    assert [(r["file"], r["line"]) for r in store.quarantine(batch_id=other)] == [(None, None)]
    assert len(store.quarantine()) == 3
    assert [r["reason"] for r in store.quarantine(limit=1)] == ["not a timestamp"]
    with pytest.raises(ValueError, match="read 5 != accepted 4 \\+ quarantined 0"):
        store.record_ingest_batch("tickets", "t.csv", read=5, accepted=4, quarantined=0)


def test_a_sqlite_without_json_functions_is_refused_by_name(tmp_path, monkeypatch):
    from healthscore.errors import UserError
    from healthscore.store import store as store_module

    assert store_module.sqlite_has_json()  # this machine's SQLite has them
    monkeypatch.setattr(store_module, "sqlite_has_json", lambda: False)
    with pytest.raises(UserError, match=r"SQLite \(3\.\d+.*\) has no JSON functions"):
        Store(f"sqlite:///{tmp_path / 'store.db'}")
    assert not (tmp_path / "store.db").exists()
