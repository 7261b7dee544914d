"""The history's series index: a snapshot's plain columns (no evidence, no JSON) re-written account by account.

The history's daily files (store/history.py) hold one date each, sorted by account: a read of one account
across a year of daily scoring opens 365 files (1.5 ms each at 100,000 accounts), which made the web account
page's chart the slowest read of the app. The index copies the columns that charts, history and change reads
use (`SERIES_COLUMNS`) into a few files sorted by (account_id, as_of) with small row groups, so one account's
year is a few row groups of a few files.

Layout, apart from the hive tree of daily files (its depth differs, and Spark and Hive skip ``_`` names)::

    <history>/_index/model_version=<version>/series/series-<uuid>.parquet

Each file's footer (Parquet key-value metadata) says which daily files it covers (paths relative to the
history's root) and which older index files it replaces. The index is derived data, never the only copy:

- a reader takes the live index files (those no other index file replaces) and the daily files none of them
  covers, so a daily file is read exactly once whether or not it is indexed yet;
- index files are written under a temporary name, fsynced and renamed in one step; the files they replace
  are deleted after the rename, and a crash in between leaves files that readers already ignore;
- deleting ``_index`` loses nothing: the next write indexes the daily files again.

Maintenance runs after a write, under the history's writer lock: once `FANOUT` daily files are unindexed
they become level-0 index files, and `FANOUT` files of one level merge into one of the next (an LSM tree's
size tiers; a file's level follows from how many daily files it covers), up to `MAX_ROWS` rows per file.
A year of daily dates is then a few files per level plus at most 3 unindexed days.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthscore.store.files import daily_query, fsync_dir, read_parquet

if TYPE_CHECKING:
    import duckdb

    from healthscore.store.history import History

SERIES_COLUMNS = ("account_id", "as_of", "model_version", "score", "tier", "status", "confidence", "coverage",
                  "segment", "smoothed_score", "primary_driver", "trend_note", "flags", "review_required")
INDEX_DIR = "_index"
FANOUT = 4
MAX_ROWS = 4_000_000  # a merge sorts this many narrow rows in DuckDB (about 0.5 GB)
# One account's rows of a file sit in one row group, read whole: at 100,000 accounts x 16 weekly dates, reading
# one account from 4 files took 8 ms with row groups of 8,192 rows, 4 ms with 16,384 or 65,536 and 60 ms with
# 1,024 (DuckDB's cost per row group outweighs the rows it decodes); from one file of 5.2M rows, 4 ms at 16,384
# and 8 ms at 65,536.
ROW_GROUP_ROWS = 16_384
ZSTD_LEVEL = 6
_KEY = b"healthscore.series_index"


@dataclass(frozen=True)
class IndexFile:
    path: Path
    rows: int
    covers: frozenset[str]  # daily files, relative to the history's root
    replaces: frozenset[str]  # index file names
    day_rows: tuple[tuple[str, int], ...]  # (as-of date, snapshots) of every date it holds
    dates: frozenset[date]  # those dates, parsed once (every account read filters index files by them)


_footers: dict[str, IndexFile] = {}  # index files never change once in place: each footer is read once
_footers_lock = threading.Lock()


def directory(history: History, model_version: str) -> Path:
    return history.root / INDEX_DIR / f"model_version={model_version}" / "series"


def live_files(history: History, con: duckdb.DuckDBPyConnection, model_version: str) -> list[IndexFile]:
    """The version's index files that no other index file replaces."""
    d = directory(history, model_version)
    if not d.is_dir():
        return []
    with os.scandir(d) as it:
        paths = sorted(Path(e.path) for e in it if e.name.startswith("series-") and e.name.endswith(".parquet"))
    files = _read_footers(con, paths)
    replaced = set().union(*(f.replaces for f in files))
    return [f for f in files if f.path.name not in replaced]


def relative(history: History, path: Path | str) -> str:
    """A file's path relative to the history's root, as the index's footers name it."""
    text, root = os.fspath(path), os.fspath(history.root) + os.sep
    if text.startswith(root):  # a string slice: a year's daily files are checked on every account read
        return text[len(root):].replace(os.sep, "/")
    return Path(text).relative_to(history.root).as_posix()


