"""Small SQL and time helpers shared by the store's record classes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, Connection, Insert, String, Table, any_, bindparam, func, select

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_date(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    return value


def midnight(value: date | datetime | str) -> datetime:
    d = to_date(value)
    return datetime(d.year, d.month, d.day)


def iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _dialect_insert(conn: Connection, table: Table) -> PgInsert | SqliteInsert:
    """INSERT with ON CONFLICT clauses, which both dialects spell alike."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_or_ignore(conn: Connection, table: Table) -> Insert:
    return _dialect_insert(conn, table).on_conflict_do_nothing()


def upsert(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Insert rows, replacing the other columns of a row whose keys are already there (one statement)."""
    stmt = _dialect_insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={
        c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys and c.name in rows[0]})
    conn.execute(stmt, rows)


def column_in(conn: Connection, column: Any, values: Iterable[str]) -> Any:
    """column IN values, for any number of values (bound parameters are limited on both dialects)."""
    values = [values] if isinstance(values, str) else [str(v) for v in values]
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("in_values", values, type_=ARRAY(String)))
    # SQLite allows only so many parameters per statement, and rendering one literal per value cost a write of
    # 100,000 latest snapshots 0.35 s a statement: the values go as one JSON array, unnested by json_each.
    unnested = func.json_each(bindparam(None, json.dumps(values), type_=String)).table_valued("value")
    return column.in_(select(unnested.c.value))
