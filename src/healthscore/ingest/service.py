"""Ingestion as a service: the workspace's sources (or posted rows) validated and loaded into the engine."""

from __future__ import annotations

import os
import tempfile
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.engine.adapters.duckdb import LocalDuckDB, row_validator
from healthscore.errors import InvalidInput
from healthscore.ingest import streaming
from healthscore.ingest.columns import preflight, read_parts, rows_part
from healthscore.ingest.owners import Owners, map_owner_parts
from healthscore.ingest.quarantine import empty_report, refuse_empty, vendor_raw
from healthscore.ingest.read import locate, shown_path
from healthscore.ingest.report import InlineSource, Part, TableReport, source_key
from healthscore.ingest.sentiment import add_derived, derived_columns
from healthscore.ingest.sources import adapter_parts, table_parts
from healthscore.ingest.spool import clean_stale_spools
from healthscore.ingest.sql_source import after_dependencies, parse_query, referenced_tables, sql_parts
from healthscore.ingest.validate import validate_parts

if TYPE_CHECKING:
    import pyarrow as pa

    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.engine.adapters.duckdb import DuckDBAdapter
    from healthscore.ingest.report import Source
    from healthscore.store.store import Store
    from healthscore.workspace import Workspace


def ingest_workspace(
    ws: Workspace,
    engine: EngineAdapter,
    *,
    tables: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    incremental: bool = False,
    allow_empty: bool = True,
    owners: Owners | None = None,
    sample: int | None = None,
) -> list[TableReport]:
    """Validate the workspace's sources and load the accepted rows into the ``engine``.

    ``owners``: the store's users and the workspace's ``owners:`` map; owner values of accounts and
    account_changes are mapped to usernames and the unmapped ones reported (``ingest/owners.py``).

    ``sample`` (``healthscore validate``): every source runs through exactly these steps, but only its
    first ``sample`` rows -- except accounts, account_ids and the tables a SQL source reads, which are
    read whole so that the account check, the crosswalk and the joins see every id -- every source is
    replaced (no append state is read or written) and ``engine`` should be an ``engine.scratch.ScratchEngine``.

    Sources with ``mode: append`` -- every source when ``incremental`` -- are appended instead of
    replaced: only files whose content was not loaded before (file sources) or rows at or after the
    last high-water time (table sources) are read, rows already in the table (same id) are skipped,
    and each batch is appended with its watermark in one transaction (``ingest/append.py``).
    Sources with ``adapter:`` are read through a vendor adapter (``ingest/adapters.py``), sources
    with ``database:`` from another database.

    Sources run with
    ``accounts`` first, then in contract order; ``tables`` restricts which sources run (canonical
    table names that have a source in healthscore.yaml). When ``accounts`` is not among them, the
    unknown-account check uses the engine's existing ``accounts`` table (and is skipped, with a
    warning in the report, when there is none). ``progress`` receives one-line status messages.

    Each canonical table is replaced atomically: if anything fails, the previous table stays.
    Problems with the configuration or a whole file (no file matches, unknown or missing columns,
    unreadable file) raise ``UserError`` -- the headers of all CSV and Parquet sources are checked
    before any table is written. Problems with single rows never raise: the rows are quarantined
    and listed in the returned reports (one per source, in the order they ran).

    Sources with ``table:`` are read from the engine through Ibis and *copied* (pulled to Arrow,
    validated, cast) into the canonical table; the source table itself is left as it is.

    With the DuckDB engine, Parquet sources and large CSV sources stream through the engine
    (``ingest_streaming``): same checks, reasons, line/row numbers and counts, bounded memory.

    With ``allow_empty=False`` (``Project.ingest``'s default, so the CLI's and the web app's), a
    source that would empty its table (no rows, or every row quarantined) in replace mode raises
    ``UserError`` before that table is written: a header-only accounts file
    would otherwise empty accounts and, through the unknown-account check, every other table.
    """
    say = progress or (lambda _msg: None)
    configured = ws.config.sources
    if tables is not None:
        for name in tables:
            if name not in TABLES:
                raise InvalidInput(f"{name!r} is not a canonical table; allowed: {', '.join(TABLES)}", field="table")
            if name not in configured:
                raise InvalidInput(
                    f"{ws.config_path}: no source for {name!r}; add sources.{name} (path: or table:)"
                    " to healthscore.yaml",
                    details=[f"configured sources: {', '.join(configured) or '(none)'}"],
                    field="table",
                )
    wanted = set(configured) if tables is None else set(tables)
    order = [name for name in TABLES if name in wanted]  # contract order
    order.sort(key=lambda n: n != "accounts")  # accounts first, so that account ids are known
    if "account_ids" in order and "accounts" in order and configured["accounts"].resolve_ids is not None:
        order.remove("account_ids")  # the accounts source itself is read through the crosswalk
        order.insert(0, "account_ids")
    order = after_dependencies(order, configured)
    if not order:
        return []

    # Preflight: find every source's files and check their headers before anything is written.
    from healthscore.ingest.append import AppendTo, Mark, file_fingerprint, loaded_fingerprints, reset_watermarks

    located = {name: locate(ws, name, configured[name]) for name in order}
    appending = {name: sample is None and (incremental or configured[name].mode == "append") for name in order}
    whole = {"accounts", "account_ids"} | {
        t for s in configured.values() if s.sql is not None for t in referenced_tables(parse_query(s.sql))}
    fingerprints: dict[str, dict[Path, str]] = {}
    already_loaded: dict[str, int] = {}
    for name in order:
        where = located[name]
        if not isinstance(where, list) or sample is not None:
            continue
        fingerprints[name] = {p: file_fingerprint(p) for p in where}
        if appending[name]:  # only files whose content was not loaded before
            loaded, new = loaded_fingerprints(engine, name), []
            for path in where:
                fp = fingerprints[name][path]
                if fp not in loaded:
                    new.append(path)
                    loaded.add(fp)
            already_loaded[name] = len(where) - len(new)
            located[name] = new
    for name in order:
        if configured[name].adapter is None:
            preflight(ws, name, configured[name], located[name])

    from healthscore.faults import fault_point

    if sample is None:
        clean_stale_spools(ws)
    reports: list[TableReport] = []
    with tempfile.TemporaryDirectory(prefix=f"healthscore-ingest-{os.getpid()}-") as tmp:
        vcon = LocalDuckDB(temp_directory=tmp)
        try:
            accounts: pa.Table | None = None
            accounts_looked_up = False
            for name in order:
                table = TABLES[name]
                src = configured[name]
                where = located[name]
                key = source_key(src)
                if table.references_accounts and accounts is None and not accounts_looked_up:
                    accounts, accounts_looked_up = engine_accounts(engine), True
                warnings: list[str] = []
                if name in already_loaded and already_loaded[name]:
                    warnings.append(
                        f"{already_loaded[name]} file(s) already loaded before (same content): not read again"
                    )
                if appending[name] and isinstance(where, list) and not where:
                    say(f"{name}: no new file")
                    reports.append(empty_report(name, key, warnings + ["no new file since the last ingest"]))
                    continue
                parts, originals, marks = None, None, []
                if src.sql is not None:
                    parts = sql_parts(ws, engine, name, src, say, warnings)
                elif src.adapter is not None:
                    assert isinstance(where, list)  # an adapter reads files
                    parts, originals = adapter_parts(ws, engine, vcon, name, src, where, say, warnings)
                elif isinstance(where, str) and (src.database is not None or appending[name]):
                    parts, marks = table_parts(ws, engine, name, src, appending[name], say, warnings)
                elif appending[name]:
                    parts = read_parts(ws, engine, vcon, name, src, where, say, warnings)
                if sample is not None and name not in whole:
                    parts = _sampled(ws, engine, vcon, name, src, where, parts, sample, say, warnings)
                if src.resolve_ids is not None:
                    parts = _resolved(ws, engine, vcon, name, src, where, parts, say, warnings)
                if owners is not None and name in ("accounts", "account_changes"):
                    if parts is None:
                        parts = read_parts(ws, engine, vcon, name, src, where, say, warnings)
                    owners.unmapped.clear()
                    parts = map_owner_parts(parts, name, owners)
                    warnings.extend(owners.warnings(name))
                if isinstance(where, list) and sample is None:
                    rows = [p.data.num_rows for p in parts] if parts is not None else [0] * len(where)
                    marks = [
                        Mark("file", shown_path(ws, f), fingerprints[name][f], rows=n) for f, n in zip(where, rows)
                    ]
                append = AppendTo(key, marks) if appending[name] else None
                report, accepted_ids = _ingest_one(
                    ws,
                    engine,
                    vcon,
                    name,
                    src,
                    where,
                    say,
                    accounts,
                    parts=parts,
                    warnings=warnings,
                    append=append,
                    allow_empty=allow_empty,
                )
                report.source = key
                if originals is not None:
                    vendor_raw(report, originals)
                if append is None and sample is None:
                    reset_watermarks(engine, name, key, marks)
                    if derived_columns(name):  # e.g. surveys.comment_sentiment from comment
                        say(f"{name}: scoring text sentiment")
                        engine.replace_table(name, add_derived(name, engine.table(name).to_pyarrow()))
                if table.references_accounts and accounts is None:
                    report.warnings.append(
                        "account_id not checked against accounts: there is no accounts table in the engine"
                        " (add sources.accounts and ingest it)"
                    )
                if name == "accounts":
                    accounts = accepted_ids if append is None else engine_accounts(engine)
                reports.append(report)
                fault_point(f"ingest:{name}")
        finally:
            vcon.close()
    return reports


