"""Bulk writes of DataFrames: whole columns encoded up front into what SQLAlchemy itself would store, then
executemany on SQLite and COPY on PostgreSQL."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date
from json.encoder import encode_basestring_ascii as _json_string  # what json.dumps uses
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError

# Rows per executemany call: bounds the Python objects alive at once during a large write.
_CHUNK_ROWS = 20_000


def select_columns(frame: pd.DataFrame, names: list[str], what: str) -> pd.DataFrame:
    """A new frame of the named columns that shares their arrays: callers replace whole columns, never write
    into one (copying a scoring run's 2.4M evidence rows, Python objects among them, cost 0.2 s)."""
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {', '.join(missing)}")
    return pd.DataFrame({n: frame[n] for n in names}, index=frame.index, copy=False)


# Encoders turn a whole column into values ready for the driver. Missing values become None.
Encoder = Callable[[pd.Series], list]


def bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame, encoders: dict[str, Encoder]) -> None:
    """Insert a frame in chunks, straight through the driver.

    SQLAlchemy's per-row parameter processing costs more than the database's own work at a few
    million rows, so whole columns are encoded up front into what SQLAlchemy itself would store
    (see the encoders), then SQLite gets executemany and PostgreSQL gets COPY, in the caller's
    transaction.
    """
    names = list(encoders)
    if conn.dialect.name == "postgresql":
        from psycopg import sql

        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names))
    else:
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=names)
        names = list(compiled.positiontup or ())  # the order of its positional parameters
    for start in range(0, len(frame), _CHUNK_ROWS):
        chunk = frame.iloc[start : start + _CHUNK_ROWS]
        rows = list(zip(*(encoders[n](chunk[n]) for n in names)))
        if conn.dialect.name == "postgresql":
            driver = conn.connection.driver_connection
            assert driver is not None  # a checked-out connection always has its psycopg connection
            try:
                with driver.cursor() as cur, cur.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            except conn.dialect.loaded_dbapi.Error as exc:
                # The same exception classes (IntegrityError ...) as every other statement raises.
                raise DBAPIError.instance(copy_sql.as_string(driver), None, exc,
                                          conn.dialect.loaded_dbapi.Error) from exc
        else:
            conn.exec_driver_sql(compiled.string, rows)


def _nulls(series: pd.Series) -> list:
    return series.astype(object).where(series.notna(), None).tolist()


def _text(series: pd.Series) -> list[str | None]:
    # where(): pandas < 3 turns None into "None" in astype(str)
    return _nulls(series.astype(str).where(series.notna()))


def _bool(series: pd.Series) -> list[bool]:
    """True or false; missing values are false."""
    try:
        values = pd.array(series, dtype="boolean")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{series.name}: expected true or false values ({exc})") from None
    return values.fillna(False).to_numpy(dtype=bool).tolist()


def _json_list(series: pd.Series) -> list[str]:
    """JSON arrays; a missing value is the empty array."""
    out = ["[]" if v is None else v for v in _json(series)]
    for v in out:
        if v[0] != "[":
            raise ValueError(f"{series.name}: expected lists, got {v[:80]}")
    return out


def _json_object(series: pd.Series) -> list[str | None]:
    """JSON objects (from dicts); a missing value is NULL."""
    out = _json(series)
    for v in out:
        if v is not None and v[0] != "{":
            raise ValueError(f"{series.name}: expected dicts, got {v[:80]}")
    return out


