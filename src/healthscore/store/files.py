"""File helpers of the snapshot history and its series index: a directory's fsync, and the sqlglot
expression that reads Parquet files in DuckDB."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


def read_parquet(files: list[Path], **options: bool) -> exp.Expression:
    from sqlglot import exp

    args: list[exp.Expression] = [exp.Array(expressions=[exp.Literal.string(str(f)) for f in files])]
    args += [exp.EQ(this=exp.var(k), expression=exp.true() if v else exp.false()) for k, v in options.items()]
    return exp.Anonymous(this="read_parquet", expressions=args)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform opens directories
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
