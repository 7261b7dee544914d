"""PostgreSQL: a server engine with transactional DDL, indexes and table locks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.engine.adapters.base import EngineAdapter
from healthscore.errors import UserError

if TYPE_CHECKING:
    from ibis.backends import BaseBackend
    from sqlglot import exp

    from healthscore.workspace import Workspace


class PostgresAdapter(EngineAdapter):
    name = "postgres"
    dialect = "postgres"
    transactions = True
    transactional_ddl = True
    index_probes_subqueries = True
    locks_tables = True

    @classmethod
    def open(cls, ws: Workspace, lock_timeout: float | None = None, *, quiet: bool = False) -> PostgresAdapter:
        if not ws.config.engine.url:
            raise UserError(f"{ws.config_path}: engine.url is required for backend: postgres"
                            " (postgresql://user@host/db)", field="engine.url")
        return cls(connect_url(ws.config.engine.url))

    def lock_table(self, name: str) -> exp.Expr:
        """Appenders of one table take turns, so that two batches cannot both add an id."""
        from healthscore.engine.adapters.sql import exp, table

        # sqlglot does not parse LOCK: the table is rendered (quoted) by sqlglot, the mode is a constant
        return exp.Command(this="LOCK TABLE",
                           expression=exp.var(table(name).sql(dialect=self.dialect) + " IN SHARE ROW EXCLUSIVE MODE"))


def connect_url(url: str) -> BaseBackend:
    """An Ibis backend for a database URL (postgresql://, postgresql+psycopg:// or any Ibis URL)."""
    import ibis

    if url.startswith("postgresql+psycopg://"):
        url = "postgres://" + url[len("postgresql+psycopg://"):]
    elif url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    try:
        return ibis.connect(url)
    except Exception as exc:  # connection problems are the user's to fix: name the URL, never its password
        from healthscore.security import mask_secrets, mask_url

        raise UserError(f"cannot connect to the database at {mask_url(url)}: {mask_secrets(str(exc), url)}") from None
