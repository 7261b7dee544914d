"""History, trends and stop gates in the store (revision 0002), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext

from healthscore.store import tables
from healthscore.store.store import Store, alembic_config, normalise_url

D1, D2, D3 = date(2024, 6, 28), date(2024, 6, 29), date(2024, 6, 30)
FRAME_COLUMNS = [
    "account_id", "as_of", "model_version", "score", "tier", "status", "smoothed_score", "primary_driver",
    "trend_note", "flags", "review_required", "confidence", "coverage",
]
DEFAULTS = {
    "smoothed_score": None,
    "primary_driver": None,
    "trend_note": None,
    "flags": [],
    "review_required": False,
    "last_trusted": None,
}


def snapshot(account_id, as_of, model_version="v1", score=50.0, **history):
    return {
        "account_id": account_id,
        "as_of": as_of,
        "model_version": model_version,
        "score": score,
        "tier": "yellow" if score is not None else None,
        "status": "scored" if score is not None else "paused",
        "confidence": 0.8,
        "coverage": 1.0,
        "segment": "smb",
        "components": [{"name": "usage", "score": score, "weight": 1.0, "coverage": 1.0}],
        "reasons": [],
        **history,
    }


def evidence(account_id, as_of, metric, points, model_version="v1"):
    return {
        "account_id": account_id,
        "as_of": as_of,
        "model_version": model_version,
        "metric": metric,
        "component": "usage",
        "value": 1.0,
        "window": "30d",
        "source": "usage_events",
        "rows": 3,
        "latest_at": pd.Timestamp(as_of) - pd.Timedelta(hours=1),
        "score": 50.0,
        "weight": 0.5,
        "points": points,
    }


def write(store, snaps, ev=()):
    snaps = pd.DataFrame(snaps)
    ev = pd.DataFrame(list(ev), columns=list(evidence("x", D1, "m", 0.0)))
    run_id = store.start_run(str(snaps["model_version"].iloc[0]), sorted(set(snaps["as_of"])), "duckdb")
    return store.write_snapshots(run_id, snaps, ev)


def history(snap):
    return {k: snap[k] for k in DEFAULTS}


# -- writing and reading the history columns ---------------------------------------------------


def test_history_columns_round_trip_with_missing_values_as_defaults(store):
    trusted = {"as_of": date(2024, 6, 1), "score": np.float64(71.2), "tier": "green"}
    snaps = pd.DataFrame(
        [
            snapshot("a1", D3, smoothed_score=np.float64(48.25), primary_driver="logins",
                     trend_note="down 6 points since 2024-06-01, mostly logins", flags=["stale_source", "drop"],
                     review_required=np.bool_(True), last_trusted=None),
            snapshot("a2", D3, score=None, smoothed_score=np.nan, primary_driver=None, trend_note=pd.NA,
                     flags=np.array(["paused"]), review_required=False, last_trusted=trusted),
            snapshot("a3", D3, smoothed_score=pd.NA, primary_driver=np.nan, trend_note=None, flags=None,
                     review_required=None, last_trusted=np.nan),
            snapshot("a4", D3, smoothed_score=None, primary_driver="", trend_note="", flags=(),
                     review_required=pd.NA, last_trusted={}),
        ]
    )
    run_id = store.start_run("v1", [D3], "duckdb")
    assert store.write_snapshots(run_id, snaps, pd.DataFrame(columns=list(evidence("x", D1, "m", 0.0)))) == 4

    got = {s["account_id"]: s for s in store.snapshots()}
    assert history(got["a1"]) == {
        "smoothed_score": 48.25,
        "primary_driver": "logins",
        "trend_note": "down 6 points since 2024-06-01, mostly logins",
        "flags": ["stale_source", "drop"],
        "review_required": True,
        "last_trusted": None,
    }
    assert history(got["a2"]) == DEFAULTS | {
        "flags": ["paused"],
        "last_trusted": {"as_of": "2024-06-01", "score": 71.2, "tier": "green"},
    }
    assert history(got["a3"]) == DEFAULTS
    assert history(got["a4"]) == DEFAULTS | {"primary_driver": "", "trend_note": "", "last_trusted": {}}
    assert type(got["a1"]["review_required"]) is bool and type(got["a3"]["review_required"]) is bool
    with store.engine.connect() as conn:  # a missing last_trusted is SQL NULL, not JSON null
        s = tables.snapshots.c
        assert conn.scalars(sa.select(s.account_id).where(s.last_trusted.is_(None)).order_by(s.account_id)).all() == [
            "a1", "a3"
        ]
        latest = {r.account_id: r for r in conn.execute(sa.select(s.account_id, s.components, s.reasons, s.flags,
                                                                  s.last_trusted))}
    # the store's latest rows hold the JSON the history file holds (encoded once for both)
    assert {a: (r.components, r.reasons, r.flags, r.last_trusted) for a, r in latest.items()} == {
        a: (snap["components"], snap["reasons"], snap["flags"], snap["last_trusted"]) for a, snap in got.items()}


def test_history_columns_may_be_absent_or_all_missing(store):
    assert write(store, [snapshot("a1", D1), snapshot("a2", D1)], [evidence("a1", D1, "logins", 50.0)]) == 2
    all_missing = pd.DataFrame([snapshot("a3", D1)]).assign(
        smoothed_score=np.nan, primary_driver=np.nan, trend_note=np.nan, flags=np.nan,
        review_required=np.nan, last_trusted=np.nan,
    )
    assert write(store, all_missing) == 1
    only_some = pd.DataFrame([snapshot("a4", D1)]).assign(review_required=[True])  # the rest absent
    assert write(store, only_some) == 1

    got = {s["account_id"]: s for s in store.snapshots()}
    assert [history(got[a]) for a in ("a1", "a2", "a3")] == [DEFAULTS] * 3
    assert history(got["a4"]) == DEFAULTS | {"review_required": True}
    assert [e["metric"] for e in got["a1"]["evidence"]] == ["logins"]


def test_malformed_history_values_are_refused_and_nothing_is_written(store):
    run_id = store.start_run("v1", [D1], "duckdb")
    no_evidence = pd.DataFrame(columns=list(evidence("x", D1, "m", 0.0)))
    for bad, message in [
        ({"flags": ["stale", "not a list"]}, "flags: expected lists"),
        ({"flags": [{"a": 1}, []]}, "flags: expected lists"),
        ({"review_required": ["yes", False]}, "review_required: expected true or false"),
        ({"last_trusted": ['{"score": 70}', None]}, "last_trusted: expected dicts"),  # JSON text, not a dict
    ]:
        snaps = pd.DataFrame([snapshot("a1", D1), snapshot("a2", D1)]).assign(**bad)
        with pytest.raises(ValueError, match=message):
            store.write_snapshots(run_id, snaps, no_evidence)
    assert store.snapshots() == []


def test_the_server_defaults_fill_rows_inserted_without_the_new_columns(store):
    """Other writers (SQL, older code) that leave the new columns out still get valid rows."""
    old_columns = {k: v for k, v in snapshot("a1", datetime(2024, 6, 28)).items()}
    with store.engine.begin() as conn:
        conn.execute(sa.insert(tables.snapshots), [old_columns | {"run_id": "r1", "created_at": datetime(2024, 7, 1)}])
    # the store's table of latest snapshots (the history's files are written by write_snapshots only)
    with store.engine.connect() as conn:
        (got,) = conn.execute(sa.select(tables.snapshots)).mappings().all()
    assert history(got) == DEFAULTS


# -- snapshot_frame ---------------------------------------------------------------------------------


def test_snapshot_frame_has_the_columns_and_types_in_key_order(store):
    write(store, [
        snapshot("b2", D2, smoothed_score=51.5, primary_driver="logins", trend_note="flat", flags=["drop"],
                 review_required=True),
        snapshot("a1", D2, score=None),
    ], [evidence("b2", D2, "logins", 50.0)])
    write(store, [snapshot("a1", D1, score=40.0)])
    write(store, [snapshot("a1", D1, model_version="v2", score=45.0)])

    frame = store.snapshot_frame()

    assert list(frame.columns) == FRAME_COLUMNS
    assert frame["as_of"].dtype == "datetime64[ns]"
    assert frame["review_required"].dtype == bool
    for name in ("score", "smoothed_score", "confidence", "coverage"):
        assert frame[name].dtype == "float64"
    assert list(frame.index) == [0, 1, 2, 3]
    assert list(zip(frame["account_id"], frame["as_of"], frame["model_version"])) == [
        ("a1", pd.Timestamp(D1), "v1"),
        ("a1", pd.Timestamp(D1), "v2"),
        ("a1", pd.Timestamp(D2), "v1"),
        ("b2", pd.Timestamp(D2), "v1"),
    ]
    paused, b2 = frame.iloc[2], frame.iloc[3]
    assert np.isnan(paused["score"]) and pd.isna(paused["tier"]) and paused["status"] == "paused"
    assert np.isnan(paused["smoothed_score"]) and pd.isna(paused["primary_driver"]) and pd.isna(paused["trend_note"])
    assert paused["flags"] == [] and paused["review_required"] is np.False_
    assert b2.to_dict() == {
        "account_id": "b2",
        "as_of": pd.Timestamp(D2),
        "model_version": "v1",
        "score": 50.0,
        "tier": "yellow",
        "status": "scored",
        "smoothed_score": 51.5,
        "primary_driver": "logins",
        "trend_note": "flat",
        "flags": ["drop"],
        "review_required": True,
        "confidence": 0.8,
        "coverage": 1.0,
    }


def test_snapshot_frame_filters(store):
    write(store, [snapshot(a, d) for a in ("a1", "a2", "o'brien") for d in (D1, D2, D3)])
    write(store, [snapshot("a1", D2, model_version="v2")])

    def keys(**filters):
        frame = store.snapshot_frame(**filters)
        return [(a, ts.date(), mv) for a, ts, mv in zip(frame["account_id"], frame["as_of"], frame["model_version"])]

    assert len(keys()) == 10
    assert keys(date_from=D2, date_to=D2, model_version="v1") == [
        ("a1", D2, "v1"), ("a2", D2, "v1"), ("o'brien", D2, "v1")
    ]
    assert keys(date_from="2024-06-30") == [("a1", D3, "v1"), ("a2", D3, "v1"), ("o'brien", D3, "v1")]
    assert keys(date_to=datetime(2024, 6, 28, 23, 59), account_ids=["a2"]) == [("a2", D1, "v1")]
    assert keys(model_version="v2") == [("a1", D2, "v2")]
    assert keys(account_ids={"o'brien", "nobody"}, date_from=D3) == [("o'brien", D3, "v1")]
    assert keys(account_ids=pd.Series(["a2", "a1"]), date_from=D3) == [("a1", D3, "v1"), ("a2", D3, "v1")]
    assert keys(account_ids="a1", model_version="v2") == [("a1", D2, "v2")]  # one id, not its letters
    # more ids than either database takes as bound parameters in one statement
    many = [f"acct-{i:06d}" for i in range(70_000)] + ["a2"]
    assert keys(account_ids=many, date_to=D1) == [("a2", D1, "v1")]

    empty = store.snapshot_frame(account_ids=[])
    assert empty.empty and list(empty.columns) == FRAME_COLUMNS
    assert store.snapshot_frame(model_version="v9").empty


def test_snapshot_frame_of_an_empty_store(store):
    frame = store.snapshot_frame()
    assert frame.empty and list(frame.columns) == FRAME_COLUMNS
    assert frame["as_of"].dtype == "datetime64[ns]" and frame["review_required"].dtype == bool
    assert frame["score"].dtype == "float64"


def test_snapshot_frame_reads_many_rows(store):
    dates = pd.date_range("2024-01-01", periods=20, freq="D")
    accounts = [f"acct-{i:05d}" for i in range(5_000)]
    snaps = pd.DataFrame(
        {
            "account_id": np.repeat(accounts, len(dates)),
            "as_of": np.tile(dates, len(accounts)),
            "model_version": "v1",
            "score": np.tile(np.linspace(10, 90, len(dates)), len(accounts)),
            "tier": "yellow",
            "status": "scored",
            "confidence": 0.9,
            "coverage": 1.0,
            "segment": None,
            "components": [[]] * (len(dates) * len(accounts)),
            "reasons": [[]] * (len(dates) * len(accounts)),
            "flags": [["drop"]] * (len(dates) * len(accounts)),
        }
    )
    run_id = store.start_run("v1", list(dates), "duckdb")
    assert store.write_snapshots(run_id, snaps, pd.DataFrame(columns=list(evidence("x", D1, "m", 0.0)))) == 100_000

    frame = store.snapshot_frame()

    assert len(frame) == 100_000
    assert frame["account_id"].is_monotonic_increasing
    pd.testing.assert_series_equal(frame["score"], snaps["score"], check_names=False)
    assert (frame["as_of"].to_numpy() == snaps["as_of"].to_numpy()).all()
    assert all(f == ["drop"] for f in frame["flags"]) and not frame["review_required"].any()
    assert store.stored_as_of_dates("v1") == {d.date() for d in dates}


# -- stored_as_of_dates and evidence_for ------------------------------------------------------------


def test_stored_as_of_dates_per_model_version(store):
    assert store.stored_as_of_dates("v1") == set()
    write(store, [snapshot("a1", D1), snapshot("a2", D1), snapshot("a1", D3)])
    write(store, [snapshot("a1", D2, model_version="v2")])

    assert store.stored_as_of_dates("v1") == {D1, D3}
    assert store.stored_as_of_dates("v2") == {D2}
    assert store.stored_as_of_dates("v3") == set()
    assert all(type(d) is date for d in store.stored_as_of_dates("v1"))


def test_evidence_for_one_snapshot(store):
    write(store, [snapshot("a1", D1), snapshot("a1", D2), snapshot("a2", D1)], [
        evidence("a1", D1, "logins", 10.0),
        evidence("a1", D1, "tickets", 30.0),
        evidence("a1", D1, "nps", None),
        evidence("a1", D1, "seats", 10.0),
        evidence("a1", D2, "logins", 5.0),
        evidence("a2", D1, "logins", 1.0),
    ])
    write(store, [snapshot("a1", D1, model_version="v2")], [evidence("a1", D1, "other", 1.0, model_version="v2")])

    got = store.evidence_for("a1", D1, "v1")

    assert [(e["metric"], e["points"]) for e in got] == [("tickets", 30.0), ("logins", 10.0), ("seats", 10.0),
                                                         ("nps", None)]
    assert got == store.snapshots("a1", as_of=D1, model_version="v1")[0]["evidence"]
    assert got[0] == {"metric": "tickets", "component": "usage", "value": 1.0, "window": "30d",
                      "source": "usage_events", "rows": 3, "latest_at": "2024-06-27T23:00:00", "score": 50.0,
                      "weight": 0.5, "points": 30.0}
    assert store.evidence_for("a1", "2024-06-28", "v1") == store.evidence_for("a1", datetime(2024, 6, 28, 12), "v1")
    assert [e["metric"] for e in store.evidence_for("a1", D1, "v2")] == ["other"]
    assert store.evidence_for("a1", D3, "v1") == []
    assert store.evidence_for("nobody", D1, "v1") == []


# -- migrating a 0001 database -------------------------------------------------------------------------


def revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def without_rowid(engine):
    with engine.connect() as conn:
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'snapshots'").scalar()
    return "WITHOUT ROWID" in sql


def test_upgrading_a_0001_database_keeps_its_rows_and_gives_them_the_defaults(url, tmp_path):
    command.upgrade(alembic_config(url), "0001")
    engine = sa.create_engine(normalise_url(url))
    try:
        assert revision(engine) == "0001"
        snapshots_0001 = sa.table(  # the 0001 columns only: tables.py has moved on
            "snapshots", *(sa.column(c.name, c.type) for c in tables.snapshots.c if c.name not in DEFAULTS)
        )
        old = [
            snapshot("a1", datetime(2024, 6, 28), score=61.5) | {"run_id": "r1", "created_at": datetime(2024, 7, 1)},
            snapshot("a2", datetime(2024, 6, 28), score=None) | {"run_id": "r1", "created_at": datetime(2024, 7, 1)},
        ]
        with engine.begin() as conn:
            conn.execute(sa.insert(snapshots_0001), old)
            conn.execute(sa.insert(tables.evidence), [evidence("a1", datetime(2024, 6, 28), "logins", 61.5)])
        if engine.dialect.name == "sqlite":
            assert without_rowid(engine)
    finally:
        engine.dispose()

    with Store(url, history_dir=tmp_path / "history") as store:  # opening the store upgrades to head
        assert revision(store.engine) == head_revision()
        a1, a2 = store.snapshots()
        for got, want in zip((a1, a2), old, strict=True):
            assert {k: got[k] for k in ("account_id", "score", "tier", "status", "components", "reasons")} == {
                k: want[k] for k in ("account_id", "score", "tier", "status", "components", "reasons")
            }
            assert history(got) == DEFAULTS
        assert [e["metric"] for e in a1["evidence"]] == ["logins"]
        assert store.stored_as_of_dates("v1") == {D1}
        assert store.snapshot_frame()["flags"].tolist() == [[], []]
        # and the upgraded table takes new snapshots with history
        assert write(store, [snapshot("a1", D2, flags=["drop"], review_required=True)]) == 1
        assert history(store.snapshots("a1", as_of=D2)[0]) == DEFAULTS | {"flags": ["drop"], "review_required": True}
        if store.engine.dialect.name == "sqlite":  # batch mode added columns in place: still WITHOUT ROWID
            assert without_rowid(store.engine)
        with store.engine.connect() as conn:
            indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("snapshots")}
        assert "ix_snapshots_account_as_of" in indexes


def test_downgrading_to_0001_drops_the_new_columns_and_keeps_the_rows(url, tmp_path):
    with Store(url, history_dir=tmp_path / "history") as store:
        write(store, [snapshot("a1", D1, flags=["drop"], review_required=True), snapshot("a2", D1)],
              [evidence("a1", D1, "logins", 50.0)])
        before = [{k: v for k, v in s.items() if k not in DEFAULTS} for s in store.snapshots()]

    command.downgrade(alembic_config(url), "0001")
    engine = sa.create_engine(normalise_url(url))
    try:
        assert revision(engine) == "0001"
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("snapshots")}
            indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("snapshots")}
        assert columns.isdisjoint(DEFAULTS) and "ix_snapshots_account_as_of" in indexes
        if engine.dialect.name == "sqlite":
            assert without_rowid(engine)
    finally:
        engine.dispose()

    with Store(url, history_dir=tmp_path / "history") as store:  # and up again
        assert [{k: v for k, v in s.items() if k not in DEFAULTS} for s in store.snapshots()] == before
        # the snapshot history (revision 0009) is files beside the store, which a downgrade of the store leaves
        assert [history(s) for s in store.snapshots()] == [DEFAULTS | {"flags": ["drop"], "review_required": True},
                                                           DEFAULTS]
        with store.engine.connect() as conn:  # the store's own rows did lose the columns
            assert conn.execute(sa.select(tables.snapshots.c.flags)).scalars().all() == [[], []]
