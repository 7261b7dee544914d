"""The column map (source column -> canonical column) and the parts it gives: data read from one file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.contract import TABLES, Table
from healthscore.errors import InvalidInput, UserError
from healthscore.ingest.read import csv_header, read_ndjson_bytes, read_part, shown_path
from healthscore.ingest.report import BAD, INTERNAL, TEXT, Part

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.engine.adapters.duckdb import LocalDuckDB
    from healthscore.ingest.report import Source
    from healthscore.workspace import Workspace


# ---------------------------------------------------------------------------------------------
# Column map


def column_plan(
    display: str, names: list[str], table: Table, src: Source, key: str
) -> tuple[dict[str, str], list[str]]:
    """(rename source -> canonical, ignored extra columns) for one file; UserError if not usable."""
    mapping = src.columns
    canonical = table.column_names
    rename: dict[str, str] = {}
    extras: list[str] = []
    taken: dict[str, str] = {}
    nested = nested_columns(mapping, names)
    consumed = {base for base, _ in nested.values()}  # JSON columns read through a nested key
    for n in [*names, *(k for k in nested if k not in names)]:
        if n in mapping:
            target = mapping[n]
        elif n in canonical:
            target = n
        elif n in consumed:
            continue
        else:
            extras.append(n)
            continue
        if target in taken:
            raise InvalidInput(
                f"{display}: columns {taken[target]!r} and {n!r} both give the {key} column {target!r}",
                details=[f"keep one of them, or change sources.{key}.columns in healthscore.yaml"],
            )
        taken[target] = n
        rename[n] = target
    if extras and src.extra_columns == "error":
        raise InvalidInput(
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
        raise InvalidInput(
            f"{display}: missing required column(s) for {key}: {', '.join(hints)}",
            details=[
                f"columns in the file: {', '.join(map(repr, names)) or '(none)'}",
                f"if the data is there under another name, map it under sources.{key}.columns in healthscore.yaml",
            ],
        )
    return rename, extras


def nested_columns(mapping: dict[str, str], names: list[str]) -> dict[str, tuple[str, list[str]]]:
    """{mapped key: (column, path)} for keys of the column map that reach into a column's JSON value,
    e.g. ``custom_fields.crm_id`` -> (``custom_fields``, [``crm_id``]); the longest column name wins.
    A key that is itself a column's name is read from that column."""
    out: dict[str, tuple[str, list[str]]] = {}
    present = set(names)
    for key in mapping:
        if "." not in key:
            continue
        steps = key.split(".")
        for i in range(len(steps) - 1, 0, -1):
            base = ".".join(steps[:i])
            if base in present:
                out[key] = (base, steps[i:])
                break
    return out


def nested_values(values: list, path: list[str]) -> list[str | None]:
    """The value at ``path`` of each JSON object (a dict, or JSON text); None where there is none. Text is
    kept as it is, other values as JSON text (numbers, true/false, objects), so the canonical column's
    type check reads them like any other value."""
    import json

    out: list[str | None] = []
    for v in values:
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                out.append(None)
                continue
        for step in path:
            if isinstance(v, dict):
                v = v.get(step)
            elif isinstance(v, list) and step.isdigit() and int(step) < len(v):
                v = v[int(step)]
            else:
                v = None
            if v is None:
                break
        out.append(None if v is None else v if isinstance(v, str) else json.dumps(v))
    return out


def with_nested(data: pa.Table, mapping: dict[str, str]) -> pa.Table:
    """``data`` with a column per nested key of the column map (``custom_fields.crm_id``)."""
    import pyarrow as pa

    for key, (base, path) in nested_columns(mapping, data.column_names).items():
        if key in data.column_names:  # read before, or a column whose name has a dot
            continue
        data = data.append_column(key, pa.array(nested_values(data.column(base).to_pylist(), path), pa.string()))
    return data


