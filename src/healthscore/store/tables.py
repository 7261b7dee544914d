"""Table definitions of the store (SQLAlchemy Core).

These describe the schema for queries and for `alembic revision --autogenerate`; the schema itself
is only ever created by the migrations in `migrations/versions/`, which must stay in step with this
file (a test compares the two).

All datetimes are naive UTC. `as_of` is the as-of date at 00:00.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

# Named primary keys so that tables.py and the migrations agree on every dialect.
metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

model_versions = Table(
    "model_versions",
    metadata,
    Column("version", String(64), primary_key=True),  # content hash of the model
    Column("name", String, nullable=False),
    Column("source_path", String, nullable=False),
    Column("yaml_text", Text, nullable=False),
    Column("ir_json", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

scoring_runs = Table(
    "scoring_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),  # uuid4 hex
    Column("model_version", String(64), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("as_of_dates", JSON, nullable=False),  # ISO dates
    Column("engine", String, nullable=False),
    Column("accounts", Integer, nullable=True),
    Column("snapshots_written", Integer, nullable=True),
)

# Primary keys lead with (model_version, as_of) because that is how runs write and how existing
# keys are looked up; the (account_id, as_of) indexes serve one account's history. On SQLite these
# tables are WITHOUT ROWID: the composite key is the table, which saves a b-tree on every insert.
snapshots = Table(
    "snapshots",
    metadata,
    Column("account_id", String, nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("score", Double, nullable=True),
    Column("tier", String, nullable=True),
    Column("status", String, nullable=False),
    Column("confidence", Double, nullable=False),
    Column("coverage", Double, nullable=False),
    Column("segment", String, nullable=True),
    Column("components", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # History, trends and stop gates (revision 0002). A paused snapshot keeps the last score the
    # owner could trust in last_trusted, e.g. {"as_of": "2026-10-01", "score": 71.2, "tier": "green"}.
    Column("smoothed_score", Double, nullable=True),
    Column("primary_driver", String, nullable=True),
    Column("trend_note", Text, nullable=True),
    Column("flags", JSON, nullable=False, server_default="[]"),
    Column("review_required", Boolean, nullable=False, server_default="0"),  # '0' is false on both dialects
    Column("last_trusted", JSON(none_as_null=True), nullable=True),
    PrimaryKeyConstraint("model_version", "as_of", "account_id"),
    Index("ix_snapshots_account_as_of", "account_id", "as_of"),
    sqlite_with_rowid=False,
)

evidence = Table(
    "evidence",
    metadata,
    Column("account_id", String, nullable=False),
    Column("as_of", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("metric", String, nullable=False),
    Column("component", String, nullable=False),
    Column("value", JSON(none_as_null=True), nullable=True),  # a number or a string
    Column("window", String, nullable=False),
    Column("source", String, nullable=False),
    Column("rows", Integer, nullable=True),
    Column("latest_at", DateTime, nullable=True),
    Column("score", Double, nullable=True),
    Column("weight", Double, nullable=False),
    Column("points", Double, nullable=True),
    PrimaryKeyConstraint("model_version", "as_of", "account_id", "metric"),
    Index("ix_evidence_account_as_of", "account_id", "as_of"),
    sqlite_with_rowid=False,
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", String(32), primary_key=True),  # uuid4 hex
    Column("started_at", DateTime, nullable=False),
    Column("table_name", String, nullable=False),
    Column("source", String, nullable=False),  # file path or table name
    Column("read", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(32), nullable=False),
    Column("table_name", String, nullable=False),
    Column("file", String, nullable=True),  # null when the source is a table, not a file
    Column("line", Integer, nullable=True),
    Column("column_name", String, nullable=True),
    Column("value", String, nullable=True),
    Column("reason", String, nullable=False),
    Column("raw", JSON(none_as_null=True), nullable=True),  # the original row
    Column("created_at", DateTime, nullable=False),
    Index("ix_quarantine_batch_id", "batch_id"),
    Index("ix_quarantine_table_name", "table_name"),
)
