"""The history's series index: a snapshot's plain columns (no evidence, no JSON) re-written account by account.

The history's daily files (store/history.py) hold one date each, sorted by account: a read of one account
across a year of daily scoring opens 365 files (1.5 ms each at 100,000 accounts), which made the web account
page's chart the slowest read of the app. The index copies the columns that charts, history and change reads
use (`SERIES_COLUMNS`) into a few sets of files sorted by (account_id, as_of), so one account's year is a few
row groups of a few files.

Each set is split into 16 shards by the first hex digit of md5(account_id) (`shard`), one file each: a read of
one account opens its shard's file of each set. DuckDB's cost of reading a file follows its row groups (it
checks each one's statistics, 0.07 ms apiece) and its files (about 2 ms each): at 100,000 accounts x 365
daily dates, one account from 9 unsharded files of 4M rows took 61 ms of CPU, from its shard of the same
9 sets 19 ms (docs/scale.md, "Fifth round"). md5, not DuckDB's hash: a shard must not move with a DuckDB
release.

Layout, apart from the hive tree of daily files (its depth differs, and Spark and Hive skip ``_`` names)::

    <history>/_index/model_version=<version>/accounts/set-<uuid>/shard-<0-f>.parquet

Every shard file's footer (Parquet key-value metadata) says which daily files the set covers (paths relative
to the history's root) and which older sets it replaces; a set is read only when all 16 footers say the same.
The index is derived data, never the only copy:

- a reader takes the live sets (those no other set replaces) and the daily files none of them covers, so a
  daily file is read exactly once whether or not it is indexed yet;
- a set is written in a temporary directory, its files fsynced, and renamed into place in one step; the sets
  it replaces are renamed away and deleted after that, and a crash in between leaves sets that readers
  already ignore;
- deleting ``_index`` loses nothing: the next write indexes the daily files again. The unsharded files of
  earlier releases (``series/``) are deleted by the next write, which indexes the history again.

Maintenance runs after a write, under the history's writer lock: once `FANOUT` daily files are unindexed
they become a level-0 set of at most `MAX_ROWS` rows (one sort, split by shard), and `FANOUT` sets of one
level merge into one of the next, shard by shard (an LSM tree's size tiers; a set's level follows from how
many daily files it covers), up to `MAX_ROWS` rows per shard. A year of daily dates is then a few sets per
level plus at most 3 unindexed days.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthscore.store.files import daily_query, fsync_dir, read_parquet

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from healthscore.store.history import History

SERIES_COLUMNS = ("account_id", "as_of", "model_version", "score", "tier", "status", "confidence", "coverage",
                  "segment", "smoothed_score", "primary_driver", "trend_note", "flags", "review_required")
INDEX_DIR = "_index"
SETS_DIR = "accounts"
LEGACY_DIR = "series"  # the unsharded index files of earlier releases
SHARDS = tuple("0123456789abcdef")
FANOUT = 4
# Rows sorted at once (about 0.5 GB in DuckDB): a level-0 set, or one shard of a merge. A merge's shards are
# about a 16th of its rows each (md5 spreads accounts evenly), so sets merge while they hold MAX_ROWS x 16.
MAX_ROWS = 4_000_000
# One account's rows of a file sit in one row group, read whole: at 100,000 accounts x 16 weekly dates, reading
# one account from 4 files took 8 ms with row groups of 8,192 rows, 4 ms with 16,384 or 65,536 and 60 ms with
# 1,024 (DuckDB's cost per row group outweighs the rows it decodes).
ROW_GROUP_ROWS = 16_384
ZSTD_LEVEL = 6
_KEY = "healthscore.series_index"


def shard(account_id: str) -> str:
    """An account's shard: the first hex digit of the MD5 of its id's UTF-8 bytes. Sets on disk depend on it:
    it never changes."""
    return hashlib.md5(account_id.encode("utf-8"), usedforsecurity=False).hexdigest()[0]


@dataclass(frozen=True)
class IndexSet:
    path: Path  # the set's directory
    rows: int
    covers: frozenset[str]  # daily files, relative to the history's root
    replaces: frozenset[str]  # the names of the sets it replaces
    day_rows: tuple[tuple[str, int], ...]  # (as-of date, snapshots) of every date it holds
    dates: frozenset[date]  # those dates, parsed once (every account read filters sets by them)

    def file(self, shard: str) -> Path:
        return shard_file(self.path, shard)


def shard_file(set_dir: Path, shard: str) -> Path:
    return set_dir / f"shard-{shard}.parquet"


# Sets never change once in place (a set is renamed in whole): each one's footers are read once, and a set that
# is not one (damaged, or put there by hand) is not tried again on every read.
_footers: dict[str, IndexSet] = {}
# Set directories found damaged (or unreadable) and when: not read again on every account read, but again after
# _NOT_SET_RETRY_S, so that a good set whose read failed once (a transient I/O error) comes back.
_not_sets: dict[str, float] = {}
_NOT_SET_RETRY_S = 60.0
_footers_lock = threading.Lock()


def directory(history: History, model_version: str) -> Path:
    return history.root / INDEX_DIR / f"model_version={model_version}" / SETS_DIR


def live_sets(history: History, con: duckdb.DuckDBPyConnection, model_version: str) -> list[IndexSet]:
    """The version's sets that no other set replaces."""
    d = directory(history, model_version)
    if not d.is_dir():
        return []
    with os.scandir(d) as it:
        paths = sorted(Path(e.path) for e in it if e.name.startswith("set-"))
    sets = _read_footers(con, paths)
    replaced = set().union(*(s.replaces for s in sets))
    return [s for s in sets if s.path.name not in replaced]