def read_parts(
    ws, engine: EngineAdapter, vcon: LocalDuckDB, name: str, src: Source, where, say, warnings: list[str]
) -> list[Part]:
    """Read every file (or the engine table) of a source into parts with canonical column names."""
    items = where if isinstance(where, list) else [where]
    parts: list[Part] = []
    ignored: dict[tuple[str, ...], list[str]] = {}
    for item in items:
        say(f"{name}: reading {shown_path(ws, item) if isinstance(item, Path) else item}")
        display, word, data, lines = read_part(ws, engine, vcon, src.format or "", item)
        parts.append(make_part(display, word, data, lines, name, src, ignored))
    warn_ignored(name, ignored, warnings)
    return parts


def make_part(
    display: str,
    word: str,
    data: pa.Table,
    lines: np.ndarray,
    name: str,
    src: Source,
    ignored: dict[tuple[str, ...], list[str]],
) -> Part:
    """Apply the column map to data read from one file (UserError for unknown or missing columns)."""
    import pyarrow as pa

    table = TABLES[name]
    data = with_nested(data, src.columns)
    names = [n for n in data.column_names if n not in INTERNAL]
    if not names:  # NDJSON without a single key (empty, or only broken lines): nothing to map
        required = [c.name for c in table.columns if c.required]
        for col in required:
            data = data.append_column(col, pa.nulls(data.num_rows, pa.string()))
        names = required
    rename, extras = column_plan(display, names, table, src, name)
    if extras:
        ignored.setdefault(tuple(extras), []).append(display)
    data = data.rename_columns([rename.get(n, n) for n in data.column_names])
    return Part(display, word, data, lines, {rename.get(n, n): n for n in names})


def warn_ignored(name: str, ignored: dict[tuple[str, ...], list[str]], warnings: list[str]) -> None:
    for extras, files in ignored.items():
        where_ = files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} more file(s)"
        warnings.append(f"{where_}: ignored column(s) not in the {name} contract: {', '.join(map(repr, extras))}")


def rows_part(vcon, display: str, word: str, rows: list, lines, reasons: list, table: str, src, ignored: dict) -> Part:
    """Rows (dicts; None for a record already known to be bad, with its reason) as a part to validate:
    through the NDJSON reader, so values are read exactly as from an NDJSON file."""
    import json

    import pyarrow as pa

    def dump(row):
        return "{}" if row is None else json.dumps(row, default=str, ensure_ascii=False)

    data = "\n".join(dump(r) for r in rows).encode("utf-8") + (b"\n" if rows else b"")
    table_, _ = read_ndjson_bytes(display, data, vcon)
    assert table_.num_rows == len(rows), (table_.num_rows, len(rows))
    if any(r is not None for r in reasons):
        bad = table_.column(BAD).to_pylist()
        text = table_.column(TEXT).to_pylist()
        for i, reason in enumerate(reasons):
            if reason is not None:
                bad[i], text[i] = reason, text[i] or ""
        table_ = table_.set_column(table_.schema.get_field_index(BAD), BAD, pa.array(bad, pa.string()))
        table_ = table_.set_column(table_.schema.get_field_index(TEXT), TEXT, pa.array(text, pa.string()))
    return make_part(display, word, table_, lines, table, src, ignored)


def preflight(ws: Workspace, name: str, src: Source, where: list[Path] | str) -> None:
    """Cheap header checks (CSV header, Parquet schema) so that config mistakes fail before writes."""
    if isinstance(where, str):
        return
    for path in where:
        if src.format == "csv":
            names = csv_header(ws, path)
        elif src.format == "parquet":
            import pyarrow.parquet as pq

            try:
                names = pq.read_schema(path).names
            except Exception as exc:
                raise UserError(f"{shown_path(ws, path)}: cannot read as Parquet: {exc}") from None
        else:
            continue  # NDJSON: the keys are only known once the file is read
        column_plan(shown_path(ws, path), names, TABLES[name], src, name)
