"""Revision 0009: a store of the old format (every snapshot and one evidence row per metric in the store)
moves to the Parquet snapshot history on opening, and reads back the same; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command

from healthscore.errors import InvalidInput
from healthscore.store import queries as Q
from healthscore.store import tables
from healthscore.store.store import Store, alembic_config, normalise_url

D1, D2, D3 = date(2024, 6, 28), date(2024, 7, 5), date(2024, 7, 12)


def old_snapshot(account_id, as_of, model_version="v1", score=50.0, **more):
    return {"account_id": account_id, "as_of": datetime.combine(as_of, datetime.min.time()),
            "model_version": model_version, "run_id": "r" + as_of.isoformat(), "score": score,
            "tier": None if score is None else ("green" if score >= 70 else "yellow"),
            "status": "scored" if score is not None else "paused", "confidence": 0.8, "coverage": 1.0,
            "segment": "smb", "components": [{"name": "usage", "score": score, "weight": 1.0, "coverage": 1.0}],
            "reasons": [] if score is not None else ["usage_events stale"], "created_at": datetime(2024, 7, 20),
            "smoothed_score": None, "primary_driver": None, "trend_note": None, "flags": [], "review_required": False,
            "last_trusted": None, **more}


def old_evidence(account_id, as_of, metric, value, points, model_version="v1", **more):
    return {"account_id": account_id, "as_of": datetime.combine(as_of, datetime.min.time()),
            "model_version": model_version, "metric": metric, "component": "usage", "value": value,
            "window": "30d", "source": "usage_events", "rows": 3, "latest_at": datetime(2024, 6, 27, 18, 30),
            "score": 50.0, "weight": 0.5, "points": points, "as_of_source": None, **more}


SNAPSHOTS = [
    old_snapshot("a1", D1, score=61.5),
    old_snapshot("a1", D2, score=72.0, flags=["drop"], review_required=True, trend_note="up 10",
                 primary_driver="logins", smoothed_score=66.25),
    old_snapshot("a1", D3, score=None, last_trusted={"as_of": "2024-07-05", "score": 72.0, "tier": "green"},
                 flags=["paused"]),
    old_snapshot("a2", D1, score=40.0),
    old_snapshot("a2", D2, score=45.0),
    old_snapshot("a1", D2, model_version="v2", score=80.0),
]
EVIDENCE = [
    old_evidence("a1", D1, "logins", 12, 30.75),
    old_evidence("a1", D1, "plan", "gold", 30.75, as_of_source="subscriptions"),
    old_evidence("a1", D1, "nps", None, None),
    old_evidence("a1", D2, "logins", 0.5, 72.0),
    old_evidence("a2", D2, "logins", 3.25, 45.0),
    old_evidence("a1", D2, "logins", 1.0, 80.0, model_version="v2"),
]


def old_store(url):
    """A store at revision 0008 holding SNAPSHOTS and EVIDENCE the way it stored them."""
    command.upgrade(alembic_config(url), "0008")
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(tables.snapshots), SNAPSHOTS)
            conn.execute(sa.insert(tables.evidence), EVIDENCE)
    finally:
        engine.dispose()


def expected(snap):
    """What `Store.snapshots` returns for an old snapshot."""
    key = (snap["account_id"], snap["as_of"], snap["model_version"])
    evidence = [e for e in EVIDENCE if (e["account_id"], e["as_of"], e["model_version"]) == key]
    evidence.sort(key=lambda e: (e["points"] is None, -(e["points"] or 0), e["metric"]))
    return {
        **{k: snap[k] for k in ("account_id", "model_version", "score", "tier", "status", "confidence", "coverage",
                                "segment", "components", "reasons", "smoothed_score", "primary_driver",
                                "trend_note", "flags", "review_required", "last_trusted")},
        "as_of": snap["as_of"].date().isoformat(),
        "evidence": [{**{k: e[k] for k in ("metric", "component", "value", "window", "source", "rows", "score",
                                           "weight", "points")},
                      "latest_at": e["latest_at"].isoformat(),
                      **({"as_of_source": e["as_of_source"]} if e["as_of_source"] else {})} for e in evidence],
    }


def test_opening_an_old_store_moves_its_snapshots_and_evidence_to_the_history(url, tmp_path):
    old_store(url)
    with Store(url, history_dir=tmp_path / "history") as store:
        got = store.snapshots()
        want = sorted((expected(s) for s in SNAPSHOTS), key=lambda s: (s["account_id"], s["as_of"], s["model_version"]))
        assert got == want
        assert store.evidence_for("a1", D1, "v1") == want[0]["evidence"]
        assert [e["value"] for e in want[0]["evidence"]] == [12, "gold", None]  # number, text, missing
        assert store.stored_as_of_dates("v1") == {D1, D2, D3} and store.stored_as_of_dates("v2") == {D2}
        frame = store.snapshot_frame(model_version="v1")
        assert list(zip(frame["account_id"], frame["as_of"].dt.date)) == [
            ("a1", D1), ("a1", D2), ("a1", D3), ("a2", D1), ("a2", D2)]
        assert frame["flags"].tolist() == [[], ["drop"], ["paused"], [], []]
        assert store.latest_as_of("v1") == D3 and store.latest_as_of("v1", "a2") == D2
        assert [h["as_of"] for h in Q.account_history(store, "a1")] == ["2024-06-28", "2024-07-05", "2024-07-05",
                                                                         "2024-07-12"]
        # an older date reads the history; the store keeps each account's newest snapshot per version only
        assert sorted(Q.snapshots_on(store, "v1", D1)["account_id"]) == ["a1", "a2"]
        with store.engine.connect() as conn:
            s = tables.snapshots.c
            latest = conn.execute(sa.select(s.account_id, s.model_version, s.as_of)
                                  .order_by(s.model_version, s.account_id)).all()
            assert "evidence" not in sa.inspect(conn).get_table_names()
        assert [(a, v, d.date()) for a, v, d in latest] == [("a1", "v1", D3), ("a2", "v1", D2), ("a1", "v2", D2)]

        # new snapshots go on top of the moved ones, and a moved key is not written again
        snaps = pd.DataFrame([{k: v for k, v in old_snapshot("a2", D3).items() if k not in ("run_id", "created_at")},
                              {k: v for k, v in old_snapshot("a2", D2).items() if k not in ("run_id", "created_at")}])
        no_evidence = pd.DataFrame(columns=[k for k in old_evidence("x", D1, "m", 1, 1) if k != "as_of_source"])
        assert store.write_snapshots(store.start_run("v1", [D2, D3], "duckdb"), snaps, no_evidence) == 1
        assert store.latest_as_of("v1", "a2") == D3


def test_a_migration_run_again_writes_every_snapshot_once(url, tmp_path):
    """A crash after the history's files and before the store's commit: the old rows are all still there
    when the migration runs again, and the history skips the keys it holds."""
    old_store(url)
    history = tmp_path / "history"
    with Store(url, history_dir=history) as store:
        first = store.snapshots()
    command.downgrade(alembic_config(url, history_dir=history), "0008")
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:  # the rows the first run had moved out of the store, back in
            conn.execute(sa.delete(tables.snapshots))
            conn.execute(sa.insert(tables.snapshots), SNAPSHOTS)
            conn.execute(sa.insert(tables.evidence), EVIDENCE)
    finally:
        engine.dispose()
    with Store(url, history_dir=history) as store:
        assert store.snapshots() == first
        assert sum(store.snapshot_counts("v1", [D1, D2, D3]).values()) == 5


def test_an_old_store_without_a_history_directory_is_refused_with_the_setting_named(url, tmp_path):
    if not url.startswith("postgresql"):
        pytest.skip("a SQLite store's history defaults to a directory beside its file")
    old_store(url)
    with pytest.raises(InvalidInput, match="history:"):
        Store(url)


def test_a_sqlite_store_keeps_its_history_beside_its_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    old_store(url)
    with Store(url) as store:
        assert store.history_dir == tmp_path / "store.db-history"
        assert len(store.snapshots()) == len(SNAPSHOTS)
    assert list((tmp_path / "store.db-history").rglob("part-*.parquet"))


def test_a_sqlite_store_gives_back_the_space_its_evidence_took(tmp_path):
    """The evidence leaves the file; SQLite keeps freed pages until VACUUM, so opening runs it."""
    path = tmp_path / "store.db"
    url = f"sqlite:///{path}"
    old_store(url)
    engine = sa.create_engine(normalise_url(url))
    with engine.begin() as conn:  # a store that had scored for a while: many evidence rows
        conn.execute(sa.insert(tables.evidence), [old_evidence("a1", D1, f"m{i}", i, 1.0) for i in range(5000)])
    engine.dispose()
    before = path.stat().st_size
    with Store(url) as store:
        assert len(store.evidence_for("a1", D1, "v1")) == 5000 + 3
    assert path.stat().st_size < before / 3
