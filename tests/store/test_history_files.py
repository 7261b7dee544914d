"""The snapshot history's files (store/history.py): what other tools read, and what readers never see."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from healthscore.store.store import Store
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


def test_evidence_text_of_categories_is_plain_text_to_every_reader(store):
    """A scoring run's evidence names are categories; the file holds them as Parquet text, so pyarrow and pandas
    read strings (not dictionaries that differ from file to file) and DuckDB reads the same values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    snaps, ev = batch([("a1", D1), ("a2", D1)], metrics=("logins", "tickets"))
    for name in ("account_id", "model_version", "metric", "component", "window", "source"):
        ev[name] = ev[name].astype("category")
    store.write_snapshots(store.start_run("v1", [D1], "duckdb"), snaps, ev)
    (path,) = store.history.root.rglob("*.parquet")
    fields = pq.read_schema(path).field("evidence").type.value_type
    assert {f.name: f.type for f in fields if f.name in ("metric", "component", "window", "source")} == {
        "metric": pa.string(), "component": pa.string(), "window": pa.string(), "source": pa.string()}
    rows = duckdb.sql("SELECT account_id, [e.metric || '/' || e.component || '/' || e.window || '/' || e.source"
                      " FOR e IN evidence] FROM read_parquet(?) ORDER BY 1", params=[str(path)]).fetchall()
    assert rows == [(a, ["logins/usage/30d/usage_events", "tickets/usage/30d/usage_events"]) for a in ("a1", "a2")]
    assert [[e["metric"] for e in s["evidence"]] for s in store.snapshots()] == [["logins", "tickets"]] * 2


def test_a_column_older_files_lack_reads_as_missing_values(store):
    """A read of a column no file holds yet (history written before the column existed, e.g. the account's
    ARR) gives missing values, one per snapshot, instead of failing the page that asked."""
    from healthscore.store import queries as Q

    write(store, [("a1", D1), ("a2", D1)])
    frame = Q._history_frame(store, ("account_id", "a_column_of_a_later_release"), model_version="v1", dates=[D1])
    assert frame["account_id"].tolist() == ["a1", "a2"]
    assert frame["a_column_of_a_later_release"].isna().all()
    assert Q.arr_on(store, "v1", D1).isna().all() and len(Q.arr_on(store, "v1", D1)) == 2


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=1, max_size=30),
       st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=1, max_size=30))
@example([100.0, 0.0, None, 9.999, 10.0, 89.99, 90.0], [None, 55.5])  # the bands' edges
def test_the_score_distribution_counts_every_scored_snapshot_in_its_band_per_date(first, second):
    """The portfolio's distribution: per date, each scored snapshot in its 10-point band (100 in 90-100), an
    unscored one in none, counted against a plain count of the same scores."""
    from healthscore.store import queries as Q

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/store.db")
        try:
            for day, scores in ((D1, first), (D2, second)):
                snaps, ev = batch([(f"a{i}", day) for i in range(len(scores))], metrics=("logins",))
                snaps["score"] = scores
                ev["points"] = ev["score"] = scores
                store.write_snapshots(store.start_run("v1", [day], "duckdb"), snaps, ev)
            got = Q.score_distribution(store, "v1", [D1, D2])
        finally:
            store.close()
    for row, scores in zip(got, (first, second), strict=True):
        expected = {f"{lo}-{lo + 9 if lo < 90 else 100}": 0 for lo in range(0, 100, 10)}
        for v in scores:
            if v is not None:
                lo = min(int(v // 10 * 10), 90)
                expected[f"{lo}-{lo + 9 if lo < 90 else 100}"] += 1
        assert row["buckets"] == expected, (row, scores)


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


_VALUES = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                   st.integers(-10**6, 10**6), st.text(max_size=5))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(_VALUES, _VALUES), min_size=1, max_size=8), st.lists(st.booleans(), min_size=16,
                                                                               max_size=16))
@example([("3", 1.5), (None, float("inf"))], [True] * 16)
def test_values_a_scoring_run_also_gives_as_floats_are_stored_as_the_value_column_says(pairs, give):
    """A scoring run passes its numeric values as floats too (value_num), so the write need not read them back
    from Python objects. Whichever values come that way, the stored evidence is what the value column alone
    gives."""
    def stored(with_floats: bool) -> list:
        keys = [(f"a{i}", D1) for i in range(len(pairs))]
        snaps, ev = batch(keys, metrics=("plan", "logins"))
        values = [v for pair in pairs for v in pair]
        ev["value"] = pd.Series(values, dtype=object)
        if with_floats:  # as scoring gives them: floats where the value is a float, missing elsewhere
            ev["value_num"] = [v if type(v) is float and give[i % 16] else np.nan for i, v in enumerate(values)]
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/store.db")
            try:
                store.write_snapshots(store.start_run("v1", [D1], "duckdb"), snaps, ev)
                got = {(s["account_id"], e["metric"]): e["value"] for s in store.snapshots() for e in s["evidence"]}
            finally:
                store.close()
        return [got[(a, m)] for a, _ in keys for m in ("plan", "logins")]

    assert stored(True) == stored(False)


