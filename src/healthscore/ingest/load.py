"""Ingestion: validate sources against the canonical contract and load them into the engine.

For every configured source (``sources.<table>`` in healthscore.yaml) this module

1. reads the file(s) (CSV, NDJSON or Parquet; a glob may match several) or an engine table,
2. applies the column map (source column -> canonical column) and checks the header,
3. validates every row, vectorised in an in-memory DuckDB (no Python loop per row), and
4. writes the accepted rows, cast to the canonical types, as the canonical table in the engine,
   replacing the previous table atomically.

With the DuckDB engine, Parquet sources are not read into Python at all: the engine reads the
files itself and runs the same validation SQL over them, writes the accepted rows with one
CREATE OR REPLACE TABLE ... AS SELECT and returns only the quarantined rows (see "Streaming
through the engine" below). That keeps memory bounded for sources of any size.

Every row that is not accepted is quarantined with its file, line, column, value, a reason that
names what would be right, and the original row. Nothing is dropped silently:
``read == accepted + quarantined`` for every table.

The checks, in the order they are tried (the first problem found is the row's reason):

0. the line itself cannot be parsed (CSV: wrong number of values, or a quoted value that opens on
   it and does not close properly -- the lines after it are read on their own; NDJSON: not a JSON
   object)
1. a required column is empty or null (empty strings count as null)
2. a value does not parse as its column's type
3. a negative value in a non-negative column
4. a value that is not one of the allowed values (case-sensitive, after trimming spaces)
5. a repeated id (``Table.id_column``): the first occurrence (in file order) that passes the other
   checks (0-4 and 6) is accepted, later ones are quarantined
6. an ``account_id`` that is not in ``accounts`` (tables with ``references_accounts``)

and, after check 4, a value outside its column's domain (contract.py): timestamps outside
1900-01-01 .. 2100-12-31, numbers larger than 1e18 in size, and the scales of survey and ticket
scores (NPS 0-10, CSAT 1-5, CES 1-7; ``Column.min_value``/``max_value``/``range_when``).

Within one check, columns are tried in contract order.

Values: strings are stored with surrounding spaces trimmed. Timestamps accept ISO 8601 dates and
date-times ('2024-05-01', '2024-05-01 09:30:00', '2024-05-01T09:30:00Z', '...+02:00', offsets up to
14:00) and a zone name after the time ('2025-06-02 10:00:00 Asia/Tokyo', converted with that row's
zone only); they are stored as naive UTC. Booleans accept true/false/yes/no/1/0 (any case). Numbers are plain decimal
numbers ('3', '-2.5', '1e3'); 'nan', 'inf', '1,000' and '1_000' are not numbers. A null (empty)
optional value takes the column's default (``Column.default``), e.g. usage_events.quantity = 1.
"""

from __future__ import annotations

import csv
import functools
import glob as _glob
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthscore.contract import BOOL, FLOAT, INT, STRING, TABLES, TIMESTAMP, Column, Table
from healthscore.errors import UserError
from healthscore.ingest.sentiment import add_derived, derived_columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from healthscore.workspace import SourceConfig, Workspace

__all__ = ["QUARANTINE_COLUMNS", "TableReport", "ingest_rows", "ingest_workspace"]

QUARANTINE_COLUMNS = ["file", "line", "column", "value", "reason", "raw"]
RAW_LINE_KEY = "_raw_line"  # the only key of `raw` for a line that could not be split into columns

# Internal columns added to the data being validated.
_POS = "__hs_pos"  # position of the row in the combined data (all files of a source, in order)
_BAD = "__hs_bad"  # set when the line itself could not be parsed: the reason
_TEXT = "__hs_text"  # ... and the line's text
_INTERNAL = (_POS, _BAD, _TEXT)

_SQL_TYPES = {STRING: "VARCHAR", FLOAT: "DOUBLE", INT: "BIGINT", BOOL: "BOOLEAN", TIMESTAMP: "TIMESTAMP"}
_TS_HINT = "use ISO 8601, e.g. 2024-05-01 or 2024-05-01T09:30:00Z"

# Error codes: check * 1000 + the column's position in the contract.
_E_LINE, _E_REQUIRED, _E_PARSE, _E_NEGATIVE, _E_ALLOWED, _E_DUPLICATE, _E_ACCOUNT, _E_RANGE = range(8)


@dataclass
class TableReport:
    """What happened to one canonical table.

    ``quarantine`` has the columns file, line, column, value, reason, raw (``QUARANTINE_COLUMNS``),
    one row per quarantined row, in file and line order:

    - ``file``: the file as configured (relative to the workspace when inside it), or the engine
      table for ``table:`` sources;
    - ``line``: the line number for CSV (the header is line 1) and NDJSON; the 1-based row number
      for Parquet files and engine tables;
    - ``column``: the canonical column at fault ('' when the line itself could not be parsed);
    - ``value``: the offending value as written (None when missing);
    - ``reason``: one sentence naming the column, the value and what is allowed;
    - ``raw``: dict of the row's values as strings, keyed by the source's own column names
      (``{"_raw_line": text}`` for a line that could not be split into columns).
    """

    table: str
    source: str  # the configured path (pattern) or engine table
    read: int
    accepted: int
    quarantined: int
    warnings: list[str]
    quarantine: pd.DataFrame
    files: list[str] = field(default_factory=list)  # what was actually read (files or the engine table)
    # Append mode (``Project.ingest_rows``, ``mode: append``, ``--incremental``): accepted rows whose id
    # (or, without an id, whole row) was already in the engine table; counted in ``accepted``, not added
    # again. Rows added = accepted - already_ingested.
    already_ingested: int = 0
    # The rows an append added (canonical columns, derived ones filled), when asked for with
    # ``keep_appended`` and the engine is DuckDB; None otherwise. The real-time rollup reads them.
    appended: pa.Table | None = field(default=None, repr=False)

    def __post_init__(self):
        assert self.read == self.accepted + self.quarantined, (self.table, self.read, self.accepted, self.quarantined)
        assert len(self.quarantine) == self.quarantined, (self.table, len(self.quarantine), self.quarantined)


@dataclass
class _Part:
    """One file (or engine table) read into Arrow, with columns renamed to canonical names."""

    name: str  # shown as `file` in the quarantine
    word: str  # "line" or "row"
    data: pa.Table  # the source's columns + _BAD, _TEXT
    lines: np.ndarray  # line (or row) number of each row of `data`
    raw_names: dict[str, str]  # column in `data` -> the source's own name


def ingest_workspace(
    ws: Workspace,
    con,
    *,
    tables: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    incremental: bool = False,
    allow_empty: bool = True,
) -> list[TableReport]:
    """Validate the workspace's sources and load the accepted rows into the engine ``con``.

    Sources with ``mode: append`` -- every source when ``incremental`` -- are appended instead of
    replaced: only files whose content was not loaded before (file sources) or rows at or after the
    last high-water time (table sources) are read, rows already in the table (same id) are skipped,
    and each batch is appended with its watermark in one transaction (``ingest/append.py``).
    Sources with ``adapter:`` are read through a vendor adapter (``ingest/adapters.py``), sources
    with ``database:`` from another database.

    ``con`` is an Ibis backend (``healthscore.engine.backend.connect(ws)``). Sources run with
    ``accounts`` first, then in contract order; ``tables`` restricts which sources run (canonical
    table names that have a source in healthscore.yaml). When ``accounts`` is not among them, the
    unknown-account check uses the engine's existing ``accounts`` table (and is skipped, with a
    warning in the report, when there is none). ``progress`` receives one-line status messages.

    Each canonical table is replaced atomically: if anything fails, the previous table stays.
    Problems with the configuration or a whole file (no file matches, unknown or missing columns,
    unreadable file) raise ``UserError`` -- the headers of all CSV and Parquet sources are checked
    before any table is written. Problems with single rows never raise: the rows are quarantined
    and listed in the returned reports (one per source, in the order they ran).

    Sources with ``table:`` are read from the engine through Ibis and *copied* (pulled to Arrow,
    validated, cast) into the canonical table; the source table itself is left as it is.

    With the DuckDB engine, Parquet sources and large CSV sources stream through the engine
    (``_ingest_streaming``): same checks, reasons, line/row numbers and counts, bounded memory.

    With ``allow_empty=False`` (``Project.ingest``'s default, so the CLI's and the web app's), a
    source that would empty its table (no rows, or every row quarantined) in replace mode raises
    ``UserError`` before that table is written: a header-only accounts file
    would otherwise empty accounts and, through the unknown-account check, every other table.
    """
    import duckdb

    say = progress or (lambda _msg: None)
    configured = ws.config.sources
    if tables is not None:
        for name in tables:
            if name not in TABLES:
                raise UserError(f"{name!r} is not a canonical table; allowed: {', '.join(TABLES)}")
            if name not in configured:
                raise UserError(
                    f"{ws.config_path}: no source for {name!r}; add sources.{name} (path: or table:) to healthscore.yaml",
                    details=[f"configured sources: {', '.join(configured) or '(none)'}"],
                )
    wanted = set(configured) if tables is None else set(tables)
    order = [name for name in TABLES if name in wanted]  # contract order
    order.sort(key=lambda n: n != "accounts")  # accounts first, so that account ids are known
    if not order:
        return []

    # Preflight: find every source's files and check their headers before anything is written.
    from healthscore.ingest.append import AppendTo, Mark, file_fingerprint, loaded_fingerprints, reset_watermarks

    located = {name: _locate(ws, name, configured[name]) for name in order}
    appending = {name: incremental or configured[name].mode == "append" for name in order}
    fingerprints: dict[str, dict[Path, str]] = {}
    already_loaded: dict[str, int] = {}
    for name in order:
        where = located[name]
        if not isinstance(where, list):
            continue
        fingerprints[name] = {p: file_fingerprint(p) for p in where}
        if appending[name]:  # only files whose content was not loaded before
            loaded, new = loaded_fingerprints(con, name), []
            for path in where:
                fp = fingerprints[name][path]
                if fp not in loaded:
                    new.append(path)
                    loaded.add(fp)
            already_loaded[name] = len(where) - len(new)
            located[name] = new
    for name in order:
        if configured[name].adapter is None:
            _preflight(ws, name, configured[name], located[name])

    from healthscore.faults import fault_point

    _clean_stale_spools(ws)
    reports: list[TableReport] = []
    with tempfile.TemporaryDirectory(prefix=f"healthscore-ingest-{os.getpid()}-") as tmp:
        vcon = duckdb.connect()
        try:
            vcon.execute("SET TimeZone = 'UTC'")
            vcon.execute("SET enable_progress_bar = false")
            vcon.execute(f"SET temp_directory = {_lit(tmp)}")
            accounts: pa.Table | None = None
            accounts_looked_up = False
            for name in order:
                table = TABLES[name]
                src = configured[name]
                where = located[name]
                key = source_key(src)
                if table.references_accounts and accounts is None and not accounts_looked_up:
                    accounts, accounts_looked_up = _engine_accounts(con), True
                warnings: list[str] = []
                if name in already_loaded and already_loaded[name]:
                    warnings.append(f"{already_loaded[name]} file(s) already loaded before (same content): not read again")
                if appending[name] and isinstance(where, list) and not where:
                    say(f"{name}: no new file")
                    reports.append(_empty_report(name, key, warnings + ["no new file since the last ingest"]))
                    continue
                parts, originals, marks = None, None, []
                if src.adapter is not None:
                    parts, originals = _adapter_parts(ws, con, vcon, name, src, where, say, warnings)
                elif isinstance(where, str) and (src.database is not None or appending[name]):
                    parts, marks = _table_parts(ws, con, name, src, appending[name], say, warnings)
                elif appending[name]:
                    parts = _read_parts(ws, con, vcon, name, src, where, say, warnings)
                if isinstance(where, list):
                    rows = [p.data.num_rows for p in parts] if parts is not None else [0] * len(where)
                    marks = [Mark("file", _display(ws, f), fingerprints[name][f], rows=n) for f, n in zip(where, rows)]
                append = AppendTo(key, marks) if appending[name] else None
                report, accepted_ids = _ingest_one(ws, con, vcon, name, src, where, say, accounts,
                                                   parts=parts, warnings=warnings, append=append,
                                                   allow_empty=allow_empty)
                report.source = key
                if originals is not None:
                    _vendor_raw(report, originals)
                if append is None:
                    reset_watermarks(con, name, key, marks)
                    if derived_columns(name):  # e.g. surveys.comment_sentiment from comment
                        say(f"{name}: scoring text sentiment")
                        _write_table(con, name, add_derived(name, con.table(name).to_pyarrow()))
                if table.references_accounts and accounts is None:
                    report.warnings.append(
                        "account_id not checked against accounts: there is no accounts table in the engine"
                        " (add sources.accounts and ingest it)"
                    )
                if name == "accounts":
                    accounts = accepted_ids if append is None else _engine_accounts(con)
                reports.append(report)
                fault_point(f"ingest:{name}")
        finally:
            vcon.close()
    return reports


