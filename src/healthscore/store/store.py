"""The store: the system of record for what healthscore itself writes.

A SQLite file by default, PostgreSQL in production, through SQLAlchemy Core. The schema is created
only by the Alembic migrations next to this file; opening a `Store` upgrades the database to head.
Snapshots and their evidence are append-only: a (account_id, as_of, model_version) key is written
once and never updated.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from json.encoder import encode_basestring_ascii as _json_string  # what json.dumps uses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ARRAY,
    Connection,
    Insert,
    Row,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from healthscore.errors import UserError
from healthscore.store import tables as t
from healthscore.store.governance import GovernanceRecords
from healthscore.store.workflow import WorkflowRecords

MIGRATIONS = Path(__file__).parent / "migrations"

# Rows per executemany call: bounds the Python objects alive at once during a large write.
_CHUNK_ROWS = 20_000
# Any constant works; it only has to be the same for every process opening the same database.
_PG_MIGRATION_LOCK = 0x6865616C7468  # "health"

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
_QUARANTINE_COLUMNS = ["file", "line", "column", "value", "reason", "raw"]


def normalise_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver healthscore installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """Alembic config built in code, so the migrations run from an installed package without an ini.

    With `connection`, migrations run on it (inside its transaction); otherwise on `url`.
    """
    cfg = Config()
    # ConfigParser interpolates '%', which may appear in paths and URL-encoded passwords.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


STORE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Write-ahead logging: readers (the web app) do not block the writer (a real-time consumer) and a
    commit appends to the log instead of copying pages to a journal and syncing twice (~10 ms each)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; with WAL never corrupt
    # a second writer (another CLI job, the web app) waits this long for the first to commit
    cursor.execute(f"PRAGMA busy_timeout = {STORE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _private_sqlite_file(path: Path) -> None:
    """Create the store file owner-only (an empty file is an empty SQLite database; SQLite gives its WAL
    and shared-memory files the database file's permissions)."""
    import os

    from healthscore.security import make_private

    if path.parent.is_dir() and not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    make_private(path)


def json_text(value: Any) -> str:
    """What the store's JSON columns hold: orjson (several times faster than json on a batch of snapshots
    with evidence); dates, decimals and other types as their str(), as json.dumps(default=str) gives them."""
    import orjson

    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
                        | orjson.OPT_PASSTHROUGH_DATETIME).decode()


