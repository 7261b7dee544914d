"""Connect to the compute engine named in healthscore.yaml (DuckDB file by default, or PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.errors import UserError

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from healthscore.workspace import Workspace


def connect(ws: "Workspace") -> "BaseBackend":
    import ibis

    cfg = ws.config.engine
    if cfg.backend == "duckdb":
        path = ws.resolve(cfg.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return ibis.duckdb.connect(str(path))
    if not cfg.url:
        raise UserError(f"{ws.config_path}: engine.url is required for backend: postgres (postgresql://user@host/db)")
    return connect_url(cfg.url)


def connect_url(url: str) -> "BaseBackend":
    import ibis

    if url.startswith("postgresql+psycopg://"):
        url = "postgres://" + url[len("postgresql+psycopg://"):]
    elif url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    try:
        return ibis.connect(url)
    except Exception as exc:  # connection problems are the user's to fix: name the URL
        raise UserError(f"cannot connect to the engine at {url}: {exc}") from None
