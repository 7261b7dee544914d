"""The history's series index (store/history_index.py): reads of a few accounts are the same with it, without
it and at every point of its maintenance; a crash leaves nothing a reader counts twice."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthscore import faults
from healthscore.store import history_index
from healthscore.store.queries import account_history
from tests.store.test_store import write

START = date(2025, 1, 1)


def day(i: int) -> date:
    return START + timedelta(days=i)


def account_reads(store, account="a1"):
    """Everything an account page, `history` and `changes` read of one account."""
    return (store.snapshots(account, with_evidence=False), account_history(store, account),
            account_history(store, account, date_from=day(3)),
            _plain(store.snapshot_frame(account_ids=[account, "a2"], date_from=day(2), date_to=day(9))),
            store.snapshots(account, as_of=day(5), with_evidence=False))


def _plain(frame):
    """A frame's values with missing ones as None (NaN never equals NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("list")


def index_files(store):
    """The index's sets (directories of shard files) in place, live or replaced."""
    return sorted(store.history.root.glob(f"{history_index.INDEX_DIR}/*/{history_index.SETS_DIR}/set-*"))


def set_rows(set_dir):
    return [duckdb.sql("SELECT account_id, as_of FROM read_parquet(?)", params=[str(f)]).fetchall()
            for f in sorted(set_dir.glob("shard-*.parquet"))]


def test_dates_are_indexed_once_four_are_unindexed_and_levels_merge(store):
    for i in range(3):
        write(store, [("a1", day(i)), ("a2", day(i))])
    assert index_files(store) == []  # three daily files: read as they are
    write(store, [("a1", day(3))])
    (first,) = index_files(store)
    for i in range(4, 16):
        write(store, [("a1", day(i)), ("a2", day(i))])
    (merged,) = index_files(store)  # four level-0 files became one of level 1; the ones it replaced are gone
    assert merged != first
    shards = set_rows(merged)
    assert len(shards) == len(history_index.SHARDS) and sum(map(len, shards)) == 31
    for f, rows in zip(history_index.SHARDS, shards, strict=True):
        assert rows == sorted(rows)  # sorted by account, then date: one account's rows together
        assert {history_index.shard(a) for a, _ in rows} <= {f}  # and in its shard's file only
    assert [s["as_of"] for s in store.snapshots("a1", with_evidence=False)] == [day(i).isoformat() for i in range(16)]


def test_reads_are_the_same_without_the_index(store):
    for i in range(10):
        write(store, [("a1", day(i)), ("a2", day(i)), ("a3", day(i))], score=40.0 + i)
    write(store, [("a4", day(5)), ("a1", day(20))])  # a new account on an indexed date, a later date
    assert index_files(store)
    with_index = account_reads(store)
    shutil.rmtree(store.history.root / history_index.INDEX_DIR)  # derived data: deleting it loses nothing
    assert account_reads(store) == with_index
    assert [s["score"] for s in store.snapshots("a1", with_evidence=False)][:3] == [40.0, 41.0, 42.0]
    assert store.snapshots("a4", with_evidence=False)[0]["as_of"] == day(5).isoformat()


def test_other_tools_reading_the_daily_files_do_not_see_the_index(store):
    for i in range(5):
        write(store, [("a1", day(i))])
    assert index_files(store)
    glob = str(store.history.root / "*" / "*" / "*.parquet")
    assert duckdb.sql("SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
                      params=[glob]).fetchone() == (5,)


