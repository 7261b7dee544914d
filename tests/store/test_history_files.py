"""The snapshot history's files (store/history.py): what other tools read, and what readers never see."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from tests.store.test_store import batch, write

D1, D2 = date(2024, 6, 28), date(2024, 6, 29)


def test_the_history_is_one_hive_partitioned_parquet_table_for_other_tools(store):
    write(store, [("a1", D1), ("a2", D1), ("a1", D2)], metrics=("logins", "tickets"))
    glob = str(store.history.root / "*" / "*" / "*.parquet")
    rows = duckdb.sql(
        "SELECT account_id, CAST(as_of AS VARCHAR), model_version, score, len(evidence), evidence[1].metric"
        " FROM read_parquet(?, hive_partitioning = true) ORDER BY 1, 2", params=[glob]).fetchall()
    assert rows == [("a1", "2024-06-28", "v1", 50.0, 2, "logins"), ("a1", "2024-06-29", "v1", 50.0, 2, "logins"),
                    ("a2", "2024-06-28", "v1", 50.0, 2, "logins")]
    assert sorted(p.parent.name for p in store.history.root.rglob("*.parquet")) == ["as_of=2024-06-28",
                                                                                   "as_of=2024-06-29"]


def test_a_model_version_of_digits_stays_text(store):
    write(store, [("a1", D1)], model_version="0123")
    (snap,) = store.snapshots()
    assert snap["model_version"] == "0123" and store.stored_as_of_dates("0123") == {D1}
    assert store.snapshot_frame()["model_version"].tolist() == ["0123"]


def test_readers_skip_a_file_that_is_not_renamed_yet(store):
    write(store, [("a1", D1)])
    staged = store.history.stage(*_encoded(store, [("a2", D1)]))
    assert [s["account_id"] for s in store.snapshots()] == ["a1"]  # the temporary file is invisible
    assert store.snapshot_counts("v1", [D1]) == {D1: 1}
    staged.publish()
    assert [s["account_id"] for s in store.snapshots()] == ["a1", "a2"]


def test_a_model_version_that_is_no_directory_name_is_refused(store):
    with pytest.raises(ValueError, match="model_version '../x'"):
        write(store, [("a1", D1)], model_version="../x")


def _encoded(store, keys):
    """A batch as write_snapshots hands it to the history (JSON columns as text, run_id, created_at)."""
    import pandas as pd

    from healthscore.store.encode import SNAPSHOT_ENCODERS

    snaps, ev = batch(keys)
    snaps["as_of"] = pd.to_datetime(snaps["as_of"])
    ev["as_of"] = pd.to_datetime(ev["as_of"])
    snaps = snaps.assign(run_id="r1", created_at=pd.Timestamp("2024-07-01"), smoothed_score=None,
                         primary_driver=None, trend_note=None, flags=None, review_required=False, last_trusted=None)
    for name in ("components", "reasons", "flags", "last_trusted"):
        snaps[name] = pd.Series(SNAPSHOT_ENCODERS[name](snaps[name]), index=snaps.index, dtype=object)
    return snaps, ev


def test_history_files_are_owner_only(store):
    """Snapshots name customers, owners and ARR: like the store file, the history is the owner's alone,
    wherever it lives (a store's history beside its file is outside the private .healthscore directory)."""
    import stat

    write(store, [("a1", date(2024, 7, d)) for d in range(1, 5)])  # four dates: the series index too
    files = list(store.history.root.rglob("*.parquet"))
    assert any("_index" in f.parts for f in files)
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert stat.S_IMODE(f.parent.stat().st_mode) & 0o077 == 0, f.parent


def test_evidence_values_keep_their_type_when_a_metric_mixes_text_and_numbers(store):
    """Text that reads as a number stays text, numbers stay numbers, booleans count as numbers and missing
    values as missing, within one metric and across metrics of one batch."""
    import pandas as pd

    from tests.store.test_store import batch

    keys = [("a1", D1), ("a2", D1), ("a3", D1), ("a4", D1)]
    snaps, ev = batch(keys, metrics=("plan", "logins"))
    plan = ["3", 7.5, None, "gold"]
    logins = [1.0, True, float("nan"), 2]
    ev["value"] = pd.Series([v for pair in zip(plan, logins, strict=True) for v in pair], dtype=object)
    store.write_snapshots(store.start_run("v1", [D1], "duckdb"), snaps, ev)
    got = {(s["account_id"], e["metric"]): e["value"] for s in store.snapshots() for e in s["evidence"]}
    assert [got[(a, "plan")] for a, _ in keys] == ["3", 7.5, None, "gold"]
    assert [got[(a, "logins")] for a, _ in keys] == [1.0, 1.0, None, 2.0]
