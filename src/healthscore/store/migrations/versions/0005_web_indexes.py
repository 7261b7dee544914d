"""Indexes for the web application: portfolio aggregates, overdue tasks, an owner's alerts, an object's
audit trail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_INDEXES = (
    ("ix_snapshots_portfolio", "snapshots", ["model_version", "as_of", "tier", "score"]),
    ("ix_review_tasks_status_due_at", "review_tasks", ["status", "due_at"]),
    ("ix_alerts_queue_as_of", "alerts", ["queue", "as_of"]),
    ("ix_audit_log_object", "audit_log", ["object_type", "object_id"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
