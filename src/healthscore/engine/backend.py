"""Connect to the compute engine named in healthscore.yaml (DuckDB file by default, PostgreSQL, or Spark)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from healthscore.errors import UserError

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from healthscore.workspace import Workspace


@contextmanager
def duckdb_transaction(raw) -> Iterator[None]:
    """A transaction on a raw DuckDB connection: committed when the block ends, rolled back on any error
    (a killed ingest or batch leaves nothing half-written)."""
    raw.execute("BEGIN TRANSACTION")
    try:
        yield
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise


def connect(ws: Workspace, lock_timeout: float | None = None) -> BaseBackend:
    """``lock_timeout``: seconds to wait for a DuckDB file another process holds (default:
    engine.lock_timeout; 0: fail at once, for callers that retry themselves, like the web app)."""
    cfg = ws.config.engine
    if cfg.backend == "duckdb":
        from healthscore.security import make_private

        path = ws.resolve(cfg.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = _connect_duckdb(path, cfg.lock_timeout if lock_timeout is None else lock_timeout,
                              from_env=lock_timeout is None)
        make_private(path)  # the engine holds every customer's data: owner-only, like the store
        return con
    if cfg.backend == "pyspark":
        return connect_spark(cfg.spark, ws.state_dir / "spark-warehouse")
    if not cfg.url:
        raise UserError(f"{ws.config_path}: engine.url is required for backend: postgres (postgresql://user@host/db)")
    return connect_url(cfg.url)


def _connect_duckdb(path, timeout: float, from_env: bool = True) -> BaseBackend:
    """Open the DuckDB engine file, waiting while another process holds it.

    DuckDB lets one process write a database file at a time: a second CLI job, or a cron run while
    the web app writes, got DuckDB's lock error as a traceback. Here the second one says whom it
    waits for, retries until the first lets go, and after ``timeout`` seconds (engine.lock_timeout
    in healthscore.yaml, or HEALTHSCORE_LOCK_TIMEOUT) stops with a clear error."""
    import os
    import re
    import sys
    import time

    import duckdb
    import ibis

    if from_env:
        timeout = float(os.environ.get("HEALTHSCORE_LOCK_TIMEOUT", timeout))
    deadline = time.monotonic() + timeout
    told, pause = False, 0.1
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
                raise UserError(
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


def connect_url(url: str) -> BaseBackend:
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


SPARK_DEFAULTS = {
    "spark.master": "local[*]",
    "spark.app.name": "healthscore",
    "spark.sql.session.timeZone": "UTC",  # timestamps are naive UTC everywhere
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",  # local mode: the default 200 partitions cost more than they give
}


def connect_spark(settings: dict[str, str] | None = None, warehouse=None) -> BaseBackend:
    """An Ibis pyspark backend over a SparkSession built from ``engine.spark`` settings (spark.master
    defaults to local[*]; point it at a cluster, or set the catalog options of your platform). The
    session is reused within one process (SparkSession.getOrCreate)."""
    import os
    import shutil
    import sys

    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("engine backend pyspark needs PySpark: pip install 'healthscore[spark]'") from None
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise UserError("engine backend pyspark needs Java 17 (set JAVA_HOME or put java on the PATH)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers use this interpreter (pandas, pyarrow)
    conf = {**SPARK_DEFAULTS, **({"spark.sql.warehouse.dir": str(warehouse)} if warehouse else {}), **(settings or {})}
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise UserError(f"cannot start Spark (master {conf['spark.master']}): {exc}") from None
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)