def sources(history: History, con: duckdb.DuckDBPyConnection, model_version: str, daily: list[str],
            wanted: Iterable[date] | None, date_from: date | None,
            date_to: date | None) -> tuple[list[IndexFile], list[str]]:
    """(index files holding rows of the dates asked for, the daily files among `daily` that none covers)."""
    index = live_files(history, con, model_version)
    covered = set().union(*(f.covers for f in index))
    dates = set(wanted) if wanted is not None else None
    index = [f for f in index if any((dates is None or d in dates) and (date_from is None or d >= date_from)
                                     and (date_to is None or d <= date_to) for d in f.dates)]
    return index, [p for p in daily if relative(history, p) not in covered]


def maintain(history: History, con: duckdb.DuckDBPyConnection, model_version: str) -> None:
    """Index unindexed daily files and merge full levels (the caller holds the writer lock).

    Unindexed daily files become level-0 files of at most MAX_ROWS rows each (a store that had years of daily
    files before its first index is indexed in pieces, not sorted in one go). Then, on any level with FANOUT
    files, the smallest of them (up to FANOUT, together at most MAX_ROWS rows) merge: each merge leaves one
    file fewer, so maintenance ends, and a level whose files are too big to merge stops merging."""
    from healthscore.faults import fault_point

    d = directory(history, model_version)
    if d.is_dir():
        _remove_leftovers(d, con)
    while True:
        index = live_files(history, con, model_version)
        covered = set().union(*(f.covers for f in index))
        loose = [p for p in history.files(model_version) if relative(history, p) not in covered]
        if len(loose) >= FANOUT:
            for batch in _batches(loose):
                _write(history, con, model_version, daily=batch, merged=[])
        else:
            merge = _mergeable(index)
            if merge is None:
                return
            _write(history, con, model_version, daily=[], merged=merge)
        fault_point("history:index")  # the new index file is in place, the files it replaces are not deleted yet
        _remove_leftovers(d, con)


def level(covered_files: int) -> int:
    """An index file's level, from how many daily files it covers: 4-15 is level 0, 16-63 level 1, and so on."""
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


def _mergeable(index: list[IndexFile]) -> list[IndexFile] | None:
    """The files to merge next: on the lowest level with FANOUT files, its smallest ones that fit MAX_ROWS."""
    by_level: dict[int, list[IndexFile]] = {}
    for f in index:
        by_level.setdefault(level(len(f.covers)), []).append(f)
    for _, files in sorted(by_level.items()):
        if len(files) < FANOUT:
            continue
        picked: list[IndexFile] = []
        for f in sorted(files, key=lambda f: (f.rows, f.path.name))[:FANOUT]:
            if sum(g.rows for g in picked) + f.rows > MAX_ROWS:
                break
            picked.append(f)
        if len(picked) >= 2:
            return picked
    return None


