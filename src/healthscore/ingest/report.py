"""What ingestion reports: per-table counts, warnings and the quarantine; the internal columns of data
being validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa


QUARANTINE_COLUMNS = ["file", "line", "column", "value", "reason", "raw"]
RAW_LINE_KEY = "_raw_line"  # the only key of `raw` for a line that could not be split into columns

# Internal columns added to the data being validated.
POS = "__hs_pos"  # position of the row in the combined data (all files of a source, in order)
BAD = "__hs_bad"  # set when the line itself could not be parsed: the reason
TEXT = "__hs_text"  # ... and the line's text
INTERNAL = (POS, BAD, TEXT)


@dataclass
class TableReport:
    """What happened to one canonical table.

    ``quarantine`` has the columns file, line, column, value, reason, raw (``QUARANTINE_COLUMNS``),
    one row per quarantined row, in file and line order:

    - ``file``: the file as configured (relative to the workspace when inside it), or the engine
      table for ``table:`` sources;
    - ``line``: the line number for CSV (the header is line 1) and NDJSON; the 1-based row number
      for Parquet files and engine tables;
    - ``column``: the canonical column at fault ('' when the line itself could not be parsed);
    - ``value``: the offending value as written (None when missing);
    - ``reason``: one sentence naming the column, the value and what is allowed;
    - ``raw``: dict of the row's values as strings, keyed by the source's own column names
      (``{"_raw_line": text}`` for a line that could not be split into columns).
    """

    table: str
    source: str  # the configured path (pattern) or engine table
    read: int
    accepted: int
    quarantined: int
    warnings: list[str]
    quarantine: pd.DataFrame
    files: list[str] = field(default_factory=list)  # what was actually read (files or the engine table)
    # Append mode (``Project.ingest_rows``, ``mode: append``, ``--incremental``): accepted rows whose id
    # (or, without an id, whole row) was already in the engine table; counted in ``accepted``, not added
    # again. Rows added = accepted - already_ingested.
    already_ingested: int = 0
    # The rows an append added (canonical columns, derived ones filled), when asked for with
    # ``keep_appended`` and the engine is DuckDB; None otherwise. The real-time rollup reads them.
    appended: pa.Table | None = field(default=None, repr=False)

    def __post_init__(self):
        assert self.read == self.accepted + self.quarantined, (self.table, self.read, self.accepted, self.quarantined)
        assert len(self.quarantine) == self.quarantined, (self.table, len(self.quarantine), self.quarantined)


@dataclass
class Part:
    """One file (or engine table) read into Arrow, with columns renamed to canonical names."""

    name: str  # shown as `file` in the quarantine
    word: str  # "line" or "row"
    data: pa.Table  # the source's columns + BAD, TEXT
    lines: np.ndarray  # line (or row) number of each row of `data`
    raw_names: dict[str, str]  # column in `data` -> the source's own name


@dataclass
class InlineSource:
    """What the validation needs of a source, for rows that come from a call, not a file."""

    table: str
    path: str | None = None
    database: str | None = None
    format: str = "ndjson"
    columns: dict = field(default_factory=dict)
    extra_columns: str = "error"
    adapter: str | None = None
    sql: str | None = None


def source_key(src) -> str:
    """How a source is named in reports and watermarks (a database URL without its password)."""
    if src.path is not None:
        return src.path
    if src.sql is not None:
        query = " ".join(src.sql.split())
        return "sql: " + (query if len(query) <= 80 else query[:79] + "…")
    if src.database is not None:
        return f"{redact_url(src.database)}#{src.table}"
    return str(src.table)


def redact_url(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


if TYPE_CHECKING:
    from typing import TypeAlias

    from healthscore.workspace import SourceConfig

    Source: TypeAlias = SourceConfig | InlineSource  # what validation needs of a source