def relative(history: History, path: Path | str) -> str:
    """A file's path relative to the history's root, as the index's footers name it."""
    text, root = os.fspath(path), os.fspath(history.root) + os.sep
    if text.startswith(root):  # a string slice: a year's daily files are checked on every account read
        return text[len(root):].replace(os.sep, "/")
    return Path(text).relative_to(history.root).as_posix()


def sources(history: History, con: duckdb.DuckDBPyConnection, model_version: str, daily: list[str],
            wanted: Iterable[date] | None, date_from: date | None, date_to: date | None,
            accounts: Collection[str] | None = None) -> tuple[list[str], list[str]]:
    """(the index files holding rows of the dates and accounts asked for, the daily files among `daily` that no
    set covers). `accounts`: the accounts read (None: any)."""
    sets = live_sets(history, con, model_version)
    covered = _covered_paths(history, sets)
    dates = set(wanted) if wanted is not None else None
    sets = [s for s in sets if any((dates is None or d in dates) and (date_from is None or d >= date_from)
                                   and (date_to is None or d <= date_to) for d in s.dates)]
    shards = SHARDS if accounts is None else sorted({shard(a) for a in accounts})
    return ([str(s.file(k)) for s in sets for k in shards],
            [p for p in daily if os.fspath(p) not in covered])


_covered: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}


def _covered_paths(history: History, sets: list[IndexSet]) -> frozenset[str]:
    """The daily files the sets cover, as the history's listing names them: built once per set of sets (an
    account read of a year of daily dates made 365 relative paths on every read)."""
    root = os.fspath(history.root)
    key = (root, tuple(str(s.path) for s in sets))
    found = _covered.get(key)
    if found is None:
        found = frozenset(os.path.join(root, *name.split("/")) for s in sets for name in s.covers)
        if len(_covered) > 64:
            _covered.clear()
        _covered[key] = found
    return found


