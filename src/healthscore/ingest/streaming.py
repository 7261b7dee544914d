"""Validation and load inside the engine, for sources too large to read into memory."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.engine.adapters.duckdb import engine_error, is_engine_fault
from healthscore.engine.adapters.sql import alias, column, exp
from healthscore.engine.adapters.sql import table as table_
from healthscore.errors import UserError
from healthscore.ingest.checks import E_ACCOUNT, E_DUPLICATE, Plan, cast, list_lit, select, sql
from healthscore.ingest.columns import column_plan
from healthscore.ingest.quarantine import quarantine_from_rows, refuse_empty
from healthscore.ingest.report import BAD, INTERNAL, POS, TEXT, TableReport
from healthscore.ingest.spool import SPOOL_PREFIX, Streamed, csv_layout, parquet_layout, state_dir

if TYPE_CHECKING:
    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.engine.adapters.duckdb import DuckDBAdapter, LocalDuckDB
    from healthscore.ingest.report import Source


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

FILE_SHIFT = 40
ROW_MASK = (1 << FILE_SHIFT) - 1
# The engine's memory limit while ingesting: a share of the machine's memory, so that large
# sorts and aggregates spill to the engine's temp directory instead of taking the machine.
_STREAM_MEMORY_SHARE = 0.25
_STREAM_MEMORY_MIN = 1 << 30
STREAM_INLINE_VALUES = 64  # see pass C: up to this many unknown account ids and repeated ids
STREAM_CSV_MIN_BYTES = 64 << 20  # smaller CSV sources are read in memory


def can_stream(engine: EngineAdapter, src: Source, where) -> bool:
    if not engine.reads_files or not isinstance(where, list):
        return False
    if any("." in key for key in src.columns):  # nested keys (custom_fields.crm_id) are read in memory
        return False
    if src.format == "parquet":
        return True
    if src.format == "csv":  # small files are read faster in memory
        return sum(p.stat().st_size for p in where) >= STREAM_CSV_MIN_BYTES
    return False


def ingest_streaming(
    ws,
    engine: DuckDBAdapter,
    vcon: LocalDuckDB,
    name: str,
    src: Source,
    files: list[Path],
    say,
    check_accounts: bool,
    allow_empty: bool = True,
):
    """Validate and load Parquet or CSV files inside the DuckDB engine (see above). Returns
    (report, accepted account ids for accounts), or None when the files need the in-memory path."""
    from healthscore.faults import fault_point

    if src.format == "csv":
        # named after this process: a killed ingest's spool is removed by the next one (clean_stale_spools)
        spool = Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=state_dir(ws)))
        try:
            layout = csv_layout(ws, files, spool, say, name)
            fault_point("ingest:spooled")
            return (
                None
                if layout is None
                else _stream_layout(ws, engine, vcon, name, src, layout, say, check_accounts, allow_empty)
            )
        finally:
            shutil.rmtree(spool, ignore_errors=True)
    layout = parquet_layout(ws, engine, files)
    if layout is None:
        return None
    for part in layout:
        say(f"{name}: reading {part.display}")
    return _stream_layout(ws, engine, vcon, name, src, layout, say, check_accounts, allow_empty)


def _stream_layout(
    ws,
    engine: DuckDBAdapter,
    vcon: LocalDuckDB,
    name: str,
    src: Source,
    layout: list[Streamed],
    say,
    check_accounts: bool,
    allow_empty: bool = True,
):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = TABLES[name]
    # The files as one relation: canonical columns under their canonical names, extra columns as
    # __hs_x<k> (so that no name can clash), in the order they first appear.
    warnings: list[str] = []
    ignored: dict[tuple[str, ...], list[str]] = {}
    extra_ids: dict[str, str] = {}
    keys: dict[str, str] = {}  # relation column -> the source's own name (first file that has it)
    selects = []
    for fid, part in enumerate(layout):
        rename, extras = column_plan(part.display, part.names, table, src, name)
        if extras:
            ignored.setdefault(tuple(extras), []).append(part.display)
        cols = []
        for n in part.names:
            target = rename[n] if n in rename else extra_ids.setdefault(n, f"__hs_x{len(extra_ids)}")
            keys.setdefault(target, n)
            cols.append(alias(column(n), target))
        position = sql("CAST($fid AS BIGINT) * $shift + $pos", fid=fid, shift=1 << FILE_SHIFT, pos=part.pos)
        selects.append(
            exp.select(alias(position, POS), alias(part.bad, BAD), alias(part.text, TEXT), *cols).from_(part.source)
        )
    for skipped, in_files in ignored.items():
        where_ = in_files[0] if len(in_files) == 1 else f"{in_files[0]} and {len(in_files) - 1} more file(s)"
        warnings.append(f"{where_}: ignored column(s) not in the {name} contract: {', '.join(map(repr, skipped))}")
    files: exp.Query = selects[0]
    for more in selects[1:]:
        files = exp.Union(this=files, expression=more, distinct=False, by_name=True)
    source = files.subquery("__hs_s")
    try:
        schema = engine.fetch_arrow(exp.select("*").from_(source).limit(0)).schema
    except engine_error():  # e.g. the files disagree on a column's type in a way DuckDB cannot unify
        return None
    raw_cols = [n for n in schema.names if n not in INTERNAL]
    n_rows = sum(part.rows for part in layout)
    displays = [part.display for part in layout]
    what = "CSV" if layout[0].word == "line" else "Parquet"
    plan = Plan(table, schema, src.columns)

    checked = plan.check_sql(source)
    token = uuid.uuid4().hex
    dups, hashes = table_(f"__hs_dups_{token}"), table_(f"__hs_hashes_{token}")
    id_col = table.id_column if table.id_column and table.id_column in plan.present else None
    accounts_col = (
        "account_id" if check_accounts and table.references_accounts and "account_id" in plan.present else None
    )
    cleanup = ExitStack()
    cleanup.enter_context(engine.bulk_tuning(ws.state_dir / "tmp"))
    try:
        say(f"{name}: validating {n_rows:,} row(s)")
        known_accounts = select(
            "SELECT DISTINCT CAST(account_id AS VARCHAR) AS account_id FROM accounts WHERE account_id IS NOT NULL"
        )
        # A. ids repeated among the rows that passed checks 0-4, with the first position of a row
        # that also passes check 6 (the row that claims the id). First the hashes of the ids that
        # occur more than once at all (a cheap aggregate over 8-byte keys; usually none), then the
        # exact aggregate over the rows with those hashes only.
        if id_col:
            engine.execute(
                sql(
                    "CREATE TEMP TABLE $t AS SELECT hash($p) AS h FROM $c"
                    " WHERE $p IS NOT NULL GROUP BY h HAVING count(*) > 1",
                    t=hashes,
                    p=plan.p(id_col),
                    c=checked.subquery("__hs_c"),
                )
            )
            if not engine.fetchall(exp.select("count(*)").from_(hashes))[0][0]:
                id_col = None  # no id occurs twice
        if id_col:
            p = column(plan.p_name(id_col), "c")
            if accounts_col:
                firsts = select(
                    "SELECT $p AS id, min(c.__hs_pos) FILTER (WHERE a.account_id IS NOT NULL) AS first_pos"
                    " FROM $c LEFT JOIN $known AS a ON a.account_id = $pa"
                    " WHERE c.__hs_err IS NULL AND $p IS NOT NULL AND hash($p) IN (SELECT h FROM $hashes)"
                    " GROUP BY $p HAVING count(*) > 1",
                    p=p,
                    c=checked.subquery("c"),
                    known=known_accounts.subquery(),
                    pa=column(plan.p_name(accounts_col), "c"),
                    hashes=hashes,
                )
            else:
                firsts = select(
                    "SELECT $p AS id, min(c.__hs_pos) FILTER (WHERE TRUE) AS first_pos FROM $c"
                    " WHERE c.__hs_err IS NULL AND $p IS NOT NULL AND hash($p) IN (SELECT h FROM $hashes)"
                    " GROUP BY $p HAVING count(*) > 1",
                    p=p,
                    c=checked.subquery("c"),
                    hashes=hashes,
                )
            engine.execute(sql("CREATE TEMP TABLE $t AS SELECT * FROM $firsts", t=dups, firsts=firsts.subquery()))
        # B. the quarantined rows, with the source's values as text
        quarantined = exp.select(column(POS, "c")).from_(plan.check_sql(source, raw_cols + [BAD, TEXT]).subquery("c"))
        dup_cond: exp.Expr = exp.false()
        acc_cond: exp.Expr = exp.false()
        first_expr = cast(exp.null(), "BIGINT")
        if id_col:
            quarantined = quarantined.join(
                table_(dups.name, "d"), on=sql("$p = d.id", p=column(plan.p_name(id_col), "c")), join_type="left"
            )
            dup_cond = sql("(d.first_pos IS NOT NULL AND c.__hs_pos > d.first_pos)")
            first_expr = sql("CASE WHEN c.__hs_err IS NULL AND $dup THEN d.first_pos END", dup=dup_cond)
        if accounts_col:
            p = column(plan.p_name(accounts_col), "c")
            quarantined = quarantined.join(
                known_accounts.subquery("a"), on=sql("a.account_id = $p", p=p), join_type="left"
            )
            acc_cond = sql("($p IS NOT NULL AND a.account_id IS NULL)", p=p)
        dup_code = E_DUPLICATE * 1000 + plan.index(id_col) if id_col else 0
        acc_code = E_ACCOUNT * 1000 + plan.index(accounts_col) if accounts_col else 0
        error = sql(
            "CASE WHEN c.__hs_err IS NOT NULL THEN c.__hs_err WHEN $dup THEN $dup_code WHEN $acc THEN $acc_code END",
            dup=dup_cond,
            dup_code=dup_code,
            acc=acc_cond,
            acc_code=acc_code,
        )
        quarantined = quarantined.select(
            alias(error, "__hs_err"),
            alias(first_expr, "__hs_first"),
            column(BAD, "c"),
            column(TEXT, "c"),
            *(alias(cast(column(n, "c"), "VARCHAR"), n) for n in raw_cols),
            *([alias(column(plan.p_name(id_col), "c"), "__hs_id")] if id_col else []),
            *([alias(column(plan.p_name(accounts_col), "c"), "__hs_account")] if accounts_col else []),
        )
        bad = engine.fetch_arrow(
            sql("SELECT * FROM $q WHERE __hs_err IS NOT NULL ORDER BY __hs_pos", q=quarantined.subquery())
        )
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
        engine.set("preserve_insertion_order", True)
        checks = bad.column("__hs_err").to_numpy() // 1000
        by_join = (checks == E_DUPLICATE) | (checks == E_ACCOUNT)
        unknown = (
            pc.unique(bad.column("__hs_account").filter(pa.array(checks == E_ACCOUNT)))
            if accounts_col
            else pa.array([])
        )
        repeated = bad.filter(pa.array(checks == E_DUPLICATE)) if id_col else None
        repeated_ids = pc.unique(repeated.column("__hs_id")) if repeated is not None else pa.array([])
        accepted = exp.select(*plan.output_sql()).from_(checked.subquery("__hs_c"))
        where_ok: list[exp.Expr] = [sql("__hs_err IS NULL")]
        if not by_join.any():
            pass
        elif len(unknown) <= STREAM_INLINE_VALUES and len(repeated_ids) <= STREAM_INLINE_VALUES:
            # list_contains over constants, not IN: DuckDB turns long IN lists into a join
            if len(unknown):
                assert accounts_col is not None  # unknown accounts are only found when they are checked
                where_ok.append(
                    sql("NOT coalesce(list_contains($ids, $p), FALSE)", ids=list_lit(unknown), p=plan.p(accounts_col))
                )
            if len(repeated_ids):
                assert id_col is not None and repeated is not None  # repeated ids are only found with an id
                firsts_ = pc.unique(repeated.column("__hs_first"))
                where_ok.append(
                    sql(
                        "(NOT coalesce(list_contains($ids, $p), FALSE) OR list_contains($firsts, __hs_pos))",
                        ids=list_lit(repeated_ids),
                        p=plan.p(id_col),
                        firsts=list_lit(firsts_),
                    )
                )
        else:
            positions = pa.table({"pos": bad.column(POS).filter(pa.array(by_join))})
            bad_view = cleanup.enter_context(engine.registered(positions, "__hs_bad"))
            # ANTI JOIN, not NOT EXISTS: that is planned as a correlated join over all positions
            accepted = accepted.join(table_(bad_view.name, "b"), on=sql("b.pos = __hs_c.__hs_pos"), join_type="anti")
        if not empty:
            engine.execute(
                exp.Create(
                    this=table_(name), kind="TABLE", replace=True, expression=accepted.where(exp.and_(*where_ok))
                )
            )
        written = accepted_n if empty else engine.fetchall(exp.select("count(*)").from_(table_(name)))[0][0]
        if written != accepted_n:
            raise AssertionError(
                f"{name}: wrote {written} rows, expected {accepted_n} ({n_rows} read, {quarantined_n} quarantined)"
            )
        accepted_ids = None
        if name == "accounts":
            ids = engine.fetch_arrow(exp.select(column("account_id")).distinct().from_(table_(name)))
            accepted_ids = pa.table({"account_id": ids.column(0).cast(pa.string())})
    except engine_error() as exc:
        if is_engine_fault(exc):
            raise
        # a damaged file is only found while reading it (the footers were read before)
        raise UserError(f"{', '.join(displays)}: cannot read as {what}: {exc}") from None
    finally:
        engine.execute(exp.Drop(this=dups, kind="TABLE", exists=True))
        engine.execute(exp.Drop(this=hashes, kind="TABLE", exists=True))
        cleanup.close()  # the positions view, then the engine's settings

    # The quarantine: the same columns as the in-memory path gives quarantine_from_rows.
    pos = bad.column(POS).to_numpy().astype(np.int64)
    has_first = bad.column("__hs_first").is_valid().to_numpy(zero_copy_only=False).astype(bool)
    first = pc.fill_null(bad.column("__hs_first"), 0).to_numpy().astype(np.int64)
    fids, lines = pos >> FILE_SHIFT, (pos & ROW_MASK) + 1
    first_fids, first_lines = first >> FILE_SHIFT, (first & ROW_MASK) + 1
    file_names = np.array(displays, dtype=object)
    rows = bad.select(raw_cols + [BAD, TEXT])
    rows = rows.append_column("__hs_err", bad.column("__hs_err"))
    rows = rows.append_column("__hs_fid", pa.array(fids.astype(np.int32)))
    rows = rows.append_column("__hs_file", pa.array(file_names[fids].tolist(), pa.string()))
    rows = rows.append_column("__hs_line", pa.array(lines))
    rows = rows.append_column(
        "__hs_word", pa.array(np.array([p.word for p in layout], dtype=object)[fids].tolist(), pa.string())
    )
    same_file = ~has_first | (first_fids == fids)
    rows = rows.append_column("__hs_first_file", pa.array(file_names[first_fids].tolist(), pa.string(), mask=same_file))
    rows = rows.append_column("__hs_first_line", pa.array(first_lines, pa.int64(), mask=~has_first))
    quarantine = quarantine_from_rows(vcon, plan, rows, raw_cols, [keys[n] for n in raw_cols])
    if empty:
        refuse_empty(name, src, n_rows, quarantine)
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
