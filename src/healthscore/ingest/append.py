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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from healthscore.engine.adapters.base import EngineAdapter

WATERMARKS = "_healthscore_watermarks"
PAUSE_ENV = "HEALTHSCORE_INGEST_PAUSE"  # "<point>:<seconds>": a test hook to crash ingestion at a known point
_APPEND_LOCK = threading.Lock()  # one append at a time per process (the API may call from threads)


def _watermark_ddl(dialect: str) -> exp.Expr:
    from healthscore.engine.adapters.sql import table, template

    return template("CREATE TABLE IF NOT EXISTS :t (table_name TEXT NOT NULL, source TEXT NOT NULL,"
                    " kind TEXT NOT NULL, item TEXT, fingerprint TEXT, high_water TIMESTAMP, rows BIGINT,"
                    " loaded_at TIMESTAMP NOT NULL)", dialect, t=table(WATERMARKS))


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

    def write(self, engine: EngineAdapter, name: str, accepted: pa.Table) -> int:
        kept: list | None = [] if self.keep_inserted else None
        already = append_rows(engine, name, accepted, self.source, self.marks, keep=kept)
        self.inserted = kept[0] if kept else None
        return already


def file_fingerprint(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def require_transactions(engine: EngineAdapter, name: str) -> None:
    if not engine.transactions:
        raise UserError(f"appending rows (ingest_rows, mode: append, --incremental) needs a DuckDB or PostgreSQL"
                        f" engine (transactions); this engine is {engine.name}: load {name} with"
                        " mode: replace, or append in the warehouse and read it with a table: source")


def _watermark_query(*columns: str, where: exp.Expr) -> exp.Select:
    from healthscore.engine.adapters.sql import exp, table

    return exp.select(*columns).from_(table(WATERMARKS)).where(where)


def loaded_fingerprints(engine: EngineAdapter, table: str) -> set[str]:
    """sha256 of every file content already appended to (or last loaded into) ``table``."""
    from healthscore.engine.adapters.sql import column, lit

    require_transactions(engine, table)
    if not engine.has_table(WATERMARKS):
        return set()
    where = column("table_name").eq(lit(table)).and_(column("kind").eq(lit("file")))
    return {r[0] for r in engine.fetchall(_watermark_query("fingerprint", where=where)) if r[0]}


def high_water(engine: EngineAdapter, table: str, source: str):
    """The newest watermark-column value loaded from a table source, or None."""
    from healthscore.engine.adapters.sql import column, lit

    require_transactions(engine, table)
    if not engine.has_table(WATERMARKS):
        return None
    where = column("table_name").eq(lit(table)).and_(column("source").eq(lit(source))).and_(
        column("kind").eq(lit("time")))
    rows = engine.fetchall(_watermark_query("max(high_water)", where=where))
    return rows[0][0] if rows else None


def watermarks(engine: EngineAdapter) -> list[dict]:
    """Every watermark row (for tests and inspection)."""
    from healthscore.engine.adapters.sql import exp, table

    if not engine.transactions or not engine.has_table(WATERMARKS):
        return []
    cols = ["table_name", "source", "kind", "item", "fingerprint", "high_water", "rows", "loaded_at"]
    query = exp.select(*cols).from_(table(WATERMARKS)).order_by("loaded_at", "table_name", "item")
    return [dict(zip(cols, r)) for r in engine.fetchall(query)]


def _insert_marks(dialect: str, table: str, source: str, marks: list[Mark]) -> exp.Expr | None:
    import datetime as dt

    from healthscore.engine.adapters.sql import exp, lit
    from healthscore.engine.adapters.sql import table as table_

    if not marks:
        return None
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for m in marks:
        hw = None if m.high_water is None else exp.cast(lit(str(m.high_water)), exp.DataType.Type.TIMESTAMP)
        rows.append((lit(table), lit(source), lit(m.kind), lit(m.item), lit(m.fingerprint),
                     hw if hw is not None else exp.Null(), lit(int(m.rows)), lit(now)))
    return exp.insert(exp.values(rows), table_(WATERMARKS))


def reset_watermarks(engine: EngineAdapter, table: str, source: str, marks: list[Mark]) -> None:
    """After a full (replace) load: the table's watermarks are exactly what this load read (engines
    without transactions, e.g. Spark, keep none: they cannot append)."""
    from healthscore.engine.adapters.sql import column, exp, lit
    from healthscore.engine.adapters.sql import table as table_

    if not engine.transactions:
        return
    insert = _insert_marks(engine.dialect, table, source, marks)
    with engine.transaction() as tx:
        tx.execute(_watermark_ddl(engine.dialect))
        tx.execute(exp.delete(table_(WATERMARKS), where=column("table_name").eq(lit(table))))
        if insert is not None:
            tx.execute(insert)


def _id_index(engine: EngineAdapter, name: str) -> exp.Expr:
    """An index on the table's id column, so that checking a batch's ids does not scan the table (built
    once, on the first append after a full load; about 6 s for 10M usage events on DuckDB)."""
    from healthscore.engine.adapters.sql import column, ident, table, template

    return template("CREATE INDEX IF NOT EXISTS :i ON :t (:c)", engine.dialect, i=ident(f"_hs_ids_{name}"),
                    t=table(name), c=column(_id_column(name)))


def _id_column(name: str) -> str:
    idc = TABLES[name].id_column
    assert idc is not None, name  # only called for tables with an id
    return idc


def _required(name: str, column_name: str) -> bool:
    col = TABLES[name].column(column_name)
    return col is not None and col.required


def _ids_present(tx, name: str, ids: list, chunk: int = 1000) -> list:
    """Which of these ids the table already holds: literal IN lists, which the engine answers from the id
    index (a subquery or a join would scan the table)."""
    from healthscore.engine.adapters.sql import column, exp, lit, table

    idc = column(_id_column(name))
    found = []
    unique = sorted({str(i) for i in ids})
    for i in range(0, len(unique), chunk):
        query = exp.select(idc).from_(table(name)).where(idc.isin(*(lit(v) for v in unique[i:i + chunk])))
        found += [r[0] for r in tx.fetchall(query)]
    return found


def _exists(name: str, columns: list[str], stage: exp.Table | None = None, all_ids: bool = False) -> exp.Expr:
    """Condition over staged rows ``s``: the row is already in the table (by id, else whole row).

    When every staged row has its id (`all_ids`), the target is probed only for the staged ids, which
    PostgreSQL answers from the id index (`_id_index`); DuckDB does not use an index for a
    subquery, so its appends look the ids up with `_ids_present` instead.
    """
    from healthscore.engine.adapters.sql import column, exp
    from healthscore.engine.adapters.sql import table as table_

    table = TABLES[name]
    target = table_(name, "t")
    if all_ids and stage is not None and table.id_column in columns:
        idc = table.id_column
        staged_ids = exp.select(column(idc)).from_(stage.copy())
        probe = (exp.select(column(idc, "t")).from_(target)
                 .where(column(idc, "t").isin(query=staged_ids)).where(column(idc, "t").is_(exp.null()).not_()))
        return column(idc, "s").isin(query=probe)
    compare = [c.name for c in table.columns if not c.derived_from and c.name in columns]
    whole = exp.and_(*(exp.NullSafeEQ(this=column(c, "t"), expression=column(c, "s")) for c in compare))
    whole_row = exp.Exists(this=exp.select("1").from_(target.copy()).where(whole))
    if table.id_column is None:
        return whole_row
    idc = table.id_column
    by_id = exp.Exists(this=exp.select("1").from_(target.copy()).where(column(idc, "t").eq(column(idc, "s"))))
    if _required(name, idc):
        return by_id
    return exp.case().when(column(idc, "s").is_(exp.null()).not_(), by_id).else_(whole_row)


def append_rows(engine: EngineAdapter, name: str, accepted: pa.Table, source: str, marks: list[Mark] | None = None,
                keep: list | None = None) -> int:
    """Append validated canonical rows to the engine table ``name`` (created if absent), skipping rows
    already there, and record ``marks``, all in one transaction. Returns how many were already there.
    ``keep``: a list that receives the rows added, as an Arrow table (DuckDB only; left empty elsewhere)."""
    from healthscore.engine.adapters.sql import column, exp, ident, lit, table
    from healthscore.ingest.sentiment import add_derived, derived_columns

    if derived_columns(name):
        accepted = add_derived(name, accepted)
    require_transactions(engine, name)
    columns = accepted.column_names
    id_column = TABLES[name].id_column
    all_ids = id_column in columns and accepted.column(id_column).null_count == 0
    insert_marks = _insert_marks(engine.dialect, name, source, marks or [])
    cols, names = [column(c) for c in columns], [ident(c) for c in columns]
    with _APPEND_LOCK:
        if engine.has_table(name):
            have = set(engine.columns(name))
            lacking = [c for c in columns if c not in have]
            if lacking:
                raise UserError(
                    f"the engine's {name} table has no column(s) {', '.join(lacking)} (it was loaded by an older"
                    f" version): reload it in full with 'healthscore ingest --table {name}' before appending"
                )
        with engine.staged(accepted, "hs_append") as stage, engine.transaction() as tx:
            tx.execute(engine.create_like(name, stage))
            if engine.locks_tables:
                tx.execute(engine.lock_table(name))
            if all_ids:
                tx.execute(_id_index(engine, name))
            if all_ids and not engine.index_probes_subqueries:
                # ids already there, found through the id index: no scan of a large table
                have_ids = _ids_present(tx, name, accepted.column(id_column).to_pylist())
                exists: exp.Expr = (column(_id_column(name), "s").isin(*(lit(v) for v in have_ids)) if have_ids
                                          else exp.false())
            else:
                exists = _exists(name, columns, stage, all_ids)
            new = exp.select(*cols).from_(stage.as_("s")).where(exists.not_())
            # what was not inserted was already there
            if keep is not None and engine.keeps_appended_rows:
                rows = tx.fetch_arrow(new)
                with engine.staged(rows, "hs_append_new") as added:
                    inserted = tx.execute(exp.insert(exp.select(*cols).from_(added), table(name), columns=names))
                keep.append(rows)
            else:
                inserted = tx.execute(exp.insert(new, table(name), columns=names))
            already = accepted.num_rows - inserted
            pause("appended")
            if insert_marks is not None:
                tx.execute(_watermark_ddl(engine.dialect))
                tx.execute(insert_marks)
    pause("committed")
    return int(already)