class Store(WorkflowRecords, GovernanceRecords):
    """Snapshots, evidence, model versions, scoring runs, ingest quarantine and the review workflow's
    records (store/workflow.py) in one database."""

    def __init__(self, url: str, seal: Any = None):
        """`seal` (workflow.AuditSeal): the key that MACs audit entries and the anchor file of the chain's
        head, both kept apart from the store (Project passes the workspace's)."""
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise UserError(f"store URL {url!r} is not valid: {exc}") from None
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise UserError(f"store URL {shown!r}: the store runs on sqlite or postgresql only")
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            _private_sqlite_file(Path(parsed.database))
        self.engine = create_engine(parsed, json_serializer=json_text)
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self._upgrade()
            self.seal = seal
            self._init_seal()
        except OperationalError as exc:
            self.engine.dispose()
            from healthscore.security import mask_secrets

            raise UserError(f"cannot open the store at {shown}: {mask_secrets(str(exc.orig), self.url)}") from None
        except BaseException:
            self.engine.dispose()
            raise

    def _upgrade(self) -> None:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Processes starting together (API workers) would otherwise race to create tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(self.url, conn), "head")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- model versions and runs ------------------------------------------------------------

    def record_model_version(
        self, version: str, name: str, source_path: str, yaml_text: str, ir_json: dict[str, Any] | str
    ) -> None:
        """Remember a model version. The version is a content hash, so a second call changes nothing."""
        row = {
            "version": version,
            "name": name,
            "source_path": str(source_path),
            "yaml_text": yaml_text,
            "ir_json": json.loads(ir_json) if isinstance(ir_json, str) else ir_json,
            "created_at": _utcnow(),
        }
        def work(conn: Connection) -> None:
            if conn.execute(_insert_or_ignore(conn, t.model_versions), row).rowcount:
                self._audit(conn, "system", "model.record", "model_version", version, None,
                            {"name": name, "source_path": str(source_path)})

        self._in_transaction(work)

    def start_run(self, model_version: str, as_of_dates: list[date | datetime], engine: str) -> str:
        """Record the start of a scoring run and return its run_id."""
        run_id = uuid.uuid4().hex
        row = {
            "run_id": run_id,
            "model_version": model_version,
            "started_at": _utcnow(),
            "as_of_dates": [_to_date(d).isoformat() for d in as_of_dates],
            "engine": engine,
        }
        with self.engine.begin() as conn:
            conn.execute(insert(t.scoring_runs), row)
        return run_id

    def finish_run(self, run_id: str, accounts: int, snapshots_written: int) -> None:
        stmt = (
            update(t.scoring_runs)
            .where(t.scoring_runs.c.run_id == run_id)
            .values(finished_at=_utcnow(), accounts=accounts, snapshots_written=snapshots_written)
        )
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount == 0:
                raise ValueError(f"no scoring run {run_id!r}")

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
        optional = [c for c in _SNAPSHOT_OPTIONAL_COLUMNS if c in snapshots.columns]
        snaps = _columns(snapshots, _SNAPSHOT_COLUMNS + optional, "snapshots")
        for name in _SNAPSHOT_OPTIONAL_COLUMNS:
            if name not in snaps.columns:
                snaps[name] = None  # the encoders turn missing values into the defaults
        ev = _columns(evidence, _EVIDENCE_COLUMNS + [c for c in _EVIDENCE_OPTIONAL_COLUMNS if c in evidence.columns],
                      "evidence")
        for name in _EVIDENCE_OPTIONAL_COLUMNS:
            if name not in ev.columns:
                ev[name] = None
        for frame in (snaps, ev):
            frame["account_id"] = frame["account_id"].astype(str)
            frame["model_version"] = frame["model_version"].astype(str)
            frame["as_of"] = _naive_utc(frame["as_of"]).dt.normalize()
        duplicated = snaps.duplicated(_SNAPSHOT_KEY)
        if duplicated.any():
            raise ValueError(f"snapshots: key {_key_text(snaps[duplicated].iloc[0])} appears more than once")

        now = _utcnow()
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
            _bulk_insert(conn, t.snapshots, snaps.assign(run_id=run_id, created_at=now), _SNAPSHOT_ENCODERS)
            _bulk_insert(conn, t.evidence, ev, _EVIDENCE_ENCODERS)
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
                conds.append(table.c.as_of == _midnight(as_of))
            if date_from is not None:
                conds.append(table.c.as_of >= _midnight(date_from))
            if date_to is not None:
                conds.append(table.c.as_of <= _midnight(date_to))
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
        raw = {"flags": cast(s.flags, Text)}
        if self.engine.dialect.name == "sqlite":
            raw["as_of"] = type_coerce(s.as_of, String)
        stmt = select(*(raw.get(name, s[name]).label(name) for name in _FRAME_COLUMNS))
        stmt = stmt.order_by(s.account_id, s.as_of, s.model_version)
        if date_from is not None:
            stmt = stmt.where(s.as_of >= _midnight(date_from))
        if date_to is not None:
            stmt = stmt.where(s.as_of <= _midnight(date_to))
        if model_version is not None:
            stmt = stmt.where(s.model_version == model_version)
        with self.engine.connect() as conn:
            if account_ids is not None:
                stmt = stmt.where(_in(conn, s.account_id, account_ids))
            rows = conn.execute(stmt).all()
        return _snapshot_frame(rows)

    def snapshot_counts(self, model_version: str, dates: list[date]) -> dict[date, int]:
        """Stored snapshots of this model version per as-of date (dates without any: absent)."""
        s = t.snapshots.c
        out: dict[date, int] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(dates), 500):
                chunk = [_midnight(d) for d in dates[i:i + 500]]
                stmt = select(s.as_of, func.count()).where(s.model_version == model_version,
                                                           s.as_of.in_(chunk)).group_by(s.as_of)
                for as_of, n in conn.execute(stmt):
                    out[_to_date(as_of)] = int(n)
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
            .where(e.model_version == model_version, e.as_of == _midnight(as_of), e.account_id == account_id)
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

    # -- ingest ---------------------------------------------------------------------------------

    def record_ingest_batch(self, table_name: str, source: str, read: int, accepted: int, quarantined: int) -> str:
        """Record one load of one canonical table and return its batch_id.

        Every row read is either accepted or quarantined, so the counts must add up.
        """
        if read != accepted + quarantined:
            raise ValueError(
                f"ingest batch of {table_name}: read {read} != accepted {accepted} + quarantined {quarantined}"
            )
        batch_id = uuid.uuid4().hex
        row = {
            "batch_id": batch_id,
            "started_at": _utcnow(),
            "table_name": table_name,
            "source": str(source),
            "read": read,
            "accepted": accepted,
            "quarantined": quarantined,
        }
        # every data batch is in the audit chain: who sent it (an API user, or the system's own loads), how
        # many rows, how many quarantined
        actor = str(source)[4:] if str(source).startswith("api:") else "system"

        def work(conn: Connection) -> None:
            conn.execute(insert(t.ingest_batches), row)
            self._audit(conn, actor or "system", "ingest.batch", "ingest_batch", batch_id, None,
                        {"table": table_name, "source": str(source), "read": read, "accepted": accepted,
                         "quarantined": quarantined})

        self._in_transaction(work)
        return batch_id

    def write_quarantine(self, batch_id: str, table_name: str, rows: pd.DataFrame) -> int:
        """Store rejected rows (columns file, line, column, value, reason, raw); return how many."""
        frame = _columns(rows, _QUARANTINE_COLUMNS, "quarantine").rename(columns={"column": "column_name"})
        frame = frame.assign(batch_id=batch_id, table_name=table_name, created_at=_utcnow())
        with self.engine.begin() as conn:
            _bulk_insert(conn, t.quarantine, frame, _QUARANTINE_ENCODERS)
        return len(frame)

    def quarantine(
        self, table_name: str | None = None, batch_id: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Quarantined rows in the order they were written, as JSON-ready dicts."""
        q = t.quarantine.c
        stmt = select(t.quarantine).order_by(q.id)
        if table_name is not None:
            stmt = stmt.where(q.table_name == table_name)
        if batch_id is not None:
            stmt = stmt.where(q.batch_id == batch_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [
                {
                    "id": r.id,
                    "batch_id": r.batch_id,
                    "table_name": r.table_name,
                    "file": r.file,
                    "line": r.line,
                    "column": r.column_name,
                    "value": r.value,
                    "reason": r.reason,
                    "raw": r.raw,
                    "created_at": r.created_at.isoformat(),
                }
                for r in conn.execute(stmt)
            ]


# -- helpers ----------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _to_date(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    return value


def _midnight(value: date | datetime | str) -> datetime:
    d = _to_date(value)
    return datetime(d.year, d.month, d.day)


def _insert_or_ignore(conn: Connection, table: Table) -> Insert:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).on_conflict_do_nothing()


def _columns(frame: pd.DataFrame, names: list[str], what: str) -> pd.DataFrame:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {', '.join(missing)}")
    return frame[names].copy()


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


def _in(conn: Connection, column: Any, values: Iterable[str]) -> Any:
    """column IN values, for any number of values (bound parameters are limited on both dialects)."""
    values = [values] if isinstance(values, str) else [str(v) for v in values]
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("in_values", values, type_=ARRAY(String)))
    # Rendered inline as literals: SQLite allows only so many parameters per statement.
    return column.in_(bindparam("in_values", values, expanding=True, literal_execute=True))


def _snapshot_frame(rows: list[Row]) -> pd.DataFrame:
    """The frame of `snapshot_frame` from its rows (as_of as datetimes or text, flags as JSON text)."""
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
    s = t.snapshots.c
    is_new = pd.Series(True, index=snaps.index)
    for (model_version, as_of), index in snaps.groupby(["model_version", "as_of"]).groups.items():
        stored = conn.scalars(
            select(s.account_id).where(s.model_version == model_version, s.as_of == as_of.to_pydatetime())
        ).all()
        if stored:
            is_new[index] = ~snaps.loc[index, "account_id"].isin(stored)
    return is_new


# Encoders turn a whole column into values ready for the driver. Missing values become None.
Encoder = Callable[[pd.Series], list]


def _bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame, encoders: dict[str, Encoder]) -> None:
    """Insert a frame in chunks, straight through the driver.

    SQLAlchemy's per-row parameter processing costs more than the database's own work at a few
    million rows, so whole columns are encoded up front into what SQLAlchemy itself would store
    (see the encoders), then SQLite gets executemany and PostgreSQL gets COPY, in the caller's
    transaction.
    """
    names = list(encoders)
    quote = conn.dialect.identifier_preparer.quote
    target = f"{conn.dialect.identifier_preparer.format_table(table)} ({', '.join(quote(n) for n in names)})"
    for start in range(0, len(frame), _CHUNK_ROWS):
        chunk = frame.iloc[start : start + _CHUNK_ROWS]
        rows = list(zip(*(encoders[n](chunk[n]) for n in names)))
        if conn.dialect.name == "postgresql":
            sql = f"COPY {target} FROM STDIN"
            try:
                with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            except conn.dialect.loaded_dbapi.Error as exc:
                # The same exception classes (IntegrityError ...) as every other statement raises.
                raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error) from exc
        else:
            conn.exec_driver_sql(f"INSERT INTO {target} VALUES ({', '.join('?' * len(names))})", rows)


def _nulls(series: pd.Series) -> list:
    return series.astype(object).where(series.notna(), None).tolist()


def _text(series: pd.Series) -> list[str | None]:
    # where(): pandas < 3 turns None into "None" in astype(str)
    return _nulls(series.astype(str).where(series.notna()))


def _bool(series: pd.Series) -> list[bool]:
    """True or false; missing values are false."""
    try:
        values = pd.array(series, dtype="boolean")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{series.name}: expected true or false values ({exc})") from None
    return values.fillna(False).to_numpy(dtype=bool).tolist()


def _json_list(series: pd.Series) -> list[str]:
    """JSON arrays; a missing value is the empty array."""
    out = ["[]" if v is None else v for v in _json(series)]
    for v in out:
        if v[0] != "[":
            raise ValueError(f"{series.name}: expected lists, got {v[:80]}")
    return out


def _json_object(series: pd.Series) -> list[str | None]:
    """JSON objects (from dicts); a missing value is NULL."""
    out = _json(series)
    for v in out:
        if v is not None and v[0] != "{":
            raise ValueError(f"{series.name}: expected dicts, got {v[:80]}")
    return out


def _floats(series: pd.Series) -> np.ndarray:
    """float64 with NaN for every kind of missing value (None, pd.NA, NaN) in any column dtype."""
    return pd.array(series, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan)


def _float(series: pd.Series) -> list[float | None]:
    return [None if v != v else v for v in _floats(series).tolist()]  # NaN != NaN


def _int(series: pd.Series) -> list[int | None]:
    return _nulls(pd.Series(pd.array(series, dtype="Int64")))


def _naive_utc(series: pd.Series) -> pd.Series:
    # Naive values are UTC already by convention; aware ones are converted.
    return pd.to_datetime(series, utc=True).dt.tz_localize(None)


def _datetime(series: pd.Series) -> list[str | None]:
    """Datetimes as text in SQLAlchemy's SQLite storage format, which PostgreSQL's COPY also parses.

    Formatted once per distinct value: a column of millions usually holds a handful of dates.
    """
    codes, uniques = pd.factorize(_naive_utc(series))  # NaT gets code -1
    texts = np.array([f"{u:%Y-%m-%d %H:%M:%S.%f}" for u in uniques] + [None], dtype=object)
    return texts[codes].tolist()


def _json(series: pd.Series) -> list[str | None]:
    """JSON text; a missing value becomes SQL NULL rather than JSON null.

    Scalars are encoded inline: this runs for every evidence value, and json.dumps per cell would
    be most of the cost of a large write.
    """
    if pd.api.types.is_float_dtype(series.dtype):
        numbers = _floats(series)
        return [None if v != v else repr(v) for v in np.where(np.isfinite(numbers), numbers, np.nan).tolist()]
    out = []
    for value in series.tolist():
        kind = type(value)
        if kind is str:
            out.append(_json_string(value))
            continue
        if kind is list and not value:  # e.g. no reasons, no flags: the common case
            out.append("[]")
            continue
        value = _jsonable(value)
        kind = type(value)
        if value is None:
            out.append(None)
        elif kind is float or kind is int:
            out.append(repr(value))  # what json.dumps writes
        else:
            out.append(json.dumps(value))
    return out


def _jsonable(value: Any) -> Any:
    """Plain JSON values from pandas/numpy ones: missing and non-finite numbers become None."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:  # the common cases first: this runs per cell
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        return _jsonable(value.item())
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, date):  # datetime and pd.Timestamp too
        return value.isoformat()
    if isinstance(value, float):  # subclasses of float and int, e.g. enums
        return _jsonable(float(value))
    if isinstance(value, int):
        return int(value)
    return str(value)  # e.g. Decimal or bytes in a quarantined row: kept readable, never lost


_SNAPSHOT_ENCODERS: dict[str, Encoder] = {
    "account_id": _text,
    "as_of": _datetime,
    "model_version": _text,
    "run_id": _text,
    "score": _float,
    "tier": _text,
    "status": _text,
    "confidence": _float,
    "coverage": _float,
    "segment": _text,
    "components": _json,
    "reasons": _json,
    "created_at": _datetime,
    "smoothed_score": _float,
    "primary_driver": _text,
    "trend_note": _text,
    "flags": _json_list,
    "review_required": _bool,
    "last_trusted": _json_object,
}
_EVIDENCE_ENCODERS: dict[str, Encoder] = {
    "account_id": _text,
    "as_of": _datetime,
    "model_version": _text,
    "metric": _text,
    "component": _text,
    "value": _json,
    "window": _text,
    "source": _text,
    "rows": _int,
    "latest_at": _datetime,
    "score": _float,
    "weight": _float,
    "points": _float,
    "as_of_source": _text,
}
_QUARANTINE_ENCODERS: dict[str, Encoder] = {
    "batch_id": _text,
    "table_name": _text,
    "file": _text,
    "line": _int,
    "column_name": _text,
    "value": _text,
    "reason": _text,
    "raw": _json,
    "created_at": _datetime,
}