def test_a_listing_kept_for_a_settled_directory_sees_the_files_added_after_it(store, monkeypatch):
    """Directory listings are kept while the directory's change time holds. A file published into a date that
    was listed before shows in the next read."""
    import time

    from healthscore.store import files

    monkeypatch.setattr(files, "_SETTLED_NS", 0)  # keep every listing (the real rule waits two seconds)
    write(store, [("a1", D1)])
    time.sleep(0.05)  # past the file system clock's tick of the last change
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1"]
    store.history.stage(*_encoded(store, [("a2", D1)])).publish()  # a second file in the listed directory
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1", "a2"]
    write(store, [("a1", D2)])  # a new date directory
    assert store.stored_as_of_dates("v1") == {D1, D2}


def test_a_directory_changed_within_the_settling_time_is_listed_again():
    """A listing of a directory that changed less than the settling time before is not kept: a change in the
    same tick of the file system's clock would leave its change time as it was."""
    import os
    import tempfile

    from healthscore.store import files

    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "part-1.parquet"), "wb").close()
        assert files.names(d, "part-", suffix=".parquet") == ["part-1.parquet"]
        assert not any(key[0] == d for key in files._listings)


def test_reads_of_different_accounts_share_one_statement_with_their_own_values(store):
    """The SQL text of a read is built once and takes the account as a parameter: each account gets its rows."""
    from healthscore.store import snapshots

    write(store, [("a1", D1), ("a2", D1), ("a'3", D1), ("a1", D2)])
    before = snapshots._history_sql.cache_info()
    assert [(s["account_id"], s["as_of"]) for s in store.snapshots("a1")] == [("a1", "2024-06-28"),
                                                                              ("a1", "2024-06-29")]
    assert [s["account_id"] for s in store.snapshots("a'3")] == ["a'3"]  # a quote is a value, not SQL
    assert store.snapshots("nobody") == []
    after = snapshots._history_sql.cache_info()
    assert after.misses - before.misses == 1 and after.hits - before.hits == 2


def test_a_read_of_more_accounts_than_a_filter_lists_joins_with_them(store):
    """More accounts than _INLINE_IDS are joined with the read, not listed in it: the same rows either way."""
    from healthscore.store.snapshots import _INLINE_IDS

    ids = [f"a{i:04d}" for i in range(2 * _INLINE_IDS + 20)]
    write(store, [(a, D1) for a in ids])
    wanted = ids[::2] + ["not-there"]
    frame = store.snapshot_frame(account_ids=wanted)
    assert len(wanted) > _INLINE_IDS
    assert frame["account_id"].tolist() == sorted(ids[::2])
    assert set(store.snapshot_frame(account_ids=ids[:3])["account_id"]) == set(ids[:3])
    # without the columns it is sorted by (a scoring run's look back: account, date and score only)
    write(store, [(a, D2) for a in ids[:5]])
    few = store.snapshot_frame(account_ids=wanted, columns=("account_id", "as_of", "score"))
    assert list(few.columns) == ["account_id", "as_of", "score"]
    assert list(zip(few["account_id"], few["as_of"].dt.date)) == sorted(
        [(a, D1) for a in ids[::2]] + [(a, D2) for a in ids[:5:2]])


_METRICS = ("logins", "tickets", "nps", "seats")


@st.composite
def _shuffled_batches(draw):
    """Snapshots of a few accounts and dates, their evidence rows in any order, some metrics missing,
    the account column plain text or categories (as a scoring run gives it)."""
    accounts = draw(st.lists(st.sampled_from(["a1", "a2", "b 3", "é4", "<x>"]), min_size=1, max_size=4, unique=True))
    dates = draw(st.lists(st.sampled_from([D1, D2]), min_size=1, max_size=2, unique=True))
    keys = [(a, d) for a in accounts for d in dates]
    snaps, ev = batch(keys, metrics=_METRICS)
    ev = ev.drop(index=sorted(draw(st.sets(st.sampled_from(list(ev.index)), max_size=len(ev) - 1))))
    ev = ev.iloc[draw(st.permutations(range(len(ev))))].reset_index(drop=True)
    ev["points"] = np.arange(len(ev), dtype="float64")  # tells every row apart
    if draw(st.booleans()):
        ev["account_id"] = ev["account_id"].astype("category")
    return keys, snaps, ev


