"""PySpark: a cluster engine without transactions; tables are overwritten by one job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthscore.engine.adapters.base import EngineAdapter
from healthscore.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa
    from ibis.backends import BaseBackend

    from healthscore.workspace import Workspace

SPARK_DEFAULTS = {
    "spark.master": "local[*]",
    "spark.app.name": "healthscore",
    "spark.sql.session.timeZone": "UTC",  # timestamps are naive UTC everywhere
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",  # local mode: the default 200 partitions cost more than they give
}


class PySparkAdapter(EngineAdapter):
    name = "pyspark"
    dialect = "spark"

    @classmethod
    def open(cls, ws: Workspace, lock_timeout: float | None = None, *, quiet: bool = False) -> PySparkAdapter:
        return cls(connect_spark(ws.config.engine.spark, ws.state_dir / "spark-warehouse"))

    def replace_table(self, name: str, data: pa.Table) -> None:
        """Straight from Arrow (Ibis 12 goes through pandas and stores a null string as 'NaN'). The table
        is overwritten by one job (atomic for Delta tables)."""
        session = self.con._session
        try:
            frame = session.createDataFrame(data)  # PySpark >= 4.0 takes an Arrow table
        except TypeError:  # PySpark 3.5: through pandas, with None (not NaN) for missing values
            pdf = data.to_pandas()
            frame = session.createDataFrame(pdf.astype(object).where(pdf.notna(), None), schema=data.schema.names)
        frame.write.mode("overwrite").saveAsTable(name)


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
