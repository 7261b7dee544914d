"""Appending validated rows to a canonical table, idempotently, and the watermarks of incremental sources.

Used by ``Project.ingest_rows`` (rows posted to the API), by sources with ``mode: append`` and by
``healthscore ingest --incremental``. The rows have passed the same validation as any file
(``load._validate_parts``); here they are added to the engine's canonical table:

- **Idempotent.** A row whose id (``Table.id_column``: tickets.ticket_id, invoices.invoice_id,
  usage_events.event_id, accounts.account_id, contacts.contact_id) is already in the engine table is
  not added again. Tables without an id (surveys, interactions, milestones, assessments, goals,
  outcomes, signals), and usage events without an event_id, compare the whole row (every canonical
  column but the derived sentiment ones): an identical row already in the table is not added again.
  Such rows count as *accepted* (they are valid) and as ``TableReport.already_ingested``; they are
  not quarantined, so that a webhook delivered twice does not fill the quarantine. Identical rows
  within one batch are all added (as a full ingest keeps them); repeated ids within one batch are
  quarantined as duplicates by the ordinary validation.
- **All or nothing.** The batch is staged, then counted, inserted and its watermark recorded in one
  engine transaction (DuckDB and PostgreSQL): a crash leaves the table with all of the batch or none
  of it, and a rerun completes it. A canonical table that does not exist yet is created in the same
  transaction.
- **Never updates.** An existing row is never changed: a ticket whose ``closed_at`` changed in the
  source keeps its first version in append mode. Sources whose rows change use the default
  ``mode: replace``.

Watermarks live in the engine, in the table ``_healthscore_watermarks`` (one row per file content
loaded, or per table source's high-water time), written in the same transaction as the rows they
describe -- so the watermark can never claim rows the table does not hold.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.engine.backend import duckdb_transaction

if TYPE_CHECKING:
    import pyarrow as pa

WATERMARKS = "_healthscore_watermarks"
PAUSE_ENV = "HEALTHSCORE_INGEST_PAUSE"  # "<point>:<seconds>": a test hook to crash ingestion at a known point
_APPEND_LOCK = threading.Lock()  # one append at a time per process (the API may call from threads)

_WATERMARK_DDL = (
    f"CREATE TABLE IF NOT EXISTS {WATERMARKS} (table_name TEXT NOT NULL, source TEXT NOT NULL, kind TEXT NOT NULL,"
    " item TEXT, fingerprint TEXT, high_water TIMESTAMP, rows BIGINT, loaded_at TIMESTAMP NOT NULL)"
)


def pause(point: str) -> None:
    """Test hook: with HEALTHSCORE_INGEST_PAUSE=<point>:<seconds>, say so on stderr and sleep here."""
    spec = os.environ.get(PAUSE_ENV, "")
    if spec.partition(":")[0] == point:
        print(f"healthscore: ingest paused at {point}", file=sys.stderr, flush=True)
        time.sleep(float(spec.partition(":")[2] or 60))


@dataclass
class Mark:
    """One watermark row: a file's content that was loaded, or a table source's high-water time."""

    kind: str  # "file" or "time"
    item: str  # the file (as shown) or the source column of the high-water time
    fingerprint: str | None = None  # sha256 of the file's bytes
    high_water: object | None = None  # newest value of the watermark column among the rows read
    rows: int = 0


@dataclass
class AppendTo:
    """Append the accepted rows (instead of replacing the table) and record these watermarks."""

    source: str
    marks: list[Mark] = field(default_factory=list)
    keep_inserted: bool = False  # keep the rows the append added (DuckDB): `inserted`
    inserted: pa.Table | None = None

    def write(self, con, name: str, accepted: pa.Table) -> int:
        kept: list | None = [] if self.keep_inserted else None
        already = append_rows(con, name, accepted, self.source, self.marks, keep=kept)
        self.inserted = kept[0] if kept else None
        return already


def file_fingerprint(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _is_duckdb(con) -> bool:
    return getattr(con, "name", None) == "duckdb"


def _fetch(con, sql: str) -> list[tuple]:
    if _is_duckdb(con):
        return con.con.execute(sql).fetchall()
    with con.begin() as cur:
        cur.execute(sql)
        return cur.fetchall()


def transactional(con) -> bool:
    return getattr(con, "name", None) in ("duckdb", "postgres")


def require_transactions(con, name: str) -> None:
    from healthscore.errors import UserError

    if not transactional(con):
        raise UserError(f"appending rows (ingest_rows, mode: append, --incremental) needs a DuckDB or PostgreSQL"
                        f" engine (transactions); this engine is {getattr(con, 'name', '?')}: load {name} with"
                        " mode: replace, or append in the warehouse and read it with a table: source")


def _has_table(con, name: str) -> bool:
    if _is_duckdb(con):  # one catalog lookup (Ibis lists every table and view: ~10 ms per append)
        return bool(con.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND "
                                    "schema_name = current_schema()", [name]).fetchone()[0])
    return name in con.list_tables()


def _columns(con, name: str) -> set[str]:
    if _is_duckdb(con):
        return {d[0] for d in con.con.execute(f"SELECT * FROM {_ident(name)} LIMIT 0").description}
    return set(con.table(name).columns)


def loaded_fingerprints(con, table: str) -> set[str]:
    """sha256 of every file content already appended to (or last loaded into) ``table``."""
    require_transactions(con, table)
    if not _has_table(con, WATERMARKS):
        return set()
    rows = _fetch(con, f"SELECT fingerprint FROM {WATERMARKS} WHERE table_name = {_lit(table)} AND kind = 'file'")
    return {r[0] for r in rows if r[0]}


def high_water(con, table: str, source: str):
    """The newest watermark-column value loaded from a table source, or None."""
    require_transactions(con, table)
    if not _has_table(con, WATERMARKS):
        return None
    rows = _fetch(con, f"SELECT max(high_water) FROM {WATERMARKS} WHERE table_name = {_lit(table)}"
                       f" AND source = {_lit(source)} AND kind = 'time'")
    return rows[0][0] if rows else None


def watermarks(con) -> list[dict]:
    """Every watermark row (for tests and inspection)."""
    if not transactional(con) or not _has_table(con, WATERMARKS):
        return []
    cols = ["table_name", "source", "kind", "item", "fingerprint", "high_water", "rows", "loaded_at"]
    rows = _fetch(con, f"SELECT {', '.join(cols)} FROM {WATERMARKS} ORDER BY loaded_at, table_name, item")
    return [dict(zip(cols, r)) for r in rows]


def _mark_values(table: str, source: str, marks: list[Mark]) -> list[str]:
    import datetime as dt

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    out = []
    for m in marks:
        hw = None if m.high_water is None else str(m.high_water)
        hw_sql = "NULL" if hw is None else f"CAST({_lit(hw)} AS TIMESTAMP)"
        out.append(f"({_lit(table)}, {_lit(source)}, {_lit(m.kind)}, {_lit(m.item)}, {_lit(m.fingerprint)}, {hw_sql},"
                   f" {int(m.rows)}, CAST({_lit(now)} AS TIMESTAMP))")
    return out


def reset_watermarks(con, table: str, source: str, marks: list[Mark]) -> None:
    """After a full (replace) load: the table's watermarks are exactly what this load read (engines
    without transactions, e.g. Spark, keep none: they cannot append)."""
    if not transactional(con):
        return
    stmts = [_WATERMARK_DDL, f"DELETE FROM {WATERMARKS} WHERE table_name = {_lit(table)}"]
    values = _mark_values(table, source, marks)
    if values:
        stmts.append(f"INSERT INTO {WATERMARKS} VALUES {', '.join(values)}")
    _run_in_transaction(con, stmts)


def _run_in_transaction(con, stmts: list[str]) -> None:
    if _is_duckdb(con):
        raw = con.con
        with duckdb_transaction(raw):
            for s in stmts:
                raw.execute(s)
        return
    with con.begin() as cur:
        for s in stmts:
            cur.execute(s)


def _id_index_sql(name: str) -> str:
    """An index on the table's id column, so that checking a batch's ids does not scan the table (built
    once, on the first append after a full load; about 6 s for 10M usage events on DuckDB)."""
    idc = TABLES[name].id_column
    return f"CREATE INDEX IF NOT EXISTS {_ident(f'_hs_ids_{name}')} ON {_ident(name)} ({_ident(idc)})"


def _lits(values) -> str:
    return ", ".join(_lit(v) for v in values)


def _ids_present(fetch, name: str, ids: list, chunk: int = 1000) -> list:
    """Which of these ids the table already holds: literal IN lists, which the engine answers from the id
    index (a subquery or a join would scan the table)."""
    idc = _ident(TABLES[name].id_column)
    found = []
    unique = sorted({str(i) for i in ids})
    for i in range(0, len(unique), chunk):
        found += [r[0] for r in fetch(f"SELECT {idc} FROM {_ident(name)} WHERE {idc} IN ({_lits(unique[i:i + chunk])})")]
    return found


def _exists_sql(name: str, columns: list[str], target: str, stage: str | None = None,
                all_ids: bool = False) -> str:
    """SQL condition over staged rows ``s``: the row is already in ``target`` (by id, else whole row).

    When every staged row has its id (`all_ids`), the target is probed only for the staged ids, which
    PostgreSQL answers from the id index (`_id_index_sql`); DuckDB does not use an index for a
    subquery, so its appends look the ids up with `_ids_present` instead.
    """
    table = TABLES[name]
    if all_ids and stage is not None and table.id_column in columns:
        idc = _ident(table.id_column)
        return (f"s.{idc} IN (SELECT t.{idc} FROM {target} t WHERE t.{idc} IN (SELECT {idc} FROM {stage}) "
                f"AND t.{idc} IS NOT NULL)")
    compare = [c.name for c in table.columns if not c.derived_from and c.name in columns]
    whole = " AND ".join(f"t.{_ident(c)} IS NOT DISTINCT FROM s.{_ident(c)}" for c in compare)
    whole_row = f"EXISTS (SELECT 1 FROM {target} t WHERE {whole})"
    if table.id_column is None:
        return whole_row
    idc = _ident(table.id_column)
    by_id = f"EXISTS (SELECT 1 FROM {target} t WHERE t.{idc} = s.{idc})"
    if TABLES[name].column(table.id_column).required:
        return by_id
    return f"(CASE WHEN s.{idc} IS NOT NULL THEN {by_id} ELSE {whole_row} END)"


def append_rows(con, name: str, accepted: pa.Table, source: str, marks: list[Mark] | None = None,
                keep: list | None = None) -> int:
    """Append validated canonical rows to the engine table ``name`` (created if absent), skipping rows
    already there, and record ``marks``, all in one transaction. Returns how many were already there.
    ``keep``: a list that receives the rows added, as an Arrow table (DuckDB only; left empty elsewhere)."""
    from healthscore.errors import UserError
    from healthscore.ingest.sentiment import add_derived, derived_columns

    if derived_columns(name):
        accepted = add_derived(name, accepted)
    require_transactions(con, name)
    columns = accepted.column_names
    target = _ident(name)
    id_column = TABLES[name].id_column
    all_ids = id_column in columns and accepted.column(id_column).null_count == 0
    values = _mark_values(name, source, marks or [])
    with _APPEND_LOCK:
        if _has_table(con, name):
            have = _columns(con, name)
            lacking = [c for c in columns if c not in have]
            if lacking:
                raise UserError(
                    f"the engine's {name} table has no column(s) {', '.join(lacking)} (it was loaded by an older"
                    f" version): reload it in full with 'healthscore ingest --table {name}' before appending"
                )
        cols = ", ".join(_ident(c) for c in columns)
        if _is_duckdb(con):
            raw = con.con
            stage = f"__hs_append_{uuid.uuid4().hex}"
            raw.register(stage, accepted)
            try:
                with duckdb_transaction(raw):
                    raw.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM {stage} LIMIT 0")
                    if all_ids:
                        # ids already there, found through the id index: no scan of a large table
                        raw.execute(_id_index_sql(name))
                        have_ids = _ids_present(lambda sql: raw.execute(sql).fetchall(), name,
                                                accepted.column(id_column).to_pylist())
                        exists = f"s.{_ident(id_column)} IN ({_lits(have_ids)})" if have_ids else "FALSE"
                    else:
                        exists = _exists_sql(name, columns, target, stage, all_ids)
                    # what was not inserted was already there
                    if keep is None:
                        inserted = raw.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} s"
                                               f" WHERE NOT {exists}").fetchone()[0]
                    else:
                        new = raw.execute(f"SELECT {cols} FROM {stage} s WHERE NOT {exists}").arrow()
                        new = new.read_all() if hasattr(new, "read_all") else new
                        raw.register(f"{stage}_new", new)
                        try:
                            inserted = raw.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM"
                                                   f" {stage}_new").fetchone()[0]
                        finally:
                            raw.unregister(f"{stage}_new")
                        keep.append(new)
                    already = accepted.num_rows - int(inserted)
                    pause("appended")
                    if values:
                        raw.execute(_WATERMARK_DDL)
                        raw.execute(f"INSERT INTO {WATERMARKS} VALUES {', '.join(values)}")
            finally:
                raw.unregister(stage)
        else:
            stage = f"hs_append_{uuid.uuid4().hex}"
            con.create_table(stage, obj=accepted)  # a plain table: Ibis's temp tables live in another schema
            try:
                with con.begin() as cur:
                    cur.execute(f"CREATE TABLE IF NOT EXISTS {target} (LIKE {_ident(stage)})")
                    # appenders of one table take turns, so that two batches cannot both add an id
                    cur.execute(f"LOCK TABLE {target} IN SHARE ROW EXCLUSIVE MODE")
                    if all_ids:
                        cur.execute(_id_index_sql(name))  # the id probe below then uses the index
                    exists = _exists_sql(name, columns, target, _ident(stage), all_ids)
                    cur.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {_ident(stage)} s WHERE NOT {exists}")
                    already = accepted.num_rows - cur.rowcount
                    pause("appended")
                    if values:
                        cur.execute(_WATERMARK_DDL)
                        cur.execute(f"INSERT INTO {WATERMARKS} VALUES {', '.join(values)}")
            finally:
                con.drop_table(stage, force=True)
    pause("committed")
    return int(already)
