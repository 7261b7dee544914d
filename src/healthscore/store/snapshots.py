"""Snapshots and their evidence (a mixin of `Store`): every snapshot in the Parquet history
(store/history.py), the newest one per account and model version also in the store's `snapshots` table.

A (account_id, as_of, model_version) key is written once and never updated. The store keeps the latest
snapshot per account so that the web app's portfolio and lists stay SQL queries on the store; history,
evidence, trends and distributions read the history's files through DuckDB.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, delete, func, select

from healthscore.store import tables as t
from healthscore.store.common import column_in, to_date, utcnow
from healthscore.store.history import History, col

if TYPE_CHECKING:  # pandas (and the encoders, which need it) load when a frame is read or written
    import pandas as pd
    import pyarrow as pa
_T = TypeVar("_T")
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
# as_of_source: revision 0007; value_num: a scoring run's numeric values as floats (NaN elsewhere), so the write
# need not read them back from the value column's Python objects
_EVIDENCE_OPTIONAL_COLUMNS = ["as_of_source", "target", "target_source", "value_num"]


class SnapshotRecords:
    engine: Engine  # set by Store
    history: History  # set by Store

    # -- snapshots and evidence -------------------------------------------------------------

    def write_snapshots(self, run_id: str, snapshots: pd.DataFrame, evidence: pd.DataFrame) -> int:
        """Append snapshots and their evidence to the history; return how many snapshots were new.

        Snapshots whose key (account_id, as_of, model_version) is already in the history are skipped
        with all their evidence, so re-running a scoring run is harmless. Missing values (NaN, NaT,
        pd.NA) are stored as missing. Writers of one history take turns (a lock file), so two writers
        racing on the same new keys store them once.

        The order makes a crash at any point harmless: the new snapshots' file is written and fsynced
        under a temporary name, the store's transaction (the latest snapshot per account) commits,
        then the file is renamed into the history. A crash before the rename leaves the date out of
        the history (`stored_as_of_dates`), so a backfill or scoring run computes it again and writes
        it once; the latest-snapshot rows it replaces are the same key's.

        The history columns (smoothed_score, primary_driver, trend_note, flags, review_required,
        last_trusted) are optional: when a column is absent, or a value is missing, flags is stored
        as [], review_required as false and the others as missing. flags holds lists, last_trusted
        JSON objects (dicts).
        """
        import numpy as np
        import pandas as pd

        from healthscore.faults import fault_point
        from healthscore.store.encode import SNAPSHOT_ENCODERS, naive_utc, select_columns
        from healthscore.store.history import DuplicateEvidence, list_order, snapshot_positions

        optional = [c for c in _SNAPSHOT_OPTIONAL_COLUMNS if c in snapshots.columns]
        snaps = select_columns(snapshots, _SNAPSHOT_COLUMNS + optional, "snapshots")
        for name in _SNAPSHOT_OPTIONAL_COLUMNS:
            if name not in snaps.columns:
                snaps[name] = None  # the encoders turn missing values into the defaults
        ev_optional = [c for c in _EVIDENCE_OPTIONAL_COLUMNS if c in evidence.columns]
        ev = select_columns(evidence, _EVIDENCE_COLUMNS + ev_optional, "evidence")
        for frame in (snaps, ev):
            for name in ("account_id", "model_version"):
                frame[name] = _as_text(frame[name])
            frame["as_of"] = naive_utc(frame["as_of"]).dt.normalize()
        duplicated = snaps.duplicated(_SNAPSHOT_KEY)
        if duplicated.any():
            raise ValueError(f"snapshots: key {_key_text(snaps[duplicated].iloc[0])} appears more than once")
        positions = snapshot_positions(snaps, ev)  # each evidence row's snapshot
        orphans = positions < 0
        if orphans.any():
            raise ValueError(
                f"evidence: {int(orphans.sum())} rows belong to no snapshot in this batch, "
                f"e.g. {_key_text(ev[orphans].iloc[0])}"
            )
        unnamed = ev["metric"].isna()
        if unnamed.any():
            raise ValueError(f"evidence: a row of snapshot {_key_text(ev[unnamed].iloc[0])} has no metric name")
        try:
            list_order(positions, ev["metric"])
        except DuplicateEvidence as exc:
            row = ev.iloc[exc.row]
            raise ValueError(f"evidence: metric {row['metric']!r} of snapshot {_key_text(row)} appears more than once"
                             ) from None
        snaps = snaps.assign(run_id=run_id, created_at=utcnow())
        # the JSON columns as the history keeps them; this also checks their values before anything is written
        encoded = snaps.copy()
        for name in _CONTEXT_COLUMNS:  # the account as of the date, for reads that need no engine (history only)
            encoded[name] = snapshots[name].array if name in snapshots.columns else None  # as it is: no inference
        encoded["review_required"] = SNAPSHOT_ENCODERS["review_required"](snaps["review_required"])
        for name in _JSON_COLUMNS:  # object columns: the encoders' None stays None (a str column makes it NaN)
            encoded[name] = pd.Series(SNAPSHOT_ENCODERS[name](snaps[name]), index=encoded.index, dtype=object)

        with self.history.writer_lock():
            is_new = self._new_in_history(snaps).to_numpy()
            if not is_new.all():
                keep = is_new[positions]
                ev, positions = ev[keep], (np.cumsum(is_new) - 1)[positions[keep]]  # numbered among the new
                snaps, encoded = snaps[is_new], encoded[is_new]
            staged = self.history.stage(encoded, ev, positions)
            try:
                with self.engine.begin() as conn:
                    _replace_latest(conn, encoded)
            except BaseException:
                staged.discard()
                raise
            fault_point("snapshots:store")  # the store has committed, the history file is not in place yet
            staged.publish()
            self.history.maintain_index(snaps["model_version"].unique().tolist())
        return len(snaps)

    def _new_in_history(self, snaps: pd.DataFrame) -> pd.Series:
        """True for snapshots whose key is not in the history yet (the account_id column of each date's files)."""
        import pandas as pd

        is_new = pd.Series(True, index=snaps.index)
        for (model_version, as_of), index in snaps.groupby(["model_version", "as_of"]).groups.items():
            stored = self.history.stored_accounts(str(model_version), as_of.date())
            if stored:
                is_new[index] = ~snaps.loc[index, "account_id"].isin(stored)
        return is_new

    def history_table(self, columns: Sequence[str], *, model_version: str | None = None,
                      dates: Iterable[date] | None = None, date_from: date | datetime | str | None = None,
                      date_to: date | datetime | str | None = None, account_id: str | None = None,
                      account_ids: Iterable[str] | None = None, segment: str | None = None,
                      order: Sequence[str] = ()) -> pa.Table | None:
        """Columns of the history's snapshots (account_id, as_of, model_version, the snapshot columns,
        evidence), read through DuckDB from the files of the partitions asked for; None when there are none."""
        return self._read_history(lambda rel: rel.to_arrow_table(), columns, model_version=model_version,
                                  dates=dates, date_from=date_from, date_to=date_to, account_id=account_id,
                                  account_ids=account_ids, segment=segment, order=order)

    def history_batches(self, columns: Sequence[str], reduce: Callable[[pa.RecordBatch], _T], *,
                        batch_rows: int = 8_192, **where: Any) -> list[_T]:
        """As `history_table`, a record batch at a time, each reduced by `reduce` as it comes: a portfolio's
        evidence (2.4 million entries at 100,000 accounts) need not be in memory at once. A read that is run
        again (a file went away under it) starts the list again."""
        def fetch(rel: Any) -> list[_T]:
            return [reduce(batch) for batch in rel.to_arrow_reader(batch_rows)]

        return self._read_history(fetch, columns, **where) or []

    def history_rows(self, columns: Sequence[str], **where: Any) -> list[dict[str, Any]]:
        """As `history_table`, as dicts of Python values (without loading pyarrow: a read command's few rows)."""
        def fetch(rel: Any) -> list[dict[str, Any]]:
            names = rel.columns
            return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]

        return self._read_history(fetch, columns, **where) or []

    def _read_history(self, fetch: Callable[[Any], _T], columns: Sequence[str], *, model_version: str | None = None,
                      dates: Iterable[date] | None = None, date_from: date | datetime | str | None = None,
                      date_to: date | datetime | str | None = None, account_id: str | None = None,
                      account_ids: Iterable[str] | None = None, segment: str | None = None,
                      order: Sequence[str] = ()) -> _T | None:
        ids = None
        if account_ids is not None:
            ids = [account_ids] if isinstance(account_ids, str) else sorted({str(a) for a in account_ids})
            if not ids:
                return None
        # a read of a few accounts goes through the series index when it holds every column the read needs
        few = account_id is not None or (ids is not None and len(ids) <= _INLINE_IDS)
        series = {*columns, *order, "account_id", *(["segment"] if segment is not None else [])} if few else None
        return self.history.read(lambda con: self._query_history(
            con, fetch, columns, model_version=model_version, dates=dates, date_from=date_from, date_to=date_to,
            account_id=account_id, ids=ids, segment=segment, order=order, series=series), small=few)

    def _query_history(self, con: Any, fetch: Callable[[Any], _T], columns: Sequence[str], *,
                       model_version: str | None, dates: Iterable[date] | None,
                       date_from: date | datetime | str | None, date_to: date | datetime | str | None,
                       account_id: str | None, ids: list[str] | None, segment: str | None, order: Sequence[str],
                       series: set[str] | None) -> _T | None:
        scan = self.history.scan(con, model_version=model_version,
                                  date_from=to_date(date_from) if date_from is not None else None,
                                  date_to=to_date(date_to) if date_to is not None else None,
                                  dates={to_date(d) for d in dates} if dates is not None else None,
                                  series=series, accounts=[str(account_id)] if account_id is not None else ids)
        if scan is None:
            return None
        present = scan.columns if scan.columns is not None else _daily_columns(con, scan)
        wanted = tuple(c for c in columns if c in present)
        inline = ids is None or len(ids) <= _INLINE_IDS
        # One statement for DuckDB to bind and plan (each relation-API step cost a web read about 1 ms), its
        # values as parameters: the text is the same for every account and is built once per set of files.
        values = [*([str(account_id)] if account_id is not None else []),
                  *(ids if ids is not None and inline else []), *([segment] if segment is not None else [])]
        shape = (scan, wanted, tuple(order), account_id is not None,
                 len(ids) if ids is not None and inline else None, segment is not None, not inline)
        if "pandas" in sys.modules or not values:
            rel = con.sql(_history_sql(*shape), params=values or None)
        else:
            # Binding a parameter makes DuckDB import pandas (0.4 s, more than all the rest of a read command):
            # a process without pandas (a CLI read, one read per process) gets the values as literals instead.
            rel = con.sql(_history_select(*shape, values=[_literal(v) for v in values]).sql(dialect="duckdb"))
        if inline:
            return fetch(rel)
        import pyarrow as pa  # many accounts: a join with them

        rel = rel.join(con.from_arrow(pa.table({"_id": pa.array(ids, pa.string())})), "account_id = _id")
        if order:  # sorted before the projection: the order may name columns the read does not return
            rel = rel.sort(*(col(c) for c in order))
        return fetch(rel.project(*(col(c) for c in wanted)))

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
        columns = [*_SNAPSHOT_KEY, *_READ_COLUMNS, *_CONTEXT_COLUMNS, *(["evidence"] if with_evidence else [])]
        rows = self.history_rows(columns, model_version=model_version,
                                 dates=[to_date(as_of)] if as_of is not None else None,
                                 date_from=date_from, date_to=date_to, account_id=account_id,
                                 order=("account_id", "as_of", "model_version"))
        out = []
        for r in rows:
            snap = {
                "account_id": r["account_id"],
                "as_of": r["as_of"].isoformat(),
                "model_version": r["model_version"],
                "score": r["score"],
                "tier": r["tier"],
                "status": r["status"],
                "confidence": r["confidence"],
                "coverage": r["coverage"],
                "segment": r["segment"],
                "components": _loads(r["components"]),
                "evidence": _evidence_list(r["evidence"]) if with_evidence else None,
                "reasons": _loads(r["reasons"]),
                "smoothed_score": r["smoothed_score"],
                "primary_driver": r["primary_driver"],
                "trend_note": r["trend_note"],
                "flags": _loads(r["flags"]),
                "review_required": bool(r["review_required"]),
                "last_trusted": _loads(r["last_trusted"]),
            }
            if any(r.get(name) is not None for name in _CONTEXT_COLUMNS):
                snap["account"] = {name: r.get(name) for name in _CONTEXT_COLUMNS}
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
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Stored snapshots without evidence as one DataFrame, ordered by account_id, as_of (then model_version).

        Columns: account_id, as_of (datetime64[ns], midnight), model_version, score, tier, status,
        smoothed_score, primary_driver, trend_note, flags (lists), review_required (bool),
        confidence, coverage; missing numbers and text are NA (pd.isna). date_from and date_to
        are inclusive; account_ids restricts to those accounts (an empty collection gives no rows);
        `columns`: only those of them (a backfill's look back reads five).
        One read of the history's files, for history and trend computations over many accounts and dates.
        """
        names = _FRAME_COLUMNS if columns is None else [c for c in _FRAME_COLUMNS if c in set(columns)]
        table = self.history_table(names, model_version=model_version, date_from=date_from,
                                   date_to=date_to, account_ids=account_ids,
                                   order=("account_id", "as_of", "model_version"))
        return _snapshot_frame(table, names)

    def snapshot_counts(self, model_version: str, dates: list[date]) -> dict[date, int]:
        """Stored snapshots of this model version per as-of date (dates without any: absent)."""
        return self.history.counts(model_version, [to_date(d) for d in dates])

    def stored_as_of_dates(self, model_version: str) -> set[date]:
        """The as-of dates with at least one stored snapshot of this model version (the history's
        partitions: for resuming an interrupted backfill without reading any snapshot)."""
        return self.history.dates(model_version)

    def evidence_for(self, account_id: str, as_of: date | datetime | str, model_version: str) -> list[dict[str, Any]]:
        """One snapshot's evidence, as in `snapshots`: by points (highest first, missing last), then metric.

        Empty when the snapshot is not stored (or has no evidence).
        """
        rows = self.history_rows(["evidence"], model_version=model_version, dates=[to_date(as_of)],
                                 account_id=account_id)
        return _evidence_list(rows[0]["evidence"]) if rows else []

    def latest_as_of(self, model_version: str | None = None, account_id: str | None = None) -> date | None:
        """The newest as-of date with a stored snapshot (of one account), or None when there is none."""
        if account_id is None:
            return max((d for _, d, _ in self.history.listing(model_version)), default=None)
        # the store's latest row of the account, when its date is in the history (it is unless a crash
        # came between the store's commit and the file's rename); otherwise the history's files
        s = t.snapshots.c
        stmt = select(func.max(s.as_of)).where(s.account_id == account_id)
        if model_version is not None:
            stmt = stmt.where(s.model_version == model_version)
        with self.engine.connect() as conn:
            newest = conn.scalar(stmt)
        if newest is not None and self.history.listing(model_version, newest.date(), newest.date()):
            return newest.date()
        rows = self.history_rows(["as_of"], model_version=model_version, account_id=account_id)
        return max((r["as_of"] for r in rows), default=None)


_INLINE_IDS = 500  # accounts listed in a filter; more are joined with
_DAILY_COLUMNS: dict[tuple[str, ...], frozenset[str]] = {}  # files never change once in place


def _daily_columns(con: Any, scan: Any) -> frozenset[str]:
    """The columns of a read of daily files (one written before a column existed lacks it), asked of DuckDB
    once per set of files."""
    found = _DAILY_COLUMNS.get(scan.daily)
    if found is None:
        found = frozenset(con.sql(scan.query().sql(dialect="duckdb")).columns)
        if len(_DAILY_COLUMNS) >= 256:
            _DAILY_COLUMNS.clear()
        _DAILY_COLUMNS[scan.daily] = found
    return found


# (an account page makes a few reads; the index files they read differ by the account's shard, 16 of them)
@functools.lru_cache(maxsize=1024)
def _history_sql(scan: Any, wanted: tuple[str, ...], order: tuple[str, ...], by_account: bool,
                 inline_ids: int | None, by_segment: bool, for_join: bool) -> str:
    """The SQL text of a history read, its account, accounts and segment as parameters (`?`, in that order)."""
    return _history_select(scan, wanted, order, by_account, inline_ids, by_segment, for_join).sql(dialect="duckdb")


def _history_select(scan: Any, wanted: tuple[str, ...], order: tuple[str, ...], by_account: bool,
                    inline_ids: int | None, by_segment: bool, for_join: bool,
                    values: list[Any] | None = None) -> Any:
    """The query of a history read; its values are parameters, or `values` (expressions, in that order)."""
    from sqlglot import exp  # here, not at import: `tasks` and `--help` never build a history query

    given = iter(values) if values is not None else None

    def value() -> exp.Expression:
        return next(given) if given is not None else exp.Placeholder()

    conditions: list[exp.Expression] = []
    if by_account:
        conditions.append(exp.column("account_id").eq(value()))
    if inline_ids is not None:
        conditions.append(exp.column("account_id").isin(*(value() for _ in range(inline_ids))))
    if by_segment:
        conditions.append(exp.column("segment").eq(value()))
    # a read joined with its accounts is sorted after the join: it returns what the join and the sort need
    names = [*wanted, *(c for c in dict.fromkeys(["account_id", *order]) if for_join and c not in wanted)]
    select = exp.select(*(exp.column(c) for c in names)).from_(scan.query().subquery("h", copy=False), copy=False)
    if conditions:
        select = select.where(exp.and_(*conditions), copy=False)
    if order and not for_join:
        select = select.order_by(*(exp.Ordered(this=exp.column(c), nulls_first=False) for c in order), copy=False)
    return select


def _literal(value: str) -> Any:
    from sqlglot import exp

    return exp.Literal.string(value)


# The account's name, owner and ARR as of the date, kept in the history beside the snapshot (not in the store's
# latest row): explain and the API read a stored snapshot without opening the engine. Older files have none.
_CONTEXT_COLUMNS = ["name", "owner", "arr"]
_JSON_COLUMNS = ("components", "reasons", "flags", "last_trusted")
_READ_COLUMNS = ["score", "tier", "status", "confidence", "coverage", "segment", "components", "reasons",
                 "smoothed_score", "primary_driver", "trend_note", "flags", "review_required", "last_trusted"]


def _loads(text: str | None) -> Any:
    import orjson

    return None if text is None else orjson.loads(text)


def _evidence_list(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A snapshot's evidence by points (highest first, missing last), then metric."""
    out = [_evidence_entry(e) for e in entries]
    out.sort(key=lambda e: (e["points"] is None or e["points"] != e["points"], -(e["points"] or 0.0), e["metric"]))
    return out


def _evidence_entry(e: dict[str, Any]) -> dict[str, Any]:
    """One evidence entry of the history as the snapshot dicts carry it."""
    latest = e["latest_at"]
    out = {
        "metric": e["metric"],
        "component": e["component"],
        "value": e["value_text"] if e["value_text"] is not None else e["value_num"],
        "window": e["window"],
        "source": e["source"],
        "rows": e["rows"],
        "latest_at": latest.isoformat() if latest is not None else None,
        "score": e["score"],
        "weight": e["weight"],
        "points": e["points"],
    }
    if e.get("as_of_source") is not None:
        out["as_of_source"] = e["as_of_source"]
    if e.get("target") is not None or e.get("target_source") is not None:
        out["target"], out["target_source"] = e.get("target"), e.get("target_source")
    return out


def _replace_latest(conn: Connection, snaps: pd.DataFrame) -> None:
    """Make the store's `snapshots` hold each account's newest snapshot per model version: a new snapshot
    replaces the account's row of the same or an older date, and is left out when a newer one is there.
    `snaps`: its JSON columns already JSON text (as the history file has them)."""
    from healthscore.store.encode import ENCODED_SNAPSHOT_ENCODERS, bulk_insert

    if snaps.empty:
        return
    s = t.snapshots.c
    newest = snaps.sort_values("as_of", kind="stable").drop_duplicates(["model_version", "account_id"], keep="last")
    for (model_version, as_of), group in newest.groupby(["model_version", "as_of"]):
        ids = group["account_id"].tolist()
        when = as_of.to_pydatetime()
        conn.execute(delete(t.snapshots).where(s.model_version == model_version, s.as_of <= when,
                                               column_in(conn, s.account_id, ids)))
        newer = set(conn.scalars(select(s.account_id).where(s.model_version == model_version, s.as_of > when,
                                                            column_in(conn, s.account_id, ids))))
        rows = group[~group["account_id"].isin(newer)] if newer else group
        bulk_insert(conn, t.snapshots, rows, ENCODED_SNAPSHOT_ENCODERS)


def _snapshot_frame(table: pa.Table | None, names: list[str]) -> pd.DataFrame:
    """The frame of `snapshot_frame` from the history's columns (as_of a date, flags JSON text), converted
    column by column in Arrow: a backfill's look back at 10,000 accounts x 120 days is 1.2M rows, and
    going through Python values cost it 8 s a chunk."""
    import pandas as pd
    import pyarrow as pa

    rows = 0 if table is None else table.num_rows

    def column(name: str) -> pa.Array:
        if table is None or name not in table.column_names:
            return pa.nulls(rows)
        return table.column(name).combine_chunks()

    frame: dict[str, Any] = {}
    for name in names:
        arr = column(name)
        if name == "as_of":
            frame[name] = pd.Series(arr.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
                                    .astype("datetime64[ns]"))
        elif name == "flags":  # few distinct values: each parsed once, then a list of its own per row
            codes, texts = pd.factorize(pd.Series(arr.to_pandas(), dtype=object), use_na_sentinel=False)
            parsed = [json.loads(v) if isinstance(v, str) else [] for v in texts]
            frame[name] = pd.Series([list(parsed[c]) for c in codes.tolist()], dtype=object)
        elif name in ("score", "smoothed_score", "confidence", "coverage"):
            frame[name] = pd.Series(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
        elif name == "review_required":
            frame[name] = pd.Series(arr.cast(pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        elif rows:
            frame[name] = pd.Series(arr.cast(pa.string()).to_pandas())
        else:
            frame[name] = pd.Series([], dtype=object)
    return pd.DataFrame(frame, columns=names)


def _as_text(values: pd.Series) -> pd.Series:
    """Key values as text; a column of categories (a scoring run's evidence: 2.4M rows for 100,000 accounts)
    keeps its codes and turns only its categories into text."""
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        names = values.cat.categories.astype(str)
        if names.is_unique:
            return values.cat.rename_categories(names)
    return values.astype(str)


def _key_text(row: pd.Series) -> str:
    return f"(account_id={row['account_id']!r}, as_of={row['as_of'].date()}, model_version={row['model_version']!r})"
