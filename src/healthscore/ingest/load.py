"""Ingestion: validate sources against the canonical contract and load them into the engine.

For every configured source (``sources.<table>`` in healthscore.yaml) this module

1. reads the file(s) (CSV, NDJSON or Parquet; a glob may match several) or an engine table,
2. applies the column map (source column -> canonical column) and checks the header,
3. validates every row, vectorised in an in-memory DuckDB (no Python loop per row), and
4. writes the accepted rows, cast to the canonical types, as the canonical table in the engine,
   replacing the previous table atomically.

Every row that is not accepted is quarantined with its file, line, column, value, a reason that
names what would be right, and the original row. Nothing is dropped silently:
``read == accepted + quarantined`` for every table.

The checks, in the order they are tried (the first problem found is the row's reason):

0. the line itself cannot be parsed (CSV: wrong number of fields; NDJSON: not a JSON object)
1. a required column is empty or null (empty strings count as null)
2. a value does not parse as its column's type
3. a negative value in a non-negative column
4. a value that is not one of the allowed values (case-sensitive, after trimming)
5. a repeated id (``Table.id_column``): the first valid occurrence in file order is accepted
6. an ``account_id`` that is not in ``accounts`` (tables with ``references_accounts``)

Within one check, columns are tried in contract order.
"""

from __future__ import annotations

import csv
import glob as _glob
import io
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from healthscore.contract import BOOL, FLOAT, INT, STRING, TABLES, TIMESTAMP, Column, Table
from healthscore.errors import UserError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from healthscore.workspace import SourceConfig, Workspace

__all__ = ["TableReport", "ingest_workspace", "QUARANTINE_COLUMNS"]

QUARANTINE_COLUMNS = ["file", "line", "column", "value", "reason", "raw"]

# Internal column names added to the data being validated.
_FID = "__hs_fid"  # index of the file (or engine table) the row came from
_LINE = "__hs_line"  # its line (CSV, NDJSON) or row (Parquet, engine table) number
_BAD = "__hs_bad"  # set when the line itself could not be parsed: the reason
_TEXT = "__hs_text"  # ... and the line's text
_INTERNAL = (_FID, _LINE, _BAD, _TEXT)
_RAW_LINE_KEY = "_raw_line"  # key of `raw` for lines that could not be parsed into columns

_SQL_TYPES = {STRING: "VARCHAR", FLOAT: "DOUBLE", INT: "BIGINT", BOOL: "BOOLEAN", TIMESTAMP: "TIMESTAMP"}
_TS_HINT = "use ISO 8601, e.g. 2024-05-01 or 2024-05-01T09:30:00Z"
_LINE_BITS = 40  # sort/dedupe key: (file index << 40) | line

# Error codes: check * 1000 + column position in the contract.
_E_LINE, _E_REQUIRED, _E_PARSE, _E_NEGATIVE, _E_ALLOWED, _E_DUPLICATE, _E_ACCOUNT = 0, 1, 2, 3, 4, 5, 6


@dataclass
class TableReport:
    """What happened to one canonical table.

    ``quarantine`` has the columns file, line, column, value, reason, raw: ``line`` is the line
    number for CSV (the header is line 1) and NDJSON, and the 1-based row number for Parquet and
    engine tables; ``column`` is the canonical column ('' when the line itself could not be
    parsed); ``value`` is the offending value as written; ``raw`` is a dict of the row's values as
    strings, keyed by the source's own column names.
    """

    table: str
    source: str  # the configured path (pattern) or engine table
    read: int
    accepted: int
    quarantined: int
    warnings: list[str]
    quarantine: "pd.DataFrame"
    files: list[str] = field(default_factory=list)  # the files (or engine table) actually read

    def __post_init__(self):
        assert self.read == self.accepted + self.quarantined, (self.table, self.read, self.accepted, self.quarantined)
        assert len(self.quarantine) == self.quarantined, (self.table, len(self.quarantine), self.quarantined)


@dataclass
class _Part:
    """One file (or engine table) read into Arrow, columns already renamed to canonical names."""

    name: str  # shown as `file` in the quarantine
    word: str  # "line" or "row"
    data: "pa.Table"  # source columns + _LINE, _BAD, _TEXT
    raw_names: dict[str, str]  # column in `data` -> the source's own name