def _write(history: History, con: duckdb.DuckDBPyConnection, model_version: str, daily: list[Path],
           merged: list[IndexFile]) -> None:
    import pyarrow.parquet as pq
    from sqlglot import exp

    parts: list[exp.Query] = []
    if daily:
        parts.append(exp.select(*SERIES_COLUMNS).from_(daily_query(daily).subquery("d", copy=False),
                                                       copy=False))
    if merged:
        parts.append(exp.select(*SERIES_COLUMNS).from_(read_parquet([f.path for f in merged]), copy=False))
    query = parts[0]
    for other in parts[1:]:
        query = exp.union(query, other, distinct=False, copy=False)
    rel = con.sql(exp.select(*SERIES_COLUMNS).from_(query.subquery("s", copy=False), copy=False)
                  .order_by("account_id", "as_of", copy=False).sql(dialect="duckdb"))
    counts: dict[str, int] = {}
    for f in merged:
        for day, n in f.day_rows:
            counts[day] = counts.get(day, 0) + n
    covers = set().union(*(f.covers for f in merged)) | {relative(history, p) for p in daily}
    d = directory(history, model_version)
    for part in (d.parent.parent, d.parent, d):  # owner-only, as the daily files' directories
        part.mkdir(mode=0o700, exist_ok=True)
    name = f"series-{uuid.uuid4().hex}.parquet"
    tmp, final = d / f".{name}.tmp", d / name
    reader = rel.to_arrow_reader(ROW_GROUP_ROWS)
    rows = 0
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            writer = pq.ParquetWriter(fh, reader.schema.remove_metadata(), compression="zstd",
                                      compression_level=ZSTD_LEVEL, use_dictionary=True, write_statistics=True)
            for table in _row_groups(reader):
                writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
                rows += table.num_rows
                if daily:  # the per-date counts of daily files are not in their footers' metadata
                    for day, n in zip(*_day_counts(table), strict=True):
                        counts[day] = counts.get(day, 0) + n
            meta = {"rows": rows, "covers": sorted(covers),
                    "replaces": sorted(f.path.name for f in merged), "dates": dict(sorted(counts.items()))}
            writer.add_key_value_metadata({_KEY.decode(): json.dumps(meta)})
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        fsync_dir(d)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _row_groups(reader: Any) -> Iterator[Any]:
    """The reader's batches as tables of ROW_GROUP_ROWS rows (the last one shorter): each written batch would
    otherwise end a row group of its own size."""
    import pyarrow as pa

    pending: list[Any] = []
    size = 0
    for batch in reader:
        pending.append(batch)
        size += batch.num_rows
        while size >= ROW_GROUP_ROWS:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield table.slice(0, ROW_GROUP_ROWS)
            rest = table.slice(ROW_GROUP_ROWS)
            pending, size = rest.to_batches(), rest.num_rows
    if size:
        yield pa.Table.from_batches(pending, schema=reader.schema)


def _day_counts(table: Any) -> tuple[list[str], list[int]]:
    import pyarrow.compute as pc

    counts = pc.value_counts(table.column("as_of"))
    return ([d.isoformat() for d in counts.field("values").to_pylist()], counts.field("counts").to_pylist())


def _remove_leftovers(d: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Temporary files of a writer that died, and index files that a live one replaces."""
    with os.scandir(d) as it:
        names = [e.name for e in it]
    for name in names:
        if name.startswith(".series-") and name.endswith(".tmp"):
            with contextlib.suppress(FileNotFoundError):
                (d / name).unlink()
    paths = sorted(d / n for n in names if n.startswith("series-") and n.endswith(".parquet"))
    files = _read_footers(con, paths)
    replaced = set().union(*(f.replaces for f in files))
    for f in files:
        if f.path.name in replaced:
            with contextlib.suppress(FileNotFoundError):
                f.path.unlink()
            with _footers_lock:
                _footers.pop(str(f.path), None)


def _read_footers(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> list[IndexFile]:
    """The index files among `paths`. A file that cannot be read, or whose footer is not an index file's
    (damaged, or put there by hand), is left out: the daily files it would cover are read instead."""
    import duckdb

    with _footers_lock:
        missing = [p for p in paths if str(p) not in _footers]
    if missing:
        try:
            rows = _footer_rows(con, missing)
        except duckdb.Error:  # one unreadable file fails the whole read: then one file at a time
            rows = []
            for path in missing:
                with contextlib.suppress(duckdb.Error):
                    rows += _footer_rows(con, [path])
        found = {}
        for file_name, value in rows:
            try:
                meta = json.loads(bytes(value))
                found[file_name] = IndexFile(
                    path=Path(file_name), rows=int(meta["rows"]),
                    covers=frozenset(meta["covers"]), replaces=frozenset(meta["replaces"]),
                    day_rows=tuple((d, int(n)) for d, n in meta["dates"].items()),
                    dates=frozenset(date.fromisoformat(d) for d in meta["dates"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        with _footers_lock:
            _footers.update(found)
    with _footers_lock:
        return [_footers[str(p)] for p in paths if str(p) in _footers]


def _footer_rows(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> list[tuple[str, bytes]]:
    from sqlglot import exp

    query = (exp.select("file_name", "value")
             .from_(exp.Anonymous(this="parquet_kv_metadata", expressions=[
                 exp.Array(expressions=[exp.Literal.string(str(p)) for p in paths])]))
             .where(exp.column("key").eq(exp.Cast(this=exp.Literal.string(_KEY.decode()),
                                                  to=exp.DataType.build("BLOB")))))
    return con.sql(query.sql(dialect="duckdb")).fetchall()