def ingest_rows(ws: Workspace, con, table: str, rows: list, source: str = "api",
                progress: Callable[[str], None] | None = None, known_accounts: pa.Table | None = None,
                keep_appended: bool = False) -> TableReport:
    """Validate rows (dicts keyed by canonical column names) like a file and APPEND the accepted ones to
    the engine's canonical table (created if absent), skipping rows already there (same id; see
    ``ingest/append.py``). The quarantine's ``file`` is ``source`` and its ``line`` the 1-based
    position of the row in ``rows``. A key that is not a canonical column of ``table`` raises
    ``UserError`` (nothing is written), as an unknown column of a file does. ``known_accounts`` (a
    table of account_id) saves reading the engine's accounts again (the real-time consumer has them)."""
    import numpy as np

    from healthscore.ingest.append import AppendTo

    say = progress or (lambda _msg: None)
    if table not in TABLES:
        raise UserError(f"{table!r} is not a canonical table; allowed: {', '.join(TABLES)}")
    if not isinstance(rows, list):
        raise UserError(f"rows for {table} must be a list of objects (one per row), got {type(rows).__name__}")
    src = _InlineSource(table=source)
    vcon = _row_validator()
    part = _rows_part(vcon, source, "row", rows, np.arange(1, len(rows) + 1, dtype=np.int64),
                      [None] * len(rows), table, src, {})
    accounts = (known_accounts if known_accounts is not None and table != "accounts" else _engine_accounts(con)) \
        if TABLES[table].references_accounts else None
    warnings = []
    if TABLES[table].references_accounts and accounts is None:
        warnings.append("account_id not checked against accounts: there is no accounts table in the engine")
    append = AppendTo(source, keep_inserted=keep_appended)
    report, _ = _ingest_one(ws, con, vcon, table, src, source, say, accounts, parts=[part], warnings=warnings,
                            append=append)
    report.source = source
    report.appended = append.inserted
    return report


_VALIDATORS = threading.local()


def _row_validator():
    """An in-memory DuckDB connection for validating posted rows, one per thread and kept: a real-time
    consumer validates a batch every few hundred milliseconds, and connecting costs ~20 ms."""
    import duckdb

    vcon = getattr(_VALIDATORS, "con", None)
    if vcon is None:
        vcon = duckdb.connect()
        vcon.execute("SET TimeZone = 'UTC'")
        _VALIDATORS.con = vcon
    return vcon


@dataclass
class _InlineSource:
    """What the validation needs of a source, for rows that come from a call, not a file."""

    table: str
    path: str | None = None
    database: str | None = None
    format: str = "ndjson"
    columns: dict = field(default_factory=dict)
    extra_columns: str = "error"
    adapter: str | None = None


def source_key(src) -> str:
    """How a source is named in reports and watermarks (a database URL without its password)."""
    if src.path is not None:
        return src.path
    if src.database is not None:
        return f"{redact_url(src.database)}#{src.table}"
    return str(src.table)


def redact_url(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _empty_report(name: str, key: str, warnings: list[str]) -> TableReport:
    import pandas as pd

    return TableReport(table=name, source=key, read=0, accepted=0, quarantined=0, warnings=warnings,
                       quarantine=pd.DataFrame({c: pd.Series([], dtype="int64" if c == "line" else object)
                                                for c in QUARANTINE_COLUMNS}))


def _rows_part(vcon, display: str, word: str, rows: list, lines, reasons: list, table: str, src,
               ignored: dict) -> _Part:
    """Rows (dicts; None for a record already known to be bad, with its reason) as a part to validate:
    through the NDJSON reader, so values are read exactly as from an NDJSON file."""
    import json

    import pyarrow as pa

    def dump(row):
        return "{}" if row is None else json.dumps(row, default=str, ensure_ascii=False)

    data = "\n".join(dump(r) for r in rows).encode("utf-8") + (b"\n" if rows else b"")
    table_, _ = _read_ndjson_bytes(display, data, vcon)
    assert table_.num_rows == len(rows), (table_.num_rows, len(rows))
    if any(r is not None for r in reasons):
        bad = table_.column(_BAD).to_pylist()
        text = table_.column(_TEXT).to_pylist()
        for i, reason in enumerate(reasons):
            if reason is not None:
                bad[i], text[i] = reason, text[i] or ""
        table_ = table_.set_column(table_.schema.get_field_index(_BAD), _BAD, pa.array(bad, pa.string()))
        table_ = table_.set_column(table_.schema.get_field_index(_TEXT), _TEXT, pa.array(text, pa.string()))
    return _make_part(display, word, table_, lines, table, src, ignored)


def _adapter_parts(ws, con, vcon, name: str, src, files: list[Path], say, warnings: list[str]):
    """Vendor files -> parts through the source's adapter; also {(file, line): vendor record}."""
    import json

    import numpy as np

    from healthscore.ingest.adapters import ADAPTERS, adapt, lookup_keys, read_records

    adapter = ADAPTERS[src.adapter]
    if adapter.table != name:
        raise UserError(f"{ws.config_path}: sources.{name}.adapter: {adapter.name} gives {adapter.table} rows,"
                        f" not {name}; use it under sources.{adapter.table}")
    parts, originals, ignored = [], {}, {}
    for path in files:
        display = _display(ws, path)
        say(f"{name}: reading {display} ({adapter.name})")
        records, word, notes = read_records(path, display, src.format or adapter.format)
        warnings.extend(notes)
        looked_up = {}
        keys = lookup_keys(adapter, records)
        if keys:
            ltable, kcol, vcol, _ = adapter.lookup
            if ltable in con.list_tables():
                t = con.table(ltable)
                found = t.filter(t[kcol].isin(keys)).select(kcol, vcol).to_pyarrow().to_pylist()
                looked_up = {r[kcol]: r[vcol] for r in found}
        rows, reasons = adapt(adapter, records, looked_up)
        for rec in records:
            originals[(display, rec.number)] = rec.value if isinstance(rec.value, dict) else {RAW_LINE_KEY: json.dumps(rec.value) if not isinstance(rec.value, str) else rec.value}
        lines = np.array([r.number for r in records], dtype=np.int64)
        parts.append(_rows_part(vcon, display, word, rows, lines, reasons, name, src, ignored))
    _warn_ignored(name, ignored, warnings)
    return parts, originals


def _vendor_raw(report: TableReport, originals: dict) -> None:
    """The quarantine's raw is the vendor record as the file had it."""
    q = report.quarantine
    if len(q):
        q["raw"] = [originals.get((f, int(n)), r) for f, n, r in zip(q["file"], q["line"], q["raw"])]


def _table_parts(ws, con, name: str, src, appending: bool, say, warnings: list[str]):
    """A table of the engine or of another database (``database:``) as a part; in append mode only the
    rows at or after the stored high-water time. Returns (parts, watermark marks)."""
    import os

    import ibis
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from healthscore.engine.backend import connect_url
    from healthscore.ingest.append import Mark, high_water

    key = source_key(src)
    other = connect_url(os.path.expandvars(src.database)) if src.database is not None else con
    try:
        expr = _table_expr(other, src.table)
        table = TABLES[name]
        reverse = {v: k for k, v in src.columns.items()}
        col = src.watermark or (reverse.get(table.time_column, table.time_column) if table.time_column else None)
        track = False
        if src.watermark is not None and src.watermark not in expr.columns:
            raise UserError(f"{ws.config_path}: sources.{name}.watermark: {src.watermark!r} is not a column of"
                            f" {src.table}; columns: {', '.join(expr.columns)}")
        if appending and col is not None and col in expr.columns:
            dtype = expr[col].type()
            if dtype.is_timestamp() or dtype.is_date():
                track = True
                hw = high_water(con, name, key)
                if hw is not None:
                    import pandas as pd

                    stamp = pd.Timestamp(hw)
                    if dtype.is_date():
                        lit = ibis.date(stamp.date().isoformat())
                    elif getattr(dtype, "timezone", None):
                        lit = ibis.literal(stamp.tz_localize("UTC"))
                    else:
                        lit = ibis.timestamp(stamp.isoformat())
                    expr = expr.filter(expr[col] >= lit)
                    say(f"{name}: reading rows of {src.table} with {col} >= {stamp}")
            else:
                warnings.append(f"{src.table}.{col} is {dtype}, not a timestamp: every row is read and rows"
                                " already loaded are skipped by id (set sources." + name + ".watermark to a"
                                " timestamp column to read only new rows)")
        say(f"{name}: reading {key}")
        try:
            data = expr.to_pyarrow()
        except Exception as exc:
            raise UserError(f"cannot read {key}: {exc}") from None
    finally:
        if other is not con:
            other.disconnect()
    marks = []
    if track and data.num_rows:
        newest = data.column(col)
        if pa.types.is_timestamp(newest.type) and newest.type.tz:
            newest = newest.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))
        newest = pc.max(newest).as_py()
        if newest is not None:
            marks.append(Mark("time", col, high_water=newest, rows=data.num_rows))
    if src.watermark is not None and src.watermark not in src.columns and src.watermark not in table.column_names:
        data = data.drop_columns([src.watermark])  # read for the watermark only
    _check_reserved(key, data.column_names)
    data = _with_internal(_decode_dictionaries(data))
    ignored: dict = {}
    part = _make_part(key, "row", data, np.arange(1, data.num_rows + 1, dtype=np.int64), name, src, ignored)
    _warn_ignored(name, ignored, warnings)
    return [part], marks


# ---------------------------------------------------------------------------------------------
# Locating and reading sources


def _locate(ws: Workspace, name: str, src: SourceConfig) -> list[Path] | str:
    """The files of a path source (sorted), or the engine table name of a table source."""
    if src.table is not None:
        return src.table
    pattern = src.path
    assert pattern is not None
    resolved = ws.resolve(pattern)
    if any(ch in pattern for ch in "*?["):
        files = sorted(Path(p) for p in _glob.glob(str(resolved), recursive=True) if Path(p).is_file())
    else:
        files = [resolved] if resolved.is_file() else []
    if not files:
        raise UserError(
            f"{ws.config_path}: sources.{name}.path: no file matches {pattern!r} (looked in {ws.root})",
            details=["check the path in healthscore.yaml; relative paths are relative to the workspace directory"],
        )
    return files


def _display(ws: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)


def _preflight(ws: Workspace, name: str, src: SourceConfig, where: list[Path] | str) -> None:
    """Cheap header checks (CSV header, Parquet schema) so that config mistakes fail before writes."""
    if isinstance(where, str):
        return
    for path in where:
        if src.format == "csv":
            names = _csv_header(ws, path)
        elif src.format == "parquet":
            import pyarrow.parquet as pq

            try:
                names = pq.read_schema(path).names
            except Exception as exc:
                raise UserError(f"{_display(ws, path)}: cannot read as Parquet: {exc}") from None
        else:
            continue  # NDJSON: the keys are only known once the file is read
        _column_plan(_display(ws, path), names, TABLES[name], src, name)


