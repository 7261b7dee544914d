"""Point-in-time attributes: where an account attribute a metric read came from as of the date.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # NULL for stored evidence: written before attributes were read as of the date (unknown origin).
    with op.batch_alter_table("evidence", table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.add_column(sa.Column("as_of_source", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence", table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.drop_column("as_of_source")