def maintain(history: History, con: duckdb.DuckDBPyConnection, model_version: str) -> None:
    """Index unindexed daily files and merge full levels (the caller holds the writer lock).

    Unindexed daily files become level-0 sets of at most MAX_ROWS rows each (a store that had years of daily
    files before its first index is indexed in pieces, not sorted in one go). Then, on any level with FANOUT
    sets, the smallest of them (up to FANOUT, together at most MAX_ROWS per shard) merge: each merge leaves one
    set fewer, so maintenance ends, and a level whose sets are too big to merge stops merging."""
    from healthscore.faults import fault_point

    d = directory(history, model_version)
    legacy = d.parent / LEGACY_DIR
    if legacy.is_dir():  # readers no longer read it; the daily files it covered are indexed again below
        shutil.rmtree(legacy, ignore_errors=True)
    if d.is_dir():
        _remove_leftovers(d, con)
    while True:
        sets = live_sets(history, con, model_version)
        covered = set().union(*(s.covers for s in sets))
        loose = [p for p in history.files(model_version) if relative(history, p) not in covered]
        if len(loose) >= FANOUT:
            for batch in _batches(loose):
                _write(history, con, model_version, daily=batch, merged=[])
        else:
            merge = _mergeable(sets)
            if merge is None:
                return
            _write(history, con, model_version, daily=[], merged=merge)
        fault_point("history:index")  # the new set is in place, the sets it replaces are not deleted yet
        _remove_leftovers(d, con)


def level(covered_files: int) -> int:
    """A set's level, from how many daily files it covers: 4-15 is level 0, 16-63 level 1, and so on."""
    k = 0
    while covered_files >= FANOUT ** (k + 2):
        k += 1
    return k


def _batches(daily: list[Path]) -> Iterator[list[Path]]:
    """The daily files (in date order) in runs of at most MAX_ROWS rows by their footers (a file bigger than
    that alone)."""
    import pyarrow.parquet as pq

    batch: list[Path] = []
    rows = 0
    for path in sorted(daily, key=lambda p: (p.parent.name, p.name)):
        n = pq.ParquetFile(path).metadata.num_rows
        if batch and rows + n > MAX_ROWS:
            yield batch
            batch, rows = [], 0
        batch.append(path)
        rows += n
    if batch:
        yield batch


def _mergeable(sets: list[IndexSet]) -> list[IndexSet] | None:
    """The sets to merge next: on the lowest level with FANOUT sets, its smallest ones that fit."""
    by_level: dict[int, list[IndexSet]] = {}
    for s in sets:
        by_level.setdefault(level(len(s.covers)), []).append(s)
    for _, candidates in sorted(by_level.items()):
        if len(candidates) < FANOUT:
            continue
        picked: list[IndexSet] = []
        for s in sorted(candidates, key=lambda s: (s.rows, s.path.name))[:FANOUT]:
            if sum(g.rows for g in picked) + s.rows > MAX_ROWS * len(SHARDS):
                break
            picked.append(s)
        if len(picked) >= 2:
            return picked
    return None


