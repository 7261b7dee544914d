"""Sources as the engine streams them: Parquet files read in place, CSV files spooled to Parquet with
their line numbers; and the cleanup of spools a killed ingest left behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.engine.adapters.duckdb import engine_error
from healthscore.engine.adapters.sql import column, exp
from healthscore.errors import UserError
from healthscore.ingest.checks import cast, sql
from healthscore.ingest.read import check_reserved, csv_header, no_duplicate_names, shown_path
from healthscore.ingest.report import BAD, INTERNAL, POS, TEXT

if TYPE_CHECKING:
    from healthscore.engine.adapters.duckdb import DuckDBAdapter
    from healthscore.workspace import Workspace


@dataclass
class Streamed:
    """One file as the engine reads it: SELECT {pos}, {bad}, {text}, <columns> FROM {source}."""

    display: str
    word: str  # "line" (CSV) or "row" (Parquet)
    names: list[str]  # the source's columns
    rows: int
    source: exp.Expr  # a read_parquet(...) call
    pos: exp.Expr  # the row's line (CSV) or 0-based row number (Parquet), in file order
    bad: exp.Expr = field(default_factory=lambda: cast(exp.null(), "VARCHAR"))
    text: exp.Expr = field(default_factory=lambda: cast(exp.null(), "VARCHAR"))


def engine_safe_names(names: list[str], *, extra: tuple[str, ...] = ()) -> bool:
    """DuckDB names are case-insensitive: names that differ only in case cannot be told apart."""
    lowered = {n.lower() for n in names}
    return len(lowered) == len(names) and not lowered & {x.lower() for x in (*INTERNAL, *extra)}


def engine_path(path: Path) -> str | None:
    where = str(path.absolute())
    return None if any(ch in where for ch in "*?[]{}") else where  # DuckDB would take it for a glob


def parquet_layout(ws: Workspace, engine: DuckDBAdapter, files: list[Path]) -> list[Streamed] | None:
    """The files as the engine reads them, or None when DuckDB cannot read one of them exactly as
    pyarrow does (then the in-memory path runs: it raises the same errors as before)."""
    import pyarrow.parquet as pq

    out = []
    for path in files:
        display = shown_path(ws, path)
        where = engine_path(path)
        if where is None:
            return None
        try:
            meta = pq.read_metadata(path)
            names = meta.schema.to_arrow_schema().names
        except Exception:
            return None
        no_duplicate_names(display, names)
        check_reserved(display, names)
        if not engine_safe_names(names, extra=("file_row_number",)):
            return None
        try:
            duck = [r[0] for r in engine.fetchall(sql("DESCRIBE SELECT * FROM read_parquet($p)", p=where))]
        except engine_error():
            return None
        if duck != names:
            return None
        out.append(Streamed(display, "row", names, meta.num_rows,
                            sql("read_parquet($p, file_row_number = true)", p=where), column("file_row_number")))
    return out


def csv_layout(ws: Workspace, files: list[Path], spool: Path, say, key: str) -> list[Streamed] | None:
    """CSV files copied, in batches, to Parquet files in ``spool`` (all values as text, exactly as
    written, with each row's line number and the lines that could not be parsed), so that the
    engine can stream them. The line numbers are the in-memory path's (``read_csv``). None when
    the files need the in-memory path."""
    out = []
    for i, path in enumerate(files):
        display = shown_path(ws, path)
        names = csv_header(ws, path)
        if not engine_safe_names(names):
            return None
        say(f"{key}: reading {display}")
        target = spool / f"{i}.parquet"
        rows = _spool_csv(display, path, names, target)
        if rows is None:
            return None
        where = engine_path(target)
        assert where is not None
        out.append(
            Streamed(
                display,
                "line",
                names,
                rows,
                sql("read_parquet($p)", p=where),
                sql("$p - 1", p=column(POS)),
                column(BAD),
                column(TEXT),
            )
        )
    return out


def _spool_csv(display: str, path: Path, names: list[str], target: Path) -> int | None:
    """Copy one CSV file to Parquet (see csv_layout); the number of rows, or None if pyarrow does
    not number the lines it cannot parse."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    bad: list[tuple[int | None, str, int]] = []

    def on_invalid(row):
        bad.append((row.number, row.text, row.actual_columns))
        return "skip"

    schema = pa.schema(
        [pa.field(n, pa.string()) for n in names]
        + [pa.field(POS, pa.int64()), pa.field(BAD, pa.string()), pa.field(TEXT, pa.string())]
    )
    # Lines as in _parse_csv: record numbers (header = 1) skip those of the unparseable records,
    # and every record moves down by the newlines inside the values of the parsed records before it.
    next_record, newlines, placed = 2, 0, 0
    bad_lines: list[int] = []
    n_parsed = 0
    try:
        # Single-threaded: only then does pyarrow number the lines it cannot parse (in order, each
        # before the batch that follows it).
        reader = pv.open_csv(
            path,
            read_options=pv.ReadOptions(use_threads=False, block_size=16 << 20),
            parse_options=pv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        with pq.ParquetWriter(target, schema, compression="snappy") as writer:
            for batch in reader:
                if any(b[0] is None or "\n" in b[1].rstrip("\r\n") for b in bad):
                    _csv_in_memory(display, path, None)  # see _csv_in_memory
                    return None
                n = batch.num_rows
                if not n:
                    continue
                batch = batch.select(names)
                # q[j]: how many rows of this batch come before the j-th bad record not yet placed
                pending = np.array([b[0] for b in bad[placed:]], dtype=np.int64)
                q = pending - np.arange(len(pending)) - next_record
                at = np.arange(n, dtype=np.int64)
                records = next_record + at + np.searchsorted(q, at, side="right")
                inside = np.zeros(n, dtype=np.int64)
                for col in batch.columns:
                    inside += pc.count_substring(col, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
                before = newlines + np.concatenate([[0], np.cumsum(inside)])
                here = q[q < n]
                bad_lines += (pending[: len(here)] + before[here]).tolist()
                placed += len(here)
                lines = records + before[:-1]
                next_record, newlines = int(records[-1]) + 1, int(before[-1])
                n_parsed += n
                writer.write_batch(
                    pa.record_batch(
                        [
                            *batch.columns,
                            pa.array(lines, pa.int64()),
                            pa.nulls(n, pa.string()),
                            pa.nulls(n, pa.string()),
                        ],
                        schema=schema,
                    )
                )
            if any(b[0] is None or "\n" in b[1].rstrip("\r\n") for b in bad):
                _csv_in_memory(display, path, None)
                return None
            bad_lines += [(b[0] or 0) + newlines for b in bad[placed:]]  # None was ruled out above
            if bad:
                reasons = [
                    f"line has {b[2]} value(s) but the header has {len(names)}; check delimiters and quoting"
                    for b in bad
                ]
                writer.write_batch(
                    pa.record_batch(
                        [
                            *(pa.nulls(len(bad), pa.string()) for _ in names),
                            pa.array(bad_lines, pa.int64()),
                            pa.array(reasons, pa.string()),
                            pa.array([b[1] for b in bad], pa.string()),
                        ],
                        schema=schema,
                    )
                )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "utf8" in msg.lower():
            raise UserError(f"{display}: not valid UTF-8 text ({msg}); save the file as UTF-8 CSV") from None
        _csv_in_memory(display, path, msg)
        return None
    return n_parsed + len(bad)


_CSV_IN_MEMORY_MAX = 1 << 30


def _csv_in_memory(display: str, path: Path, msg: str | None) -> None:
    """A CSV file the batch reader cannot take (a quoted value that does not close, or a value
    longer than a block: pyarrow fails with "out of sync with chunker" or "straddling object"):
    None, so that the in-memory path reads it as one block and quarantines only the bad line --
    when it is small enough (``_CSV_IN_MEMORY_MAX``); otherwise a clear error."""
    if path.stat().st_size <= _CSV_IN_MEMORY_MAX:
        return
    raise UserError(
        f"{display}: cannot read as CSV: a quoted value does not close, or a value is longer than 16 MiB"
        + (f" ({msg})" if msg else ""),
        details=[
            "check the file's quoting (a value with a \" must be quoted and its quotes doubled)",
            f"files up to {_CSV_IN_MEMORY_MAX >> 20} MiB are read whole and only the bad line is quarantined;"
            " split the file to get there",
        ],
    )


SPOOL_PREFIX = "ingest-"


def clean_stale_spools(ws: Workspace) -> None:
    """Remove the spool folders (.healthscore/ingest-<pid>-*) and temp folders of ingests whose process
    is gone: a killed ingest left them behind for good (33 MB for a large CSV)."""
    places = [(ws.state_dir, SPOOL_PREFIX), (Path(tempfile.gettempdir()), "healthscore-ingest-")]
    for folder, prefix in places:
        try:
            found = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(prefix)]
        except OSError:
            continue
        for path in found:
            pid = path.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and _alive(int(pid)):
                continue  # a running ingest's (or an unknown owner's)
            if not pid.isdigit() and folder != ws.state_dir:
                continue  # not ours to judge
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def state_dir(ws: Workspace) -> Path:
    ws.state_dir.mkdir(parents=True, exist_ok=True)
    return ws.state_dir
