"""The store: the system of record for what healthscore itself writes.

A SQLite file by default, PostgreSQL in production, through SQLAlchemy Core. The schema is created
only by the Alembic migrations next to this file; opening a `Store` upgrades the database to head (a
store already at head is only checked: read commands do not load Alembic).
Snapshots and their evidence are append-only: a (account_id, as_of, model_version) key is written
once and never updated. They live in the snapshot history, Parquet files in a directory beside the
store (store/history.py); the store keeps the newest snapshot per account and model version.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, create_engine, event, insert, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from healthscore.errors import UserError
from healthscore.store import tables as t
from healthscore.store.audit import AuditSeal
from healthscore.store.common import insert_or_ignore, to_date, utcnow
from healthscore.store.governance import GovernanceRecords
from healthscore.store.history import History
from healthscore.store.snapshots import SnapshotRecords
from healthscore.store.workflow import WorkflowRecords

if TYPE_CHECKING:
    import pandas as pd
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every process opening the same database.
_PG_MIGRATION_LOCK = 0x6865616C7468  # "health"
_QUARANTINE_COLUMNS = ["file", "line", "column", "value", "reason", "raw"]


def normalise_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver healthscore installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def alembic_config(url: str, connection: Connection | None = None, history_dir: Path | None = None) -> Config:
    """Alembic config built in code, so the migrations run from an installed package without an ini.

    With `connection`, migrations run on it (inside its transaction); otherwise on `url`. `history_dir`:
    the snapshot history that revision 0009 moves the stored snapshots and evidence into (when there are
    any; default: the directory `default_history_dir` gives a SQLite file).
    """
    from alembic.config import Config

    cfg = Config()
    # ConfigParser interpolates '%', which may appear in paths and URL-encoded passwords.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    cfg.attributes["history_dir"] = history_dir if history_dir is not None else default_history_dir(url)
    return cfg


def default_history_dir(url: str) -> Path | None:
    """Where a store opened without a history directory keeps its snapshot history: beside a SQLite file
    (``store.db`` -> ``store.db-history``, as SQLite names its -wal file); none for an in-memory SQLite
    store (Store makes a temporary one) or PostgreSQL (the workspace's ``history:`` setting says where)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(f"{parsed.database}-history")
    return None


@cache
def head_revision() -> str:
    """The newest migration: the one no other migration revises (read from the files; importing Alembic
    costs a read command about 0.4 s)."""
    revisions, revised = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text()
        revisions.update(re.findall(r'^revision: str = "(\w+)"', source, re.M))
        revised.update(re.findall(r'^down_revision: str \| None = "(\w+)"', source, re.M))
    (head,) = revisions - revised
    return head


STORE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Write-ahead logging: readers (the web app) do not block the writer (a real-time consumer) and a
    commit appends to the log instead of copying pages to a journal and syncing twice (~10 ms each)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; with WAL never corrupt
    cursor.close()


@cache
def sqlite_has_json() -> bool:
    """Whether SQLite's JSON functions are there (store/common.py's column_in unnests with json_each)."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as con:
            con.execute("SELECT value FROM json_each('[1]')").fetchall()  # a constant statement
    except sqlite3.OperationalError:
        return False
    return True


def _private_sqlite_file(path: Path) -> None:
    """Create the store file owner-only (an empty file is an empty SQLite database; SQLite gives its WAL
    and shared-memory files the database file's permissions)."""
    import os

    from healthscore.security import make_private

    if path.parent.is_dir() and not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    make_private(path)


def json_text(value: Any) -> str:
    """What the store's JSON columns hold: orjson (several times faster than json on a batch of snapshots
    with evidence); dates, decimals and other types as their str(), as json.dumps(default=str) gives them."""
    import orjson

    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
                        | orjson.OPT_PASSTHROUGH_DATETIME).decode()


def json_value(text: str | bytes) -> Any:
    """A JSON column's value: orjson (a real-time batch's triage decodes thousands of tasks: json.loads was
    0.1 s of it a batch), or json for what orjson refuses (NaN or Infinity, which json.dumps wrote into
    stores of earlier versions)."""
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class Store(SnapshotRecords, WorkflowRecords, GovernanceRecords):
    """Model versions, scoring runs and ingest quarantine; snapshots and evidence (store/snapshots.py), the
    review workflow's records (store/workflow.py), users, tokens and model governance (store/governance.py)
    and the audit log (store/audit.py), in one database."""

    def __init__(self, url: str, seal: AuditSeal | None = None, history_dir: Path | str | None = None):
        """`seal`: the key that MACs audit entries and the anchor file of the chain's
        head, both kept apart from the store (Project passes the workspace's).

        `history_dir`: the snapshot history's directory (Project passes the workspace's). Without one, a
        SQLite file's is beside it (`default_history_dir`), an in-memory store's is a temporary directory
        removed on close, and a PostgreSQL store has none: writing or reading snapshots then fails with
        an error that names the setting."""
        self.url = normalise_url(url)
        self._tmp_history: Any = None
        if history_dir is None:
            history_dir = default_history_dir(self.url)
            if history_dir is None and self.url.startswith("sqlite"):
                import tempfile

                self._tmp_history = tempfile.TemporaryDirectory(prefix="healthscore-history-")
                history_dir = Path(self._tmp_history.name)
        self.history_dir = Path(history_dir) if history_dir is not None else None
        self.history = History(self.history_dir, "the store has no snapshot history directory: set 'history:'"
                                                 " in healthscore.yaml (a directory every process that writes or"
                                                 " reads snapshots can reach)")
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise UserError(f"store URL {url!r} is not valid: {exc}") from None
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise UserError(f"store URL {shown!r}: the store runs on sqlite or postgresql only")
        if parsed.get_backend_name() == "sqlite" and not sqlite_has_json():
            import sqlite3

            raise UserError(f"store URL {shown!r}: this Python's SQLite ({sqlite3.sqlite_version}) has no JSON"
                            " functions, which the store uses (built into SQLite since 3.38): use a newer SQLite"
                            " or a PostgreSQL store")
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            _private_sqlite_file(Path(parsed.database))
        # a second SQLite writer (another CLI job, the web app) waits this long for the first to commit
        waits = {"timeout": STORE_BUSY_TIMEOUT_MS / 1000} if parsed.get_backend_name() == "sqlite" else {}
        self.engine = create_engine(parsed, json_serializer=json_text, json_deserializer=json_value,
                                    connect_args=waits)
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
        if self._at_head():
            return
        from alembic import command

        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Processes starting together (API workers) would otherwise race to create tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(self.url, conn, self.history_dir), "head")
            free_pages = conn.dialect.name == "sqlite" and \
                (conn.execute(text("PRAGMA freelist_count")).scalar() or 0) > 0
        if free_pages:  # e.g. revision 0009 moved the evidence out: give the file its space back (no transaction)
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM"))

    def _at_head(self) -> bool:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return False
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()

    def close(self) -> None:
        self.engine.dispose()
        if self._tmp_history is not None:
            self._tmp_history.cleanup()
            self._tmp_history = None

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
            "created_at": utcnow(),
        }
        def work(conn: Connection) -> None:
            if conn.execute(insert_or_ignore(conn, t.model_versions), row).rowcount:
                self._audit(conn, "system", "model.record", "model_version", version, None,
                            {"name": name, "source_path": str(source_path)})

        self._in_transaction(work)

    def start_run(self, model_version: str, as_of_dates: list[date | datetime], engine: str) -> str:
        """Record the start of a scoring run and return its run_id."""
        run_id = uuid.uuid4().hex
        row = {
            "run_id": run_id,
            "model_version": model_version,
            "started_at": utcnow(),
            "as_of_dates": [to_date(d).isoformat() for d in as_of_dates],
            "engine": engine,
        }
        with self.engine.begin() as conn:
            conn.execute(insert(t.scoring_runs), row)
        return run_id

    def finish_run(self, run_id: str, accounts: int, snapshots_written: int) -> None:
        stmt = (
            update(t.scoring_runs)
            .where(t.scoring_runs.c.run_id == run_id)
            .values(finished_at=utcnow(), accounts=accounts, snapshots_written=snapshots_written)
        )
        with self.engine.begin() as conn:
            if conn.execute(stmt).rowcount == 0:
                raise ValueError(f"no scoring run {run_id!r}")

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
            "started_at": utcnow(),
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
        from healthscore.store.encode import QUARANTINE_ENCODERS, bulk_insert, select_columns

        frame = select_columns(rows, _QUARANTINE_COLUMNS, "quarantine").rename(columns={"column": "column_name"})
        frame = frame.assign(batch_id=batch_id, table_name=table_name, created_at=utcnow())
        with self.engine.begin() as conn:
            bulk_insert(conn, t.quarantine, frame, QUARANTINE_ENCODERS)
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
