"""Snapshots and their evidence in the store (a mixin of `Store`): append-only, a (account_id, as_of,
model_version) key is written once and never updated."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, String, Table, Text, cast, func, select, type_coerce

from healthscore.store import tables as t
from healthscore.store.common import column_in, midnight, to_date, utcnow

if TYPE_CHECKING:  # pandas (and the encoders, which need it) load when a frame is read or written
    import pandas as pd

_SNAPSHOT_KEY = ["account_id", "as_of", "model_version"]
_SNAPSHOT_COLUMNS = [
    *_SNAPSHOT_KEY,
    "score", "tier", "status", "confidence", "coverage", "segment", "components", "reasons",
]
# Optional in write_snapshots (revision 0002): absent columns and missing values get the defaults,
# NULL, or for flags an empty list and for review_required false.
_SNAPSHOT_OPTIONAL_COLUMNS = [
    "smoothed_score", "primary_driver", "trend_note", "flags", "review_required", "last_trusted",
]
_FRAME_COLUMNS = [
    "account_id", "as_of", "model_version", "score", "tier", "status", "smoothed_score", "primary_driver",
    "trend_note", "flags", "review_required", "confidence", "coverage",
]
_EVIDENCE_COLUMNS = [
    *_SNAPSHOT_KEY,
    "metric", "component", "value", "window", "source", "rows", "latest_at", "score", "weight", "points",
]
_EVIDENCE_OPTIONAL_COLUMNS = ["as_of_source"]  # revision 0007


class SnapshotRecords:
    engine: Engine  # set by Store

    # -- snapshots and evidence -------------------------------------------------------------

    def write_snapshots(self, run_id: str, snapshots: pd.DataFrame, evidence: pd.DataFrame) -> int:
        """Append snapshots and their evidence in one transaction; return how many snapshots were new.

        Snapshots whose key (account_id, as_of, model_version) is already stored are skipped with
        all their evidence, so re-running a scoring run is harmless. Missing values (NaN, NaT,
        pd.NA) are stored as NULL. Two writers racing on the same new keys: one fails on the
        primary key and rolls back completely; writing again then skips what the other wrote.

        The history columns (smoothed_score, primary_driver, trend_note, flags, review_required,
        last_trusted) are optional: when a column is absent, or a value is missing, flags is stored
        as [], review_required as false and the others as NULL. flags holds lists, last_trusted
        JSON objects (dicts).
        """
        from healthscore.store.encode import (
            EVIDENCE_ENCODERS,
            SNAPSHOT_ENCODERS,
            bulk_insert,
            naive_utc,
            select_columns,
        )

        optional = [c for c in _SNAPSHOT_OPTIONAL_COLUMNS if c in snapshots.columns]
        snaps = select_columns(snapshots, _SNAPSHOT_COLUMNS + optional, "snapshots")
        for name in _SNAPSHOT_OPTIONAL_COLUMNS:
            if name not in snaps.columns:
                snaps[name] = None  # the encoders turn missing values into the defaults
        ev = select_columns(evidence, _EVIDENCE_COLUMNS + [c for c in _EVIDENCE_OPTIONAL_COLUMNS
                                                            if c in evidence.columns], "evidence")
        for name in _EVIDENCE_OPTIONAL_COLUMNS:
            if name not in ev.columns:
                ev[name] = None
        for frame in (snaps, ev):
            frame["account_id"] = frame["account_id"].astype(str)
            frame["model_version"] = frame["model_version"].astype(str)
            frame["as_of"] = naive_utc(frame["as_of"]).dt.normalize()
        duplicated = snaps.duplicated(_SNAPSHOT_KEY)
        if duplicated.any():
            raise ValueError(f"snapshots: key {_key_text(snaps[duplicated].iloc[0])} appears more than once")

        now = utcnow()
        with self.engine.begin() as conn:
            is_new = _new_keys(conn, snaps)
            keys = snaps[_SNAPSHOT_KEY].assign(_new=is_new)
            ev = ev.merge(keys, on=_SNAPSHOT_KEY, how="left", validate="many_to_one")
            orphans = ev["_new"].isna()
            if orphans.any():
                raise ValueError(
                    f"evidence: {int(orphans.sum())} rows belong to no snapshot in this batch, "
                    f"e.g. {_key_text(ev[orphans].iloc[0])}"
                )
            snaps = snaps[is_new]
            ev = ev[ev["_new"].eq(True)]
            bulk_insert(conn, t.snapshots, snaps.assign(run_id=run_id, created_at=now), SNAPSHOT_ENCODERS)
            bulk_insert(conn, t.evidence, ev, EVIDENCE_ENCODERS)
        return len(snaps)

    def snapshots(
        self,
        account_id: str | None = None,
        *,
        as_of: date | datetime | str | None = None,
        date_from: date | datetime | str | None = None,
        date_to: date | datetime | str | None = None,
        model_version: str | None = None,
        with_evidence: bool = True,
    ) -> list[dict[str, Any]]:
        """Stored snapshots as JSON-ready dicts, ordered by account_id, as_of (then model_version).

        date_from and date_to are inclusive. Each snapshot carries its evidence ordered by points
        (highest first) then metric; with_evidence=False leaves the "evidence" key out.
        """

        def where(table: Table) -> list[Any]:
            conds = []
            if account_id is not None:
                conds.append(table.c.account_id == account_id)
            if as_of is not None:
                conds.append(table.c.as_of == midnight(as_of))
            if date_from is not None:
                conds.append(table.c.as_of >= midnight(date_from))
            if date_to is not None:
                conds.append(table.c.as_of <= midnight(date_to))
            if model_version is not None:
                conds.append(table.c.model_version == model_version)
            return conds

        s, e = t.snapshots.c, t.evidence.c
        with self.engine.connect() as conn:
            snaps = conn.execute(
                select(t.snapshots).where(*where(t.snapshots)).order_by(s.account_id, s.as_of, s.model_version)
            ).all()
            evidence: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
            if with_evidence:
                rows = conn.execute(
                    select(t.evidence).where(*where(t.evidence)).order_by(e.points.desc().nulls_last(), e.metric)
                )
                for r in rows:
                    evidence[(r.account_id, r.as_of, r.model_version)].append(_evidence_dict(r))

        out = []
        for r in snaps:
            snap = {
                "account_id": r.account_id,
                "as_of": r.as_of.date().isoformat(),
                "model_version": r.model_version,
                "score": r.score,
                "tier": r.tier,
                "status": r.status,
                "confidence": r.confidence,
                "coverage": r.coverage,
                "segment": r.segment,
                "components": r.components,
                "evidence": evidence[(r.account_id, r.as_of, r.model_version)],
                "reasons": r.reasons,
                "smoothed_score": r.smoothed_score,
                "primary_driver": r.primary_driver,
                "trend_note": r.trend_note,
                "flags": r.flags,
                "review_required": r.review_required,
                "last_trusted": r.last_trusted,
            }
            if not with_evidence:
                del snap["evidence"]
            out.append(snap)
        return out

    def snapshot_frame(
        self,
        *,
        date_from: date | datetime | str | None = None,
        date_to: date | datetime | str | None = None,
        model_version: str | None = None,
        account_ids: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Stored snapshots without evidence as one DataFrame, ordered by account_id, as_of (then model_version).

        Columns: account_id, as_of (datetime64[ns], midnight), model_version, score, tier, status,
        smoothed_score, primary_driver, trend_note, flags (lists), review_required (bool),
        confidence, coverage; missing numbers and text are NA (pd.isna). date_from and date_to
        are inclusive; account_ids restricts to those accounts (an empty collection gives no rows).
        One query, for history and trend computations over many accounts and dates.
        """
        s = t.snapshots.c
        # Columns are converted whole in _snapshot_frame, not value by value by SQLAlchemy: SQLite's
        # datetime text and the flags' JSON text repeat a lot, so each distinct value is parsed once.
        raw: dict[str, ColumnElement[str]] = {"flags": cast(s.flags, Text)}
        if self.engine.dialect.name == "sqlite":
            raw["as_of"] = type_coerce(s.as_of, String)
        stmt = select(*(raw.get(name, s[name]).label(name) for name in _FRAME_COLUMNS))
        stmt = stmt.order_by(s.account_id, s.as_of, s.model_version)
        if date_from is not None:
            stmt = stmt.where(s.as_of >= midnight(date_from))
        if date_to is not None:
            stmt = stmt.where(s.as_of <= midnight(date_to))
        if model_version is not None:
            stmt = stmt.where(s.model_version == model_version)
        with self.engine.connect() as conn:
            if account_ids is not None:
                stmt = stmt.where(column_in(conn, s.account_id, account_ids))
            rows = conn.execute(stmt).all()
        return _snapshot_frame(rows)

    def snapshot_counts(self, model_version: str, dates: list[date]) -> dict[date, int]:
        """Stored snapshots of this model version per as-of date (dates without any: absent)."""
        s = t.snapshots.c
        out: dict[date, int] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(dates), 500):
                chunk = [midnight(d) for d in dates[i:i + 500]]
                stmt = select(s.as_of, func.count()).where(s.model_version == model_version,
                                                           s.as_of.in_(chunk)).group_by(s.as_of)
                for as_of, n in conn.execute(stmt):
                    out[to_date(as_of)] = int(n)
        return out

    def stored_as_of_dates(self, model_version: str) -> set[date]:
        """The as-of dates with at least one stored snapshot of this model version.

        For resuming an interrupted backfill. One query that seeks the primary key's
        (model_version, as_of) prefix once per date, so it does not read every snapshot.
        """
        s = t.snapshots.c
        first = select(func.min(s.as_of).label("as_of")).where(s.model_version == model_version)
        dates = first.cte("stored_dates", recursive=True)
        following = (
            select(func.min(s.as_of)).where(s.model_version == model_version, s.as_of > dates.c.as_of).scalar_subquery()
        )
        dates = dates.union_all(select(following).where(dates.c.as_of.is_not(None)))
        with self.engine.connect() as conn:
            found = conn.scalars(select(dates.c.as_of).where(dates.c.as_of.is_not(None))).all()
        return {d.date() for d in found}

    def evidence_for(self, account_id: str, as_of: date | datetime | str, model_version: str) -> list[dict[str, Any]]:
        """One snapshot's evidence, as in `snapshots`: by points (highest first, missing last), then metric.

        Empty when the snapshot is not stored (or has no evidence).
        """
        e = t.evidence.c
        stmt = (
            select(t.evidence)
            .where(e.model_version == model_version, e.as_of == midnight(as_of), e.account_id == account_id)
            .order_by(e.points.desc().nulls_last(), e.metric)
        )
        with self.engine.connect() as conn:
            return [_evidence_dict(r) for r in conn.execute(stmt)]

    def latest_as_of(self, model_version: str | None = None, account_id: str | None = None) -> date | None:
        """The newest as-of date with a stored snapshot (of one account), or None when there is none."""
        stmt = select(func.max(t.snapshots.c.as_of))
        if model_version is not None:
            stmt = stmt.where(t.snapshots.c.model_version == model_version)
        if account_id is not None:
            stmt = stmt.where(t.snapshots.c.account_id == account_id)
        with self.engine.connect() as conn:
            newest = conn.scalar(stmt)
        return newest.date() if newest is not None else None