def ingest_workspace(
    ws: "Workspace",
    con,
    *,
    tables: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[TableReport]:
    """Validate the workspace's sources and load the accepted rows into the engine ``con``.

    ``con`` is an Ibis backend (``healthscore.engine.backend.connect(ws)``). Sources run with
    ``accounts`` first, then in contract order; ``tables`` restricts which sources run (names of
    canonical tables that have a source in healthscore.yaml). When ``accounts`` is not among them,
    the unknown-account check uses the engine's existing ``accounts`` table (and is skipped, with
    a warning, when there is none).

    Each canonical table is replaced atomically: if anything fails, the previous table stays.
    Problems with the configuration or a file as a whole (no file matches, unknown or missing
    columns, unreadable file) raise ``UserError``; problems with single rows never raise: the
    rows are quarantined and listed in the returned reports.

    Sources with ``table:`` are read from the engine through Ibis and *copied* (validated, cast)
    into the canonical table; the source table itself is left as it is.
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
    order = [name for name in TABLES if name in wanted]  # contract order; accounts is first there
    order.sort(key=lambda n: n != "accounts")
    if not order:
        return []

    # Preflight: find every source's files and check their headers before anything is written.
    located = {name: _locate(ws, con, name, configured[name]) for name in order}
    for name in order:
        _preflight(ws, name, configured[name], located[name])

    reports: list[TableReport] = []
    with tempfile.TemporaryDirectory(prefix="healthscore-ingest-") as tmp:
        vcon = duckdb.connect()
        try:
            vcon.execute("SET TimeZone = 'UTC'")
            vcon.execute(f"SET temp_directory = {_lit(tmp)}")
            accounts_known: bool | None = None  # None: not looked up yet
            for name in order:
                table = TABLES[name]
                if table.references_accounts and "account_id" in table.column_names and accounts_known is None:
                    accounts_known = _load_engine_accounts(con, vcon)
                report = _ingest_one(
                    ws, con, vcon, name, configured[name], located[name], say,
                    check_accounts=bool(accounts_known) and table.references_accounts,
                )
                if table.references_accounts and not accounts_known:
                    report.warnings.append(
                        "account_id not checked against accounts: there is no accounts table in the engine"
                        " (configure sources.accounts and ingest it)"
                    )
                if name == "accounts":
                    accounts_known = True  # _ingest_one left the accepted ids in __hs_accounts
                reports.append(report)
        finally:
            vcon.close()
    return reports


# ---------------------------------------------------------------------------------------------
# Locating and reading sources


def _locate(ws: "Workspace", con, name: str, src: "SourceConfig") -> list[Path] | str:
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
            details=["check the path, or run from the workspace directory / pass -w DIR"],
        )
    return files


def _display(ws: "Workspace", path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)


def _preflight(ws: "Workspace", name: str, src: "SourceConfig", where: list[Path] | str) -> None:
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


def _csv_header(ws: "Workspace", path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise UserError(f"{_display(ws, path)}: not UTF-8 text; save the file as UTF-8 CSV") from None
    except csv.Error as exc:
        raise UserError(f"{_display(ws, path)}: cannot read the CSV header: {exc}") from None
    if not header:
        raise UserError(f"{_display(ws, path)}: empty file; a CSV source needs a header line with column names")
    return header


def _read_part(ws: "Workspace", con, vcon, fmt: str, where: Path | str) -> tuple[str, str, "pa.Table"]:
    if isinstance(where, str):
        return where, "row", _read_engine_table(con, where)
    display = _display(ws, where)
    if fmt == "csv":
        return display, "line", _read_csv(ws, where)
    if fmt == "ndjson":
        return display, "line", _read_ndjson(display, where, vcon)
    return display, "row", _read_parquet(display, where)


def _with_internal(data: "pa.Table", lines, bad=None, text=None) -> "pa.Table":
    import pyarrow as pa

    n = data.num_rows
    data = data.append_column(_LINE, pa.array(lines, pa.int64()))
    data = data.append_column(_BAD, pa.nulls(n, pa.string()) if bad is None else pa.array(bad, pa.string()))
    data = data.append_column(_TEXT, pa.nulls(n, pa.string()) if text is None else pa.array(text, pa.string()))
    return data


def _unparsed_rows(names: list[str], rows: list[tuple[int, str, str]]) -> "pa.Table":
    """Lines that could not be split into columns: all columns null, the reason and the text kept."""
    import pyarrow as pa

    empty = pa.table({n: pa.nulls(len(rows), pa.string()) for n in names})
    return _with_internal(empty, [r[0] for r in rows], [r[2] for r in rows], [r[1] for r in rows])


def _read_csv(ws: "Workspace", path: Path) -> "pa.Table":
    """All columns as strings, exactly as written. Line = row index + 2, corrected for bad lines."""
    import pyarrow as pa
    import pyarrow.csv as pv

    display = _display(ws, path)
    names = _csv_header(ws, path)
    _no_duplicate_names(display, names)
    for n in names:
        if n in _INTERNAL:
            raise UserError(f"{display}: column name {n!r} is reserved; rename it")

    def read(threads: bool):
        bad: list[tuple[int | None, str, int]] = []

        def on_invalid(row):
            bad.append((row.number, row.text, row.actual_columns))
            return "skip"

        table = pv.read_csv(
            path,
            read_options=pv.ReadOptions(use_threads=threads),
            parse_options=pv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        return table, bad

    try:
        table, bad = read(True)
        if bad and any(b[0] is None for b in bad):  # line numbers are only known single-threaded
            table, bad = read(False)
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "UTF8" in msg or "utf8" in msg.lower():
            raise UserError(f"{display}: not valid UTF-8 text ({msg}); save the file as UTF-8 CSV") from None
        raise UserError(f"{display}: cannot read as CSV: {msg}") from None
    table = table.select(names)  # header order (pyarrow already uses it)
    bad.sort(key=lambda b: b[0] or 0)
    lines, bad_lines = _csv_lines(table, [b[0] or 0 for b in bad])
    if not bad:
        return _with_internal(table, lines)
    expected = len(names)
    unparsed = [
        (int(line), b[1], f"line has {b[2]} value(s) but the header has {expected}; check delimiters and quoting")
        for line, b in zip(bad_lines, bad)
    ]
    return pa.concat_tables([_with_internal(table, lines), _unparsed_rows(names, unparsed)])


def _csv_lines(table: "pa.Table", bad_rows: list[int]):
    """Physical line numbers of the parsed rows and of the unparseable ones.

    pyarrow numbers unparseable rows by record (header = 1), not by physical line; a quoted
    value with newlines makes one record span several lines. So: record numbers of the parsed
    rows are those not taken by unparseable ones, and each record moves down by the newlines
    inside the values of the records before it.
    """
    import numpy as np
    import pyarrow.compute as pc

    n = table.num_rows
    bad = np.asarray(sorted(bad_rows), dtype=np.int64)
    records = np.setdiff1d(np.arange(2, n + len(bad) + 2, dtype=np.int64), bad, assume_unique=True)
    if len(records) != n:  # unknown record numbers: fall back to plain numbering
        records = np.arange(2, n + 2, dtype=np.int64)
    extra = np.zeros(n, dtype=np.int64)
    for col in table.columns:
        extra += pc.count_substring(col, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
    if not extra.any():
        return records, bad
    before = np.concatenate([[0], np.cumsum(extra)])  # newlines in parsed rows before row i
    lines = records + before[:-1]
    bad_lines = bad + before[np.searchsorted(records, bad)]
    return lines, bad_lines


def _read_ndjson(display: str, path: Path, vcon) -> "pa.Table":
    """NDJSON, every column cast to string. Line = row index + 1.

    The fast path is pyarrow.json. It rejects whole files whose keys change JSON type between
    lines (a number in one line, a string in the next, which is exactly a bad row to quarantine)
    or that have a line that is not JSON, and it skips blank lines (which would shift line
    numbers). Such files are read line by line in DuckDB instead (still vectorised).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    data = path.read_bytes()
    if re.search(rb"(?:^|\n)[ \t\r]*\n", data) is None and data.strip():
        try:
            table = pj.read_json(pa.BufferReader(data))
            forced = {f.name: pa.string() for f in table.schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)}
            if forced:  # strings that pyarrow took for timestamps: keep them as written
                schema = pa.schema([pa.field(f.name, forced.get(f.name, f.type)) for f in table.schema])
                table = pj.read_json(pa.BufferReader(data), parse_options=pj.ParseOptions(explicit_schema=schema))
            cols = {}
            for f, col in zip(table.schema, table.columns):
                if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
                    cols[f.name] = col.cast(pa.string())
                elif pa.types.is_null(f.type):
                    cols[f.name] = pa.nulls(len(col), pa.string())
                elif pa.types.is_boolean(f.type) or pa.types.is_integer(f.type) or pa.types.is_floating(f.type):
                    cols[f.name] = pc.cast(col, pa.string())
                else:  # nested values: let the line reader render them as JSON text
                    raise pa.ArrowInvalid("nested")
            table = pa.table(cols) if cols else pa.table({})
            if table.num_columns:
                _check_reserved(display, table.column_names)
                return _with_internal(table, np.arange(1, table.num_rows + 1, dtype=np.int64))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    return _read_ndjson_lines(display, data, vcon)


