"""An engine that reads through to the workspace's engine but keeps what is written in memory.

``healthscore validate`` runs ingestion on a sample of every source through it (ingest/service.py,
``sample``): the same reading, column maps, crosswalk, owner mapping and checks as ``ingest``, and SQL
sources and the crosswalk see the tables written before them -- but nothing reaches the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from healthscore.engine.adapters.base import EngineAdapter


class ScratchEngine:
    """The parts of ``EngineAdapter`` ingestion uses; tables written stay in ``written``."""

    reads_files = False  # never stream files into the real engine

    def __init__(self, engine: EngineAdapter):
        self.engine = engine
        self.written: dict[str, pa.Table] = {}

    def list_tables(self) -> list[str]:
        return sorted(set(self.engine.list_tables()) | set(self.written))

    def table(self, name: str) -> Any:
        if name in self.written:
            import ibis

            return ibis.memtable(self.written[name])
        return self.engine.table(name)

    def distinct_values(self, name: str, column: str) -> pa.Array:
        if name in self.written:
            import pyarrow.compute as pc

            return pc.unique(self.written[name].column(column).combine_chunks())
        return self.engine.distinct_values(name, column)

    def replace_table(self, name: str, data: pa.Table) -> None:
        self.written[name] = data

    def since(self, expr: Any, column: str, stamp: Any) -> Any:
        return self.engine.since(expr, column, stamp)