def _floats(series: pd.Series) -> np.ndarray:
    """float64 with NaN for every kind of missing value (None, pd.NA, NaN) in any column dtype."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind == "f":  # numpy floats: as they are
        return series.to_numpy(dtype="float64")
    return pd.array(series, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan)


def _float(series: pd.Series) -> list[float | None]:
    return [None if v != v else v for v in _floats(series).tolist()]  # NaN != NaN


def _int(series: pd.Series) -> list[int | None]:
    return _nulls(pd.Series(pd.array(series, dtype="Int64")))


def naive_utc(series: pd.Series) -> pd.Series:
    # Naive values are UTC already by convention; aware ones are converted.
    return pd.to_datetime(series, utc=True).dt.tz_localize(None)


def _datetime(series: pd.Series) -> list[str | None]:
    """Datetimes as text in SQLAlchemy's SQLite storage format, which PostgreSQL's COPY also parses.

    Formatted once per distinct value: a column of millions usually holds a handful of dates.
    """
    codes, uniques = pd.factorize(naive_utc(series))  # NaT gets code -1
    texts = np.array([f"{u:%Y-%m-%d %H:%M:%S.%f}" for u in uniques] + [None], dtype=object)
    return texts[codes].tolist()


def _json(series: pd.Series) -> list[str | None]:
    """JSON text; a missing value becomes SQL NULL rather than JSON null.

    Scalars are encoded inline: this runs for every evidence value, and json.dumps per cell would
    be most of the cost of a large write.
    """
    if pd.api.types.is_float_dtype(series.dtype):
        numbers = _floats(series)
        return [None if v != v else repr(v) for v in np.where(np.isfinite(numbers), numbers, np.nan).tolist()]
    out: list[str | None] = []
    for value in series.tolist():
        kind = type(value)
        if kind is str:
            out.append(_json_string(value))
            continue
        if kind is list and not value:  # e.g. no reasons, no flags: the common case
            out.append("[]")
            continue
        if kind is list or kind is dict:  # e.g. a snapshot's components: orjson, ~10x json.dumps of _jsonable
            out.append(_orjson_text(value))
            continue
        value = _jsonable(value)
        kind = type(value)
        if value is None:
            out.append(None)
        elif kind is float or kind is int:
            out.append(repr(value))  # what json.dumps writes
        else:
            out.append(json.dumps(value))
    return out


def _orjson_text(value: list | dict) -> str:
    """What json.dumps(_jsonable(value)) writes (NaN and infinities as null, numpy scalars as numbers, dates
    in ISO format, other types through _jsonable), several times faster."""
    import orjson

    try:
        return orjson.dumps(value, default=_jsonable, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
                            | orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits, a numpy array of objects
        return json.dumps(_jsonable(value))


def _jsonable(value: Any) -> Any:
    """Plain JSON values from pandas/numpy ones: missing and non-finite numbers become None."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:  # the common cases first: this runs per cell
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        return _jsonable(value.item())
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, date):  # datetime and pd.Timestamp too
        return value.isoformat()
    if isinstance(value, float):  # subclasses of float and int, e.g. enums
        return _jsonable(float(value))
    if isinstance(value, int):
        return int(value)
    return str(value)  # e.g. Decimal or bytes in a quarantined row: kept readable, never lost


SNAPSHOT_ENCODERS: dict[str, Encoder] = {
    "account_id": _text,
    "as_of": _datetime,
    "model_version": _text,
    "run_id": _text,
    "score": _float,
    "tier": _text,
    "status": _text,
    "confidence": _float,
    "coverage": _float,
    "segment": _text,
    "components": _json,
    "reasons": _json,
    "created_at": _datetime,
    "smoothed_score": _float,
    "primary_driver": _text,
    "trend_note": _text,
    "flags": _json_list,
    "review_required": _bool,
    "last_trusted": _json_object,
}
# For a frame whose JSON columns SNAPSHOT_ENCODERS already turned into text (a write encodes them once, for the
# history file and the store's latest rows alike).
ENCODED_SNAPSHOT_ENCODERS: dict[str, Encoder] = {
    name: _nulls if encoder in (_json, _json_list, _json_object) else encoder
    for name, encoder in SNAPSHOT_ENCODERS.items()}
EVIDENCE_ENCODERS: dict[str, Encoder] = {
    "account_id": _text,
    "as_of": _datetime,
    "model_version": _text,
    "metric": _text,
    "component": _text,
    "value": _json,
    "window": _text,
    "source": _text,
    "rows": _int,
    "latest_at": _datetime,
    "score": _float,
    "weight": _float,
    "points": _float,
    "as_of_source": _text,
}
QUARANTINE_ENCODERS: dict[str, Encoder] = {
    "batch_id": _text,
    "table_name": _text,
    "file": _text,
    "line": _int,
    "column_name": _text,
    "value": _text,
    "reason": _text,
    "raw": _json,
    "created_at": _datetime,
}