def test_a_crash_after_an_index_file_is_in_place_leaves_no_row_read_twice(store, monkeypatch):
    """Killed after a merged index file is renamed into place, before the files it replaces are deleted:
    readers already ignore the replaced files, and the next write deletes them."""
    class Killed(Exception):
        pass

    for i in range(15):
        write(store, [("a1", day(i)), ("a2", day(i))])
    assert len(index_files(store)) == 3

    def fault(step):
        if step == "history:index" and len(index_files(store)) == 5:  # 3 level-0 + their merge + the new level-0
            raise Killed(step)

    monkeypatch.setattr(faults, "fault_point", fault)
    with pytest.raises(Killed):
        write(store, [("a1", day(15)), ("a2", day(15))])
    monkeypatch.setattr(faults, "fault_point", lambda step: None)
    before = account_reads(store)
    assert [s["as_of"] for s in before[0]] == [day(i).isoformat() for i in range(16)]
    write(store, [("a1", day(16))])
    assert len(index_files(store)) == 1
    assert [s["as_of"] for s in store.snapshots("a1", with_evidence=False)] == [day(i).isoformat() for i in range(17)]


def test_a_dead_writers_temporary_index_file_is_removed_and_never_read(store):
    for i in range(4):
        write(store, [("a1", day(i))])
    (live,) = index_files(store)
    tmp = live.parent / ".set-dead.tmp"
    shutil.copytree(live, tmp)
    assert len(store.snapshots("a1", with_evidence=False)) == 4
    for i in range(4, 8):
        write(store, [("a1", day(i))])
    assert not tmp.exists()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(st.sampled_from(["a1", "a2", "a3"]), st.integers(0, 11)), min_size=1,
                         max_size=6), min_size=1, max_size=12))
def test_any_sequence_of_writes_reads_back_every_snapshot_once(tmp_path_factory, batches):
    from healthscore.store.store import Store

    root = tmp_path_factory.mktemp("ix")
    stored: set[tuple[str, date]] = set()
    with Store(f"sqlite:///{root / 'store.db'}", history_dir=root / "history") as store:
        for keys in batches:
            keys = sorted({(a, day(i)) for a, i in keys})
            write(store, keys)
            stored |= set(keys)
            for account in ("a1", "a2", "a3"):
                got = [s["as_of"] for s in store.snapshots(account, with_evidence=False)]
                assert got == sorted(d.isoformat() for a, d in stored if a == account)


