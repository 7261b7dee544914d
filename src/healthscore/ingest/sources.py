"""Sources that are not plain files: vendor files through an adapter, engine tables and other databases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.errors import UserError
from healthscore.ingest.columns import make_part, rows_part, warn_ignored
from healthscore.ingest.read import check_reserved, decode_dictionaries, shown_path, table_expr, with_internal
from healthscore.ingest.report import RAW_LINE_KEY, Part, source_key

if TYPE_CHECKING:
    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.engine.adapters.duckdb import LocalDuckDB


def adapter_parts(
    ws, engine: EngineAdapter, vcon: LocalDuckDB, name: str, src, files: list[Path], say, warnings: list[str]
):
    """Vendor files -> parts through the source's adapter; also {(file, line): vendor record}."""
    import json

    import numpy as np

    from healthscore.ingest.adapters import ADAPTERS, adapt, lookup_keys, read_records

    adapter = ADAPTERS[src.adapter]
    if adapter.table != name:
        raise UserError(
            f"{ws.config_path}: sources.{name}.adapter: {adapter.name} gives {adapter.table} rows,"
            f" not {name}; use it under sources.{adapter.table}"
        )
    parts: list[Part] = []
    originals: dict = {}
    ignored: dict[tuple[str, ...], list[str]] = {}
    for path in files:
        display = shown_path(ws, path)
        say(f"{name}: reading {display} ({adapter.name})")
        records, word, notes = read_records(path, display, src.format or adapter.format)
        warnings.extend(notes)
        looked_up = {}
        keys = lookup_keys(adapter, records)
        if keys:
            assert adapter.lookup is not None  # lookup_keys finds keys only for adapters with a lookup
            ltable, kcol, vcol, _ = adapter.lookup
            if ltable in engine.list_tables():
                t = engine.table(ltable)
                found = t.filter(t[kcol].isin(keys)).select(kcol, vcol).to_pyarrow().to_pylist()
                looked_up = {r[kcol]: r[vcol] for r in found}
        rows, reasons = adapt(adapter, records, looked_up, resolving=src.resolve_ids is not None)
        for rec in records:
            originals[(display, rec.number)] = (
                rec.value
                if isinstance(rec.value, dict)
                else {RAW_LINE_KEY: json.dumps(rec.value) if not isinstance(rec.value, str) else rec.value}
            )
        lines = np.array([r.number for r in records], dtype=np.int64)
        parts.append(rows_part(vcon, display, word, rows, lines, reasons, name, src, ignored))
    warn_ignored(name, ignored, warnings)
    return parts, originals


def table_parts(ws, engine: EngineAdapter, name: str, src, appending: bool, say, warnings: list[str]):
    """A table of the engine or of another database (``database:``) as a part; in append mode only the
    rows at or after the stored high-water time. Returns (parts, watermark marks)."""
    import os

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from healthscore.engine.adapters import open_url
    from healthscore.ingest.append import Mark, high_water

    key = source_key(src)
    other = open_url(os.path.expandvars(src.database)) if src.database is not None else engine
    try:
        expr = table_expr(other, src.table)
        table = TABLES[name]
        reverse = {v: k for k, v in src.columns.items()}
        col = src.watermark or (reverse.get(table.time_column, table.time_column) if table.time_column else None)
        track = False
        if src.watermark is not None and src.watermark not in expr.columns:
            raise UserError(
                f"{ws.config_path}: sources.{name}.watermark: {src.watermark!r} is not a column of"
                f" {src.table}; columns: {', '.join(expr.columns)}"
            )
        if appending and col is not None and col in expr.columns:
            dtype = expr[col].type()
            if dtype.is_timestamp() or dtype.is_date():
                track = True
                hw = high_water(engine, name, key)
                if hw is not None:
                    import pandas as pd

                    stamp = pd.Timestamp(hw)
                    expr = engine.since(expr, col, stamp)
                    say(f"{name}: reading rows of {src.table} with {col} >= {stamp}")
            else:
                warnings.append(
                    f"{src.table}.{col} is {dtype}, not a timestamp: every row is read and rows"
                    " already loaded are skipped by id (set sources." + name + ".watermark to a"
                    " timestamp column to read only new rows)"
                )
        say(f"{name}: reading {key}")
        try:
            data = expr.to_pyarrow()
        except Exception as exc:
            raise UserError(f"cannot read {key}: {exc}") from None
    finally:
        if other is not engine:
            other.close()
    marks = []
    if track and data.num_rows:
        newest = data.column(col)
        if pa.types.is_timestamp(newest.type) and newest.type.tz:
            newest = newest.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))
        newest = pc.max(newest).as_py()
        if newest is not None and col is not None:
            marks.append(Mark("time", col, high_water=newest, rows=data.num_rows))
    if src.watermark is not None and src.watermark not in src.columns and src.watermark not in table.column_names:
        data = data.drop_columns([src.watermark])  # read for the watermark only
    check_reserved(key, data.column_names)
    data = with_internal(decode_dictionaries(data))
    ignored: dict = {}
    part = make_part(key, "row", data, np.arange(1, data.num_rows + 1, dtype=np.int64), name, src, ignored)
    warn_ignored(name, ignored, warnings)
    return [part], marks
