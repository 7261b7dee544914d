"""The snapshot history: every stored snapshot with its evidence, as Parquet files beside the store.

Layout (hive-style, readable by DuckDB, Spark and BI tools as one table)::

    <history>/model_version=<version>/as_of=<YYYY-MM-DD>/part-<uuid>.parquet

One row per snapshot: the snapshot's columns (components, reasons and last_trusted as JSON text, flags
as a JSON array) and its evidence as one ``list<struct<metric, component, value_num, value_text, window,
source, rows, latest_at, score, weight, points, as_of_source, target, target_source>>`` column, in the
same metric order in every snapshot of a file (readers order it by points). Rows are sorted by
account_id, so a reader looking for one account skips most row groups by their statistics. zstd level
6, dictionary encoding (docs/scale.md has the measurements behind each choice).

Writes are append-only and atomic per file: a file is written under a hidden temporary name (``.part-*
.tmp``, which no reader globs), fsynced, and renamed into place by `Staged.publish` once the store's
transaction has committed (store/snapshots.py). Readers list and read finished files only, take no
lock and never block a writer; writers take an exclusive lock on ``<history>/.lock`` so that two of them
cannot both add the same key. A key (account_id, as_of, model_version) is written once. After its renames
a writer replaces ``model_version=<version>/.generation``, which tells readers that a listing they kept of
the version's directories is stale (`_version_listing`).

Reads go through an in-memory DuckDB connection over the listed files, one statement built by sqlglot
per read: the only places outside engine/ that import duckdb are this module and its series index
(store/history_index.py: one account across many dates from a few account-sorted files; .importlinter
says why).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from healthscore.errors import InvalidInput
from healthscore.store.files import daily_query, fsync_dir, names, read_parquet

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from sqlglot import exp

_T = TypeVar("_T")
PART_PREFIX = "part-"
SUFFIX = ".parquet"
_SAFE_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ROW_GROUP_ROWS = 20_000
# zstd levels by column. The JSON text columns gain most from a higher level; the numbers and the evidence fields
# hardly do. 100,000 snapshots of one date: all at 6, 202 bytes a snapshot and 0.88 s of CPU to write; all at 3,
# 215 and 0.60 s; text at 6 and the rest at 3, 210 and 0.65 s (at 9, twice the CPU of 6 for 2% fewer bytes).
ZSTD_LEVEL = 3
ZSTD_TEXT_LEVEL = 6
_TEXT_COLUMNS = ("components", "reasons", "trend_note")


@dataclass
class Staged:
    """Files written and fsynced under temporary names, published (renamed) after the store commits."""

    moves: list[tuple[Path, Path]] = field(default_factory=list)

    def publish(self) -> None:
        dirs = set()
        for tmp, final in self.moves:
            os.replace(tmp, final)
            dirs.add(final.parent)
        for d in dirs:
            fsync_dir(d)
        from healthscore.faults import fault_point

        fault_point("history:published")  # the files are in place, kept listings do not know yet
        for version_dir in {d.parent for d in dirs}:  # after the renames: see `_version_listing`
            _new_generation(version_dir)
        self.moves = []

    def discard(self) -> None:
        for tmp, _ in self.moves:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.moves = []


class Scan(NamedTuple):
    """What one read reads: hashable, so that the SQL text of a read is built once per set of files (building
    and printing it with sqlglot cost an account page more than DuckDB's work). Files never change once in
    place, so new files make a new Scan."""

    daily: tuple[str, ...]  # daily files, read with their partition columns
    indexed: tuple[str, ...]  # series index files
    within: tuple[frozenset[date] | None, date | None, date | None] | None  # the dates asked of index files
    series: bool  # the read's columns are the series index's

    @property
    def columns(self) -> list[str] | None:
        """The columns, when known without asking DuckDB (daily files written before a column existed lack it)."""
        from healthscore.store.history_index import SERIES_COLUMNS

        return list(SERIES_COLUMNS) if self.series else None

    def query(self) -> exp.Select:
        from sqlglot import exp

        from healthscore.store.history_index import SERIES_COLUMNS

        if not self.series:
            return daily_query(self.daily)
        columns = [exp.column(c) for c in SERIES_COLUMNS]
        # copy=False throughout: the queries name every file (deep copies of them cost a read ~5 ms)
        parts: list[exp.Query] = [exp.select(*columns).from_(daily_query(self.daily).subquery("d", copy=False),
                                                             copy=False)] if self.daily else []
        if self.indexed:
            query = exp.select(*columns).from_(read_parquet(list(self.indexed)), copy=False)
            within = _date_filter(*self.within) if self.within is not None else None
            parts.append(query.where(within, copy=False) if within is not None else query)
        out: exp.Query = parts[0]
        for other in parts[1:]:
            out = exp.union(out, other, distinct=False, copy=False)
        return out if isinstance(out, exp.Select) \
            else exp.select(exp.Star()).from_(out.subquery("u", copy=False), copy=False)


class History:
    """One workspace's snapshot history directory (None: a store without one, which fails on first use)."""

    def __init__(self, root: Path | None, missing_reason: str = ""):
        self._root = root
        self._missing_reason = missing_reason

    @property
    def root(self) -> Path:
        if self._root is None:
            raise InvalidInput(self._missing_reason or "the store has no snapshot history directory", field="history")
        return self._root

    @property
    def configured(self) -> bool:
        return self._root is not None

    # -- layout ---------------------------------------------------------------------------------------

    def partition(self, model_version: str, as_of: date) -> Path:
        if not _SAFE_VERSION.match(model_version):
            raise ValueError(f"model_version {model_version!r}: the history names a directory after it;"
                             " expected letters, digits, '.', '_' or '-'")
        return self.root / f"model_version={model_version}" / f"as_of={as_of.isoformat()}"

    def listing(self, model_version: str | None = None, date_from: date | None = None, date_to: date | None = None,
                dates: set[date] | None = None) -> list[tuple[str, date, list[str]]]:
        """(model_version, as_of, finished files) of every partition with at least one finished file, in order.
        Paths as strings: an account page lists a year of partitions on every read, and Path objects (their
        construction and sorting) cost it more than the directory scans."""
        if self._root is None or not self._root.is_dir():
            return []
        root = str(self._root)
        out = []
        for v_name in names(root, "model_version=", directories=True):
            version = v_name.partition("=")[2]
            if model_version is not None and version != model_version:
                continue
            for as_of, files in _version_listing(os.path.join(root, v_name)):
                if (date_from is not None and as_of < date_from) or (date_to is not None and as_of > date_to) \
                        or (dates is not None and as_of not in dates):
                    continue
                out.append((version, as_of, files))
        return out

    def partitions(self, model_version: str | None = None, date_from: date | None = None,
                   date_to: date | None = None,
                   dates: set[date] | None = None) -> Iterator[tuple[str, date, list[Path]]]:
        """As `listing`, with Paths."""
        for version, as_of, files in self.listing(model_version, date_from, date_to, dates):
            yield version, as_of, [Path(f) for f in files]

    def files(self, model_version: str | None = None, date_from: date | None = None,
              date_to: date | None = None, dates: set[date] | None = None) -> list[Path]:
        return [f for _, _, fs in self.partitions(model_version, date_from, date_to, dates) for f in fs]

    def dates(self, model_version: str) -> set[date]:
        return {d for _, d, _ in self.listing(model_version)}

    def counts(self, model_version: str, dates: list[date]) -> dict[date, int]:
        """Snapshots per date, from the files' footers (no data read)."""
        import pyarrow.parquet as pq

        wanted = set(dates)
        out: dict[date, int] = {}
        for _, d, files in self.partitions(model_version):
            if d in wanted:
                out[d] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        return out

    def stored_accounts(self, model_version: str, as_of: date) -> set[str]:
        import pyarrow.parquet as pq

        directory = self.partition(model_version, as_of)
        if not directory.is_dir():
            return set()
        out: set[str] = set()
        for f in _files(directory):
            out.update(pq.read_table(f, columns=["account_id"]).column(0).to_pylist())
        return out

    # -- writing --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """One writer at a time per history directory (readers take no lock)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as fh:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX: a single writer is the caller's business
                yield
                return
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            # A writer that died between its rename and its new generation left a file no listing kept by this
            # process shows: the writer's checks (which keys are written, what is indexed) list afresh.
            _version_listings.clear()
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def stage(self, snaps: pd.DataFrame, evidence: pd.DataFrame, positions: np.ndarray | None = None) -> Staged:
        """Write one file per (model_version, as_of) of `snaps` under a temporary name, fsynced.

        `snaps`: the store's snapshot columns with components, reasons, flags and last_trusted as JSON
        text (store/encode.py's encoders), run_id and created_at; `evidence`: its evidence rows;
        `positions`: each evidence row's snapshot as a row number of `snaps` (`snapshot_positions`; found
        here when not given). Raises ValueError for evidence of no snapshot in `snaps` and
        `DuplicateEvidence` for a metric listed twice in one snapshot."""
        import numpy as np
        import pyarrow.parquet as pq

        staged = Staged()
        if snaps.empty:
            return staged
        if positions is None:
            positions = snapshot_positions(snaps, evidence)
            if (positions < 0).any():
                raise ValueError(f"evidence: {int((positions < 0).sum())} rows belong to no snapshot being written")
        try:
            partitions = snaps.groupby(["model_version", "as_of"], sort=True).indices
            # each evidence row's partition; its rows taken apart only when there are several (a backfill's chunk)
            partition_of = np.empty(len(snaps), dtype="int64")
            for number, rows in enumerate(partitions.values()):
                partition_of[rows] = number
            ev_partition = partition_of[positions]
            for number, ((version, as_of), rows) in enumerate(partitions.items()):
                if len(partitions) == 1:
                    group, ev_group, ev_positions = snaps, evidence, positions
                else:
                    ev_rows = np.flatnonzero(ev_partition == number)
                    local = np.empty(len(snaps), dtype="int64")
                    local[rows] = np.arange(len(rows))
                    group, ev_group = snaps.iloc[rows], evidence.iloc[ev_rows]
                    ev_positions = local[positions[ev_rows]]
                table = _arrow_table(group, ev_group, ev_positions)
                directory = self.partition(str(version), as_of.date())
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # snapshots name customers: owner-only
                _remove_stale(directory)
                name = f"{PART_PREFIX}{uuid.uuid4().hex}{SUFFIX}"
                tmp, final = directory / f".{name}.tmp", directory / name
                staged.moves.append((tmp, final))
                with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                    # statistics for the snapshot columns only: readers filter on them, never on evidence fields
                    # (whose statistics cost a 100,000-snapshot write 0.2 s)
                    pq.write_table(table, fh, compression="zstd", compression_level=_zstd_levels(), use_dictionary=True,
                                   row_group_size=ROW_GROUP_ROWS, write_statistics=list(SNAPSHOT_TYPES),
                                   store_schema=False)  # Parquet's own types: text, not Arrow dictionaries
                    fh.flush()
                    os.fsync(fh.fileno())
        except BaseException:
            staged.discard()
            raise
        return staged

    def maintain_index(self, model_versions: Iterable[str]) -> None:
        """Bring the series index up to date after a write (the caller holds the writer lock). The write has
        committed by then and the index is derived data: a failure here (a full disk) is logged, not raised,
        and readers read the daily files the index does not cover; the next write tries again."""
        import duckdb

        from healthscore.store import history_index

        con = connect()
        try:
            for version in sorted(set(model_versions)):
                history_index.maintain(self, con, version)
        except (OSError, duckdb.Error) as exc:
            logging.getLogger("healthscore.history").warning(
                "the snapshot history's series index under %s was not updated (%s); reads use the daily files, "
                "and the next write tries again", self.root / history_index.INDEX_DIR, exc)
        finally:
            con.close()

    # -- reading --------------------------------------------------------------------------------------

    def read(self, attempt: Callable[[duckdb.DuckDBPyConnection], _T], *, small: bool = False) -> _T:
        """Run one read (its files listed and queried) on a cursor of the process's DuckDB. Daily files never
        go away, but index files do once a merge replaces them: a read that listed one just before a writer
        deleted it is listed and run again (a merge's new file is in place before the old ones go)."""
        import duckdb

        retries = 2
        while True:
            con = connect(small=small)
            try:
                return attempt(con)
            except duckdb.IOException:
                if not retries:
                    raise
                retries -= 1
                _version_listings.clear()  # a file went away that a kept listing still names
            finally:
                con.close()

    def scan(self, con: duckdb.DuckDBPyConnection, *, model_version: str | None = None,
             date_from: date | None = None, date_to: date | None = None, dates: set[date] | None = None,
             series: set[str] | None = None, accounts: Collection[str] | None = None) -> Scan | None:
        """What a read of the partitions asked for reads; None when there are none.

        `series`: the columns a read of a few accounts needs; when the series index holds them all, the
        read takes the index files of those dates and accounts (`accounts`; None: any) and the daily files
        the index does not cover yet (one account's year: a few row groups, not one file per date)."""
        from healthscore.store import history_index

        daily: dict[str, list[str]] = {}
        for version, _, files in self.listing(model_version, date_from, date_to, dates):
            daily.setdefault(version, []).extend(files)
        if not daily:
            return None
        if series is None or not series <= set(history_index.SERIES_COLUMNS):
            return Scan(tuple(f for fs in daily.values() for f in fs), (), None, False)
        indexed: list[str] = []
        loose: list[str] = []
        for version, files in daily.items():
            i, d = history_index.sources(self, con, version, files, dates, date_from, date_to, accounts)
            indexed += i
            loose += d
        within = (frozenset(dates) if dates is not None else None, date_from, date_to) if indexed else None
        return Scan(tuple(loose), tuple(indexed), within, True)


# One in-memory database per process and kind of read, opened on first use: a read of a few accounts runs on one
# thread (a second one added a third to the CPU of an account page and nothing to its wall time, and ten
# clients at once queued behind that CPU), a read of many accounts or dates on two.
_shared: dict[bool, duckdb.DuckDBPyConnection] = {}
_shared_pid: list[int] = []  # the process that opened them
_shared_lock = threading.Lock()


def connect(*, small: bool = False) -> duckdb.DuckDBPyConnection:
    """A cursor of the process's in-memory DuckDB for one read (close it after): opening a database cost
    each web request 10-15 ms. History files never change once renamed into place, so their Parquet
    footers are cached across reads. `small`: a read of a few accounts (one thread)."""
    import duckdb

    with _shared_lock:
        if _shared_pid != [os.getpid()]:  # a forked worker opens its own
            _shared.clear()
            _shared_pid[:] = [os.getpid()]
        shared = _shared.get(small)
        if shared is None:
            shared = duckdb.connect(config={"threads": 1 if small else 2})
            # GLOBAL: each read's cursor is a session of its own, and a session SET did not reach them (every
            # read parsed every footer again: one account's history took 16 ms against 5 ms). A constant statement.
            shared.execute("SET GLOBAL parquet_metadata_cache = true")
            _shared[small] = shared
        return shared.cursor()


def col(name: str) -> Any:
    import duckdb

    return duckdb.ColumnExpression(name)


def _date_filter(dates: AbstractSet[date] | None, date_from: date | None, date_to: date | None) -> exp.Condition | None:
    from sqlglot import exp

    def day(d: date) -> exp.Expression:
        return exp.cast(exp.Literal.string(d.isoformat()), "DATE")

    as_of = exp.column("as_of")
    conditions: list[exp.Condition] = []
    if dates is not None:
        conditions.append(as_of.isin(*(day(d) for d in sorted(dates))) if dates else exp.false())
    if date_from is not None:
        conditions.append(as_of >= day(date_from))
    if date_to is not None:
        conditions.append(as_of <= day(date_to))
    return exp.and_(*conditions) if conditions else None


# A version directory's partitions, kept per process: an account page of a year of daily dates checked 365
# date directories (a stat each, 4 ms of its 34) on every read. A writer replaces the directory's generation
# file after each publish (after its renames), and a reader reads the generation before it lists, so a kept
# listing is used only while its generation holds. A file that appeared without a new generation (a writer
# that died between its rename and the new generation, a file copied in by hand) is listed within
# _GENERATION_TRUST_S seconds, and by every writer at once (`History.writer_lock`).
GENERATION = ".generation"
_GENERATION_TRUST_S = 10.0
_version_listings: dict[str, tuple[bytes, float, list[tuple[date, list[str]]]]] = {}
_TOKEN = re.compile(rb"[0-9a-f]{32}")


def _version_listing(v_dir: str) -> list[tuple[date, list[str]]]:
    """(as_of, finished files) of every partition of one model version directory with a finished file, in order."""
    generation: bytes | None = None
    try:  # O_NONBLOCK: a FIFO put in its place must not hang every reader
        fd = os.open(os.path.join(v_dir, GENERATION), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:  # none yet (a history written before generations)
        pass
    else:
        try:
            generation = os.read(fd, 64)
        except OSError:  # a directory, or unreadable
            pass
        finally:
            os.close(fd)
    if generation is not None and not _TOKEN.fullmatch(generation):  # not one _new_generation wrote: keep nothing
        generation = None
    kept = _version_listings.get(v_dir)
    now = time.monotonic()
    if generation and kept is not None and kept[0] == generation and now - kept[1] < _GENERATION_TRUST_S:
        return kept[2]
    out = []
    for d_name in names(v_dir, "as_of=", directories=True):
        try:
            as_of = date.fromisoformat(d_name.partition("=")[2])
        except ValueError:
            continue
        d_dir = os.path.join(v_dir, d_name)
        files = [os.path.join(d_dir, f) for f in names(d_dir, PART_PREFIX, suffix=SUFFIX)]
        if files:
            out.append((as_of, files))
    if generation:
        if len(_version_listings) > 1_000:
            _version_listings.clear()
        _version_listings[v_dir] = (generation, now, out)
    return out


def _new_generation(version_dir: Path) -> None:
    """Replace a version directory's generation file (a new random token): listings kept by readers are stale."""
    tmp = version_dir / f"{GENERATION}-{uuid.uuid4().hex}.tmp"
    tmp.write_text(uuid.uuid4().hex, encoding="ascii")
    os.replace(tmp, version_dir / GENERATION)


def _files(path: Path) -> Iterator[Path]:
    return (path / name for name in names(str(path), PART_PREFIX, suffix=SUFFIX))


def _remove_stale(directory: Path) -> None:
    """Temporary files of a writer that died before its rename (the caller holds the writer lock, so no
    live writer owns one): their store transaction either rolled back or committed rows that the date's
    next scoring replaces, because the date is not in the history without the file."""
    with os.scandir(directory) as it:
        stale = [Path(e.path) for e in it if e.name.startswith("." + PART_PREFIX) and e.name.endswith(".tmp")]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _zstd_levels() -> dict[str, int]:
    """Each column's zstd level, by its path in the file (evidence fields as evidence.list.element.<field>)."""
    levels = {name: ZSTD_TEXT_LEVEL if name in _TEXT_COLUMNS else ZSTD_LEVEL for name in SNAPSHOT_TYPES}
    levels.update({f"evidence.list.element.{f.name}": ZSTD_LEVEL for f in evidence_type().value_type})
    return levels


def evidence_type() -> pa.DataType:
    import pyarrow as pa

    return pa.list_(pa.struct([
        ("metric", pa.string()), ("component", pa.string()), ("value_num", pa.float64()),
        ("value_text", pa.string()), ("window", pa.string()), ("source", pa.string()), ("rows", pa.int64()),
        ("latest_at", pa.timestamp("us")), ("score", pa.float64()), ("weight", pa.float64()),
        ("points", pa.float64()), ("as_of_source", pa.string()), ("target", pa.float64()),
        ("target_source", pa.string()),
    ]))


SNAPSHOT_TYPES = {
    "account_id": "string", "score": "float64", "tier": "string", "status": "string", "confidence": "float64",
    "coverage": "float64", "segment": "string", "components": "string", "reasons": "string",
    "smoothed_score": "float64", "primary_driver": "string", "trend_note": "string", "flags": "string",
    "review_required": "bool", "last_trusted": "string", "run_id": "string", "created_at": "timestamp",
    "name": "string", "owner": "string", "arr": "float64",
}


def _arrow_table(snaps: pd.DataFrame, evidence: pd.DataFrame | None, positions: np.ndarray | None) -> pa.Table:
    """One partition's rows: snapshots sorted by account_id, evidence nested as a list per snapshot
    (`positions`: each evidence row's snapshot as a row number of `snaps`)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    sorted_already = snaps["account_id"].is_monotonic_increasing  # a scoring run's are
    order = None if sorted_already else np.argsort(snaps["account_id"].to_numpy(dtype=object), kind="stable")
    if order is not None:
        snaps = snaps.iloc[order]
    arrays: dict[str, pa.Array] = {}
    for name, kind in SNAPSHOT_TYPES.items():
        values = snaps[name] if name in snaps else pd.Series(None, index=snaps.index, dtype=object)
        if kind == "float64":
            arrays[name] = _floats(values)
        elif kind == "bool":
            arrays[name] = pa.array(values.to_numpy(dtype=bool))
        elif kind == "timestamp":
            arrays[name] = pa.array(pd.to_datetime(values).to_numpy("datetime64[us]"))
        else:
            arrays[name] = _strings(values)
    rank = None
    if positions is not None:  # each evidence row's snapshot as a row of the sorted snapshots
        rank = positions if order is None else np.argsort(order)[positions]
    arrays["evidence"] = _evidence_lists(len(snaps), evidence, rank)
    return pa.table(arrays)


def _strings(values: pd.Series, *, keep_categories: bool = False) -> pa.Array:
    """Text with missing values (None, NaN, pd.NA) as nulls; categories decoded, or with `keep_categories` kept
    as a dictionary of text (Parquet stores both alike; decoding a scoring run's 2.4M evidence rows per column
    only for the writer to find the dictionary again cost a 100,000-snapshot write 0.4 s)."""
    import pyarrow as pa

    try:
        arr = pa.Array.from_pandas(values)
        if isinstance(arr, pa.ChunkedArray):  # pandas' Arrow-backed str columns come as chunks
            arr = arr.combine_chunks()
        if pa.types.is_dictionary(arr.type):
            if keep_categories:
                return pa.DictionaryArray.from_arrays(arr.indices, arr.dictionary.cast(pa.string()))
            arr = arr.dictionary_decode()
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # e.g. numbers among the text
        return pa.array([None if v is None or v != v else str(v) for v in values.astype(object).tolist()],
                        pa.string())


def _floats(values: pd.Series) -> pa.Array:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":  # numpy floats: NaN is missing already
        return pa.array(values.to_numpy(dtype="float64"), from_pandas=True)
    return pa.array(pd.array(values, dtype="Float64").to_numpy("float64", na_value=np.nan), from_pandas=True)


_NUMERIC_KINDS = {"floating", "integer", "mixed-integer-float", "boolean", "decimal", "empty"}


def snapshot_positions(snaps: pd.DataFrame, evidence: pd.DataFrame) -> np.ndarray:
    """Each evidence row's snapshot (the same account_id, as_of and model_version) as a row number of `snaps`,
    -1 for none; `snaps` holds each key once. Each key column is hashed by its distinct values (an evidence
    column of categories: its categories), so millions of evidence rows cost array lookups, not a join."""
    import numpy as np
    import pandas as pd

    n = len(snaps)
    snap_key = np.zeros(n, dtype="int64")
    ev_key = np.zeros(len(evidence), dtype="int64")
    missing = np.zeros(len(evidence), dtype=bool)
    for name in ("model_version", "as_of", "account_id"):
        snap_codes, distinct = pd.factorize(snaps[name])
        codes, ev_distinct = pd.factorize(evidence[name])
        mapped = pd.Index(distinct).get_indexer(pd.Index(ev_distinct))
        ev_codes = np.where(codes >= 0, mapped[codes], -1) if len(mapped) else np.full(len(codes), -1)
        missing |= ev_codes < 0
        if snap_key.size and int(snap_key.max()) >= (1 << 62) // max(len(distinct), 1):  # keep the key in 64 bits
            snap_key, compact = pd.factorize(snap_key)
            known = pd.Index(compact).get_indexer(ev_key)
            missing |= known < 0  # a combination of values no snapshot has
            ev_key = np.maximum(known, 0)
        snap_key = snap_key * len(distinct) + snap_codes
        ev_key = ev_key * len(distinct) + np.maximum(ev_codes, 0)
    by_key = np.argsort(snap_key, kind="stable")
    keys = snap_key[by_key]
    at = np.minimum(np.searchsorted(keys, ev_key), max(n - 1, 0))
    found = ~missing & (keys[at] == ev_key) if n else np.zeros(len(evidence), dtype=bool)
    return np.where(found, by_key[at] if n else -1, -1)


class DuplicateEvidence(ValueError):
    """A metric listed twice in one snapshot's evidence (`row`: the second row's position)."""

    def __init__(self, row: int):
        super().__init__(f"evidence row {row} lists a metric its snapshot already has")
        self.row = row


def list_order(snapshot: np.ndarray, metric: pd.Series) -> np.ndarray | None:
    """The order of evidence rows in the history: by snapshot (`snapshot`: each row's snapshot number), each
    snapshot's metrics in the order metrics first appear in the rows, so every list repeats one pattern and
    each field compresses as such (ordered by points, the lists took 25% more bytes; readers sort). None when
    the rows are in that order already, as a scoring run writes them (taking 2.4M rows in another order cost
    a 100,000-snapshot write 1.1 s). Raises DuplicateEvidence for a metric listed twice in a snapshot."""
    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(metric, use_na_sentinel=False)  # a missing name is a name here, never -1
    key = snapshot.astype("int64") * max(len(distinct), 1) + codes
    if (key[1:] > key[:-1]).all():
        return None
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if repeated.size:
        raise DuplicateEvidence(int(order[repeated[0] + 1]))
    return order


def _evidence_lists(n: int, ev: pd.DataFrame | None, snapshot: np.ndarray | None) -> pa.Array:
    """The evidence rows as one list per snapshot (`snapshot`: each row's snapshot as a number below `n`)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if ev is None or ev.empty or snapshot is None:
        return pa.array([[] for _ in range(n)], evidence_type())
    order = list_order(snapshot, ev["metric"])
    metric_codes, metric_names = pd.factorize(ev["metric"], use_na_sentinel=False)
    counts = np.bincount(snapshot, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype("int32")

    def text(name: str) -> pa.Array:
        return _strings(ev[name], keep_categories=True) if name in ev else pa.nulls(len(ev), pa.string())

    def num(name: str) -> pa.Array:
        return _floats(ev[name]) if name in ev else pa.nulls(len(ev), pa.float64())

    value = ev["value"]
    if not (pd.api.types.is_numeric_dtype(value.dtype) or pd.api.types.is_bool_dtype(value.dtype)):
        value = value.astype(object)
        values = value.to_numpy()
        # A scoring run gives its numbers as floats too (value_num); the values left to read are the others
        known = ev["value_num"].to_numpy(dtype="float64") if "value_num" in ev else None
        pending = value.notna().to_numpy().copy()
        if known is not None:
            pending &= np.isnan(known)
        value_num = known.copy() if known is not None else np.full(len(value), np.nan)
        # Which values are text, metric by metric: a metric whose values pandas' C scan finds numeric is
        # skipped; only text metrics' values are looked at one by one (all 2.4M of a chunk took 1 s)
        is_text = np.zeros(len(value), dtype=bool)
        for k in range(len(metric_names)):
            rows = np.flatnonzero((metric_codes == k) & pending)
            if not rows.size:
                continue
            if pd.api.types.infer_dtype(values[rows], skipna=True) in _NUMERIC_KINDS:
                value_num[rows] = pd.to_numeric(pd.Series(values[rows], dtype=object), errors="coerce"
                                                ).astype("float64").to_numpy()
            else:
                is_str = np.fromiter((type(v) is str for v in values[rows].tolist()), bool, len(rows))
                is_text[rows] = is_str
                value_num[rows[~is_str]] = pd.to_numeric(pd.Series(values[rows[~is_str]], dtype=object),
                                                         errors="coerce").astype("float64").to_numpy()
        value_text = _strings(value.where(is_text, None)) if is_text.any() else pa.nulls(len(ev), pa.string())
    else:
        value_num = pd.array(value, dtype="Float64").to_numpy("float64", na_value=np.nan)
        value_text = pa.nulls(len(ev), pa.string())
    value_num = np.where(np.isfinite(value_num), value_num, np.nan)  # as the JSON store had it: non-finite is missing
    latest = pd.to_datetime(ev["latest_at"], utc=True).dt.tz_localize(None)
    children = [
        text("metric"), text("component"), pa.array(value_num, from_pandas=True), value_text,
        text("window"), text("source"), pa.array(pd.array(ev["rows"], dtype="Int64"), pa.int64()),
        pa.array(latest.to_numpy("datetime64[us]"), pa.timestamp("us"), from_pandas=True),
        num("score"), num("weight"), num("points"), text("as_of_source"), num("target"), text("target_source"),
    ]
    # named, not typed: a text field of categories stays a dictionary (the file has no Arrow schema, so readers
    # see text either way)
    struct = pa.StructArray.from_arrays(children, names=[f.name for f in evidence_type().value_type])
    if order is not None:
        struct = struct.take(pa.array(order))
    return pa.ListArray.from_arrays(pa.array(offsets), struct)