def _write(history: History, con: duckdb.DuckDBPyConnection, model_version: str, daily: list[Path],
           merged: list[IndexSet]) -> None:
    """Write one set: the daily files' rows sorted once and split by shard, or the merged sets shard by shard."""
    import pyarrow.parquet as pq
    from sqlglot import exp

    columns = [exp.column(c) for c in SERIES_COLUMNS]
    schema: pa.Schema | None = None
    tables: Iterable[tuple[str, pa.Table]]  # (shard, one row group of its file)
    if daily:
        query = (exp.select(*columns).from_(daily_query(daily).subquery("d", copy=False), copy=False)
                 .order_by("account_id", "as_of", copy=False))
        reader = con.sql(query.sql(dialect="duckdb")).to_arrow_reader(ROW_GROUP_ROWS)
        schema = reader.schema.remove_metadata()
        tables = _split_by_shard(reader)
    else:
        def shards() -> Iterator[tuple[str, pa.Table]]:
            nonlocal schema
            for k in SHARDS:
                query = (exp.select(*columns).from_(read_parquet([s.file(k) for s in merged]), copy=False)
                         .order_by("account_id", "as_of", copy=False))
                reader = con.sql(query.sql(dialect="duckdb")).to_arrow_reader(ROW_GROUP_ROWS)
                schema = reader.schema.remove_metadata()
                yield from ((k, table) for table in _row_groups(reader))

        tables = shards()
    counts: dict[str, int] = {}
    for s in merged:
        for day, n in s.day_rows:
            counts[day] = counts.get(day, 0) + n
    covers = set().union(*(s.covers for s in merged)) | {relative(history, p) for p in daily}
    d = directory(history, model_version)
    for part in (d.parent.parent, d.parent, d):  # owner-only, as the daily files' directories
        part.mkdir(mode=0o700, exist_ok=True)
    name = f"set-{uuid.uuid4().hex}"
    tmp, final = d / f".{name}.tmp", d / name
    tmp.mkdir(mode=0o700)
    writers: dict[str, tuple[Any, Any]] = {}  # shard -> (file, ParquetWriter): all closed once the footer is known

    def writer(k: str, schema: pa.Schema) -> Any:
        if k not in writers:
            fh = os.fdopen(os.open(shard_file(tmp, k), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
            writers[k] = (fh, pq.ParquetWriter(fh, schema, compression="zstd", compression_level=ZSTD_LEVEL,
                                               use_dictionary=True, write_statistics=True))
        return writers[k][1]

    try:
        rows = 0
        for k, table in tables:
            assert schema is not None  # set by the reader the tables come from
            writer(k, schema).write_table(table, row_group_size=ROW_GROUP_ROWS)
            rows += table.num_rows
            if daily:  # the per-date counts of daily files are not in their footers' metadata
                for day, n in zip(*_day_counts(table), strict=True):
                    counts[day] = counts.get(day, 0) + n
        assert schema is not None
        for k in SHARDS:  # a shard without rows still gets its file: a set is read only when all 16 agree
            writer(k, schema)
        meta = json.dumps({"rows": rows, "covers": sorted(covers), "replaces": sorted(s.path.name for s in merged),
                           "dates": dict(sorted(counts.items()))})
        for fh, w in writers.values():
            w.add_key_value_metadata({_KEY: meta})
            w.close()
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        fsync_dir(tmp)
        os.replace(tmp, final)
        fsync_dir(d)
    finally:
        for fh, _ in writers.values():
            fh.close()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _split_by_shard(reader: Any) -> Iterator[tuple[str, pa.Table]]:
    """A reader sorted by account as (shard, row group) pairs, each shard's rows in the reader's order. The
    shard is computed once per account (the reader's ids repeat once per date), and each batch is taken apart
    with one stable sort of its rows by shard."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    known: dict[str, int] = {}
    pending: dict[str, list[pa.Table]] = {}
    size: dict[str, int] = {}
    for batch in reader:
        ids = pc.dictionary_encode(batch.column("account_id"))
        of_id = np.array([known.setdefault(a, int(shard(a), 16)) for a in ids.dictionary.to_pylist()],
                         dtype=np.int8)
        row_shard = of_id[ids.indices.to_numpy(zero_copy_only=False)]
        order = np.argsort(row_shard, kind="stable")
        table = pa.Table.from_batches([batch]).take(pa.array(order))
        edges = np.flatnonzero(np.diff(row_shard[order])) + 1
        for a, b in itertools.pairwise([0, *edges.tolist(), len(order)]):
            k = SHARDS[int(row_shard[order[a]])]
            pending.setdefault(k, []).append(table.slice(a, b - a))
            size[k] = size.get(k, 0) + b - a
            if size[k] >= ROW_GROUP_ROWS:
                whole = pa.concat_tables(pending[k]).combine_chunks()
                full = size[k] - size[k] % ROW_GROUP_ROWS
                yield from ((k, whole.slice(i, ROW_GROUP_ROWS)) for i in range(0, full, ROW_GROUP_ROWS))
                pending[k], size[k] = [whole.slice(full)], size[k] - full
        if len(known) > 1_000_000:  # a bound on memory; the shards of the ids seen again are computed again
            known.clear()
    for k in SHARDS:
        if size.get(k):
            yield k, pa.concat_tables(pending[k])


def _row_groups(reader: Any) -> Iterator[pa.Table]:
    """The reader's batches as tables of ROW_GROUP_ROWS rows (the last one shorter): each written batch would
    otherwise end a row group of its own size."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in reader:
        pending.append(batch)
        size += batch.num_rows
        while size >= ROW_GROUP_ROWS:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, ROW_GROUP_ROWS)
            rest = table.slice(ROW_GROUP_ROWS)
            pending, size = rest.to_batches(), rest.num_rows
    if size:
        yield pa.Table.from_batches(pending)


def _day_counts(table: Any) -> tuple[list[str], list[int]]:
    import pyarrow.compute as pc

    counts = pc.value_counts(table.column("as_of"))
    return ([d.isoformat() for d in counts.field("values").to_pylist()], counts.field("counts").to_pylist())


def _remove_leftovers(d: Path, con: duckdb.DuckDBPyConnection) -> None:
    """The temporary directories of a writer that died, and sets that a live one replaces: each is renamed to a
    hidden name first (one step), then deleted, so a crash mid-delete leaves nothing a reader lists."""
    with os.scandir(d) as it:
        names = [e.name for e in it]
    for name in names:
        if name.startswith(".set-"):
            shutil.rmtree(d / name, ignore_errors=True)
    sets = _read_footers(con, sorted(d / n for n in names if n.startswith("set-")))
    replaced = set().union(*(s.replaces for s in sets))
    for s in sets:
        if s.path.name in replaced:
            gone = s.path.with_name(f".{s.path.name}.gone")
            with contextlib.suppress(FileNotFoundError):
                os.replace(s.path, gone)
            shutil.rmtree(gone, ignore_errors=True)
            with _footers_lock:
                _footers.pop(str(s.path), None)


def _read_footers(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> list[IndexSet]:
    """The sets among `paths`. A set with a shard file that cannot be read, or whose footers are not an index
    set's or differ (damaged, or put there by hand), is left out: the daily files it would cover are read
    instead."""
    import duckdb

    now = time.monotonic()

    def unknown(path: Path) -> bool:
        failed_at = _not_sets.get(str(path))
        return str(path) not in _footers and (failed_at is None or now - failed_at >= _NOT_SET_RETRY_S)

    with _footers_lock:
        missing = [p for p in paths if unknown(p)]
    if missing:
        try:
            rows = _footer_rows(con, missing)
        except duckdb.Error:  # one unreadable file fails the whole read: then one set at a time
            rows = []
            for path in missing:
                with contextlib.suppress(duckdb.Error):
                    rows += _footer_rows(con, [path])
        values: dict[str, set[bytes]] = {}
        files: dict[str, int] = {}
        for file_name, value in rows:
            set_dir = os.path.dirname(file_name)
            values.setdefault(set_dir, set()).add(bytes(value))
            files[set_dir] = files.get(set_dir, 0) + 1
        found = {}
        for set_dir, distinct in values.items():
            if files[set_dir] != len(SHARDS) or len(distinct) != 1:
                continue
            try:
                meta = json.loads(distinct.pop())
                found[set_dir] = IndexSet(
                    path=Path(set_dir), rows=int(meta["rows"]),
                    covers=frozenset(meta["covers"]), replaces=frozenset(meta["replaces"]),
                    day_rows=tuple((d, int(n)) for d, n in meta["dates"].items()),
                    dates=frozenset(date.fromisoformat(d) for d in meta["dates"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        with _footers_lock:
            _footers.update(found)
            _not_sets.update((str(p), now) for p in missing if str(p) not in found)
    with _footers_lock:
        return [_footers[str(p)] for p in paths if str(p) in _footers]


def _footer_rows(con: duckdb.DuckDBPyConnection, set_dirs: list[Path]) -> list[tuple[str, bytes]]:
    """(file name, the index's footer value) of every shard file of these sets."""
    from sqlglot import exp

    files = [shard_file(p, k) for p in set_dirs for k in SHARDS]
    query = (exp.select("file_name", "value")
             .from_(exp.Anonymous(this="parquet_kv_metadata", expressions=[
                 exp.Array(expressions=[exp.Literal.string(str(p)) for p in files])]))
             .where(exp.column("key").eq(exp.Cast(this=exp.Literal.string(_KEY),
                                                  to=exp.DataType.build("BLOB")))))
    return con.sql(query.sql(dialect="duckdb")).fetchall()
