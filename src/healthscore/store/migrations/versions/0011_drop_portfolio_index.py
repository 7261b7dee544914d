"""Drop ix_snapshots_portfolio: since revision 0009 the portfolio's aggregates read the snapshot history's
files and the latest rows are read by date and account, so no query used it, and every write paid for it
(inserting 100,000 latest rows cost 1.13 s of CPU with it, 0.72 s without: it is ordered by tier and score,
so each row landed at a random place).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_snapshots_portfolio", table_name="snapshots")


def downgrade() -> None:
    op.create_index("ix_snapshots_portfolio", "snapshots", ["model_version", "as_of", "tier", "score"])
