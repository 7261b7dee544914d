"""Locating and reading sources: CSV, NDJSON and Parquet files and engine tables into Arrow, with line numbers."""

from __future__ import annotations

import csv
import glob as _glob
import re
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.engine.adapters.sql import alias, column, exp, lit
from healthscore.errors import UserError
from healthscore.ingest.checks import sql, typed_list
from healthscore.ingest.report import BAD, INTERNAL, TEXT

if TYPE_CHECKING:
    import pyarrow as pa

    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.engine.adapters.duckdb import LocalDuckDB
    from healthscore.ingest.report import Source
    from healthscore.workspace import Workspace


# ---------------------------------------------------------------------------------------------
# Locating and reading sources


def locate(ws: Workspace, name: str, src: Source) -> list[Path] | str:
    """The files of a path source (sorted), the engine table name of a table source, or how a sql
    source is named."""
    if src.table is not None:
        return src.table
    if src.sql is not None:
        return f"sources.{name}.sql"
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


def shown_path(ws: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)



def csv_header(ws: Workspace, path: Path) -> list[str]:
    display = shown_path(ws, path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise UserError(f"{display}: not UTF-8 text; save the file as UTF-8 CSV") from None
    except (csv.Error, OSError) as exc:
        raise UserError(f"{display}: cannot read the CSV header: {exc}") from None
    if not header:
        raise UserError(f"{display}: empty file; a CSV source needs a header line with the column names")
    no_duplicate_names(display, header)
    check_reserved(display, header)
    return header


def read_part(ws: Workspace, engine: EngineAdapter, vcon: LocalDuckDB, fmt: str, where: Path | str):
    """(name, word, data, lines) of one file or engine table."""
    if isinstance(where, str):
        return (where, "row", *read_engine_table(engine, where))
    display = shown_path(ws, where)
    if fmt == "csv":
        return (display, "line", *read_csv(ws, where))
    if fmt == "ndjson":
        return (display, "line", *read_ndjson(display, where, vcon))
    return (display, "row", *read_parquet(display, where))


def with_internal(data: pa.Table, bad=None, text=None) -> pa.Table:
    import pyarrow as pa

    n = data.num_rows
    data = data.append_column(BAD, pa.nulls(n, pa.string()) if bad is None else pa.array(bad, pa.string()))
    return data.append_column(TEXT, pa.nulls(n, pa.string()) if text is None else pa.array(text, pa.string()))


def read_csv(ws: Workspace, path: Path):
    """All columns as strings, exactly as written, with each row's physical line number (the header
    is line 1; quoted values may span lines). Lines that cannot be parsed become rows with BAD set.

    The file is parsed as one block: pyarrow's chunker splits blocks at newlines without knowing
    about quotes, so with several blocks an unclosed quote silently swallowed the rest of a block
    into one value (threads) or failed the file (one thread), and a value longer than a block
    failed it. A record that pyarrow could not parse and that spans several lines (an unclosed
    quote runs on to the end of the file or to the next quote) is taken apart: its first line is
    quarantined with the reason and the lines after it are read again on their own."""
    import numpy as np
    import pyarrow as pa

    display = shown_path(ws, path)
    names = csv_header(ws, path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{display}: cannot read: {exc}") from None
    table, lines, bad = _parse_csv(display, data, names)
    if not bad:
        return with_internal(table), lines
    unparsed = pa.table({n: pa.nulls(len(bad), pa.string()) for n in names})
    unparsed = with_internal(unparsed, [b[1] for b in bad], [b[2] for b in bad])
    data_ = pa.concat_tables([with_internal(table), unparsed])
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
            # one block (see read_csv); one thread: only then does pyarrow number the bad records
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
            reason = f"line has {found} value(s) but the header has {len(names)}; check delimiters and quoting"
            bad.append((line, reason, text))
            continue
        first, rest = text.split("\n", 1)
        bad.append(
            (
                line,
                f"a quoted value opens on this line and does not close properly (it ran over "
                f"{text.count(chr(10)) + 1} lines); the lines after it were read on their own",
                first.rstrip("\r"),
            )
        )
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
        text = b"\n".join(physical[first : first + int(inside[i]) + 1]).decode("utf-8", "replace")
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


def read_ndjson(display: str, path: Path, vcon):
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
    return read_ndjson_bytes(display, data, vcon)


def read_ndjson_bytes(display: str, data: bytes, vcon):
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
                schema = pa.schema(
                    [pa.field(f.name, pa.string() if f.name in forced else f.type) for f in table.schema]
                )
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
                no_duplicate_names(display, list(cols))
                check_reserved(display, list(cols))
                return with_internal(pa.table(cols)), np.arange(1, table.num_rows + 1, dtype=np.int64)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    return read_ndjson_lines(display, data, vcon)


def _json_object() -> exp.Expr:
    # CASE, not AND: json_type fails on invalid JSON and AND does not short-circuit
    return sql("(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE FALSE END)")


def read_ndjson_lines(display: str, data: bytes, vcon: LocalDuckDB):
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
    numbered = pa.table({"n": np.arange(1, len(lines) + 1, dtype=np.int64), "line": lines})
    with vcon.registered(numbered, "__hs_lines") as view:
        keys = [
            r[0]
            for r in vcon.fetchall(
                sql(
                    "SELECT k FROM (SELECT unnest(json_keys(line)) AS k,"
                    " generate_subscripts(json_keys(line), 1) AS pos, n"
                    " FROM $lines WHERE $ok) GROUP BY k ORDER BY min(n), min(pos)",
                    lines=view,
                    ok=_json_object(),
                )
            )
        ]
        check_reserved(display, keys)
        for k in keys:
            if '"' in k or "\\" in k:
                raise UserError(f"{display}: key {k!r} contains a quote or backslash; rename it")
        paths = typed_list(['$."' + k + '"' for k in keys], "VARCHAR")
        # sqlglot numbers list elements from 0 and renders DuckDB's 1-based index: v[1] is the first key
        values = [alias(exp.Bracket(this=column("v"), expressions=[lit(i)]), k) for i, k in enumerate(keys)]
        query = sql(
            "SELECT CASE WHEN NOT json_valid(line) THEN 'not valid JSON; each line must be one JSON object'"
            " WHEN NOT $ok THEN 'not a JSON object; each line must be one JSON object' END AS __hs_bad,"
            " CASE WHEN NOT ($ok) THEN line END AS __hs_text, n"
            " FROM (SELECT n, line, CASE WHEN $ok THEN json_extract_string(line, $paths) END AS v"
            " FROM $lines WHERE trim(line, $blank) <> '') ORDER BY n",
            ok=_json_object(),
            paths=paths,
            lines=view,
            blank=" \t\r",
        )
        query.set("expressions", values + query.expressions)  # the keys' values first
        table = vcon.fetch_arrow(query)
    numbers = table.column("n").to_numpy().astype(np.int64)
    table = table.drop_columns(["n"])
    return table.cast(pa.schema([pa.field(f, pa.string()) for f in table.column_names])), numbers


def read_parquet(display: str, path: Path, limit: int | None = None):
    """Column types kept (validated the same way as text). Row = row index + 1. ``limit``: only the
    first rows (validate's sample)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if limit is None:
            table = pq.read_table(path)
        else:
            file = pq.ParquetFile(path)
            batch = next(file.iter_batches(batch_size=max(limit, 1)), None)
            table = file.schema_arrow.empty_table() if batch is None else pa.Table.from_batches([batch])
    except Exception as exc:
        raise UserError(f"{display}: cannot read as Parquet: {exc}") from None
    no_duplicate_names(display, table.column_names)
    check_reserved(display, table.column_names)
    return with_internal(decode_dictionaries(table)), np.arange(1, table.num_rows + 1, dtype=np.int64)


def table_expr(engine: EngineAdapter, name: str):
    """'raw.tickets' is table tickets in database/schema raw."""
    try:
        return engine.table(name)
    except Exception as exc:
        raise UserError(f"cannot read the table {name!r}: {exc}") from None


def read_engine_table(engine: EngineAdapter, name: str):
    """Pull a table (or view) of the engine to Arrow: a copy. 'raw.tickets' is table tickets in
    database/schema raw. Row = row index + 1."""
    import numpy as np

    try:
        table = table_expr(engine, name).to_pyarrow()
    except Exception as exc:
        raise UserError(f"cannot read the engine table {name!r}: {exc}") from None
    check_reserved(name, table.column_names)
    return with_internal(decode_dictionaries(table)), np.arange(1, table.num_rows + 1, dtype=np.int64)


def decode_dictionaries(table: pa.Table) -> pa.Table:
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table


def no_duplicate_names(display: str, names: list[str]) -> None:
    seen: set[str] = set()
    dupes = []
    for n in names:
        if n in seen:
            dupes.append(n)
        seen.add(n)
    if dupes:
        raise UserError(
            f"{display}: repeated column name(s) {', '.join(map(repr, dict.fromkeys(dupes)))};"
            " each column needs a unique name"
        )


def check_reserved(display: str, names: list[str]) -> None:
    for n in names:
        if n in INTERNAL:
            raise UserError(f"{display}: column name {n!r} is reserved; rename it")
