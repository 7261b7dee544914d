"""Engine adapters: one class per backend behind ``EngineAdapter`` (base.py), chosen here.

``open_engine(ws)`` opens the workspace's engine; ``adapter_for(con)`` wraps an Ibis backend that is
already open (the compiler and the facade hold one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.workspace import Workspace

__all__ = ["adapter_for", "open_engine", "open_url"]


def _classes() -> dict[str, type[EngineAdapter]]:
    from healthscore.engine.adapters.duckdb import DuckDBAdapter
    from healthscore.engine.adapters.postgres import PostgresAdapter
    from healthscore.engine.adapters.pyspark import PySparkAdapter

    return {"duckdb": DuckDBAdapter, "postgres": PostgresAdapter, "pyspark": PySparkAdapter}


def adapter_class(backend: str) -> type[EngineAdapter]:
    """The adapter class of a backend named in healthscore.yaml: its capability flags, before anything opens."""
    return _classes()[backend]


def open_engine(ws: Workspace, lock_timeout: float | None = None, *, quiet: bool = False) -> EngineAdapter:
    """The engine named in healthscore.yaml. ``lock_timeout``: seconds to wait for a DuckDB file another
    process holds (default: engine.lock_timeout or HEALTHSCORE_LOCK_TIMEOUT; 0: fail at once); ``EngineBusy``
    when it stays locked. ``quiet``: wait without saying so on stderr (the web app, which retries per request)."""
    return _classes()[ws.config.engine.backend].open(ws, lock_timeout, quiet=quiet)


def adapter_for(con: BaseBackend) -> EngineAdapter:
    """The adapter of an open Ibis backend (a generic one for backends without their own class)."""
    from healthscore.engine.adapters.base import EngineAdapter

    cls = _classes().get(getattr(con, "name", ""), EngineAdapter)
    return cls(con)


def open_url(url: str) -> EngineAdapter:
    """Another database, by URL (a source's ``database:``)."""
    from healthscore.engine.adapters.postgres import connect_url

    return adapter_for(connect_url(url))