def _evidence_dict(r: Row) -> dict[str, Any]:
    return {
        "metric": r.metric,
        "component": r.component,
        "value": r.value,
        "window": r.window,
        "source": r.source,
        "rows": r.rows,
        "latest_at": r.latest_at.isoformat() if r.latest_at is not None else None,
        "score": r.score,
        "weight": r.weight,
        "points": r.points,
        **({"as_of_source": r.as_of_source} if r.as_of_source is not None else {}),
    }


def _snapshot_frame(rows: Sequence[Row]) -> pd.DataFrame:
    """The frame of `snapshot_frame` from its rows (as_of as datetimes or text, flags as JSON text)."""
    import pandas as pd

    columns = dict(zip(_FRAME_COLUMNS, zip(*rows, strict=True), strict=True)) if rows else {}

    def column(name: str, dtype: Any = None) -> pd.Series:
        return pd.Series(list(columns.get(name, ())), dtype=dtype)

    frame = {name: column(name) for name in _FRAME_COLUMNS}
    # Few distinct values in both: parse each once.
    codes, dates = pd.factorize(column("as_of", object))
    frame["as_of"] = pd.Series(pd.to_datetime(pd.Series(dates, dtype=object)).to_numpy("datetime64[ns]")[codes])
    codes, texts = pd.factorize(column("flags", object))
    flags = [json.loads(v) for v in texts]
    frame["flags"] = pd.Series([list(flags[c]) for c in codes], dtype=object)  # a list of its own per row
    for name in ("score", "smoothed_score", "confidence", "coverage"):
        frame[name] = column(name, object).astype("float64")  # NULL becomes NaN
    frame["review_required"] = column("review_required", bool)
    return pd.DataFrame(frame, columns=_FRAME_COLUMNS)


def _key_text(row: pd.Series) -> str:
    return f"(account_id={row['account_id']!r}, as_of={row['as_of'].date()}, model_version={row['model_version']!r})"


def _new_keys(conn: Connection, snaps: pd.DataFrame) -> pd.Series:
    """True for snapshots not stored yet: one query per (model_version, as_of), the primary key's prefix."""
    import pandas as pd

    s = t.snapshots.c
    is_new = pd.Series(True, index=snaps.index)
    for (model_version, as_of), index in snaps.groupby(["model_version", "as_of"]).groups.items():
        stored = conn.scalars(
            select(s.account_id).where(s.model_version == model_version, s.as_of == as_of.to_pydatetime())
        ).all()
        if stored:
            is_new[index] = ~snaps.loc[index, "account_id"].isin(stored)
    return is_new