@settings(max_examples=30, deadline=None)
@given(_shuffled_batches())
def test_evidence_rows_in_any_order_land_in_their_snapshots_in_one_metric_order(case):
    keys, snaps, ev = case
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/store.db", history_dir=Path(tmp, "h")) as store:
        run_id = store.start_run("v1", sorted({d for _, d in keys}), "duckdb")
        assert store.write_snapshots(run_id, snaps, ev) == len(keys)
        rows = duckdb.sql("SELECT account_id, CAST(as_of AS VARCHAR), filename, evidence FROM read_parquet(?,"
                          " hive_partitioning = true, filename = true)",
                          params=[str(store.history.root / "*" / "*" / "*.parquet")]).fetchall()
    want: dict[tuple[str, str], set] = {(a, d.isoformat()): set() for a, d in keys}
    for r in ev.itertuples():
        want[(str(r.account_id), r.as_of.isoformat())].add((r.metric, r.points))
    assert {(a, d): {(e["metric"], e["points"]) for e in evs} for a, d, _, evs in rows} == want
    before: dict[str, set] = {}  # per file, the metric pairs seen in one order: never also in the other
    for _, _, name, evs in rows:
        names = [e["metric"] for e in evs]
        pairs = before.setdefault(name, set())
        pairs.update((x, y) for i, x in enumerate(names) for y in names[i + 1:])
    assert all((y, x) not in pairs for pairs in before.values() for x, y in pairs)


@settings(max_examples=20, deadline=None)
@given(_shuffled_batches(), st.data())
def test_a_metric_twice_in_a_snapshot_is_refused_by_name_wherever_the_rows_are(case, data):
    keys, snaps, ev = case
    twice = data.draw(st.integers(0, len(ev) - 1))
    at = data.draw(st.integers(0, len(ev)))
    ev = pd.concat([ev.iloc[:at], ev.iloc[[twice]], ev.iloc[at:]], ignore_index=True)
    row = ev.iloc[at]
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/store.db", history_dir=Path(tmp, "h")) as store:
        run_id = store.start_run("v1", sorted({d for _, d in keys}), "duckdb")
        with pytest.raises(ValueError, match=rf"metric '{row['metric']}' of snapshot \(account_id="
                                             rf"'{re.escape(str(row['account_id']))}'.*more than once"):
            store.write_snapshots(run_id, snaps, ev)
        assert store.history.files() == []


def test_a_kept_listing_holds_while_its_generation_does_and_a_file_without_one_is_listed_in_time(store, monkeypatch):
    """A reader keeps a model version's listing while the version's generation file holds: a writer replaces it
    after each publish, so its files show in the next read. A file that appeared without a new generation (its
    writer died between the rename and the generation) shows once the kept listing is older than the trust
    time, and at once to a writer (which must see every written key)."""
    from healthscore.store import history

    write(store, [("a1", D1)])
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1"]
    store.history.stage(*_encoded(store, [("a2", D1)])).publish()  # a writer's publish: a new generation
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1", "a2"]
    monkeypatch.setattr(history, "_new_generation", lambda version_dir: None)  # died before the generation
    store.history.stage(*_encoded(store, [("a3", D1)])).publish()
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1", "a2"]  # the kept listing
    with store.history.writer_lock():
        assert store.history.stored_accounts("v1", D1) == {"a1", "a2", "a3"}
        assert len(store.history.files("v1")) == 3
    monkeypatch.setattr(history, "_GENERATION_TRUST_S", 0.0)
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1", "a2", "a3"]


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00 not ascii", b"0" * 100_000, b"A" * 32, "fifo", "directory"])
def test_a_damaged_generation_file_keeps_nothing_and_every_read_lists(store, content, monkeypatch):
    """A generation file that _new_generation did not write (empty, not text, too long, not hex, a FIFO, a
    directory) is no generation: nothing is kept and every read lists the directories, so new files show at
    once."""
    from healthscore.store import history

    write(store, [("a1", D1)])
    generation = store.history.root / "model_version=v1" / history.GENERATION
    generation.unlink()
    if content == "fifo":  # nobody writes to it: a reader must not wait for one
        os.mkfifo(generation)
    elif content == "directory":
        generation.mkdir()
    else:
        generation.write_bytes(content)
    history._version_listings.clear()
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1"]
    monkeypatch.setattr(history, "_new_generation", lambda version_dir: None)  # the damaged one stays
    store.history.stage(*_encoded(store, [("a2", D1)])).publish()
    assert [s["account_id"] for s in store.snapshots(as_of=D1)] == ["a1", "a2"]
