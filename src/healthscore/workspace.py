"""The workspace: healthscore.yaml, its sources, engine, store and model path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from healthscore.contract import TABLES
from healthscore.errors import UserError
from healthscore.workflow.notify_config import NotificationsConfig
from healthscore.yamlio import load_model

CONFIG_FILE = "healthscore.yaml"
FILE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".ndjson": "ndjson", ".jsonl": "ndjson"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResolveIds(_Strict):
    """``resolve_ids`` of a source: read the ids of ``column`` as ids of ``system`` and replace them with
    the account_id the canonical ``account_ids`` table (the crosswalk) gives; a row whose id has no
    entry is quarantined with a reason naming the system and the id (ingest/crosswalk.py)."""

    system: str | None = Field(
        None, description="the system whose ids the source carries (account_ids.system), e.g. zendesk; default with"
        " an adapter: the adapter's system (zendesk, stripe, segment, hubspot, salesforce)")
    column: str = Field(
        "account_id", description="the canonical column holding the external ids (or the source column that maps"
        " to it under columns)")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        return {"system": v} if isinstance(v, str) else v


class SourceConfig(_Strict):
    """Where one canonical table comes from: a file (or glob), a table already in the engine, or a
    table of another database; optionally through a vendor adapter, replaced or appended."""

    path: str | None = Field(None, description="file or glob, relative to the workspace")
    table: str | None = Field(None, description="a table (or view) in the engine, e.g. raw.tickets")
    sql: str | None = Field(
        None, description="a SELECT query in DuckDB's dialect over files (read_csv('data/x.csv'), relative to"
        " the workspace, ${VAR} expanded) and canonical tables ingested before (ingest/sql_source.py)")
    database: str | None = Field(
        None, description="with table: read the table from this database URL instead of the engine"
        " (postgresql://..., duckdb:///file.duckdb, any URL ibis.connect takes; ${VAR} expanded)")
    format: Literal["csv", "parquet", "ndjson", "json"] | None = None
    adapter: str | None = Field(None,
                                description="vendor export/webhook shape, e.g. zendesk_tickets (ingest/adapters.py)")
    columns: dict[str, str] = Field(default_factory=dict, description="source column -> canonical column")
    extra_columns: Literal["error", "ignore"] = "error"
    resolve_ids: ResolveIds | None = Field(
        None, description="map the source's external ids to account_id through the account_ids table, e.g."
        " {system: zendesk} or {system: stripe, column: customer}; unknown ids are quarantined")
    mode: Literal["replace", "append"] = Field(
        "replace", description="replace: each ingest reloads the table; append: only new files / newer rows are"
        " added, rows already loaded (same id) are skipped")
    watermark: str | None = Field(
        None, description="table sources in append mode: the source column whose newest value marks what was"
        " loaded (default: the column that maps to the table's time column)")

    @model_validator(mode="after")
    def _one_location(self):
        if sum(x is not None for x in (self.path, self.table, self.sql)) != 1:
            raise ValueError("give exactly one of 'path' (a file), 'table' (a table in the engine or in 'database')"
                             " or 'sql' (a query over files and canonical tables)")
        if self.sql is not None:
            from healthscore.ingest.sql_source import parse_query

            if self.adapter is not None or self.format is not None or self.watermark is not None:
                raise ValueError("'sql' takes no 'adapter', 'format' or 'watermark': the query reads its files itself")
            try:
                parse_query(self.sql)
            except ValueError as exc:
                raise ValueError(f"sql: {exc}") from None
        if self.database is not None and self.table is None:
            raise ValueError("'database' needs 'table' (the table to read from that database, e.g. support.tickets)")
        if self.adapter is not None:
            from healthscore.ingest.adapters import ADAPTERS

            if self.adapter not in ADAPTERS:
                raise ValueError(f"unknown adapter {self.adapter!r}; allowed: {', '.join(ADAPTERS)}")
            if self.path is None:
                raise ValueError("'adapter' reads files: give 'path' (e.g. exports/zendesk/*.json)")
            if self.format is None:
                self.format = ADAPTERS[self.adapter].format
        if self.resolve_ids is not None and self.resolve_ids.system is None:
            from healthscore.ingest.adapters import ADAPTERS

            if self.adapter is None or ADAPTERS[self.adapter].id_system is None:
                raise ValueError("resolve_ids: give the system whose ids the source carries, e.g."
                                 " resolve_ids: {system: zendesk} (a value of account_ids.system)")
            self.resolve_ids.system = ADAPTERS[self.adapter].id_system
        if self.path is not None and self.format is None:
            suffix = Path(self.path.replace("*", "x")).suffix.lower()
            if suffix not in FILE_FORMATS:
                raise ValueError(
                    f"cannot tell the format of {self.path!r} from its suffix; set format: csv, parquet or ndjson"
                )
            self.format = FILE_FORMATS[suffix]
        if self.format == "json" and self.adapter is None:
            raise ValueError("format: json (one JSON document per file) is read through an adapter; for plain rows"
                             " use NDJSON (one JSON object per line)")
        if self.watermark is not None and self.table is None:
            raise ValueError("'watermark' applies to table sources; file sources remember the files they loaded")
        return self


class EngineConfig(_Strict):
    backend: Literal["duckdb", "postgres", "pyspark"] = "duckdb"
    path: str = ".healthscore/engine.duckdb"  # duckdb file, relative to the workspace
    url: str | None = None  # postgresql://user@host:port/db for backend: postgres
    # backend: pyspark: Spark settings (spark.master defaults to local[*]); tables live in the session catalog
    spark: dict[str, str] = Field(default_factory=dict)
    # backend: duckdb: how long (seconds) a command waits while another process holds the engine file
    lock_timeout: float = Field(120.0, ge=0, le=86_400, allow_inf_nan=False)


class WorkspaceConfig(_Strict):
    model: str = "models/health.yaml"
    engine: EngineConfig = Field(default_factory=EngineConfig)
    store: str = "sqlite:///.healthscore/store.db"
    # every stored snapshot with its evidence, as Parquet files (store/history.py, docs/scale.md); relative
    # to the workspace. With a PostgreSQL store, a directory every process that scores or serves can reach.
    history: str = ".healthscore/history"
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    notifications: NotificationsConfig | None = None  # internal sinks only (docs/notifications.md)
    # also write snapshots and evidence to health_snapshots / health_evidence in the engine (docs/scale.md)
    write_back: bool = False
    # the date commands score as of when no --as-of is given (an export's end); absent: today, or the day
    # after the newest data when that is more than STALE_DATA_DAYS old (services/parts.py, Parts.as_of_default)
    data_as_of: dt.date | None = None
    # owner values (CRM full names, emails) -> store usernames, applied at ingestion (ingest/owners.py)
    owners: dict[str, str] = Field(default_factory=dict)
    # `healthscore ingest` exits with code 1 when a table's quarantined share of the rows read is above this
    quarantine_max_share: float = Field(0.05, ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("sources")
    @classmethod
    def _canonical_names(cls, v: dict[str, SourceConfig]):
        for name, src in v.items():
            if name not in TABLES:
                raise ValueError(f"{name!r} is not a canonical table; allowed: {', '.join(TABLES)}")
            table = TABLES[name]
            for source_col, canonical in src.columns.items():
                if canonical not in table.column_names:
                    raise ValueError(
                        f"{name}.columns: {source_col!r} maps to {canonical!r}, which is not a column of {name};"
                        f" allowed: {', '.join(table.column_names)}"
                    )
            if src.resolve_ids is not None:
                if name == "account_ids":
                    raise ValueError("account_ids.resolve_ids: the crosswalk itself cannot be resolved through the"
                                     " crosswalk")
                col = src.columns.get(src.resolve_ids.column, src.resolve_ids.column)
                spec = table.column(col)
                if spec is None or spec.type != "string" or spec.derived_from is not None:
                    raise ValueError(
                        f"{name}.resolve_ids.column: {src.resolve_ids.column!r} is not a text column of {name} (or a"
                        f" source column mapped to one); e.g. account_id"
                    )
                src.resolve_ids.column = col
        return v


@dataclass
class Workspace:
    root: Path
    config: WorkspaceConfig

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def model_path(self) -> Path:
        return self.resolve(self.config.model)

    @property
    def state_dir(self) -> Path:
        return self.root / ".healthscore"

    def resolve(self, p: str) -> Path:
        path = Path(p)
        return path if path.is_absolute() else self.root / path

    @property
    def history_dir(self) -> Path:
        """The snapshot history's directory (created by the first write)."""
        return self.resolve(self.config.history)

    @property
    def store_url(self) -> str:
        """The store URL with a relative SQLite path made relative to the workspace."""
        url = self.config.store
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
            path = self.resolve(url[len(prefix):])
            path.parent.mkdir(parents=True, exist_ok=True)
            return prefix + str(path)
        return url


def load_workspace(root: Path | str = ".") -> Workspace:
    root = Path(root).resolve()
    cfg_path = root / CONFIG_FILE
    if not cfg_path.exists():
        raise UserError(
            f"{cfg_path}: no workspace here. Create one with 'healthscore init DIR' or 'healthscore demo',"
            " or point at one with -w DIR"
        )
    config = load_model(cfg_path, WorkspaceConfig, what="workspace configuration")
    return Workspace(root=root, config=config)
