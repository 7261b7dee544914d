"""Snapshot history, trends and stop gates: smoothed score, primary driver, trend note, flags,
review_required and the last trusted score of a paused snapshot.

Revision ID: 0002
Revises: 0001
Create Date: 2026-10-01

Every new column is nullable or has a server default, so rows written at 0001 keep their data and
get the defaults. The defaults are plain strings (DEFAULT '[]', DEFAULT '0'): on SQLite, batch mode
then adds the columns with ALTER TABLE ... ADD COLUMN instead of copying the table, and both
SQLite and PostgreSQL read '0' as false for a boolean. Written out in full, like 0001, so that this
revision keeps doing the same after tables.py moves on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_NEW_COLUMNS = ("last_trusted", "review_required", "flags", "trend_note", "primary_driver", "smoothed_score")


def upgrade() -> None:
    with op.batch_alter_table("snapshots", table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.add_column(sa.Column("smoothed_score", sa.Double(), nullable=True))
        batch.add_column(sa.Column("primary_driver", sa.String(), nullable=True))
        batch.add_column(sa.Column("trend_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("flags", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("review_required", sa.Boolean(), server_default="0", nullable=False))
        batch.add_column(sa.Column("last_trusted", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    # On SQLite dropping columns copies the table: keep it WITHOUT ROWID like 0001 made it.
    with op.batch_alter_table("snapshots", table_kwargs={"sqlite_with_rowid": False}) as batch:
        for name in _NEW_COLUMNS:
            batch.drop_column(name)
