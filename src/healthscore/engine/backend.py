"""Connect to the compute engine named in healthscore.yaml (DuckDB file by default, PostgreSQL, or Spark).

The backends themselves live in ``engine/adapters/``; these are the Ibis-level entry points the facade
and the tests use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.engine.adapters.postgres import connect_url
from healthscore.engine.adapters.pyspark import SPARK_DEFAULTS, connect_spark

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from healthscore.workspace import Workspace

__all__ = ["SPARK_DEFAULTS", "connect", "connect_spark", "connect_url"]


def connect(ws: Workspace, lock_timeout: float | None = None) -> BaseBackend:
    """``lock_timeout``: seconds to wait for a DuckDB file another process holds (default:
    engine.lock_timeout; 0: fail at once, for callers that retry themselves, like the web app)."""
    from healthscore.engine.adapters import open_engine

    return open_engine(ws, lock_timeout).con
