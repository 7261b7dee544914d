"""DuckDB: an embedded file engine, one writing process at a time, and the engine ingestion streams
files through."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthscore.engine.adapters.base import EngineAdapter, Transaction
from healthscore.errors import EngineBusy, UserError

if TYPE_CHECKING:
    import pyarrow as pa
    from ibis.backends import BaseBackend
    from sqlglot import exp

    from healthscore.workspace import Workspace

# Bulk loads: a share of the machine's memory, so that large sorts and aggregates spill to disk
# instead of taking the machine.
BULK_MEMORY_SHARE = 0.25
BULK_MEMORY_MIN = 1 << 30


class _DuckTransaction(Transaction):
    def execute(self, statement: exp.Expr) -> int:
        result = self.cursor.execute(self.adapter.sql(statement))
        row = result.fetchone() if result.description and result.description[0][0] == "Count" else None
        return int(row[0]) if row else -1  # INSERT / UPDATE / DELETE say how many rows

    def fetch_arrow(self, query: exp.Expr) -> pa.Table:
        return _arrow(self.cursor.execute(self.adapter.sql(query)))


def _arrow(result) -> pa.Table:
    out = result.arrow()  # a table, or a batch reader in newer DuckDB versions
    return out.read_all() if hasattr(out, "read_all") else out


class DuckDBAdapter(EngineAdapter):
    name = "duckdb"
    dialect = "duckdb"
    transactions = True
    transactional_ddl = True
    supports_try_cast = True
    single_writer_file = True
    reads_files = True
    keeps_appended_rows = True

    def __init__(self, con: BaseBackend):
        super().__init__(con)
        self.raw = con.con

    @classmethod
    def open(cls, ws: Workspace, lock_timeout: float | None = None, *, quiet: bool = False) -> DuckDBAdapter:
        """The workspace's engine file (owner-only, like the store: it holds every customer's data)."""
        from healthscore.security import make_private

        cfg = ws.config.engine
        path = ws.resolve(cfg.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        timeout = cfg.lock_timeout if lock_timeout is None else lock_timeout
        if lock_timeout is None:
            timeout = float(os.environ.get("HEALTHSCORE_LOCK_TIMEOUT", timeout))
        adapter = cls(open_file(path, timeout, quiet=quiet))
        make_private(path)
        return adapter

    # ---- SQL ----------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_DuckTransaction]:
        """Committed when the block ends, rolled back on any error (a killed ingest or batch leaves
        nothing half-written)."""
        raw = self.raw
        raw.execute("BEGIN TRANSACTION")
        try:
            yield _DuckTransaction(self, raw)
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise

    def fetchall(self, query: exp.Expr | str) -> list[tuple]:
        return self.raw.execute(query if isinstance(query, str) else self.sql(query)).fetchall()

    def fetch_arrow(self, sql: exp.Expr | str) -> pa.Table:
        return _arrow(self.raw.execute(sql if isinstance(sql, str) else self.sql(sql)))

    def execute(self, statement: exp.Expr | str) -> None:
        self.raw.execute(statement if isinstance(statement, str) else self.sql(statement))

    # ---- tables -------------------------------------------------------------------------------

    def has_table(self, name: str) -> bool:
        from healthscore.engine.adapters.sql import lit, template

        # one catalog lookup (Ibis lists every table and view: ~10 ms per append)
        query = template("SELECT count(*) FROM duckdb_tables() WHERE table_name = :n"
                         " AND schema_name = current_schema()", self.dialect, n=lit(name))
        return bool(self.fetchall(query)[0][0])

    def columns(self, name: str) -> list[str]:
        from healthscore.engine.adapters.sql import table, template

        query = template("SELECT * FROM :t LIMIT 0", self.dialect, t=table(name))
        return [d[0] for d in self.raw.execute(self.sql(query)).description]

    def replace_table(self, name: str, data: pa.Table) -> None:
        from healthscore.engine.adapters.sql import table, template

        with self.registered(data, "__hs_ingest") as view:
            # One statement: either the new table replaces the old one or nothing changes.
            self.execute(template("CREATE OR REPLACE TABLE :t AS SELECT * FROM :v", self.dialect,
                                  t=table(name), v=view))

    def create_empty_like(self, name: str, source: str) -> None:
        from healthscore.engine.adapters.sql import table, template

        self.execute(template("CREATE OR REPLACE TABLE :t AS SELECT * FROM :s LIMIT 0", self.dialect,
                              t=table(name), s=table(source)))

    def replace_rows(self, name: str, rows: pa.Table) -> None:
        """Straight from Arrow (Ibis's insert costs more than the rest of a small live batch's query),
        matched by column name, in one transaction."""
        from healthscore.engine.adapters.sql import table, template

        with self.registered(rows, "__hs_rows") as view, self.transaction() as tx:
            tx.execute(template("DELETE FROM :t", self.dialect, t=table(name)))
            tx.execute(template("INSERT INTO :t BY NAME SELECT * FROM :v", self.dialect, t=table(name), v=view))

    @contextmanager
    def registered(self, data: pa.Table, prefix: str = "__hs_view") -> Iterator[exp.Table]:
        """Arrow rows readable by SQL as a view for the block (nothing copied)."""
        from healthscore.engine.adapters.sql import table

        name = f"{prefix}_{uuid.uuid4().hex}"
        self.raw.register(name, data)
        try:
            yield table(name)
        finally:
            self.raw.unregister(name)

    staged = registered

    def create_like(self, target: str, stage: exp.Table) -> exp.Expr:
        from healthscore.engine.adapters.sql import table, template

        return template("CREATE TABLE IF NOT EXISTS :t AS SELECT * FROM :s LIMIT 0", self.dialect,
                        t=table(target), s=stage)

    # ---- bulk work ----------------------------------------------------------------------------

    def setting(self, name: str) -> Any:
        return self.fetchall(_setting_query(name))[0][0]

    def set(self, name: str, value: Any) -> None:
        from healthscore.engine.adapters.sql import exp, lit

        self.execute(exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.var(name), expression=lit(value)))]))

    def reset(self, name: str) -> None:
        from healthscore.engine.adapters.sql import exp

        self.execute(exp.Command(this="RESET", expression=exp.var(name)))

    @contextmanager
    def bulk_tuning(self, spill_dir: Path) -> Iterator[None]:
        """UTC, no progress bar, a memory limit that spills (to ``spill_dir`` for an in-memory engine);
        the previous settings come back afterwards."""
        import duckdb

        previous: list[tuple[str, Any]] = []

        def change(name: str, value: Any) -> None:
            before = self.setting(name)
            # memory_limit reads back rounded ('18.8 GiB'): RESET rather than SET an approximation
            previous.append((name, None if name == "memory_limit" and before == _default_setting(name) else before))
            self.set(name, value)

        change("TimeZone", "UTC")  # naive date-times are UTC
        change("preserve_insertion_order", False)  # the writer sets it to true for its write
        change("enable_progress_bar", False)
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 0
        if total:
            limit = max(BULK_MEMORY_MIN, int(total * BULK_MEMORY_SHARE))
            current = memory_bytes(self.setting("memory_limit"))
            if current is None or limit < current:
                change("memory_limit", f"{limit // (1 << 20)}MiB")
        if not self.setting("temp_directory"):  # an in-memory engine: spill under .healthscore/
            spill_dir.mkdir(parents=True, exist_ok=True)
            change("temp_directory", str(spill_dir))
        try:
            yield
        finally:
            for name, value in reversed(previous):
                with contextlib.suppress(duckdb.Error):  # e.g. temp_directory cannot change once used
                    self.reset(name) if value is None else self.set(name, value)

    def set_threads(self, threads: int) -> Any:
        before = self.setting("threads")
        self.set("threads", int(threads))
        return before

    def reset_threads(self, previous: Any) -> None:
        if previous is not None:
            self.set("threads", int(previous))


def _setting_query(name: str) -> exp.Expr:
    from healthscore.engine.adapters.sql import lit, template

    return template("SELECT current_setting(:n)", "duckdb", n=lit(name))


@functools.cache
def _default_setting(name: str) -> Any:
    import duckdb

    with duckdb.connect() as c:
        row = c.execute(_setting_query(name).sql(dialect="duckdb")).fetchone()
        return row[0] if row else None


def memory_bytes(text: str) -> float | None:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?)B?\s*", str(text), re.IGNORECASE)
    if not m:
        return None
    base = 1024 if m.group(3) else 1000
    return float(m.group(1)) * base ** "_KMGT".index(m.group(2).upper() or "_")


def open_file(path: Path, timeout: float, *, quiet: bool = False) -> BaseBackend:
    """Open a DuckDB engine file, waiting while another process holds it.

    DuckDB lets one process write a database file at a time: a second CLI job, or a cron run while
    the web app writes, got DuckDB's lock error as a traceback. Here the second one says whom it
    waits for (unless ``quiet``), retries until the first lets go, and after ``timeout`` seconds
    (engine.lock_timeout in healthscore.yaml, or HEALTHSCORE_LOCK_TIMEOUT) raises ``EngineBusy``."""
    import duckdb
    import ibis

    deadline = time.monotonic() + timeout
    told, pause = quiet, 0.1
    while True:
        try:
            return ibis.duckdb.connect(str(path))
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise UserError(f"cannot open the engine file {path}: {text}") from None
            m = re.search(r"\(PID (\d+)\)", text)
            holder = f"process {m.group(1)}" if m else "another process"
            if time.monotonic() >= deadline:
                raise EngineBusy(
                    f"the engine file {path} is in use by {holder} (another healthscore command or the web app)"
                    f" and stays locked; gave up after waiting {timeout:g} s",
                    details=["run this again when the other job has finished, or wait longer: set engine.lock_timeout"
                             " (seconds) in healthscore.yaml or HEALTHSCORE_LOCK_TIMEOUT"],
                ) from None
            if not told:
                sys.stderr.write(f"waiting for the engine file {path}: it is in use by {holder}"
                                 f" (another healthscore command or the web app); up to {timeout:g} s\n")
                sys.stderr.flush()
                told = True
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 2.0)


class LocalDuckDB:
    """An in-memory DuckDB for work on Arrow data that never touches the engine (ingestion validates
    rows in one, whatever the engine is)."""

    def __init__(self, temp_directory: str | None = None):
        import duckdb

        self.raw = duckdb.connect()
        self.raw.execute("SET TimeZone = 'UTC'")
        if temp_directory is not None:
            self.raw.execute("SET enable_progress_bar = false")
            self.set("temp_directory", temp_directory)

    def set(self, name: str, value: Any) -> None:
        from healthscore.engine.adapters.sql import exp, lit

        stmt = exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.var(name), expression=lit(value)))])
        self.raw.execute(stmt.sql(dialect="duckdb"))

    @contextmanager
    def registered(self, data: pa.Table, prefix: str = "__hs_view", *, unique: bool = True) -> Iterator[exp.Table]:
        """``unique=False``: the view is named ``prefix`` itself, so that SQL naming it can be cached (one
        such view per name at a time on this connection)."""
        from healthscore.engine.adapters.sql import table

        name = f"{prefix}_{uuid.uuid4().hex}" if unique else prefix
        self.raw.register(name, data)
        try:
            yield table(name)
        finally:
            self.raw.unregister(name)

    def fetch_arrow(self, sql: exp.Expr | str) -> pa.Table:
        return _arrow(self.raw.execute(sql if isinstance(sql, str) else sql.sql(dialect="duckdb")))

    def fetchall(self, sql: exp.Expr | str) -> list[tuple]:
        return self.raw.execute(sql if isinstance(sql, str) else sql.sql(dialect="duckdb")).fetchall()

    def close(self) -> None:
        self.raw.close()


_LOCAL = threading.local()


def row_validator() -> LocalDuckDB:
    """An in-memory DuckDB for validating posted rows, one per thread and kept: a real-time consumer
    validates a batch every few hundred milliseconds, and connecting costs ~20 ms."""
    local = getattr(_LOCAL, "db", None)
    if local is None:
        local = _LOCAL.db = LocalDuckDB()
    return local


def engine_error() -> type[Exception]:
    """DuckDB's base error class (for callers that tell engine errors apart without importing duckdb)."""
    import duckdb

    return duckdb.Error


def is_engine_fault(exc: BaseException) -> bool:
    """An error of the engine or of the SQL (out of memory, interrupted, a binder error ...), as opposed
    to a damaged input file the engine found while reading it."""
    import duckdb

    return isinstance(exc, (duckdb.OutOfMemoryException, duckdb.InterruptException, duckdb.InternalException,
                            duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException))


@functools.cache
def zone_names() -> tuple[str, ...]:
    """DuckDB's time zone names."""
    import duckdb

    with duckdb.connect() as c:
        return tuple(r[0] for r in c.execute("SELECT name FROM pg_timezone_names() ORDER BY name").fetchall())