def _sampled(ws, engine, vcon: LocalDuckDB, name: str, src, where, parts, limit: int, say,
             warnings: list[str]) -> list[Part]:
    """The first ``limit`` rows of the source (the parts read, or its files read up to the limit)."""
    from healthscore.ingest.columns import make_part
    from healthscore.ingest.read import read_parquet

    if parts is None:
        parts = []
        if isinstance(where, list) and src.format == "parquet":
            ignored: dict = {}
            left = limit
            for path in where:
                if left <= 0:
                    break
                data, lines = read_parquet(shown_path(ws, path), path, left)
                parts.append(make_part(shown_path(ws, path), "row", data, lines, name, src, ignored))
                left -= data.num_rows
        else:
            parts = read_parts(ws, engine, vcon, name, src, where, say, warnings)
    out, left = [], limit
    for p in parts:
        if left <= 0:
            break
        k = min(left, p.data.num_rows)
        out.append(Part(p.name, p.word, p.data.slice(0, k), p.lines[:k], p.raw_names))
        left -= k
    return out


def _resolved(ws, engine: EngineAdapter, vcon: LocalDuckDB, name: str, src, where, parts, say,
              warnings: list[str]) -> list[Part]:
    """The source's parts with its external ids read through account_ids (ingest/crosswalk.py)."""
    from healthscore.ingest.crosswalk import crosswalk, resolve_parts, unresolved

    assert src.resolve_ids is not None and src.resolve_ids.system is not None
    if parts is None:
        parts = read_parts(ws, engine, vcon, name, src, where, say, warnings)
    system, column = src.resolve_ids.system, src.resolve_ids.column
    say(f"{name}: resolving {column} as {system} ids through account_ids")
    resolved = resolve_parts(parts, column, system, crosswalk(engine, name))
    missed = unresolved(parts, resolved)
    if missed:
        warnings.append(f"{missed:,} row(s) with a {system} id that account_ids does not resolve: quarantined")
    return resolved


