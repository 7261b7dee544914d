"""Ingestion: validate sources against the canonical contract and load them into the engine.

The work is split over this package: ``read`` (files and tables into Arrow), ``columns`` (the column
map), ``checks`` (the validation SQL), ``validate`` and ``quarantine`` (the in-memory path),
``spool`` and ``streaming`` (the path through the engine), ``sources`` (vendor files, other
databases), ``append`` (idempotent appends and watermarks) and ``service`` (``IngestionService``).
This module keeps the entry points that take an Ibis backend.

For every configured source (``sources.<table>`` in healthscore.yaml) this module

1. reads the file(s) (CSV, NDJSON or Parquet; a glob may match several) or an engine table,
2. applies the column map (source column -> canonical column) and checks the header,
3. validates every row, vectorised in an in-memory DuckDB (no Python loop per row), and
4. writes the accepted rows, cast to the canonical types, as the canonical table in the engine,
   replacing the previous table atomically.

With the DuckDB engine, Parquet sources are not read into Python at all: the engine reads the
files itself and runs the same validation SQL over them, writes the accepted rows with one
CREATE OR REPLACE TABLE ... AS SELECT and returns only the quarantined rows (see "Streaming
through the engine" below). That keeps memory bounded for sources of any size.

Every row that is not accepted is quarantined with its file, line, column, value, a reason that
names what would be right, and the original row. Nothing is dropped silently:
``read == accepted + quarantined`` for every table.

The checks, in the order they are tried (the first problem found is the row's reason):

0. the line itself cannot be parsed (CSV: wrong number of values, or a quoted value that opens on
   it and does not close properly -- the lines after it are read on their own; NDJSON: not a JSON
   object)
1. a required column is empty or null (empty strings count as null)
2. a value does not parse as its column's type
3. a negative value in a non-negative column
4. a value that is not one of the allowed values (case-sensitive, after trimming spaces)
5. a repeated id (``Table.id_column``): the first occurrence (in file order) that passes the other
   checks (0-4 and 6) is accepted, later ones are quarantined
6. an ``account_id`` that is not in ``accounts`` (tables with ``references_accounts``)

and, after check 4, a value outside its column's domain (contract.py): timestamps outside
1900-01-01 .. 2100-12-31, numbers larger than 1e18 in size, and the scales of survey and ticket
scores (NPS 0-10, CSAT 1-5, CES 1-7; ``Column.min_value``/``max_value``/``range_when``).

Within one check, columns are tried in contract order.

Values: strings are stored with surrounding spaces trimmed. Timestamps accept ISO 8601 dates and
date-times ('2024-05-01', '2024-05-01 09:30:00', '2024-05-01T09:30:00Z', '...+02:00', offsets up to
14:00) and a zone name after the time ('2025-06-02 10:00:00 Asia/Tokyo', converted with that row's
zone only); they are stored as naive UTC. Booleans accept true/false/yes/no/1/0 (any case). Numbers are plain decimal
numbers ('3', '-2.5', '1e3'); 'nan', 'inf', '1,000' and '1_000' are not numbers. A null (empty)
optional value takes the column's default (``Column.default``), e.g. usage_events.quantity = 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from healthscore.engine.adapters import adapter_for
from healthscore.ingest import service
from healthscore.ingest.report import QUARANTINE_COLUMNS, TableReport, source_key

if TYPE_CHECKING:
    import pyarrow as pa

    from healthscore.workspace import Workspace

__all__ = ["QUARANTINE_COLUMNS", "TableReport", "ingest_rows", "ingest_workspace", "source_key"]


def ingest_workspace(ws: Workspace, con, *, tables: list[str] | None = None,
                     progress: Callable[[str], None] | None = None, incremental: bool = False,
                     allow_empty: bool = True) -> list[TableReport]:
    """Validate the workspace's sources and load the accepted rows into the engine ``con`` (an Ibis
    backend); see ``service.ingest_workspace``."""
    return service.ingest_workspace(ws, adapter_for(con), tables=tables, progress=progress,
                                    incremental=incremental, allow_empty=allow_empty)


def ingest_rows(ws: Workspace, con, table: str, rows: list, source: str = "api",
                progress: Callable[[str], None] | None = None, known_accounts: pa.Table | None = None,
                keep_appended: bool = False) -> TableReport:
    """Validate rows like a file and append the accepted ones; see ``service.ingest_rows``."""
    return service.ingest_rows(ws, adapter_for(con), table, rows, source=source, progress=progress,
                               known_accounts=known_accounts, keep_appended=keep_appended)
