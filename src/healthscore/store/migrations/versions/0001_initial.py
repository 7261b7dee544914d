"""Initial schema: model versions, scoring runs, snapshots, evidence, ingest batches, quarantine.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full (not metadata.create_all) so that this revision keeps creating the same schema
after tables.py moves on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("source_path", sa.String(), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("ir_json", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_model_versions"),
    )
    op.create_table(
        "scoring_runs",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("as_of_dates", sa.JSON(), nullable=False),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=True),
        sa.Column("snapshots_written", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_scoring_runs"),
    )
    op.create_table(
        "snapshots",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("tier", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("coverage", sa.Double(), nullable=False),
        sa.Column("segment", sa.String(), nullable=True),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("model_version", "as_of", "account_id", name="pk_snapshots"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_snapshots_account_as_of", "snapshots", ["account_id", "as_of"])
    op.create_table(
        "evidence",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("window", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("latest_at", sa.DateTime(), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("points", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("model_version", "as_of", "account_id", "metric", name="pk_evidence"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_evidence_account_as_of", "evidence", ["account_id", "as_of"])
    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_ingest_batches"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("file", sa.String(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("column_name", sa.String(), nullable=True),
        sa.Column("value", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("raw", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
    )
    op.create_index("ix_quarantine_batch_id", "quarantine", ["batch_id"])
    op.create_index("ix_quarantine_table_name", "quarantine", ["table_name"])


def downgrade() -> None:
    for table in ("quarantine", "ingest_batches", "evidence", "snapshots", "scoring_runs", "model_versions"):
        op.drop_table(table)