def _read_ndjson_lines(display: str, data: bytes, vcon) -> "pa.Table":
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array([data], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid:
        raise UserError(f"{display}: not valid UTF-8 text; save the file as UTF-8") from None
    lines = pc.split_pattern(text, "\n").flatten()
    if len(lines) and lines[len(lines) - 1].as_py() == "":
        lines = lines.slice(0, len(lines) - 1)
    lines_tbl = pa.table({"n": pa.array(np.arange(1, len(lines) + 1, dtype=np.int64)), "line": lines.cast(pa.string())})
    name = f"__hs_lines_{uuid.uuid4().hex}"
    vcon.register(name, lines_tbl)
    try:
        keys_sql = f"""
            SELECT k FROM (
                SELECT unnest(json_keys(line)) AS k, generate_subscripts(json_keys(line), 1) AS pos, n
                FROM {name} WHERE json_valid(line) AND json_type(line) = 'OBJECT'
            ) GROUP BY k ORDER BY min(n), min(pos)
        """
        keys = [r[0] for r in vcon.execute(keys_sql).fetchall()]
        _no_duplicate_names(display, keys)
        _check_reserved(display, keys)
        for k in keys:
            if '"' in k or "\\" in k:
                raise UserError(f"{display}: key {k!r} contains a quote or backslash; rename it")
        paths = "[" + ", ".join(_lit('$."' + k + '"') for k in keys) + "]" if keys else "[]"
        cols = ", ".join(f"v[{i + 1}] AS {_ident(k)}" for i, k in enumerate(keys))
        sql = f"""
            SELECT {cols + "," if cols else ""} n AS {_ident(_LINE)},
                CASE WHEN NOT json_valid(line) THEN 'not valid JSON; each line must be one JSON object'
                     WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object; each line must be one JSON object'
                END AS {_ident(_BAD)},
                CASE WHEN NOT json_valid(line) OR json_type(line) <> 'OBJECT' THEN line END AS {_ident(_TEXT)}
            FROM (
                SELECT n, line,
                    CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT'
                         THEN json_extract_string(line, {paths}::VARCHAR[]) END AS v
                FROM {name} WHERE trim(line, ' \t\r') <> ''
            ) ORDER BY n
        """
        table = vcon.execute(sql).fetch_arrow_table()
    finally:
        vcon.unregister(name)
    return table.cast(pa.schema([pa.field(f.name, pa.string() if f.name not in (_LINE,) else pa.int64()) for f in table.schema]))


def _read_parquet(display: str, path: Path) -> "pa.Table":
    """Types kept (validated the same way). Row = row index + 1."""
    import numpy as np
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise UserError(f"{display}: cannot read as Parquet: {exc}") from None
    _no_duplicate_names(display, table.column_names)
    _check_reserved(display, table.column_names)
    return _with_internal(_decode_dictionaries(table), np.arange(1, table.num_rows + 1, dtype=np.int64))


def _read_engine_table(con, name: str) -> "pa.Table":
    """Pull a table/view of the engine to Arrow (a copy; fine for moderate sizes). Row = index + 1."""
    import numpy as np

    parts = name.split(".")
    try:
        if len(parts) == 1:
            expr = con.table(name)
        elif len(parts) == 2:
            expr = con.table(parts[1], database=parts[0])
        else:
            expr = con.table(parts[-1], database=tuple(parts[:-1]))
        table = expr.to_pyarrow()
    except Exception as exc:
        raise UserError(f"cannot read the engine table {name!r}: {exc}") from None
    _check_reserved(name, table.column_names)
    return _with_internal(_decode_dictionaries(table), np.arange(1, table.num_rows + 1, dtype=np.int64))


def _decode_dictionaries(table: "pa.Table") -> "pa.Table":
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


def _no_duplicate_names(display: str, names: list[str]) -> None:
    seen, dupes = set(), []
    for n in names:
        if n in seen and n not in dupes:
            dupes.append(n)
        seen.add(n)
    if dupes:
        raise UserError(f"{display}: repeated column name(s) {', '.join(map(repr, dupes))}; each column needs a unique name")


def _check_reserved(display: str, names: list[str]) -> None:
    for n in names:
        if n in _INTERNAL:
            raise UserError(f"{display}: column name {n!r} is reserved; rename it")


# ---------------------------------------------------------------------------------------------
# Column map


def _column_plan(display: str, names: list[str], table: Table, src: "SourceConfig", key: str) -> tuple[dict[str, str], list[str]]:
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


def _ingest_one(ws, con, vcon, name: str, src: "SourceConfig", where, say, *, check_accounts: bool) -> TableReport:
    import pyarrow as pa

    table = TABLES[name]
    sources = where if isinstance(where, list) else [where]
    source_label = src.path if src.path is not None else str(src.table)
    warnings: list[str] = []
    parts: list[_Part] = []
    ignored: dict[tuple[str, ...], list[str]] = {}
    for item in sources:
        label = _display(ws, item) if isinstance(item, Path) else str(item)
        say(f"{name}: reading {label}")
        display, word, data = _read_part(ws, con, vcon, src.format or "", item)
        names = [n for n in data.column_names if n not in _INTERNAL]
        rename, extras = _column_plan(display, names, table, src, name)
        if extras:
            ignored.setdefault(tuple(extras), []).append(display)
        data = data.rename_columns([rename.get(n, n) for n in data.column_names])
        parts.append(_Part(display, word, data, {rename.get(n, n): n for n in names}))

    for extras, files in ignored.items():
        where_ = files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more file(s)"
        warnings.append(f"{where_}: ignored column(s) not in the {name} contract: {', '.join(map(repr, extras))}")
    combined = _combine(parts)
    n_rows = combined.num_rows
    say(f"{name}: validating {n_rows:,} row(s)")
    src_name = f"__hs_src_{uuid.uuid4().hex}"
    checked = f"__hs_checked_{uuid.uuid4().hex}"
    files_name = f"__hs_files_{uuid.uuid4().hex}"
    vcon.register(src_name, combined)
    vcon.register(
        files_name,
        pa.table({"fid": pa.array(range(len(parts)), pa.int32()), "fname": [p.name for p in parts], "word": [p.word for p in parts]}),
    )
    try:
        plan = _Plan(table, combined.schema, src.columns)
        vcon.execute(f"CREATE TEMP TABLE {checked} AS {plan.check_sql(src_name)}")
        if table.id_column and table.id_column in plan.present:
            p = plan.p(table.id_column)
            key = _key_sql()
            vcon.execute(
                f"""UPDATE {checked} SET __hs_err = {_E_DUPLICATE * 1000 + plan.index(table.id_column)},
                        __hs_first = f.first_key
                    FROM (SELECT {p} AS id, min({key}) AS first_key FROM {checked}
                          WHERE __hs_err IS NULL AND {p} IS NOT NULL GROUP BY {p} HAVING count(*) > 1) AS f
                    WHERE {checked}.__hs_err IS NULL AND {checked}.{p} = f.id AND {_key_sql(checked)} > f.first_key"""
            )
        if check_accounts and "account_id" in plan.present:
            p = plan.p("account_id")
            vcon.execute(
                f"""UPDATE {checked} SET __hs_err = {_E_ACCOUNT * 1000 + plan.index('account_id')}
                    WHERE __hs_err IS NULL AND {p} IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM __hs_accounts a WHERE a.account_id = {checked}.{p})"""
            )
        total, accepted = vcon.execute(f"SELECT count(*), count(*) FILTER (WHERE __hs_err IS NULL) FROM {checked}").fetchone()
        assert total == n_rows, (total, n_rows)
        quarantine = _quarantine_frame(vcon, plan, parts, combined, src_name, checked, files_name)
        say(f"{name}: writing {accepted:,} accepted row(s) ({total - accepted:,} quarantined)")
        _write_table(con, name, vcon, plan.output_sql(checked))
        if name == "accounts":
            vcon.execute(
                f"CREATE OR REPLACE TEMP TABLE __hs_accounts AS SELECT DISTINCT {plan.p('account_id')} AS account_id"
                f" FROM {checked} WHERE __hs_err IS NULL"
            )
    finally:
        vcon.execute(f"DROP TABLE IF EXISTS {checked}")
        vcon.unregister(src_name)
        vcon.unregister(files_name)
    return TableReport(
        table=name,
        source=source_label,
        read=int(total),
        accepted=int(accepted),
        quarantined=int(total - accepted),
        warnings=warnings,
        quarantine=quarantine,
        files=[p.name for p in parts],
    )


def _combine(parts: list[_Part]) -> "pa.Table":
    """One table for all parts, with the file index; columns missing in a file become nulls."""
    import pyarrow as pa

    tables = [p.data.append_column(_FID, pa.array([i] * p.data.num_rows, pa.int32())) for i, p in enumerate(parts)]
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    # The files disagree on a column's type (e.g. Parquet int in one file, string in another):
    # validate them all as text.
    as_text = []
    for p, t in zip(parts, tables):
        cols = {}
        for f, col in zip(t.schema, t.columns):
            if f.name in (_FID, _LINE):
                cols[f.name] = col
                continue
            try:
                cols[f.name] = col.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise UserError(f"{p.name}: column {f.name!r} of type {f.type} differs from the other files and cannot be read as text: {exc}") from None
        as_text.append(pa.table(cols))
    return pa.concat_tables(as_text, promote_options="default")


def _key_sql(table: str | None = None) -> str:
    prefix = f"{table}." if table else ""
    return f"((CAST({prefix}__hs_fid AS BIGINT) << {_LINE_BITS}) | {prefix}__hs_line)"


def _arrow_kind(t: "pa.DataType") -> str:
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "timestamp"
    if pa.types.is_null(t):
        return "null"
    return "other"


class _Plan:
    """The SQL for one canonical table, given the schema of the data read."""

    def __init__(self, table: Table, schema: "pa.Schema", mapping: dict[str, str]):
        self.table = table
        self.schema = schema
        self.present = [c.name for c in table.columns if c.name in schema.names]
        reverse = {v: k for k, v in mapping.items()}
        self.label = {c: (f"{c} (source column {reverse[c]!r})" if c in reverse and reverse[c] != c else c) for c in self.present}

    def index(self, col: str) -> int:
        return self.table.column_names.index(col)

    def p(self, col: str) -> str:
        return f"__hs_p{self.index(col)}"

    def n(self, col: str) -> str:
        return f"__hs_n{self.index(col)}"

    # Stage 1: typed values, null flags and the first problem of checks 0-4, in source order.
    def check_sql(self, src: str) -> str:
        texts, typed = [], []
        for col in self.table.columns:
            if col.name not in self.present:
                continue
            q = _ident(col.name)
            kind = _arrow_kind(self.schema.field(col.name).type)
            t = f"__hs_t{self.index(col.name)}"
            null_expr, parsed = self._parse(col, kind, q, t)
            texts.append(f"{self._text(col, kind, q)} AS {t}")
            typed.append(f"{null_expr} AS {self.n(col.name)}")
            typed.append(f"{parsed} AS {self.p(col.name)}")

        conds = [(f"{_ident(_BAD)} IS NOT NULL", _E_LINE * 1000)]
        cols = [c for c in self.table.columns if c.name in self.present]
        for c in cols:
            if c.required:
                conds.append((self.n(c.name), _E_REQUIRED * 1000 + self.index(c.name)))
        for c in cols:
            if c.type != STRING:
                bad = f"{self.p(c.name)} IS NULL"
                if c.type == FLOAT:
                    bad = f"({bad} OR NOT isfinite({self.p(c.name)}))"
                conds.append((f"(NOT {self.n(c.name)} AND {bad})", _E_PARSE * 1000 + self.index(c.name)))
        for c in cols:
            if c.non_negative and c.type in (FLOAT, INT):
                conds.append((f"{self.p(c.name)} < 0", _E_NEGATIVE * 1000 + self.index(c.name)))
        for c in cols:
            if c.allowed:
                allowed = ", ".join(_lit(a) for a in c.allowed)
                conds.append((f"{self.p(c.name)} NOT IN ({allowed})", _E_ALLOWED * 1000 + self.index(c.name)))
        case = "CASE " + " ".join(f"WHEN {cond} THEN {code}" for cond, code in conds) + " END"
        text_cols = ", ".join(texts)
        typed_cols = ", ".join(typed)
        ps = ", ".join(self.p(c) for c in self.present)
        return f"""
            SELECT __hs_fid, __hs_line, CAST({case} AS INTEGER) AS __hs_err, CAST(NULL AS BIGINT) AS __hs_first
                   {", " + ps if ps else ""}
            FROM (
                SELECT __hs_fid, __hs_line, {_ident(_BAD)} {", " + typed_cols if typed_cols else ""}
                FROM (SELECT __hs_fid, __hs_line, {_ident(_BAD)} {", " + text_cols if text_cols else ""} FROM {src})
            )
        """

    @staticmethod
    def _direct(col: Column, kind: str) -> bool:
        """Whether the source type can be used without going through text."""
        return (
            (col.type == FLOAT and kind in ("float", "int"))
            or (col.type == INT and kind == "int")
            or (col.type == BOOL and kind == "bool")
            or (col.type == TIMESTAMP and kind == "timestamp")
        )

    def _text(self, col: Column, kind: str, q: str) -> str:
        if self._direct(col, kind):
            return q
        if kind == "string":
            return f"NULLIF(TRIM({q}), '')"
        return f"NULLIF(TRIM(CAST({q} AS VARCHAR)), '')"

    def _parse(self, col: Column, kind: str, q: str, t: str) -> tuple[str, str]:
        """(is-null expression, typed value expression), both over the text alias ``t``."""
        if self._direct(col, kind):
            if col.type == FLOAT:
                v = f"CAST({t} AS DOUBLE)"
                return f"({t} IS NULL OR isnan({v}))", f"CASE WHEN NOT isnan({v}) THEN {v} END"
            if col.type == INT:
                return f"({t} IS NULL)", f"TRY_CAST({t} AS BIGINT)"
            if col.type == TIMESTAMP:
                # TIMESTAMP WITH TIME ZONE -> naive UTC (the session time zone is UTC)
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
            return null, f"TRY_CAST(TRY_CAST({t} AS TIMESTAMPTZ) AS TIMESTAMP)"
        raise AssertionError(col.type)

    # Stage 2: accepted rows as the canonical table, in contract order and source order.
    def output_sql(self, checked: str) -> str:
        cols = []
        for col in self.table.columns:
            sql_type = _SQL_TYPES[col.type]
            default = "NULL" if col.default is None else _lit(col.default)
            if col.name in self.present:
                value = self.p(col.name) if col.default is None else f"COALESCE({self.p(col.name)}, {default})"
            else:
                value = default
            cols.append(f"CAST({value} AS {sql_type}) AS {_ident(col.name)}")
        return f"SELECT {', '.join(cols)} FROM {checked} WHERE __hs_err IS NULL"

    # Stage 3: the reason of every quarantined row.
    def reason_sql(self, raw_names: list[str]) -> tuple[str, str, str]:
        """SQL (column, value, reason) expressions over quarantined rows ``k`` joined to source ``s``."""
        col_cases, val_cases, reason_cases = [f"WHEN 0 THEN ''"], [f"WHEN 0 THEN s.{_ident(_TEXT)}"], [f"WHEN 0 THEN s.{_ident(_BAD)}"]
        all_empty = " AND ".join(f"coalesce(TRIM(CAST(s.{_ident(n)} AS VARCHAR)), '') = ''" for n in raw_names) or "TRUE"
        for col in self.table.columns:
            if col.name not in self.present:
                continue
            i = self.index(col.name)
            raw = f"CAST(s.{_ident(col.name)} AS VARCHAR)"
            trimmed = f"TRIM({raw})"
            label = _lit(self.label[col.name])
            quoted = f"'''' || {raw} || ''''"
            checks = [_E_REQUIRED, _E_PARSE, _E_NEGATIVE, _E_ALLOWED]
            checks += [_E_DUPLICATE] if col.name == self.table.id_column else []
            checks += [_E_ACCOUNT] if col.name == "account_id" and self.table.references_accounts else []
            for check in checks:
                code = check * 1000 + i
                col_cases.append(f"WHEN {code} THEN {_lit(col.name)}")
                val_cases.append(f"WHEN {code} THEN {raw}")
            if col.required:
                reason_cases.append(
                    f"WHEN {_E_REQUIRED * 1000 + i} THEN CASE WHEN {all_empty} THEN"
                    f" {_lit('empty row: no values (' + col.name + ' is required)')}"
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
            reason_cases.append(
                f"WHEN {_E_NEGATIVE * 1000 + i} THEN {label} || ': ' || {trimmed} || ' is negative; must be >= 0'"
            )
            if col.allowed:
                reason_cases.append(
                    f"WHEN {_E_ALLOWED * 1000 + i} THEN {label} || ': ' || {quoted} || {_lit(' is not one of ' + ', '.join(col.allowed))}"
                )
            if _E_DUPLICATE in checks:
                reason_cases.append(
                    f"WHEN {_E_DUPLICATE * 1000 + i} THEN 'duplicate ' || {_lit(col.name)} || ' ' || {trimmed}"
                    f" || ' (first seen at ' || CASE WHEN ff.fid = k.__hs_fid THEN '' ELSE ff.fname || ' ' END"
                    f" || ff.word || ' ' || CAST(k.__hs_first & {(1 << _LINE_BITS) - 1} AS VARCHAR) || ')'"
                )
            if _E_ACCOUNT in checks:
                reason_cases.append(f"WHEN {_E_ACCOUNT * 1000 + i} THEN {label} || ': ' || {quoted} || ' is not in accounts'")

        def case(items):
            return "CASE k.__hs_err " + " ".join(items) + " END"

        return case(col_cases), case(val_cases), case(reason_cases)


def _quarantine_frame(vcon, plan: _Plan, parts: list[_Part], combined, src: str, checked: str, files: str) -> "pd.DataFrame":
    import pandas as pd
    import pyarrow as pa

    raw_cols = [n for n in combined.column_names if n not in _INTERNAL]
    column, value, reason = plan.reason_sql(raw_cols)
    raw_select = ", ".join(f"CAST(s.{_ident(n)} AS VARCHAR) AS __hs_r{i}" for i, n in enumerate(raw_cols))
    sql = f"""
        SELECT f.fname AS file, k.__hs_line AS line, {column} AS "column", {value} AS value, {reason} AS reason,
               s.{_ident(_TEXT)} AS __hs_text {", " + raw_select if raw_select else ""}
        FROM (SELECT * FROM {checked} WHERE __hs_err IS NOT NULL) AS k
        JOIN {src} AS s ON s.__hs_fid = k.__hs_fid AND s.__hs_line = k.__hs_line
        JOIN {files} AS f ON f.fid = k.__hs_fid
        LEFT JOIN {files} AS ff ON ff.fid = CAST(k.__hs_first >> {_LINE_BITS} AS INTEGER)
        ORDER BY k.__hs_fid, k.__hs_line
    """
    result = vcon.execute(sql).fetch_arrow_table()
    # `raw`: the row as the source had it, keyed by the source's own column names.
    names: list[str] = []
    for n in raw_cols:
        names.append(next((p.raw_names[n] for p in parts if n in p.raw_names), n))
    if raw_cols:
        struct = pa.StructArray.from_arrays(
            [result.column(f"__hs_r{i}").combine_chunks() for i in range(len(raw_cols))], names=names
        )
        raws = struct.to_pylist()
    else:
        raws = [{} for _ in range(result.num_rows)]
    texts = result.column("__hs_text").to_pylist()
    raws = [r if t is None else {_RAW_LINE_KEY: t} for r, t in zip(raws, texts)]
    frame = result.select(["file", "line", "column", "value", "reason"]).to_pandas()
    frame["line"] = frame["line"].astype("int64")
    frame["raw"] = pd.Series(raws, index=frame.index, dtype=object)
    return frame[QUARANTINE_COLUMNS]


def _accepted_reader(vcon, sql: str):
    """The accepted rows as an Arrow RecordBatchReader (streamed, not materialised)."""
    return vcon.execute(sql).fetch_record_batch(1_000_000)


def _write_table(con, name: str, vcon, sql: str) -> None:
    """Replace the canonical table ``name`` in the engine, atomically."""
    if getattr(con, "name", None) == "duckdb":
        raw = con.con
        view = f"__hs_ingest_{uuid.uuid4().hex}"
        raw.register(view, _accepted_reader(vcon, sql))
        try:
            # one statement: either the new table replaces the old one or nothing changes
            raw.execute(f"CREATE OR REPLACE TABLE {_ident(name)} AS SELECT * FROM {_ident(view)}")
        finally:
            raw.unregister(view)
        return
    data = _accepted_reader(vcon, sql).read_all()
    con.create_table(name, obj=data, overwrite=True)  # Ibis: create a temp table, swap in one transaction


def _load_engine_accounts(con, vcon) -> bool:
    """Copy the engine's accounts ids into __hs_accounts; False if the engine has no accounts table."""
    try:
        if "accounts" not in con.list_tables():
            return False
        ids = con.table("accounts").select("account_id").distinct().to_pyarrow()
    except Exception:
        return False
    vcon.register("__hs_accounts_src", ids)
    try:
        vcon.execute(
            "CREATE OR REPLACE TEMP TABLE __hs_accounts AS"
            " SELECT DISTINCT CAST(account_id AS VARCHAR) AS account_id FROM __hs_accounts_src WHERE account_id IS NOT NULL"
        )
    finally:
        vcon.unregister("__hs_accounts_src")
    return True


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
