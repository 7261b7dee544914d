"""File helpers of the snapshot history and its series index: a directory's fsync, its listing, and the
sqlglot expressions that read Parquet files in DuckDB."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


def read_parquet(files: Sequence[Path | str], **options: bool) -> exp.Expression:
    from sqlglot import exp

    args: list[exp.Expression] = [exp.Array(expressions=[exp.Literal.string(str(f)) for f in files])]
    args += [exp.EQ(this=exp.var(k), expression=exp.true() if v else exp.false()) for k, v in options.items()]
    return exp.Anonymous(this="read_parquet", expressions=args)


# The partition columns come from each file's path (hive-style names), not from DuckDB's hive_partitioning:
# its type detection would read a model version of digits as a number.
_PARTITION_PATTERNS = {"model_version": r"model_version=([^/\\]+)[/\\]as_of=",
                       "as_of": r"as_of=(\d{4}-\d{2}-\d{2})[/\\]"}


def daily_query(files: list[Path] | list[str] | tuple[str, ...]) -> exp.Select:
    """The daily files' rows, with model_version and as_of (a DATE) from each file's partition directories."""
    from sqlglot import exp

    def part(name: str) -> exp.Expression:
        return exp.Anonymous(this="regexp_extract", expressions=[
            exp.column("filename"), exp.Literal.string(_PARTITION_PATTERNS[name]), exp.Literal.number(1)])

    return exp.select(exp.Star(except_=[exp.column("filename")]),
                      exp.alias_(part("model_version"), "model_version"),
                      exp.alias_(exp.cast(part("as_of"), "DATE"), "as_of"),
                      ).from_(read_parquet(list(files), union_by_name=True, filename=True), copy=False)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform opens directories
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# directory -> (its change time when listed, the names in it). An account page lists a year of date directories
# on every read; a stat per directory tells whether each listing still holds.
_listings: dict[tuple[str, str, str, bool], tuple[tuple[int, int], list[str]]] = {}
# A directory changed again within the same tick of the file system's clock as the listing keeps its time
# (git's "racily clean" entries): a listing is kept only once its directory is older than this.
_SETTLED_NS = 2_000_000_000


def names(path: str, prefix: str, *, suffix: str = "", directories: bool = False) -> list[str]:
    """The sorted names in a directory with that prefix and suffix: its subdirectories, or its other entries."""
    st = os.stat(path)
    changed = (st.st_mtime_ns, st.st_ctime_ns)
    key = (path, prefix, suffix, directories)
    hit = _listings.get(key)
    if hit is not None and hit[0] == changed:
        return hit[1]
    now = time.time_ns()
    with os.scandir(path) as it:
        found = sorted(e.name for e in it if e.name.startswith(prefix) and e.name.endswith(suffix)
                       and e.is_dir() == directories)
    if now - max(changed) > _SETTLED_NS:
        if len(_listings) > 100_000:
            _listings.clear()
        _listings[key] = (changed, found)
    return found