def _csv_header(ws: Workspace, path: Path) -> list[str]:
    display = _display(ws, path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise UserError(f"{display}: not UTF-8 text; save the file as UTF-8 CSV") from None
    except (csv.Error, OSError) as exc:
        raise UserError(f"{display}: cannot read the CSV header: {exc}") from None
    if not header:
        raise UserError(f"{display}: empty file; a CSV source needs a header line with the column names")
    _no_duplicate_names(display, header)
    _check_reserved(display, header)
    return header


def _read_part(ws: Workspace, con, vcon, fmt: str, where: Path | str):
    """(name, word, data, lines) of one file or engine table."""
    if isinstance(where, str):
        return (where, "row", *_read_engine_table(con, where))
    display = _display(ws, where)
    if fmt == "csv":
        return (display, "line", *_read_csv(ws, where))
    if fmt == "ndjson":
        return (display, "line", *_read_ndjson(display, where, vcon))
    return (display, "row", *_read_parquet(display, where))


def _with_internal(data: pa.Table, bad=None, text=None) -> pa.Table:
    import pyarrow as pa

    n = data.num_rows
    data = data.append_column(_BAD, pa.nulls(n, pa.string()) if bad is None else pa.array(bad, pa.string()))
    return data.append_column(_TEXT, pa.nulls(n, pa.string()) if text is None else pa.array(text, pa.string()))


def _read_csv(ws: Workspace, path: Path):
    """All columns as strings, exactly as written, with each row's physical line number (the header
    is line 1; quoted values may span lines). Lines that cannot be parsed become rows with _BAD set.

    The file is parsed as one block: pyarrow's chunker splits blocks at newlines without knowing
    about quotes, so with several blocks an unclosed quote silently swallowed the rest of a block
    into one value (threads) or failed the file (one thread), and a value longer than a block
    failed it. A record that pyarrow could not parse and that spans several lines (an unclosed
    quote runs on to the end of the file or to the next quote) is taken apart: its first line is
    quarantined with the reason and the lines after it are read again on their own."""
    import numpy as np
    import pyarrow as pa

    display = _display(ws, path)
    names = _csv_header(ws, path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{display}: cannot read: {exc}") from None
    table, lines, bad = _parse_csv(display, data, names)
    if not bad:
        return _with_internal(table), lines
    unparsed = pa.table({n: pa.nulls(len(bad), pa.string()) for n in names})
    unparsed = _with_internal(unparsed, [b[1] for b in bad], [b[2] for b in bad])
    data_ = pa.concat_tables([_with_internal(table), unparsed])
    lines = np.concatenate([lines, np.array([b[0] for b in bad], dtype=np.int64)])
    order = np.argsort(lines, kind="stable")  # file order: bad lines may sit between good rows
    return data_.take(pa.array(order)), lines[order]


def _parse_csv(display: str, data: bytes, names: list[str]):
    """(string columns, physical line per row, [(line, reason, text)] of lines not parsed) of CSV
    text whose first line is the header ``names``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    records: list[tuple[int, str, int]] = []  # (record number, text, values found)

    def on_invalid(row):
        records.append((row.number, row.text, row.actual_columns))
        return "skip"

    try:
        table = pv.read_csv(
            pa.BufferReader(data),
            # one block (see _read_csv); one thread: only then does pyarrow number the bad records
            read_options=pv.ReadOptions(use_threads=False, block_size=max(len(data) + 1, 1 << 20)),
            # empty lines are kept (as rows of empty values) so that line numbers stay exact
            parse_options=pv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "utf8" in msg.lower():
            raise UserError(f"{display}: not valid UTF-8 text ({msg}); save the file as UTF-8 CSV") from None
        raise UserError(f"{display}: cannot read as CSV: {msg}") from None
    table = table.select(names)
    n = table.num_rows
    records.sort(key=lambda b: b[0] or 0)
    # Record numbers (header = 1): the parsed rows take those the bad records do not.
    bad_nums = np.array([b[0] or 0 for b in records], dtype=np.int64)
    nums = np.setdiff1d(np.arange(2, n + len(records) + 2, dtype=np.int64), bad_nums, assume_unique=True)
    if len(nums) != n:  # unknown record numbers: fall back to plain numbering
        nums = np.arange(2, n + 2, dtype=np.int64)
    # Each record takes 1 + the newlines inside it; a record's line is 2 + the lines of those before it.
    span = np.ones(n + len(records) + 2, dtype=np.int64)
    if b"\n" in data:
        inside = np.zeros(n, dtype=np.int64)
        for col in table.columns:
            inside += pc.count_substring(col, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
        span[nums[nums < len(span)]] += inside[nums < len(span)]
        for num, text, _ in records:
            if 0 < num < len(span):
                span[num] += text.count("\n")
    start = np.concatenate([[0, 0, 2], 2 + np.cumsum(span[2:-1])])  # start[k]: line of record k
    lines = start[nums]
    bad: list[tuple[int, str, str]] = []
    again = []
    if b"\n" in data:
        # A stray quote can also run on to a later quote and give a record of the right width: rows
        # swallowed into one value, silently. Such a record is not valid CSV (its quote closes in the
        # middle of a value); the few records that span lines are checked strictly.
        swallowed = _broken_multiline_rows(data, lines, inside, len(names))
        if swallowed:
            keep = np.ones(n, dtype=bool)
            for i, text in swallowed:
                keep[i] = False
                records.append((-1 - int(lines[i]), text, len(names)))
            table, lines = table.filter(pa.array(keep)), lines[keep]
    for num, text, found in records:
        line = -1 - num if num < 0 else int(start[num]) if 0 < num < len(start) else num
        if "\n" not in text.rstrip("\r\n"):
            bad.append((line, f"line has {found} value(s) but the header has {len(names)}; check delimiters and quoting", text))
            continue
        first, rest = text.split("\n", 1)
        bad.append((line, f"a quoted value opens on this line and does not close properly (it ran over "
                          f"{text.count(chr(10)) + 1} lines); the lines after it were read on their own",
                    first.rstrip("\r")))
        again.append((line, rest))
    parts, part_lines = [table], [lines]
    for line, rest in again:  # the lines the broken record swallowed, read as a file of their own
        header = ",".join('"' + n_.replace('"', '""') + '"' for n_ in names) + "\n"
        t2, l2, b2 = _parse_csv(display, header.encode() + rest.encode(), names)
        parts.append(t2)
        part_lines.append(l2 + line - 1)
        bad += [(b[0] + line - 1, b[1], b[2]) for b in b2]
    if len(parts) > 1:
        table = pa.concat_tables(parts)
        lines = np.concatenate(part_lines)
        order = np.argsort(lines, kind="stable")
        table, lines = table.take(pa.array(order)), lines[order]
    bad.sort(key=lambda b: b[0])
    return table, lines, bad


def _broken_multiline_rows(data: bytes, lines, inside, width: int) -> list[tuple[int, str]]:
    """(row index, the record's text) of parsed rows that span lines but are not valid CSV."""
    import io

    import numpy as np

    multi = np.flatnonzero(inside > 0)
    if not len(multi):
        return []
    physical = data.split(b"\n")
    out = []
    for i in multi:
        first = int(lines[i]) - 1
        text = b"\n".join(physical[first:first + int(inside[i]) + 1]).decode("utf-8", "replace")
        if len(text) >= csv.field_size_limit():  # the csv module refuses long values by default
            csv.field_size_limit(len(text) + 1)
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
            ok = len(rows) == 1 and len(rows[0]) == width
        except csv.Error:
            ok = False
        if not ok:
            out.append((int(i), text))
    return out


def _read_ndjson(display: str, path: Path, vcon):
    """NDJSON with every column cast to string. Line = row index + 1.

    The fast path is pyarrow.json. It rejects whole files whose keys change JSON type between
    lines (a number in one line, a string in the next -- exactly a bad row to quarantine) or that
    have a line that is not JSON, and it skips blank lines (which would shift line numbers); such
    files are split into lines and parsed in DuckDB instead (still vectorised).
    """

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{display}: cannot read: {exc}") from None
    return _read_ndjson_bytes(display, data, vcon)


def _read_ndjson_bytes(display: str, data: bytes, vcon):
    """NDJSON text (a file's bytes, or rows given to ``ingest_rows``) -> (string columns, line numbers)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    if data.strip() and re.search(rb"(?:^|\n)[ \t\r]*\n", data) is None:
        try:
            table = pj.read_json(pa.BufferReader(data))
            forced = {f.name for f in table.schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)}
            if forced:  # strings that pyarrow took for timestamps: keep them as written
                schema = pa.schema([pa.field(f.name, pa.string() if f.name in forced else f.type) for f in table.schema])
                table = pj.read_json(pa.BufferReader(data), parse_options=pj.ParseOptions(explicit_schema=schema))
            cols = {}
            for f, col in zip(table.schema, table.columns):
                if pa.types.is_null(f.type):
                    cols[f.name] = pa.nulls(len(col), pa.string())
                elif (
                    pa.types.is_string(f.type)
                    or pa.types.is_large_string(f.type)
                    or pa.types.is_boolean(f.type)
                    or pa.types.is_integer(f.type)
                    or pa.types.is_floating(f.type)
                ):
                    cols[f.name] = pc.cast(col, pa.string())
                else:  # nested values: the line reader renders them as JSON text
                    raise pa.ArrowInvalid("nested value")
            if cols:
                _no_duplicate_names(display, list(cols))
                _check_reserved(display, list(cols))
                return _with_internal(pa.table(cols)), np.arange(1, table.num_rows + 1, dtype=np.int64)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    return _read_ndjson_lines(display, data, vcon)


def _read_ndjson_lines(display: str, data: bytes, vcon):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array([data], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid:
        raise UserError(f"{display}: not valid UTF-8 text; save the file as UTF-8") from None
    lines = pc.split_pattern(text, "\n").flatten()
    if len(lines) and lines[len(lines) - 1].as_py() == "":
        lines = lines.slice(0, len(lines) - 1)  # the newline that ends the last line
    name = f"__hs_lines_{uuid.uuid4().hex}"
    vcon.register(name, pa.table({"n": np.arange(1, len(lines) + 1, dtype=np.int64), "line": lines}))
    try:
        numbered = name
        # CASE, not AND: json_type fails on invalid JSON and AND does not short-circuit
        ok = "(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE FALSE END)"
        keys = [
            r[0]
            for r in vcon.execute(
                f"""SELECT k FROM (
                        SELECT unnest(json_keys(line)) AS k, generate_subscripts(json_keys(line), 1) AS pos, n
                        FROM {numbered} WHERE {ok}
                    ) GROUP BY k ORDER BY min(n), min(pos)"""
            ).fetchall()
        ]
        _check_reserved(display, keys)
        for k in keys:
            if '"' in k or "\\" in k:
                raise UserError(f"{display}: key {k!r} contains a quote or backslash; rename it")
        paths = "[" + ", ".join(_lit('$."' + k + '"') for k in keys) + "]::VARCHAR[]"
        cols = "".join(f"v[{i + 1}] AS {_ident(k)}, " for i, k in enumerate(keys))
        table = vcon.sql(
            f"""SELECT {cols}
                    CASE WHEN NOT json_valid(line) THEN 'not valid JSON; each line must be one JSON object'
                         WHEN NOT {ok} THEN 'not a JSON object; each line must be one JSON object'
                    END AS {_ident(_BAD)},
                    CASE WHEN NOT ({ok}) THEN line END AS {_ident(_TEXT)},
                    n
                FROM (SELECT n, line, CASE WHEN {ok} THEN json_extract_string(line, {paths}) END AS v
                      FROM {numbered} WHERE trim(line, ' \t\r') <> '')
                ORDER BY n"""
        ).to_arrow_table()
    finally:
        vcon.unregister(name)
    numbers = table.column("n").to_numpy().astype(np.int64)
    table = table.drop_columns(["n"])
    return table.cast(pa.schema([pa.field(f, pa.string()) for f in table.column_names])), numbers


def _read_parquet(display: str, path: Path):
    """Column types kept (validated the same way as text). Row = row index + 1."""
    import numpy as np
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise UserError(f"{display}: cannot read as Parquet: {exc}") from None
    _no_duplicate_names(display, table.column_names)
    _check_reserved(display, table.column_names)
    return _with_internal(_decode_dictionaries(table)), np.arange(1, table.num_rows + 1, dtype=np.int64)


def _read_engine_table(con, name: str):
    """Pull a table (or view) of the engine to Arrow: a copy. 'raw.tickets' is table tickets in
    database/schema raw. Row = row index + 1."""
    import numpy as np

    try:
        table = _table_expr(con, name).to_pyarrow()
    except Exception as exc:
        raise UserError(f"cannot read the engine table {name!r}: {exc}") from None
    _check_reserved(name, table.column_names)
    return _with_internal(_decode_dictionaries(table)), np.arange(1, table.num_rows + 1, dtype=np.int64)


def _table_expr(con, name: str):
    """'raw.tickets' is table tickets in database/schema raw."""
    parts = name.split(".")
    try:
        if len(parts) == 1:
            return con.table(name)
        if len(parts) == 2:
            return con.table(parts[1], database=parts[0])
        return con.table(parts[-1], database=tuple(parts[:-1]))
    except Exception as exc:
        raise UserError(f"cannot read the table {name!r}: {exc}") from None


def _decode_dictionaries(table: pa.Table) -> pa.Table:
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


def _no_duplicate_names(display: str, names: list[str]) -> None:
    seen: set[str] = set()
    dupes = [n for n in names if n in seen or seen.add(n)]
    if dupes:
        raise UserError(f"{display}: repeated column name(s) {', '.join(map(repr, dict.fromkeys(dupes)))}; each column needs a unique name")


def _check_reserved(display: str, names: list[str]) -> None:
    for n in names:
        if n in _INTERNAL:
            raise UserError(f"{display}: column name {n!r} is reserved; rename it")


# ---------------------------------------------------------------------------------------------
# Column map


def _column_plan(display: str, names: list[str], table: Table, src: SourceConfig, key: str) -> tuple[dict[str, str], list[str]]:
    """(rename source -> canonical, ignored extra columns) for one file; UserError if not usable."""
    mapping = src.columns
    canonical = table.column_names
    rename: dict[str, str] = {}
    extras: list[str] = []
    taken: dict[str, str] = {}
    for n in names:
        if n in mapping:
            target = mapping[n]
        elif n in canonical:
            target = n
        else:
            extras.append(n)
            continue
        if target in taken:
            raise UserError(
                f"{display}: columns {taken[target]!r} and {n!r} both give the {key} column {target!r}",
                details=[f"keep one of them, or change sources.{key}.columns in healthscore.yaml"],
            )
        taken[target] = n
        rename[n] = target
    if extras and src.extra_columns == "error":
        raise UserError(
            f"{display}: unknown column(s) for {key}: {', '.join(map(repr, extras))}",
            details=[
                f"allowed (canonical) columns: {', '.join(canonical)}",
                f"map them to canonical columns under sources.{key}.columns in healthscore.yaml"
                f" (source column: canonical column, e.g. {extras[0]!r}: {canonical[0]})",
                f"or set sources.{key}.extra_columns: ignore to skip columns that are not in the contract",
            ],
        )
    missing = [c.name for c in table.columns if c.required and c.name not in taken]
    if missing:
        reverse = {v: k for k, v in mapping.items()}
        hints = [f"{m} (mapped from {reverse[m]!r}, which is not in the file)" if m in reverse else m for m in missing]
        raise UserError(
            f"{display}: missing required column(s) for {key}: {', '.join(hints)}",
            details=[
                f"columns in the file: {', '.join(map(repr, names)) or '(none)'}",
                f"if the data is there under another name, map it under sources.{key}.columns in healthscore.yaml",
            ],
        )
    return rename, extras


# ---------------------------------------------------------------------------------------------
# Validation and load


def _ingest_one(ws, con, vcon, name: str, src: SourceConfig, where, say, accounts: pa.Table | None,
                parts: list[_Part] | None = None, warnings: list[str] | None = None, append=None,
                allow_empty: bool = True):
    """Read, validate and write one source. Returns (report, accepted account ids for accounts).

    ``parts``: the source already read (adapters, database and incremental sources); ``append``: an
    ``_AppendTo`` to append the accepted rows instead of replacing the table (see ``append_rows``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if parts is None and append is None and _can_stream(con, src, where):
        streamed = _ingest_streaming(ws, con, vcon, name, src, where, say, accounts is not None, allow_empty)
        if streamed is not None:
            return streamed
    warnings = list(warnings or [])
    if parts is None:
        parts = _read_parts(ws, con, vcon, name, src, where, say, warnings)
    n_rows = sum(p.data.num_rows for p in parts)
    accepted, quarantine = _validate_parts(vcon, name, src.columns, parts, accounts, say)
    accepted_n = accepted.num_rows
    already = 0
    if append is None:
        if not accepted_n and not allow_empty:
            _refuse_empty(name, src, n_rows, quarantine)
        say(f"{name}: writing {accepted_n:,} accepted row(s) ({n_rows - accepted_n:,} quarantined)")
        _write_table(con, name, accepted)
    else:
        say(f"{name}: appending {accepted_n:,} accepted row(s) ({n_rows - accepted_n:,} quarantined)")
        already = append.write(con, name, accepted)
        if already:
            warnings.append(f"{already:,} accepted row(s) were already in the engine's {name} table and were not added again")
    accepted_ids = None
    if name == "accounts":
        accepted_ids = pa.table({"account_id": pc.unique(accepted.column("account_id"))})
    report = TableReport(
        table=name,
        source=src.path if src.path is not None else str(src.table),
        read=n_rows,
        accepted=accepted_n,
        quarantined=n_rows - accepted_n,
        warnings=warnings,
        quarantine=quarantine,
        files=[p.name for p in parts],
        already_ingested=already,
    )
    return report, accepted_ids


def _refuse_empty(name: str, src: SourceConfig, n_rows: int, quarantine: pd.DataFrame) -> None:
    """UserError: the source would empty the canonical table (nothing written)."""
    where = src.path if src.path is not None else str(src.table)
    if not n_rows:
        message = f"{where}: no rows (a header only?); ingesting it would empty the {name} table"
    else:
        message = f"{where}: all {n_rows:,} row(s) quarantined; ingesting it would empty the {name} table"
    details = [f"{q['file']}:{q['line']}  {q['reason']}" for q in quarantine.head(3).to_dict("records")]
    details.append(f"the {name} table was left as it was; pass --allow-empty to empty it on purpose")
    raise UserError(message, details=details)


def _read_parts(ws, con, vcon, name: str, src: SourceConfig, where, say, warnings: list[str]) -> list[_Part]:
    """Read every file (or the engine table) of a source into parts with canonical column names."""
    items = where if isinstance(where, list) else [where]
    parts: list[_Part] = []
    ignored: dict[tuple[str, ...], list[str]] = {}
    for item in items:
        say(f"{name}: reading {_display(ws, item) if isinstance(item, Path) else item}")
        display, word, data, lines = _read_part(ws, con, vcon, src.format or "", item)
        parts.append(_make_part(display, word, data, lines, name, src, ignored))
    _warn_ignored(name, ignored, warnings)
    return parts


def _make_part(display: str, word: str, data: pa.Table, lines: np.ndarray, name: str, src: SourceConfig,
               ignored: dict[tuple[str, ...], list[str]]) -> _Part:
    """Apply the column map to data read from one file (UserError for unknown or missing columns)."""
    import pyarrow as pa

    table = TABLES[name]
    names = [n for n in data.column_names if n not in _INTERNAL]
    if not names:  # NDJSON without a single key (empty, or only broken lines): nothing to map
        required = [c.name for c in table.columns if c.required]
        for col in required:
            data = data.append_column(col, pa.nulls(data.num_rows, pa.string()))
        names = required
    rename, extras = _column_plan(display, names, table, src, name)
    if extras:
        ignored.setdefault(tuple(extras), []).append(display)
    data = data.rename_columns([rename.get(n, n) for n in data.column_names])
    return _Part(display, word, data, lines, {rename.get(n, n): n for n in names})


def _warn_ignored(name: str, ignored: dict[tuple[str, ...], list[str]], warnings: list[str]) -> None:
    for extras, files in ignored.items():
        where_ = files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more file(s)"
        warnings.append(f"{where_}: ignored column(s) not in the {name} contract: {', '.join(map(repr, extras))}")


def _validate_parts(vcon, name: str, mapping: dict[str, str], parts: list[_Part], accounts: pa.Table | None, say):
    """Checks 0-6 over the parts, vectorised in DuckDB: (accepted rows as the canonical table with
    derived columns not yet filled, quarantine frame)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = TABLES[name]
    combined, fids, lines = _combine(parts)
    n_rows = combined.num_rows
    say(f"{name}: validating {n_rows:,} row(s)")
    plan = _Plan(table, combined.schema, mapping)
    src_view, checked_view = f"__hs_src_{uuid.uuid4().hex}", f"__hs_checked_{uuid.uuid4().hex}"
    vcon.register(src_view, combined)
    try:
        checked = vcon.sql(plan.check_sql(src_view)).to_arrow_table()
        pos = checked.column(_POS).to_numpy()
        if len(pos) != n_rows:
            raise AssertionError(f"validation returned {len(pos)} rows for {n_rows}")
        if n_rows and not (np.diff(pos) > 0).all():  # DuckDB keeps scan order; make sure
            checked = checked.take(pa.array(np.argsort(pos)))
        err = pc.fill_null(checked.column("__hs_err"), -1).to_numpy().astype(np.int32)  # -1: accepted
        first = np.full(n_rows, -1, dtype=np.int64)  # position of the first occurrence, for duplicates

        vcon.register(checked_view, checked)
        try:
            check_accounts = accounts is not None and table.references_accounts and "account_id" in plan.present
            ids_view = f"__hs_ids_{uuid.uuid4().hex}"
            if check_accounts:
                vcon.register(ids_view, accounts)
            try:
                if table.id_column and table.id_column in plan.present:
                    # An id is claimed by its first row that passes all the other checks (0-4 and 6):
                    # a row quarantined for its account does not take the id from a later good row.
                    p = plan.p(table.id_column)
                    join, known = "", "TRUE"
                    if check_accounts:
                        pa_ = plan.p("account_id")
                        join = f"LEFT JOIN (SELECT DISTINCT account_id FROM {ids_view}) a ON a.account_id = c.{pa_}"
                        known = "a.account_id IS NOT NULL"
                    dup = vcon.sql(
                        f"""WITH firsts AS (
                                SELECT c.{p} AS id, min(c.{_POS}) FILTER (WHERE {known}) AS first_pos
                                FROM {checked_view} c {join}
                                WHERE c.__hs_err IS NULL AND c.{p} IS NOT NULL GROUP BY c.{p} HAVING count(*) > 1)
                            SELECT c.{_POS} AS pos, f.first_pos FROM {checked_view} c JOIN firsts f ON c.{p} = f.id
                            WHERE c.__hs_err IS NULL AND c.{_POS} > f.first_pos"""
                    ).to_arrow_table()
                    at = dup.column("pos").to_numpy()
                    err[at] = _E_DUPLICATE * 1000 + plan.index(table.id_column)
                    first[at] = dup.column("first_pos").to_numpy()
                if check_accounts:
                    p = plan.p("account_id")
                    unknown = vcon.sql(
                        f"""SELECT {_POS} AS pos FROM {checked_view} c
                            WHERE __hs_err IS NULL AND {p} IS NOT NULL
                              AND NOT EXISTS (SELECT 1 FROM {ids_view} a WHERE a.account_id = c.{p})"""
                    ).to_arrow_table()
                    at = unknown.column("pos").to_numpy()
                    at = at[err[at] == -1]  # a duplicate is reported as such
                    err[at] = _E_ACCOUNT * 1000 + plan.index("account_id")
            finally:
                if check_accounts:
                    vcon.unregister(ids_view)
        finally:
            vcon.unregister(checked_view)

        keep = err == -1
        accepted_n = int(keep.sum())
        quarantine = _quarantine_frame(vcon, plan, parts, combined, fids, lines, err, first)
    finally:
        vcon.unregister(src_view)
    del combined
    accepted = plan.output(checked.filter(pa.array(keep)))
    del checked
    return accepted, quarantine


def _combine(parts: list[_Part]):
    """(one table for all parts with the _POS column, file index per row, line per row)."""
    import numpy as np
    import pyarrow as pa

    fids = np.repeat(np.arange(len(parts), dtype=np.int32), [p.data.num_rows for p in parts])
    lines = np.concatenate([p.lines for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    tables = [p.data for p in parts]
    if len(tables) == 1:
        combined = tables[0]
    else:
        try:
            combined = pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # The files disagree on a column's type (e.g. int in one Parquet file, string in
            # another): validate them all as text.
            as_text = []
            for p, t in zip(parts, tables):
                try:
                    as_text.append(t.cast(pa.schema([pa.field(f.name, pa.string()) for f in t.schema])))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise UserError(f"{p.name}: a column's type differs from the other files and cannot be read as text: {exc}") from None
            combined = pa.concat_tables(as_text, promote_options="default")
    combined = combined.append_column(_POS, pa.array(np.arange(combined.num_rows, dtype=np.int64)))
    return combined, fids, lines


# ---------------------------------------------------------------------------------------------
# Streaming through the engine (DuckDB engine; Parquet files, and CSV files of 64 MiB or more)
#
# The source is not read into Python: the engine's DuckDB reads the files itself (read_parquet),
# runs the same validation SQL over them and writes the accepted rows with one CREATE OR REPLACE
# TABLE ... AS SELECT (atomic, like _write_table). Only the quarantined rows come back to Python.
# The passes over the files, each streaming:
#
#   A. ids that occur more than once among rows that passed checks 0-4, with the first position
#      of a row that also passes check 6 (hash aggregates, which spill to disk when they do not
#      fit in memory; the exact one only runs over rows whose id hash occurs more than once);
#   B. the quarantined rows: checks 0-4, duplicates (a join with A) and unknown accounts (an
#      anti-join with the engine's accounts table), with the source's values, ordered by position;
#   C. the accepted rows: checks 0-4 passed and not among B's positions, cast to the canonical
#      types and written as the canonical table, in file order.
#
# A row's position is (file index << 40) + its 0-based row number in the file (Parquet:
# read_parquet(..., file_row_number = true)) or its line number - 1 (CSV): it orders rows as the
# files are read and gives the quarantine's row or line number back.
#
# DuckDB cannot number a CSV file's lines (nor report the lines it cannot parse in place), so a
# CSV file is first copied, batch by batch, to a Parquet file under .healthscore/ with its values
# as text and each row's line number -- computed exactly as the in-memory path does -- and the
# engine streams that copy.

_FILE_SHIFT = 40
_ROW_MASK = (1 << _FILE_SHIFT) - 1
# The engine's memory limit while ingesting: a share of the machine's memory, so that large
# sorts and aggregates spill to the engine's temp directory instead of taking the machine.
_STREAM_MEMORY_SHARE = 0.25
_STREAM_MEMORY_MIN = 1 << 30
_STREAM_INLINE_VALUES = 64  # see pass C: up to this many unknown account ids and repeated ids
_STREAM_CSV_MIN_BYTES = 64 << 20  # smaller CSV sources are read in memory


def _can_stream(con, src: SourceConfig, where) -> bool:
    if getattr(con, "name", None) != "duckdb" or not isinstance(where, list):
        return False
    if src.format == "parquet":
        return True
    if src.format == "csv":  # small files are read faster in memory
        return sum(p.stat().st_size for p in where) >= _STREAM_CSV_MIN_BYTES
    return False


@dataclass
class _Streamed:
    """One file as the engine reads it: SELECT {pos}, {bad}, {text}, <columns> FROM {source}."""

    display: str
    word: str  # "line" (CSV) or "row" (Parquet)
    names: list[str]  # the source's columns
    rows: int
    source: str  # a read_parquet(...) call
    pos: str  # the row's line (CSV) or 0-based row number (Parquet) expression, in file order
    bad: str = "CAST(NULL AS VARCHAR)"
    text: str = "CAST(NULL AS VARCHAR)"


def _duckdb_safe_names(names: list[str], *, extra: tuple[str, ...] = ()) -> bool:
    """DuckDB names are case-insensitive: names that differ only in case cannot be told apart."""
    lowered = {n.lower() for n in names}
    return len(lowered) == len(names) and not lowered & {x.lower() for x in (*_INTERNAL, *extra)}


def _duckdb_path(path: Path) -> str | None:
    where = str(path.absolute())
    return None if any(ch in where for ch in "*?[]{}") else where  # DuckDB would take it for a glob


def _parquet_layout(ws: Workspace, raw, files: list[Path]) -> list[_Streamed] | None:
    """The files as the engine reads them, or None when DuckDB cannot read one of them exactly as
    pyarrow does (then the in-memory path runs: it raises the same errors as before)."""
    import duckdb
    import pyarrow.parquet as pq

    out = []
    for path in files:
        display = _display(ws, path)
        where = _duckdb_path(path)
        if where is None:
            return None
        try:
            meta = pq.read_metadata(path)
            names = meta.schema.to_arrow_schema().names
        except Exception:
            return None
        _no_duplicate_names(display, names)
        _check_reserved(display, names)
        if not _duckdb_safe_names(names, extra=("file_row_number",)):
            return None
        try:
            duck = [r[0] for r in raw.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(where)})").fetchall()]
        except duckdb.Error:
            return None
        if duck != names:
            return None
        out.append(_Streamed(display, "row", names, meta.num_rows, f"read_parquet({_lit(where)}, file_row_number = true)", "file_row_number"))
    return out


def _csv_layout(ws: Workspace, files: list[Path], spool: Path, say, key: str) -> list[_Streamed] | None:
    """CSV files copied, in batches, to Parquet files in ``spool`` (all values as text, exactly as
    written, with each row's line number and the lines that could not be parsed), so that the
    engine can stream them. The line numbers are the in-memory path's (``_read_csv``). None when
    the files need the in-memory path."""
    out = []
    for i, path in enumerate(files):
        display = _display(ws, path)
        names = _csv_header(ws, path)
        if not _duckdb_safe_names(names):
            return None
        say(f"{key}: reading {display}")
        target = spool / f"{i}.parquet"
        rows = _spool_csv(display, path, names, target)
        if rows is None:
            return None
        where = _duckdb_path(target)
        assert where is not None
        out.append(_Streamed(display, "line", names, rows, f"read_parquet({_lit(where)})", f"{_POS} - 1", _BAD, _TEXT))
    return out


def _spool_csv(display: str, path: Path, names: list[str], target: Path) -> int | None:
    """Copy one CSV file to Parquet (see _csv_layout); the number of rows, or None if pyarrow does
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

    schema = pa.schema([pa.field(n, pa.string()) for n in names] + [
        pa.field(_POS, pa.int64()), pa.field(_BAD, pa.string()), pa.field(_TEXT, pa.string())
    ])
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
                    return _csv_in_memory(display, path, None)  # see _csv_in_memory
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
                        [*batch.columns, pa.array(lines, pa.int64()), pa.nulls(n, pa.string()), pa.nulls(n, pa.string())],
                        schema=schema,
                    )
                )
            if any(b[0] is None or "\n" in b[1].rstrip("\r\n") for b in bad):
                return _csv_in_memory(display, path, None)
            bad_lines += [b[0] + newlines for b in bad[placed:]]
            if bad:
                reasons = [f"line has {b[2]} value(s) but the header has {len(names)}; check delimiters and quoting" for b in bad]
                writer.write_batch(
                    pa.record_batch(
                        [*(pa.nulls(len(bad), pa.string()) for _ in names), pa.array(bad_lines, pa.int64()),
                         pa.array(reasons, pa.string()), pa.array([b[1] for b in bad], pa.string())],
                        schema=schema,
                    )
                )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "utf8" in msg.lower():
            raise UserError(f"{display}: not valid UTF-8 text ({msg}); save the file as UTF-8 CSV") from None
        return _csv_in_memory(display, path, msg)
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
        details=["check the file's quoting (a value with a \" must be quoted and its quotes doubled)",
                 f"files up to {_CSV_IN_MEMORY_MAX >> 20} MiB are read whole and only the bad line is quarantined;"
                 " split the file to get there"],
    )


def _setting(raw, name: str):
    return raw.execute(f"SELECT current_setting({_lit(name)})").fetchone()[0]


def _memory_bytes(text: str) -> float | None:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?)B?\s*", str(text), re.IGNORECASE)
    if not m:
        return None
    base = 1024 if m.group(3) else 1000
    return float(m.group(1)) * base ** "_KMGT".index(m.group(2).upper() or "_")


def _tune_engine(ws: Workspace, raw, vcon) -> list[tuple[str, Any]]:
    """Settings for streaming ingestion; returns the previous values to restore (None: the
    default, as in the untouched connection ``vcon``)."""
    import os

    previous = []

    def setting(name: str, value: Any):
        before = _setting(raw, name)
        # memory_limit reads back rounded ('18.8 GiB'): RESET rather than SET an approximation
        previous.append((name, None if name == "memory_limit" and before == _setting(vcon, name) else before))
        raw.execute(f"SET {name} = {_lit(value)}")

    setting("TimeZone", "UTC")  # naive date-times are UTC (also in the in-memory path)
    setting("preserve_insertion_order", False)  # set to true for the write
    setting("enable_progress_bar", False)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 0
    if total:
        limit = max(_STREAM_MEMORY_MIN, int(total * _STREAM_MEMORY_SHARE))
        current = _memory_bytes(_setting(raw, "memory_limit"))
        if current is None or limit < current:
            setting("memory_limit", f"{limit // (1 << 20)}MiB")
    if not _setting(raw, "temp_directory"):  # an in-memory engine: spill under .healthscore/
        tmp = ws.state_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        setting("temp_directory", str(tmp))
    return previous


def _restore_engine(raw, previous: list[tuple[str, Any]]) -> None:
    import duckdb

    for name, value in reversed(previous):
        try:
            raw.execute(f"RESET {name}" if value is None else f"SET {name} = {_lit(value)}")
        except duckdb.Error:  # e.g. temp_directory cannot change once used
            pass


def _ingest_streaming(ws, con, vcon, name: str, src: SourceConfig, files: list[Path], say, check_accounts: bool,
                      allow_empty: bool = True):
    """Validate and load Parquet or CSV files inside the DuckDB engine (see above). Returns
    (report, accepted account ids for accounts), or None when the files need the in-memory path."""
    from healthscore.faults import fault_point

    raw = con.con
    if src.format == "csv":
        # named after this process: a killed ingest's spool is removed by the next one (_clean_stale_spools)
        spool = Path(tempfile.mkdtemp(prefix=f"{_SPOOL_PREFIX}{os.getpid()}-", dir=_state_dir(ws)))
        try:
            layout = _csv_layout(ws, files, spool, say, name)
            fault_point("ingest:spooled")
            return None if layout is None else _stream_layout(ws, con, vcon, name, src, layout, say, check_accounts,
                                                              allow_empty)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
    layout = _parquet_layout(ws, raw, files)
    if layout is None:
        return None
    for part in layout:
        say(f"{name}: reading {part.display}")
    return _stream_layout(ws, con, vcon, name, src, layout, say, check_accounts, allow_empty)


_SPOOL_PREFIX = "ingest-"


def _clean_stale_spools(ws: Workspace) -> None:
    """Remove the spool folders (.healthscore/ingest-<pid>-*) and temp folders of ingests whose process
    is gone: a killed ingest left them behind for good (33 MB for a large CSV)."""
    places = [(ws.state_dir, _SPOOL_PREFIX), (Path(tempfile.gettempdir()), "healthscore-ingest-")]
    for folder, prefix in places:
        try:
            found = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(prefix)]
        except OSError:
            continue
        for path in found:
            pid = path.name[len(prefix):].split("-", 1)[0]
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


