"""Verified identity: the OS account a store user acts as on the command line, and a session epoch
that ends every web session of a user when it changes (logout, password change, disabling); and the
audit log's keyed MAC per entry (HMAC-SHA256 of the entry's hash with a key kept outside the store).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("os_user", sa.String(), nullable=True))
        batch.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))
        batch.create_unique_constraint("uq_users_os_user", ["os_user"])
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_os_user", type_="unique")
        batch.drop_column("session_epoch")
        batch.drop_column("os_user")
