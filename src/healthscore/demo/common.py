"""Shared pieces of the demo generator: seeded random streams, calendar and id helpers, and the Arrow
and file output (one `_Sink` per table file)."""

from __future__ import annotations

import calendar
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from healthscore.contract import BOOL, FLOAT, INT, STRING, TABLES, TIMESTAMP

DAY = 86_400
_US = 1_000_000

# Random streams, one per table (spawn_key[0]); never reorder.
_S_ACCOUNTS, _S_HEALTH, _S_OUTCOMES, _S_USAGE, _S_TICKETS, _S_SURVEYS = 0, 1, 2, 3, 4, 5
_S_INVOICES, _S_CONTACTS, _S_INTERACTIONS, _S_MILESTONES, _S_ASSESSMENTS = 6, 7, 8, 9, 10
_S_GOALS, _S_SUBSCRIPTIONS, _S_CHANGES = 11, 12, 13


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _shift_months(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _add_months(days: np.ndarray, k) -> np.ndarray:
    """datetime64[D] + k calendar months (day clamped to the month's length), vectorised."""
    m = days.astype("M8[M]")
    dom = (days - m.astype("M8[D]")).astype(np.int64)
    nm = m + np.asarray(k, dtype=np.int64).astype("m8[M]")
    mlen = ((nm + np.timedelta64(1, "M")).astype("M8[D]") - nm.astype("M8[D]")).astype(np.int64)
    return nm.astype("M8[D]") + np.minimum(dom, mlen - 1).astype("m8[D]")


def _biz_secs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds of the day (UTC), mostly in US/EU business hours."""
    s = rng.normal(15.0 * 3600, 3.2 * 3600, n)
    flat = rng.random(n) < 0.08
    s[flat] = rng.uniform(0, DAY, int(flat.sum()))
    return np.clip(s, 0, DAY - 1).astype(np.int64)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) uint8 matrix."""
    v = np.array(values, dtype=np.int64)
    out = np.empty((v.size, width), np.uint8)
    for j in range(width - 1, -1, -1):
        v, r = np.divmod(v, 10)
        out[:, j] = r + 48
    return out


def _fixed_strings(*parts: bytes | np.ndarray) -> pa.Array:
    """A string array from fixed-width parts: byte constants and (n, k) uint8 matrices."""
    n = next(p.shape[0] for p in parts if isinstance(p, np.ndarray))
    width = sum(len(p) if isinstance(p, bytes) else p.shape[1] for p in parts)
    buf = np.empty((n, width), np.uint8)
    col = 0
    for p in parts:
        k = len(p) if isinstance(p, bytes) else p.shape[1]
        buf[:, col : col + k] = np.frombuffer(p, np.uint8) if isinstance(p, bytes) else p
        col += k
    offsets = np.arange(n + 1, dtype=np.int64) * width
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf)])
    big = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    return big.cast(pa.string())


def _ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    return _fixed_strings(prefix.encode(), _digits(np.arange(start, start + n), width))


def _lerp(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return lo + (hi - lo) * u


# ----------------------------------------------------------------------------- arrow output

_ARROW = {
    STRING: pa.string(),
    FLOAT: pa.float64(),
    INT: pa.int64(),
    BOOL: pa.bool_(),
    TIMESTAMP: pa.timestamp("us"),
}


def _schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in TABLES[table].columns])


def _ts(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    micros = (np.asarray(seconds, dtype=np.int64) * _US).view("M8[us]")
    return pa.array(micros, mask=null)  # numpy datetime64 converts without a per-value path


def _f(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), pa.float64(), mask=null)


def _b(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_())


def _s(options: tuple[str, ...], idx: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    indices = pa.array(np.asarray(idx, dtype=np.int32))
    out = pa.DictionaryArray.from_arrays(indices, pa.array(list(options), pa.string())).cast(pa.string())
    if null is not None and null.any():
        out = pc.if_else(pa.array(null), pa.scalar(None, pa.string()), out)
    return out


def _table(name: str, cols: dict[str, pa.Array]) -> pa.Table:
    schema = _schema(name)
    if sorted(cols) != sorted(schema.names):
        raise AssertionError(f"{name}: columns {sorted(cols)} != {sorted(schema.names)}")
    return pa.Table.from_arrays([cols[n] for n in schema.names], schema=schema)


class _Sink:
    """One output file, written through a temporary name and renamed when complete."""

    def __init__(self, path: Path, schema: pa.Schema, dictionary: bool | list[str] = True):
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")
        self.rows = 0
        self.csv = path.suffix == ".csv"
        if self.csv:
            # whole seconds print as 'YYYY-MM-DD HH:MM:SS'
            self.schema = pa.schema(
                [pa.field(f.name, pa.timestamp("s")) if pa.types.is_timestamp(f.type) else f
                 for f in schema]
            )
            self.writer = pacsv.CSVWriter(str(self.tmp), self.schema)
        else:
            self.schema = schema
            self.writer = pq.ParquetWriter(
                str(self.tmp), schema, compression="zstd", use_dictionary=dictionary
            )

    def write(self, table: pa.Table) -> None:
        if self.csv:
            table = table.cast(self.schema)
        self.writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> int:
        self.writer.close()
        os.replace(self.tmp, self.path)
        return self.rows

    def abort(self) -> None:
        try:
            self.writer.close()
        finally:
            if self.tmp.exists():
                self.tmp.unlink()