def test_a_damaged_or_foreign_index_file_is_left_out_and_its_dates_read_from_the_daily_files(store):
    for i in range(4):
        write(store, [("a1", day(i)), ("a2", day(i))])
    (live,) = index_files(store)
    torn = history_index.shard_file(live, history_index.shard("a1"))
    torn.write_bytes(torn.read_bytes()[: len(torn.read_bytes()) // 2])
    foreign = live.parent / "set-by-hand"
    foreign.mkdir()
    for k in history_index.SHARDS:
        pq.write_table(pa.table({"account_id": ["a1"]}), history_index.shard_file(foreign, k))
    history_index._footers.clear()  # a new process: nothing read before
    assert [s["as_of"] for s in store.snapshots("a1", with_evidence=False)] == [day(i).isoformat() for i in range(4)]
    write(store, [("a1", day(4)), ("a2", day(4))])  # maintenance indexes the dates again
    assert [s["as_of"] for s in store.snapshots("a2", with_evidence=False)] == [day(i).isoformat() for i in range(5)]


def test_a_read_that_listed_an_index_file_a_merge_then_deleted_lists_again(store, monkeypatch):
    """A writer's merge deletes the files it replaced right after its new file is in place; a reader that
    listed one of them just before gets an I/O error from DuckDB, and lists and reads again."""
    for i in range(4):
        write(store, [("a1", day(i))])
    (live,) = history_index.live_sets(store.history, duckdb.connect(), "v1")
    gone = history_index.IndexSet(path=live.path.with_name("set-merged-away"), rows=4,
                                   covers=live.covers, replaces=frozenset(), day_rows=live.day_rows, dates=live.dates)
    real, calls = history_index.live_sets, []

    def listed_before_the_delete(history, con, version):
        calls.append(version)
        return [gone] if len(calls) == 1 else real(history, con, version)

    monkeypatch.setattr(history_index, "live_sets", listed_before_the_delete)
    assert [h["as_of"] for h in account_history(store, "a1")] == [day(i).isoformat() for i in range(4)]
    assert len(calls) == 2


def test_a_store_with_many_unindexed_dates_is_indexed_in_pieces_of_at_most_max_rows(store, monkeypatch):
    """A store with years of daily files and no index yet (or a portfolio whose days are big) is not sorted in
    one go: each level-0 set holds at most MAX_ROWS rows (or one daily file), a merge sorts at most about
    MAX_ROWS rows per shard, and sets too big to merge stay as they are."""
    monkeypatch.setattr(history_index, "MAX_ROWS", 1)  # merges of at most 16 rows
    writes, real = [], history_index._write

    def recorded(history, con, version, daily, merged):
        writes.append(([pq.ParquetFile(p).metadata.num_rows for p in daily], [s.rows for s in merged]))
        real(history, con, version, daily, merged)

    monkeypatch.setattr(history_index, "_write", recorded)
    accounts = [f"a{k}" for k in range(6)]
    for i in range(8):
        write(store, [(a, day(i)) for a in accounts])
    assert writes and all(daily == [6] for daily, merged in writes if daily)  # each file alone: over MAX_ROWS
    merges = [merged for daily, merged in writes if merged]
    assert merges and all(len(m) >= 2 and sum(m) <= 16 for m in merges)
    assert max(sum(map(len, set_rows(f))) for f in index_files(store)) == 12  # two merged; 24 rows would not fit
    for a in accounts:
        assert [h["as_of"] for h in account_history(store, a)] == [day(i).isoformat() for i in range(8)]


def test_levels_follow_the_daily_files_covered():
    assert [history_index.level(n) for n in (1, 4, 15, 16, 63, 64, 255, 256)] == [0, 0, 0, 1, 1, 2, 2, 3]


def test_a_failing_index_update_does_not_fail_the_write_that_committed(store, monkeypatch, caplog):
    def full_disk(history, con, version):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(history_index, "maintain", full_disk)
    for i in range(4):
        assert write(store, [("a1", day(i))]) == 1
    assert "series index" in caplog.text and "No space left" in caplog.text
    assert index_files(store) == []
    assert [h["as_of"] for h in account_history(store, "a1")] == [day(i).isoformat() for i in range(4)]


def test_an_accounts_shard_never_changes():
    """Sets on disk were split by it: a different function would leave accounts unread."""
    assert [history_index.shard(a) for a in ("a1", "B000123", "é", "0")] == ["8", "e", "6", "c"]


def test_a_read_of_one_account_opens_only_its_shards_files(store):
    for i in range(8):
        write(store, [("a1", day(i)), ("a2", day(i)), ("b7", day(i))])
    con = duckdb.connect()
    scan = store.history.scan(con, series={"account_id", "as_of", "score"}, accounts=["a1"])
    assert scan.indexed and {p.rsplit("/", 1)[1] for p in scan.indexed} == {
        history_index.shard_file(index_files(store)[0], history_index.shard("a1")).name}
    both = store.history.scan(con, series={"account_id", "as_of", "score"}, accounts=["a1", "b7"])
    assert len(both.indexed) == len({history_index.shard("a1"), history_index.shard("b7")}) * len(index_files(store))


def test_the_unsharded_index_of_an_earlier_release_is_ignored_and_replaced_by_the_next_write(store):
    for i in range(6):
        write(store, [("a1", day(i)), ("a2", day(i))])
    before = account_reads(store)
    legacy = store.history.root / history_index.INDEX_DIR / "model_version=v1" / history_index.LEGACY_DIR
    legacy.mkdir()
    # an old index file that no longer matches the daily files: read, it would count rows twice
    pq.write_table(pa.table({"account_id": ["a1"], "as_of": [day(1)]}), legacy / "series-x.parquet")
    assert account_reads(store) == before
    write(store, [("a1", day(6))])
    assert not legacy.exists()
    assert len(store.snapshots("a1", with_evidence=False)) == 7


def test_a_set_missing_a_shard_file_or_with_differing_footers_is_left_out(store):
    for i in range(4):
        write(store, [("a1", day(i)), ("a2", day(i))])
    (live,) = index_files(store)
    shard = history_index.shard_file(live, history_index.shard("a2"))
    table = pq.read_table(shard)
    meta = {**pq.read_metadata(shard).metadata, b"healthscore.series_index": b'{"rows": 1}'}
    pq.write_table(table.replace_schema_metadata(meta), shard)  # one footer says otherwise
    history_index._footers.clear()  # a new process
    assert history_index.live_sets(store.history, duckdb.connect(), "v1") == []
    assert [s["as_of"] for s in store.snapshots("a2", with_evidence=False)] == [day(i).isoformat() for i in range(4)]
    write(store, [("a1", day(4)), ("a2", day(4))])  # maintenance indexes the dates again
    (live,) = history_index.live_sets(store.history, duckdb.connect(), "v1")
    history_index.shard_file(live.path, "0").unlink()  # (whichever shard: its accounts would go unread)
    history_index._footers.clear()
    assert history_index.live_sets(store.history, duckdb.connect(), "v1") == []
    assert [s["as_of"] for s in store.snapshots("a1", with_evidence=False)] == [day(i).isoformat() for i in range(5)]


def test_a_damaged_set_is_not_tried_again_on_every_read(store, monkeypatch):
    for i in range(4):
        write(store, [("a1", day(i))])
    (live,) = index_files(store)
    history_index.shard_file(live, "0").unlink()
    history_index._footers.clear()
    calls, real = [], history_index._footer_rows
    monkeypatch.setattr(history_index, "_footer_rows", lambda con, dirs: calls.append(dirs) or real(con, dirs))
    for _ in range(3):
        assert len(account_history(store, "a1")) == 4
    assert len(calls) == 2  # the first read: all sets at once, then the set alone; later reads: none


def test_a_set_whose_read_failed_once_is_read_again_after_the_retry_time(store, monkeypatch):
    """A read error (here: a transient one on the first read) does not leave a good set out until the process
    restarts: it is tried again after _NOT_SET_RETRY_S."""
    import duckdb

    for i in range(4):
        write(store, [("a1", day(i))])
    (live,) = index_files(store)
    history_index._footers.clear()
    history_index._not_sets.clear()
    real, failing = history_index._footer_rows, [True]

    def flaky(con, dirs):
        if failing[0]:
            raise duckdb.IOException("a transient read error")
        return real(con, dirs)

    monkeypatch.setattr(history_index, "_footer_rows", flaky)
    assert len(account_history(store, "a1")) == 4  # from the daily files
    failing[0] = False
    account_history(store, "a1")
    assert str(live) not in history_index._footers  # within the retry time: not tried again
    monkeypatch.setattr(history_index, "_NOT_SET_RETRY_S", 0.0)
    assert len(account_history(store, "a1")) == 4
    assert str(live) in history_index._footers


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=6), st.integers(0, 30)), max_size=300),
       st.integers(1, 200), st.integers(1, 9))
def test_a_level_0_stream_is_split_by_shard_in_order_and_in_whole_row_groups(rows, batch_rows, group_rows):
    rows = sorted(set(rows))
    table = pa.table({"account_id": pa.array([a for a, _ in rows], pa.string()),
                      "as_of": pa.array([day(i) for _, i in rows], pa.date32())})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=batch_rows))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(history_index, "ROW_GROUP_ROWS", group_rows)
        out = list(history_index._split_by_shard(reader))
    by_shard: dict[str, list] = {}
    for k, group in out:
        by_shard.setdefault(k, []).append(group)
    for k, groups in by_shard.items():
        assert all(g.num_rows == group_rows for g in groups[:-1]) and 0 < groups[-1].num_rows <= group_rows
        got = [(a, d) for g in groups for a, d in zip(g.column("account_id").to_pylist(),
                                                      g.column("as_of").to_pylist(), strict=True)]
        assert got == [(a, day(i)) for a, i in rows if history_index.shard(a) == k]
    assert sum(len(v) for v in by_shard.values()) == len(out) and sum(g.num_rows for _, g in out) == len(rows)