def _state_dir(ws: Workspace) -> Path:
    ws.state_dir.mkdir(parents=True, exist_ok=True)
    return ws.state_dir


def _stream_layout(ws, con, vcon, name: str, src: SourceConfig, layout: list[_Streamed], say, check_accounts: bool,
                   allow_empty: bool = True):
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = con.con
    table = TABLES[name]
    # The files as one relation: canonical columns under their canonical names, extra columns as
    # __hs_x<k> (so that no name can clash), in the order they first appear.
    warnings: list[str] = []
    ignored: dict[tuple[str, ...], list[str]] = {}
    extra_ids: dict[str, str] = {}
    keys: dict[str, str] = {}  # relation column -> the source's own name (first file that has it)
    selects = []
    for fid, part in enumerate(layout):
        rename, extras = _column_plan(part.display, part.names, table, src, name)
        if extras:
            ignored.setdefault(tuple(extras), []).append(part.display)
        cols = []
        for n in part.names:
            target = rename[n] if n in rename else extra_ids.setdefault(n, f"__hs_x{len(extra_ids)}")
            keys.setdefault(target, n)
            cols.append(f"{_ident(n)} AS {_ident(target)}")
        selects.append(
            f"SELECT CAST({fid} AS BIGINT) * {1 << _FILE_SHIFT} + {part.pos} AS {_POS},"
            f" {part.bad} AS {_BAD}, {part.text} AS {_TEXT}, {', '.join(cols)} FROM {part.source}"
        )
    for extras, shown in ignored.items():
        where_ = shown[0] if len(shown) == 1 else f"{shown[0]} and {len(shown) - 1} more file(s)"
        warnings.append(f"{where_}: ignored column(s) not in the {name} contract: {', '.join(map(repr, extras))}")
    src_sql = "(" + " UNION ALL BY NAME ".join(f"({q})" for q in selects) + ") __hs_s"
    try:
        schema = raw.sql(f"SELECT * FROM {src_sql} LIMIT 0").to_arrow_table().schema
    except duckdb.Error:  # e.g. the files disagree on a column's type in a way DuckDB cannot unify
        return None
    raw_cols = [n for n in schema.names if n not in _INTERNAL]
    n_rows = sum(part.rows for part in layout)
    displays = [part.display for part in layout]
    what = "CSV" if layout[0].word == "line" else "Parquet"
    plan = _Plan(table, schema, src.columns)

    checked = f"({plan.check_sql(src_sql)}) __hs_c"
    token = uuid.uuid4().hex
    dups, hashes, bad_view = f"__hs_dups_{token}", f"__hs_hashes_{token}", f"__hs_bad_{token}"
    id_col = table.id_column if table.id_column and table.id_column in plan.present else None
    accounts_col = "account_id" if check_accounts and table.references_accounts and "account_id" in plan.present else None
    previous = _tune_engine(ws, raw, vcon)
    registered = False
    try:
        say(f"{name}: validating {n_rows:,} row(s)")
        known_accounts = "(SELECT DISTINCT CAST(account_id AS VARCHAR) AS account_id FROM accounts WHERE account_id IS NOT NULL)"
        # A. ids repeated among the rows that passed checks 0-4, with the first position of a row
        # that also passes check 6 (the row that claims the id). First the hashes of the ids that
        # occur more than once at all (a cheap aggregate over 8-byte keys; usually none), then the
        # exact aggregate over the rows with those hashes only.
        if id_col:
            p = plan.p(id_col)
            raw.execute(
                f"CREATE TEMP TABLE {hashes} AS SELECT hash({p}) AS h FROM {checked}"
                f" WHERE {p} IS NOT NULL GROUP BY h HAVING count(*) > 1"
            )
            if not raw.execute(f"SELECT count(*) FROM {hashes}").fetchone()[0]:
                id_col = None  # no id occurs twice
        if id_col:
            join, known = "", "TRUE"
            if accounts_col:
                join = f"LEFT JOIN {known_accounts} a ON a.account_id = c.{plan.p(accounts_col)}"
                known = "a.account_id IS NOT NULL"
            raw.execute(
                f"""CREATE TEMP TABLE {dups} AS
                    SELECT c.{p} AS id, min(c.{_POS}) FILTER (WHERE {known}) AS first_pos
                    FROM ({plan.check_sql(src_sql)}) c {join}
                    WHERE c.__hs_err IS NULL AND c.{p} IS NOT NULL AND hash(c.{p}) IN (SELECT h FROM {hashes})
                    GROUP BY c.{p} HAVING count(*) > 1"""
            )
        # B. the quarantined rows, with the source's values as text
        joins, dup_cond, acc_cond = "", "FALSE", "FALSE"
        if id_col:
            joins += f" LEFT JOIN {dups} d ON c.{plan.p(id_col)} = d.id"
            dup_cond = f"(d.first_pos IS NOT NULL AND c.{_POS} > d.first_pos)"
        if accounts_col:
            p = plan.p(accounts_col)
            joins += f" LEFT JOIN {known_accounts} a ON a.account_id = c.{p}"
            acc_cond = f"(c.{p} IS NOT NULL AND a.account_id IS NULL)"
        first_expr = f"CASE WHEN c.__hs_err IS NULL AND {dup_cond} THEN d.first_pos END" if id_col else "CAST(NULL AS BIGINT)"
        dup_code = _E_DUPLICATE * 1000 + plan.index(id_col) if id_col else 0
        acc_code = _E_ACCOUNT * 1000 + plan.index(accounts_col) if accounts_col else 0
        values = "".join(f", CAST(c.{_ident(n)} AS VARCHAR) AS {_ident(n)}" for n in raw_cols)
        typed = (f", c.{plan.p(id_col)} AS __hs_id" if id_col else "") + (
            f", c.{plan.p(accounts_col)} AS __hs_account" if accounts_col else ""
        )
        bad = raw.sql(
            f"""SELECT * FROM (
                    SELECT c.{_POS},
                           CASE WHEN c.__hs_err IS NOT NULL THEN c.__hs_err
                                WHEN {dup_cond} THEN {dup_code} WHEN {acc_cond} THEN {acc_code} END AS __hs_err,
                           {first_expr} AS __hs_first,
                           c.{_BAD}, c.{_TEXT} {values} {typed}
                    FROM ({plan.check_sql(src_sql, raw_cols + [_BAD, _TEXT])}) c {joins}
                ) WHERE __hs_err IS NOT NULL ORDER BY {_POS}"""
        ).to_arrow_table()
        quarantined_n = bad.num_rows
        accepted_n = n_rows - quarantined_n

        # C. the accepted rows, written in one statement: the new table replaces the old one or
        # nothing changes. Checks 0-4 are a filter on each row. The rows quarantined by a join
        # (B) are left out by their values while those are few -- the unknown account ids, and the
        # repeated ids except at the position of the row that claimed each -- which keeps the
        # rows in file order, as the in-memory path writes them. Otherwise they are left out by
        # an anti-join on their positions: DuckDB then writes the rows in about file order, not
        # exactly (sorting them back would cost a sort of the whole table).
        empty = not accepted_n and not allow_empty
        if not empty:
            say(f"{name}: writing {accepted_n:,} accepted row(s) ({quarantined_n:,} quarantined)")
        raw.execute("SET preserve_insertion_order = true")
        checks = bad.column("__hs_err").to_numpy() // 1000
        by_join = (checks == _E_DUPLICATE) | (checks == _E_ACCOUNT)
        unknown = pc.unique(bad.column("__hs_account").filter(pa.array(checks == _E_ACCOUNT))) if accounts_col else pa.array([])
        repeated = bad.filter(pa.array(checks == _E_DUPLICATE)) if id_col else None
        repeated_ids = pc.unique(repeated.column("__hs_id")) if repeated is not None else pa.array([])
        where_ok, anti = ["__hs_err IS NULL"], ""
        if not by_join.any():
            pass
        elif len(unknown) <= _STREAM_INLINE_VALUES and len(repeated_ids) <= _STREAM_INLINE_VALUES:
            # list_contains over constants, not IN: DuckDB turns long IN lists into a join
            if len(unknown):
                where_ok.append(f"NOT coalesce(list_contains({_list_lit(unknown)}, {plan.p(accounts_col)}), FALSE)")
            if len(repeated_ids):
                firsts = pc.unique(repeated.column("__hs_first"))
                where_ok.append(
                    f"(NOT coalesce(list_contains({_list_lit(repeated_ids)}, {plan.p(id_col)}), FALSE)"
                    f" OR list_contains({_list_lit(firsts)}, {_POS}))"
                )
        else:
            raw.register(bad_view, pa.table({"pos": bad.column(_POS).filter(pa.array(by_join))}))
            registered = True
            # ANTI JOIN, not NOT EXISTS: that is planned as a correlated join over all positions
            anti = f" ANTI JOIN {bad_view} b ON b.pos = __hs_c.{_POS}"
        if not empty:
            raw.execute(
                f"CREATE OR REPLACE TABLE {_ident(name)} AS SELECT {plan.output_sql()} FROM {checked}{anti}"
                f" WHERE {' AND '.join(where_ok)}"
            )
        written = accepted_n if empty else raw.execute(f"SELECT count(*) FROM {_ident(name)}").fetchone()[0]
        if written != accepted_n:
            raise AssertionError(f"{name}: wrote {written} rows, expected {accepted_n} ({n_rows} read, {quarantined_n} quarantined)")
        accepted_ids = None
        if name == "accounts":
            ids = raw.sql(f"SELECT DISTINCT account_id FROM {_ident(name)}").to_arrow_table()
            accepted_ids = pa.table({"account_id": ids.column(0).cast(pa.string())})
    except duckdb.Error as exc:
        not_the_file = (
            duckdb.OutOfMemoryException, duckdb.InterruptException, duckdb.InternalException,
            duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException,
        )
        if isinstance(exc, not_the_file):
            raise
        # a damaged file is only found while reading it (the footers were read before)
        raise UserError(f"{', '.join(displays)}: cannot read as {what}: {exc}") from None
    finally:
        if registered:
            raw.unregister(bad_view)
        raw.execute(f"DROP TABLE IF EXISTS {dups}")
        raw.execute(f"DROP TABLE IF EXISTS {hashes}")
        _restore_engine(raw, previous)

    # The quarantine: the same columns as the in-memory path gives _quarantine_from_rows.
    pos = bad.column(_POS).to_numpy().astype(np.int64)
    has_first = bad.column("__hs_first").is_valid().to_numpy(zero_copy_only=False).astype(bool)
    first = pc.fill_null(bad.column("__hs_first"), 0).to_numpy().astype(np.int64)
    fids, lines = pos >> _FILE_SHIFT, (pos & _ROW_MASK) + 1
    first_fids, first_lines = first >> _FILE_SHIFT, (first & _ROW_MASK) + 1
    shown = np.array(displays, dtype=object)
    rows = bad.select(raw_cols + [_BAD, _TEXT])
    rows = rows.append_column("__hs_err", bad.column("__hs_err"))
    rows = rows.append_column("__hs_fid", pa.array(fids.astype(np.int32)))
    rows = rows.append_column("__hs_file", pa.array(shown[fids].tolist(), pa.string()))
    rows = rows.append_column("__hs_line", pa.array(lines))
    rows = rows.append_column("__hs_word", pa.array(np.array([p.word for p in layout], dtype=object)[fids].tolist(), pa.string()))
    rows = rows.append_column(
        "__hs_first_file", pa.array(shown[first_fids].tolist(), pa.string(), mask=~has_first | (first_fids == fids))
    )
    rows = rows.append_column("__hs_first_line", pa.array(first_lines, pa.int64(), mask=~has_first))
    quarantine = _quarantine_from_rows(vcon, plan, rows, raw_cols, [keys[n] for n in raw_cols])
    if empty:
        _refuse_empty(name, src, n_rows, quarantine)
    report = TableReport(
        table=name,
        source=str(src.path),
        read=n_rows,
        accepted=accepted_n,
        quarantined=quarantined_n,
        warnings=warnings,
        quarantine=quarantine,
        files=displays,
    )
    return report, accepted_ids


