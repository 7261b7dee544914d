"""The snapshot history moves to Parquet: every stored snapshot and its evidence are written to the
history directory (store/history.py), `snapshots` keeps the newest snapshot per account and model
version (one row each: ux_snapshots_latest), and `evidence` is dropped.

Re-running after a crash is harmless: the history skips keys it holds, and the store's changes commit
(or roll back) together after the files are in place. The history directory comes from the store
(`alembic_config(..., history_dir)`); a store with snapshots and no history directory is refused.

Downgrading restores the `evidence` table empty and lifts the one-row-per-account index; the older
snapshots stay in the history (read them with DuckDB, docs/scale.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_SNAPSHOT_COLUMNS = ["account_id", "as_of", "model_version", "run_id", "score", "tier", "status", "confidence",
                     "coverage", "segment", "components", "reasons", "created_at", "smoothed_score",
                     "primary_driver", "trend_note", "flags", "review_required", "last_trusted"]
_JSON = {"components", "reasons", "flags", "last_trusted"}
_EVIDENCE_COLUMNS = ["account_id", "as_of", "model_version", "metric", "component", "value", "window", "source",
                     "rows", "latest_at", "score", "weight", "points", "as_of_source"]


_TYPES: dict[str, Any] = {"as_of": sa.DateTime(), "created_at": sa.DateTime(), "latest_at": sa.DateTime(),
          "review_required": sa.Boolean(), "score": sa.Double(), "confidence": sa.Double(), "coverage": sa.Double(),
          "smoothed_score": sa.Double(), "weight": sa.Double(), "points": sa.Double(), "rows": sa.Integer()}


def _table(name: str, columns: list[str]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, _TYPES.get(c, sa.String())) for c in columns))


def upgrade() -> None:
    conn = op.get_bind()
    snapshots = _table("snapshots", _SNAPSHOT_COLUMNS)
    evidence = _table("evidence", _EVIDENCE_COLUMNS)
    s = snapshots.c
    partitions = conn.execute(sa.select(s.model_version, s.as_of).distinct().order_by(s.model_version, s.as_of)).all()
    if partitions:
        _move_to_history(conn, partitions, snapshots, evidence)
        n = snapshots.alias("n")
        newer = sa.exists().where(n.c.model_version == s.model_version, n.c.account_id == s.account_id,
                                  n.c.as_of > s.as_of)
        conn.execute(sa.delete(snapshots).where(newer))
    op.create_index("ux_snapshots_latest", "snapshots", ["model_version", "account_id"], unique=True)
    op.drop_table("evidence")


def _move_to_history(conn: sa.Connection, partitions: Sequence[Any], snapshots: sa.TableClause,
                     evidence: sa.TableClause) -> None:
    import pandas as pd

    from healthscore.errors import InvalidInput
    from healthscore.store.history import History

    config = op.get_context().config
    history_dir = config.attributes.get("history_dir") if config is not None else None
    if history_dir is None:
        raise InvalidInput("the store holds snapshots to move to the snapshot history (revision 0009), and it has"
                           " no history directory: set 'history:' in healthscore.yaml", field="history")
    history = History(Path(history_dir))
    s, e = snapshots.c, evidence.c
    # JSON columns as their text: the history keeps that text
    snap_cols = [sa.cast(s[c], sa.Text).label(c) if c in _JSON else s[c] for c in _SNAPSHOT_COLUMNS]
    ev_cols = [sa.cast(e[c], sa.Text).label(c) if c == "value" else e[c] for c in _EVIDENCE_COLUMNS]
    with history.writer_lock():
        for model_version, as_of in partitions:
            when = as_of
            snaps = pd.DataFrame(conn.execute(sa.select(*snap_cols).where(
                s.model_version == model_version, s.as_of == when)).all(), columns=_SNAPSHOT_COLUMNS)
            stored = history.stored_accounts(model_version, pd.Timestamp(when).date())
            snaps = snaps[~snaps["account_id"].isin(stored)]
            if snaps.empty:
                continue
            ev = pd.DataFrame(conn.execute(sa.select(*ev_cols).where(
                e.model_version == model_version, e.as_of == when)).all(), columns=_EVIDENCE_COLUMNS)
            ev = ev[ev["account_id"].isin(snaps["account_id"])]
            ev["value"] = pd.Series([json.loads(v) if isinstance(v, str) else None for v in ev["value"].tolist()],
                                    index=ev.index, dtype=object)
            for frame in (snaps, ev):
                frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.normalize()
            snaps["created_at"] = pd.to_datetime(snaps["created_at"])
            snaps["flags"] = snaps["flags"].fillna("[]")
            snaps["review_required"] = snaps["review_required"].fillna(False).astype(bool)
            history.stage(snaps, ev).publish()


def downgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
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
        sa.Column("as_of_source", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("model_version", "as_of", "account_id", "metric", name="pk_evidence"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_evidence_account_as_of", "evidence", ["account_id", "as_of"])
    op.drop_index("ux_snapshots_latest", table_name="snapshots")