def ingest_rows(
    ws: Workspace,
    engine: EngineAdapter,
    table: str,
    rows: list,
    source: str = "api",
    progress: Callable[[str], None] | None = None,
    known_accounts: pa.Table | None = None,
    keep_appended: bool = False,
) -> TableReport:
    """Validate rows (dicts keyed by canonical column names) like a file and APPEND the accepted ones to
    the engine's canonical table (created if absent), skipping rows already there (same id; see
    ``ingest/append.py``). The quarantine's ``file`` is ``source`` and its ``line`` the 1-based
    position of the row in ``rows``. A key that is not a canonical column of ``table`` raises
    ``UserError`` (nothing is written), as an unknown column of a file does. ``known_accounts`` (a
    table of account_id) saves reading the engine's accounts again (the real-time consumer has them)."""
    import numpy as np

    from healthscore.ingest.append import AppendTo

    say = progress or (lambda _msg: None)
    if table not in TABLES:
        raise InvalidInput(f"{table!r} is not a canonical table; allowed: {', '.join(TABLES)}", field="table")
    if not isinstance(rows, list):
        raise InvalidInput(f"rows for {table} must be a list of objects (one per row), got {type(rows).__name__}",
                           field="rows")
    src = InlineSource(table=source)
    vcon = row_validator()
    part = rows_part(
        vcon, source, "row", rows, np.arange(1, len(rows) + 1, dtype=np.int64), [None] * len(rows), table, src, {}
    )
    accounts = (
        (known_accounts if known_accounts is not None and table != "accounts" else engine_accounts(engine))
        if TABLES[table].references_accounts
        else None
    )
    warnings = []
    if TABLES[table].references_accounts and accounts is None:
        warnings.append("account_id not checked against accounts: there is no accounts table in the engine")
    append = AppendTo(source, keep_inserted=keep_appended)
    report, _ = _ingest_one(
        ws, engine, vcon, table, src, source, say, accounts, parts=[part], warnings=warnings, append=append
    )
    report.source = source
    report.appended = append.inserted
    return report


