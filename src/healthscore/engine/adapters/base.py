"""The engine adapter interface: what the rest of healthscore may ask of a compute engine.

One class per backend (duckdb.py, postgres.py, pyspark.py) wraps an Ibis backend (``adapter.con``,
which the compiler uses) and says what the engine can do through capability flags, so that callers
branch on a capability, never on the backend's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pyarrow as pa
    from ibis.backends import BaseBackend
    from sqlglot import exp

    from healthscore.workspace import Workspace


def rows_between(expr: Any, column: str, lo: Any, hi: Any) -> Any:
    """The rows of an Ibis table expression with ``lo <= column < hi`` (naive UTC timestamps)."""
    import ibis

    return expr.filter(expr[column] >= ibis.timestamp(lo.isoformat()), expr[column] < ibis.timestamp(hi.isoformat()))


class Transaction:
    """Statements run inside ``EngineAdapter.transaction()``."""

    def __init__(self, adapter: EngineAdapter, cursor: Any):
        self.adapter, self.cursor = adapter, cursor

    def execute(self, statement: exp.Expr) -> int:
        """Run a statement; the number of rows it changed (-1 when the engine does not say)."""
        self.cursor.execute(self.adapter.sql(statement))
        return int(getattr(self.cursor, "rowcount", -1))

    def fetchall(self, query: exp.Expr) -> list[tuple]:
        self.cursor.execute(self.adapter.sql(query))
        return list(self.cursor.fetchall())

    def fetch_arrow(self, query: exp.Expr) -> pa.Table:
        """Only engines that keep appended rows (``keeps_appended_rows``) read Arrow inside a transaction."""
        raise NotImplementedError(f"{self.adapter.name}: no Arrow results inside a transaction")


class EngineAdapter:
    name: ClassVar[str] = "?"
    dialect: ClassVar[str] = "duckdb"
    # Capabilities
    transactions: ClassVar[bool] = False  # all-or-nothing batches (append, write-back, watermarks)
    transactional_ddl: ClassVar[bool] = False  # CREATE TABLE inside a transaction rolls back with it
    supports_try_cast: ClassVar[bool] = False
    single_writer_file: ClassVar[bool] = False  # one process at a time: the engine's tables change only here
    reads_files: ClassVar[bool] = False  # reads Parquet/CSV itself: ingestion streams files through it
    index_probes_subqueries: ClassVar[bool] = False  # `x IN (SELECT ...)` is answered from an index
    locks_tables: ClassVar[bool] = False  # LOCK TABLE: appenders of a table take turns
    keeps_appended_rows: ClassVar[bool] = False  # an append can hand back the rows it added, cheaply

    def __init__(self, con: BaseBackend):
        self.con = con

    # ---- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, ws: Workspace, lock_timeout: float | None = None, *, quiet: bool = False) -> EngineAdapter:
        """The workspace's engine. ``lock_timeout``/``quiet``: see ``open_engine``."""
        raise NotImplementedError

    def close(self) -> None:
        self.con.disconnect()

    # ---- SQL ----------------------------------------------------------------------------------

    def sql(self, statement: exp.Expr) -> str:
        from healthscore.engine.adapters.sql import render

        return render(statement, self.dialect)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction: committed when the block ends, rolled back on any error."""
        if not self.transactions:
            raise NotImplementedError(f"{self.name} has no transactions")
        with self.con.begin() as cur:
            yield Transaction(self, cur)

    def fetchall(self, query: exp.Expr) -> list[tuple]:
        with self.con.begin() as cur:
            cur.execute(self.sql(query))
            return list(cur.fetchall())

    def fetch_arrow(self, sql: str) -> pa.Table:
        """The rows of a query (SQL text of this engine's dialect, e.g. the compiler's) as Arrow."""
        return self.con.sql(sql).to_pyarrow()

    def execute(self, statement: exp.Expr) -> None:
        with self.con.begin() as cur:
            cur.execute(self.sql(statement))

    # ---- tables -------------------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        return self.con.list_tables()

    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    def columns(self, name: str) -> list[str]:
        return list(self.con.table(name).columns)

    def table(self, name: str) -> Any:
        """An Ibis table expression; 'raw.tickets' is table tickets in database/schema raw."""
        parts = name.split(".")
        if len(parts) == 1:
            return self.con.table(name)
        if len(parts) == 2:
            return self.con.table(parts[1], database=parts[0])
        return self.con.table(parts[-1], database=tuple(parts[:-1]))

    @staticmethod
    def since(expr: Any, column: str, stamp: Any) -> Any:
        """The rows of an Ibis table expression whose ``column`` (a timestamp or date) is at or after
        ``stamp`` (a naive UTC pandas Timestamp)."""
        import ibis

        dtype = expr[column].type()
        if dtype.is_date():
            value = ibis.date(stamp.date().isoformat())
        elif getattr(dtype, "timezone", None):
            value = ibis.literal(stamp.tz_localize("UTC"))
        else:
            value = ibis.timestamp(stamp.isoformat())
        return expr.filter(expr[column] >= value)

    def distinct_values(self, name: str, column: str) -> pa.Array:
        return self.con.table(name).select(column).distinct().to_pyarrow().column(0).combine_chunks()

    def replace_table(self, name: str, data: pa.Table) -> None:
        """Replace the table ``name`` by these rows, atomically (Ibis swaps a new table in within one
        transaction)."""
        self.con.create_table(name, obj=data, overwrite=True)

    def create_empty_table(self, name: str, columns: dict[str, str]) -> None:
        """Create a table of these columns (name -> Ibis type name) unless it exists."""
        import ibis

        if not self.has_table(name):
            self.con.create_table(name, schema=ibis.schema(columns))

    def create_empty_like(self, name: str, source: str) -> None:
        """(Re)create ``name`` empty, with the columns of table ``source``."""
        self.con.create_table(name, schema=self.con.table(source).schema(), overwrite=True)

    def replace_rows(self, name: str, rows: pa.Table) -> None:
        """A small table's rows replaced by these."""
        self.con.insert(name, rows.to_pandas(), overwrite=True)

    @contextmanager
    def staged(self, data: pa.Table, prefix: str = "hs_stage") -> Iterator[exp.Table]:
        """Rows readable by SQL as a table for the block (a plain table: Ibis's temp tables live in
        another schema)."""
        from healthscore.engine.adapters.sql import table

        name = f"{prefix}_{uuid.uuid4().hex}"
        self.con.create_table(name, obj=data)
        try:
            yield table(name)
        finally:
            self.con.drop_table(name, force=True)

    def create_like(self, target: str, stage: exp.Table) -> exp.Expr:
        """CREATE TABLE IF NOT EXISTS ``target`` with the columns of ``stage``."""
        from healthscore.engine.adapters.sql import table, template

        return template("CREATE TABLE IF NOT EXISTS :t (LIKE :s)", self.dialect, t=table(target), s=stage)

    def lock_table(self, name: str) -> exp.Expr:
        raise NotImplementedError

    # ---- bulk work ----------------------------------------------------------------------------

    @contextmanager
    def bulk_tuning(self, spill_dir) -> Iterator[None]:
        """Settings for one large load (memory limit, spilling); restored afterwards."""
        yield

    def set_threads(self, threads: int) -> Any:
        """Threads for the engine's queries; returns the previous setting (None: not supported)."""
        return None

    def reset_threads(self, previous: Any) -> None:
        return None