def _arrow_kind(t: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_date(t):
        return "timestamp"
    return "other"


# ISO 8601 text that DuckDB's TIMESTAMPTZ cast reads exactly: a date, an optional time and an
# optional 'Z' or offset of at most 14:00 (no space before it, no zone name).
_TS_PLAIN = (
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
    r"(Z|z|[+-]((0[0-9]|1[0-3])(:?[0-5][0-9])?|14(:?00)?))?"
)
# Anything else that starts like a date: (the date and time, what follows: '', 'Z', an offset or
# a zone name such as 'Asia/Tokyo'), the year may have up to 6 digits (then the range check says so).
_TS_SPLIT = r"^([0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?) *(.*)$"
_TS_OFFSET = r"[+-][0-9]{2}(:?[0-9]{2})?"


@functools.cache
def _zone_names() -> str:
    """DuckDB's time zone names as a list constant (a subquery would make the plan a join, which
    does not keep the rows' order when the streaming path writes them)."""
    import duckdb

    with duckdb.connect() as c:
        names = [r[0] for r in c.execute("SELECT name FROM pg_timezone_names() ORDER BY name").fetchall()]
    return "[" + ", ".join(_lit(n) for n in names) + "]::VARCHAR[]"


def _timestamp_sql(t: str) -> str:
    """Text -> naive UTC timestamp (NULL when it is not one), row by row.

    Plain ISO text goes through DuckDB's TIMESTAMPTZ cast with the session zone UTC (naive values
    are UTC, offsets are applied; epoch_us -> make_timestamp gives the naive UTC value, much
    faster than a cast). A zone name must never reach that cast: DuckDB 1.5 keeps the zone of one
    such value for the rows after it ('... Asia/Tokyo' moved every later naive value by 9 hours).
    So the rest is split into date-time and suffix and converted here: an offset (at most 14:00,
    minutes < 60), 'Z', or a zone name DuckDB knows (pg_timezone_names), each row with its own.
    The first character must be a digit: no 'epoch', 'infinity' or BC dates."""
    base = f"regexp_extract({t}, {_lit(_TS_SPLIT)}, 1)"
    zone = f"regexp_extract({t}, {_lit(_TS_SPLIT)}, 2)"
    local = f"TRY_CAST({base} AS TIMESTAMP)"
    digits = f"replace(substr({zone}, 2), ':', '')"
    minutes = (f"(CAST(left({digits}, 2) AS INTEGER) * 60"
               f" + CASE WHEN length({digits}) = 4 THEN CAST(right({digits}, 2) AS INTEGER) ELSE 0 END)")
    sign = f"CASE WHEN left({zone}, 1) = '-' THEN -1 ELSE 1 END"
    known = f"list_contains({_zone_names()}, {zone})"
    return (
        f"CASE WHEN ascii({t}) NOT BETWEEN 48 AND 57 THEN NULL"
        f" WHEN regexp_full_match({t}, {_lit(_TS_PLAIN)}) THEN make_timestamp(epoch_us(TRY_CAST({t} AS TIMESTAMPTZ)))"
        f" WHEN {zone} IN ('', 'Z', 'z') THEN {local}"
        f" WHEN regexp_full_match({zone}, {_lit(_TS_OFFSET)}) THEN"
        f" CASE WHEN right({digits}, 2) < '60' AND {minutes} <= 840 THEN {local} - to_minutes({sign} * {minutes}) END"
        # the zone is only used where known: timezone() raises on an unknown name
        f" WHEN {known} THEN make_timestamp(epoch_us(timezone(CASE WHEN {known} THEN {zone} ELSE 'UTC' END, {local})))"
        " END"
    )


def _range_sql(col: Column, p: str, kind: str | None) -> str | None:
    """The condition under which the typed value ``p`` is outside its column's domain (None: no
    domain); ``kind``: the typed value of the column ``range_when`` depends on, if present."""
    from healthscore.contract import NUMBER_LIMIT, TIMESTAMP_MAX, TIMESTAMP_MIN

    if col.derived_from is not None:  # replaced at ingestion anyway
        return None
    if col.type == TIMESTAMP:
        return f"({p} < TIMESTAMP {_lit(TIMESTAMP_MIN)} OR {p} >= TIMESTAMP {_lit(TIMESTAMP_MAX)} + INTERVAL 1 DAY)"
    if col.type not in (FLOAT, INT):
        return None
    out = [f"abs({p}) > {NUMBER_LIMIT!r}"]
    if col.min_value is not None:
        out.append(f"{p} < {col.min_value!r}")
    if col.max_value is not None:
        out.append(f"{p} > {col.max_value!r}")
    if kind is not None:
        for _other, value, lo, hi in col.range_when:
            out.append(f"({kind} = {_lit(value)} AND NOT ({p} BETWEEN {lo!r} AND {hi!r}))")
    return "(" + " OR ".join(out) + ")"


def _range_reason_sql(col: Column, kind: str | None) -> str:
    """SQL text for what a column's domain is (the end of a range reason), ``kind`` as above."""
    from healthscore.contract import NUMBER_LIMIT, TIMESTAMP_MAX, TIMESTAMP_MIN

    def num(x: float) -> str:
        return f"{x:g}"

    if col.type == TIMESTAMP:
        return _lit(f" is outside the plausible date range {TIMESTAMP_MIN} to {TIMESTAMP_MAX}")
    general = f" is out of range; numbers must be finite and at most {num(NUMBER_LIMIT)} in size"
    lo = col.min_value if col.min_value is not None else None
    hi = col.max_value if col.max_value is not None else None
    base = general
    if lo is not None or hi is not None:
        base = f" is out of range; must be between {num(lo if lo is not None else -NUMBER_LIMIT)} and {num(hi if hi is not None else NUMBER_LIMIT)}"
    if kind is None or not col.range_when:
        return _lit(base)
    whens = " ".join(
        f"WHEN {_lit(value)} THEN {_lit(f' is out of range for {other} {value}; must be between {num(lo_)} and {num(hi_)}')}"
        for other, value, lo_, hi_ in col.range_when
    )
    # a value within the kind's scale can still be over the general limit (pulse, or no kind)
    return f"CASE {kind} {whens} ELSE {_lit(base)} END"


class _Plan:
    """The SQL (and Arrow) steps for one canonical table, given the schema of the data read."""

    def __init__(self, table: Table, schema: pa.Schema, mapping: dict[str, str]):
        self.table = table
        self.schema = schema
        self.present = [c.name for c in table.columns if c.name in schema.names]
        reverse = {v: k for k, v in mapping.items()}
        self.label = {c: (f"{c} (source column {reverse[c]!r})" if reverse.get(c, c) != c else c) for c in self.present}

    def index(self, col: str) -> int:
        return self.table.column_names.index(col)

    def p(self, col: str) -> str:
        """The typed value of a column."""
        return f"__hs_p{self.index(col)}"

    def _cols(self) -> list[Column]:
        return [c for c in self.table.columns if c.name in self.present]

    def _kind(self, col: Column, typed: bool = True) -> str | None:
        """The value of the column ``col.range_when`` depends on (typed, or as written in the
        quarantined rows ``s``), when the source has it."""
        other = col.range_when[0][0] if col.range_when else None
        if other is None or other not in self.present:
            return None
        return self.p(other) if typed else f"TRIM(CAST(s.{_ident(other)} AS VARCHAR))"

    # Step 1: typed values and the first problem of checks 0-4, one row per source row.
    def check_sql(self, src: str, carry: list[str] | None = None) -> str:
        """``carry``: further columns of ``src`` passed through as they are (the streaming path
        carries the source's values for the quarantined rows)."""
        # Stage a: the value (as text unless the source type is used directly); stage b: spaces
        # trimmed, '' -> NULL; stage c: null flag and typed value; stage d: the error code.
        a, b, c = [], [], []
        for col in self._cols():
            i = self.index(col.name)
            q = _ident(col.name)
            kind = _arrow_kind(self.schema.field(col.name).type)
            direct = self._direct(col, kind)
            if direct:
                a.append(f"{q} AS __hs_t{i}")
                b.append(f"__hs_t{i}")
            else:
                a.append(f"{q if kind == 'string' else f'CAST({q} AS VARCHAR)'} AS __hs_t{i}")
                t = f"__hs_t{i}"
                b.append(
                    f"CASE WHEN {t} = '' THEN NULL WHEN prefix({t}, ' ') OR suffix({t}, ' ')"
                    f" THEN NULLIF(TRIM({t}), '') ELSE {t} END AS __hs_t{i}"
                )
            null, typed = self._parse(col, kind, direct, f"__hs_t{i}")
            c.append(f"{null} AS __hs_n{i}")
            c.append(f"{typed} AS __hs_p{i}")

        conds = [(f"{_BAD} IS NOT NULL", _E_LINE * 1000)]
        cols = self._cols()
        for col in cols:
            if col.required:
                conds.append((f"__hs_n{self.index(col.name)}", _E_REQUIRED * 1000 + self.index(col.name)))
        for col in cols:
            if col.type != STRING:
                p = self.p(col.name)
                bad = f"({p} IS NULL OR NOT isfinite({p}))" if col.type == FLOAT else f"{p} IS NULL"
                conds.append((f"(NOT __hs_n{self.index(col.name)} AND {bad})", _E_PARSE * 1000 + self.index(col.name)))
        for col in cols:
            if col.non_negative and col.type in (FLOAT, INT):
                conds.append((f"{self.p(col.name)} < 0", _E_NEGATIVE * 1000 + self.index(col.name)))
        for col in cols:
            if col.allowed:
                allowed = ", ".join(_lit(x) for x in col.allowed)
                conds.append((f"{self.p(col.name)} NOT IN ({allowed})", _E_ALLOWED * 1000 + self.index(col.name)))
        for col in cols:
            rng = _range_sql(col, self.p(col.name), self._kind(col))
            if rng is not None:
                conds.append((rng, _E_RANGE * 1000 + self.index(col.name)))
        case = "CASE " + " ".join(f"WHEN {cond} THEN {code}" for cond, code in conds) + " END"
        ps = "".join(f", {self.p(name)}" for name in self.present)

        def sel(items):
            return "".join(f", {x}" for x in items)

        k = sel(_ident(n) for n in carry or [] if n != _BAD)  # _BAD is there until the last stage
        return f"""
            SELECT {_POS}, CAST({case} AS INTEGER) AS __hs_err {ps} {sel(_ident(n) for n in carry or [])}
            FROM (SELECT {_POS}, {_BAD} {sel(c)} {k}
                  FROM (SELECT {_POS}, {_BAD} {sel(b)} {k}
                        FROM (SELECT {_POS}, {_BAD} {sel(a)} {k} FROM {src})))
        """

    @staticmethod
    def _direct(col: Column, kind: str) -> bool:
        """Whether the source type is used as it is (typed Parquet/engine columns), not via text."""
        return (
            (col.type == FLOAT and kind in ("float", "int"))
            or (col.type == INT and kind == "int")
            or (col.type == BOOL and kind == "bool")
            or (col.type == TIMESTAMP and kind in ("timestamp", "timestamptz"))
        )

    @staticmethod
    def _parse(col: Column, kind: str, direct: bool, t: str) -> tuple[str, str]:
        """(is-null expression, typed value expression) over the (trimmed) value ``t``."""
        if direct:
            if col.type == FLOAT:  # NaN in a typed column means missing (the pandas convention)
                v = f"CAST({t} AS DOUBLE)"
                return f"({t} IS NULL OR isnan({v}))", f"CASE WHEN NOT isnan({v}) THEN {v} END"
            if col.type == INT:
                return f"({t} IS NULL)", f"TRY_CAST({t} AS BIGINT)"
            if col.type == TIMESTAMP and kind == "timestamptz":
                return f"({t} IS NULL)", f"make_timestamp(epoch_us(CAST({t} AS TIMESTAMPTZ)))"  # naive UTC
            if col.type == TIMESTAMP:
                return f"({t} IS NULL)", f"CAST({t} AS TIMESTAMP)"
            return f"({t} IS NULL)", t
        null = f"({t} IS NULL)"
        if col.type == STRING:
            return null, t
        if col.type == FLOAT:
            return null, f"CASE WHEN NOT contains({t}, '_') THEN TRY_CAST({t} AS DOUBLE) END"
        if col.type == INT:
            d = f"TRY_CAST({t} AS DOUBLE)"
            return null, f"CASE WHEN NOT contains({t}, '_') AND {d} = trunc({d}) THEN TRY_CAST({t} AS BIGINT) END"
        if col.type == BOOL:
            low = f"lower({t})"
            return null, f"CASE WHEN {low} IN ('true', '1', 'yes') THEN TRUE WHEN {low} IN ('false', '0', 'no') THEN FALSE END"
        if col.type == TIMESTAMP:
            return null, _timestamp_sql(t)
        raise AssertionError(col.type)

    # Step 2: the accepted rows as the canonical table: contract order, canonical types.
    def output(self, checked: pa.Table) -> pa.Table:
        import pyarrow as pa
        import pyarrow.compute as pc

        types = {STRING: pa.string(), FLOAT: pa.float64(), INT: pa.int64(), BOOL: pa.bool_(), TIMESTAMP: pa.timestamp("us")}
        n = checked.num_rows
        arrays = []
        for col in self.table.columns:
            typ = types[col.type]
            arr = checked.column(self.p(col.name)).cast(typ) if col.name in self.present else pa.nulls(n, typ)
            if col.default is not None:
                arr = pc.fill_null(arr, pa.scalar(col.default, typ))
            arrays.append(arr)
        return pa.table(arrays, names=self.table.column_names)

    def output_sql(self) -> str:
        """Step 2 in SQL (the streaming path): select expressions over the checked rows."""
        out = []
        for col in self.table.columns:
            typ = _SQL_TYPES[col.type]
            expr = f"CAST({self.p(col.name)} AS {typ})" if col.name in self.present else f"CAST(NULL AS {typ})"
            if col.default is not None:
                expr = f"coalesce({expr}, CAST({_lit(col.default)} AS {typ}))"
            out.append(f"{expr} AS {_ident(col.name)}")
        return ", ".join(out)

    # Step 3: why each quarantined row was quarantined.
    def reason_sql(self, raw_names: list[str]) -> tuple[str, str, str]:
        """SQL (column, value, reason) expressions over quarantined rows ``s``."""
        col_cases = ["WHEN 0 THEN ''"]
        val_cases = [f"WHEN 0 THEN s.{_TEXT}"]
        reason_cases = [f"WHEN 0 THEN s.{_BAD}"]
        all_empty = " AND ".join(f"coalesce(TRIM(CAST(s.{_ident(n)} AS VARCHAR)), '') = ''" for n in raw_names) or "TRUE"
        for col in self._cols():
            i = self.index(col.name)
            raw = f"CAST(s.{_ident(col.name)} AS VARCHAR)"
            trimmed = f"TRIM({raw})"
            label = _lit(self.label[col.name])
            quoted = f"'''' || {raw} || ''''"
            checks = [_E_REQUIRED, _E_PARSE, _E_NEGATIVE, _E_ALLOWED, _E_RANGE]
            checks += [_E_DUPLICATE] if col.name == self.table.id_column else []
            checks += [_E_ACCOUNT] if col.name == "account_id" and self.table.references_accounts else []
            for check in checks:
                col_cases.append(f"WHEN {check * 1000 + i} THEN {_lit(col.name)}")
                val_cases.append(f"WHEN {check * 1000 + i} THEN {raw}")
            if col.required:
                empty_row = _lit(f"empty row: no values ({col.name} is required)")
                reason_cases.append(
                    f"WHEN {_E_REQUIRED * 1000 + i} THEN CASE WHEN {all_empty} THEN {empty_row}"
                    f" ELSE {label} || ': missing; it is required' END"
                )
            what = {
                STRING: "",
                FLOAT: " is not a number",
                INT: " is not a whole number",
                BOOL: " is not true/false (use true, false, yes, no, 1 or 0)",
                TIMESTAMP: f" is not a date/time ({_TS_HINT})",
            }[col.type]
            reason_cases.append(f"WHEN {_E_PARSE * 1000 + i} THEN {label} || ': ' || {quoted} || {_lit(what)}")
            reason_cases.append(f"WHEN {_E_NEGATIVE * 1000 + i} THEN {label} || ': ' || {trimmed} || ' is negative; must be >= 0'")
            if col.type in (FLOAT, INT, TIMESTAMP):
                reason_cases.append(
                    f"WHEN {_E_RANGE * 1000 + i} THEN {label} || ': ' || {quoted} || {_range_reason_sql(col, self._kind(col, typed=False))}"
                )
            if col.allowed:
                allowed = _lit(" is not one of " + ", ".join(col.allowed))
                reason_cases.append(f"WHEN {_E_ALLOWED * 1000 + i} THEN {label} || ': ' || {quoted} || {allowed}")
            if _E_DUPLICATE in checks:
                reason_cases.append(
                    f"WHEN {_E_DUPLICATE * 1000 + i} THEN 'duplicate ' || {_lit(col.name)} || ' ' || {trimmed}"
                    " || ' (first seen at ' || coalesce(s.__hs_first_file || ' ', '') || s.__hs_word"
                    " || ' ' || CAST(s.__hs_first_line AS VARCHAR) || ')'"
                )
            if _E_ACCOUNT in checks:
                reason_cases.append(f"WHEN {_E_ACCOUNT * 1000 + i} THEN {label} || ': ' || {quoted} || ' is not in accounts'")

        def case(items):
            return "CASE s.__hs_err " + " ".join(items) + " END"

        return case(col_cases), case(val_cases), case(reason_cases)


def _quarantine_frame(vcon, plan: _Plan, parts: list[_Part], combined, fids, lines, err, first) -> pd.DataFrame:
    """The quarantined rows (only those are touched here: arrow take + a small SQL query)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    at = np.flatnonzero(err >= 0)
    if not len(at):  # nothing quarantined (most batches of a live stream): no query
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "line" else object) for c in QUARANTINE_COLUMNS})
    raw_cols = [n for n in combined.column_names if n not in _INTERNAL]
    rows = combined.take(pa.array(at))
    names = np.array([p.name for p in parts], dtype=object)
    words = np.array([p.word for p in parts], dtype=object)
    has_first = first[at] >= 0
    first_at = np.where(has_first, first[at], 0)
    same_file = fids[first_at] == fids[at]
    rows = rows.append_column("__hs_err", pa.array(err[at]))
    rows = rows.append_column("__hs_fid", pa.array(fids[at]))
    rows = rows.append_column("__hs_file", pa.array(names[fids[at]].tolist(), pa.string()))
    rows = rows.append_column("__hs_line", pa.array(lines[at]))
    rows = rows.append_column("__hs_word", pa.array(words[fids[at]].tolist(), pa.string()))
    rows = rows.append_column(
        "__hs_first_file", pa.array(names[fids[first_at]].tolist(), pa.string(), mask=~has_first | same_file)
    )
    rows = rows.append_column("__hs_first_line", pa.array(lines[first_at], pa.int64(), mask=~has_first))
    # `raw`: the row as the source had it, keyed by the source's own column names.
    keys = [next((p.raw_names[n] for p in parts if n in p.raw_names), n) for n in raw_cols]
    return _quarantine_from_rows(vcon, plan, rows, raw_cols, keys)


def _quarantine_from_rows(vcon, plan: _Plan, rows: pa.Table, raw_cols: list[str], keys: list[str]) -> pd.DataFrame:
    """The quarantine frame from the quarantined rows: their source columns ``raw_cols`` (``keys``:
    the source's own names), _BAD, _TEXT, and __hs_err, __hs_fid, __hs_file, __hs_line, __hs_word,
    __hs_first_file, __hs_first_line. Reasons come from one small SQL query."""
    import pandas as pd
    import pyarrow as pa

    column, value, reason = plan.reason_sql(raw_cols)
    raw_select = "".join(f", CAST(s.{_ident(n)} AS VARCHAR) AS __hs_r{i}" for i, n in enumerate(raw_cols))
    view = f"__hs_quarantine_{uuid.uuid4().hex}"
    vcon.register(view, rows)
    try:
        result = vcon.sql(
            f"""SELECT s.__hs_file AS file, s.__hs_line AS line, {column} AS "column", {value} AS value,
                       {reason} AS reason, s.{_TEXT} AS __hs_text {raw_select}
                FROM {view} s ORDER BY s.__hs_fid, s.__hs_line"""
        ).to_arrow_table()
    finally:
        vcon.unregister(view)
    if raw_cols:
        struct = pa.StructArray.from_arrays([result.column(f"__hs_r{i}").combine_chunks() for i in range(len(raw_cols))], names=keys)
        raws = struct.to_pylist()
    else:
        raws = [{} for _ in range(result.num_rows)]
    texts = result.column("__hs_text").to_pylist()
    raws = [r if t is None else {RAW_LINE_KEY: t} for r, t in zip(raws, texts)]
    # object columns with None for missing values (not NaN): friendlier to print and to JSON
    data = {c: pd.Series(result.column(c).to_pylist(), dtype=object) for c in ("file", "column", "value", "reason")}
    data["line"] = pd.Series(result.column("line").to_numpy(), dtype="int64")
    data["raw"] = pd.Series(raws, dtype=object)
    return pd.DataFrame({c: data[c] for c in QUARANTINE_COLUMNS})


def _write_table(con, name: str, data: pa.Table) -> None:
    """Replace the canonical table ``name`` in the engine, atomically."""
    if getattr(con, "name", None) == "duckdb":
        raw = con.con
        view = f"__hs_ingest_{uuid.uuid4().hex}"
        raw.register(view, data)
        try:
            # One statement: either the new table replaces the old one or nothing changes.
            raw.execute(f"CREATE OR REPLACE TABLE {_ident(name)} AS SELECT * FROM {_ident(view)}")
        finally:
            raw.unregister(view)
        return
    if getattr(con, "name", None) == "pyspark":
        _write_spark_table(con, name, data)
        return
    # Ibis creates a new table and swaps it in within one transaction (Postgres).
    con.create_table(name, obj=data, overwrite=True)


def _write_spark_table(con, name: str, data: pa.Table) -> None:
    """Spark: straight from Arrow (Ibis 12 goes through pandas and stores a null string as 'NaN').
    Spark has no transactions: the table is overwritten by one job (atomic for Delta tables)."""
    session = con._session
    try:
        frame = session.createDataFrame(data)  # PySpark >= 4.0 takes an Arrow table
    except TypeError:  # PySpark 3.5: through pandas, with None (not NaN) for missing values
        pdf = data.to_pandas()
        frame = session.createDataFrame(pdf.astype(object).where(pdf.notna(), None), schema=data.schema.names)
    frame.write.mode("overwrite").saveAsTable(name)


def _engine_accounts(con) -> pa.Table | None:
    """The account ids of the engine's accounts table, or None if there is none."""
    import pyarrow as pa

    if "accounts" not in con.list_tables():
        return None
    ids = con.table("accounts").select("account_id").distinct().to_pyarrow()
    return pa.table({"account_id": ids.column(0).cast(pa.string())})


def _list_lit(values: pa.Array) -> str:
    """A SQL list of constants (strings or integers), typed."""
    import pyarrow as pa

    typ = "BIGINT" if pa.types.is_integer(values.type) else "VARCHAR"
    return "[" + ", ".join(_lit(v) for v in values.to_pylist()) + f"]::{typ}[]"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