def _ingest_one(
    ws,
    engine: EngineAdapter,
    vcon: LocalDuckDB,
    name: str,
    src: Source | InlineSource,
    where,
    say,
    accounts: pa.Table | None,
    parts: list[Part] | None = None,
    warnings: list[str] | None = None,
    append=None,
    allow_empty: bool = True,
):
    """Read, validate and write one source. Returns (report, accepted account ids for accounts).

    ``parts``: the source already read (adapters, database and incremental sources); ``append``: an
    ``AppendTo`` to append the accepted rows instead of replacing the table (see ``append_rows``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if parts is None and append is None and streaming.can_stream(engine, src, where):
        streamed = streaming.ingest_streaming(
            ws, typing.cast("DuckDBAdapter", engine), vcon, name, src, where, say, accounts is not None, allow_empty
        )
        if streamed is not None:
            return streamed
    warnings = list(warnings or [])
    if parts is None:
        parts = read_parts(ws, engine, vcon, name, src, where, say, warnings)
    n_rows = sum(p.data.num_rows for p in parts)
    accepted, quarantine = validate_parts(vcon, name, src.columns, parts, accounts, say)
    accepted_n = accepted.num_rows
    already = 0
    if append is None:
        if not accepted_n and not allow_empty:
            refuse_empty(name, src, n_rows, quarantine)
        say(f"{name}: writing {accepted_n:,} accepted row(s) ({n_rows - accepted_n:,} quarantined)")
        engine.replace_table(name, accepted)
    else:
        say(f"{name}: appending {accepted_n:,} accepted row(s) ({n_rows - accepted_n:,} quarantined)")
        already = append.write(engine, name, accepted)
        if already:
            warnings.append(
                f"{already:,} accepted row(s) were already in the engine's {name} table and were not added again"
            )
    accepted_ids = None
    if name == "accounts":
        accepted_ids = pa.table({"account_id": pc.unique(accepted.column("account_id"))})
    report = TableReport(
        table=name,
        source=src.path if src.path is not None else str(src.table),
        read=n_rows,
        accepted=accepted_n,
        quarantined=n_rows - accepted_n,
        warnings=warnings,
        quarantine=quarantine,
        files=[p.name for p in parts],
        already_ingested=already,
    )
    return report, accepted_ids


def engine_accounts(engine: EngineAdapter) -> pa.Table | None:
    """The account ids of the engine's accounts table, or None if there is none."""
    import pyarrow as pa

    if "accounts" not in engine.list_tables():
        return None
    return pa.table({"account_id": engine.distinct_values("accounts", "account_id").cast(pa.string())})


class IngestionService:
    """Loads the workspace's sources (or posted rows) into the engine and records each batch and its
    quarantine in the store."""

    def __init__(self, engine: EngineAdapter, workspace: Workspace, store: Store):
        self.engine, self.workspace, self.store = engine, workspace, store

    def ingest(
        self,
        tables: list[str] | None = None,
        progress: Callable[[str], None] | None = None,
        incremental: bool = False,
        allow_empty: bool = False,
    ) -> list[TableReport]:
        reports = ingest_workspace(
            self.workspace,
            self.engine,
            tables=tables,
            progress=progress,
            incremental=incremental,
            allow_empty=allow_empty,
            owners=Owners.build(self.store.users(), self.workspace.config.owners),
        )
        for r in reports:
            self.record(r)
        return reports

    def sample(self, limit: int = 1000) -> list[TableReport]:
        """What ``ingest`` would do with the first ``limit`` rows of each source (accounts, account_ids and
        the tables SQL sources read: all rows), written nowhere and recorded nowhere (``validate``)."""
        from healthscore.engine.scratch import ScratchEngine

        return ingest_workspace(
            self.workspace,
            typing.cast("EngineAdapter", ScratchEngine(self.engine)),
            allow_empty=False,
            owners=Owners.build(self.store.users(), self.workspace.config.owners),
            sample=limit,
        )

    def ingest_rows(
        self, table: str, rows: list[dict], source: str = "api", known_accounts=None, keep_appended: bool = False
    ) -> TableReport:
        report = ingest_rows(
            self.workspace,
            self.engine,
            table,
            rows,
            source=source,
            known_accounts=known_accounts,
            keep_appended=keep_appended,
        )
        self.record(report)
        return report

    def record(self, r: TableReport) -> None:
        batch = self.store.record_ingest_batch(r.table, r.source, r.read, r.accepted, r.quarantined)
        if r.quarantined:
            self.store.write_quarantine(batch, r.table, r.quarantine)
