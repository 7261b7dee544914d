"""Real-time rescoring: events in, only the affected accounts rescored, alerts through the same hygiene.

The model's query is compiled once per day and model version, restricted to a small engine table of
account ids that each batch fills, so a batch costs one SQL run over its accounts instead of an Ibis
build and compile (most of a small query's time). A live snapshot counts every row before the end
of today (as-of tomorrow, 00:00 UTC): it is provisional until the day's scoring run stores the dated
snapshot, and it replaces the account's previous live snapshot.

The consumer keeps a per-account daily rollup (`Rollup`): every source's aggregates of each account
as of the live date. A batch of usage events then brings the usage aggregates of its accounts up to
date from its new rows alone (counts and sums add, latest times take the newest, distinct counts unite
the values the rollup keeps for them), reads the accounts' own columns, and takes every other source's
aggregates from the rollup. A touched table with an aggregate that does not combine (a mean, a latest
value) is read again for the batch's accounts.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.ingest.report import TableReport
    from healthscore.model.load import LoadedModel
    from healthscore.scoring.score import ScoredFrames
    from healthscore.store.store import Store

BATCH_TABLE = "_healthscore_live_accounts"
NEWEST_TTL_SECONDS = 60.0  # how long a source's newest row time is reused before it is read again
ROLLUP_WARM_MAX = 250_000  # accounts: up to this many, the rollup is read for the whole portfolio at once


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Rollup:
    """Per-account daily aggregates: the rows the model's query fetched (one per account, every source's
    aggregate columns) as of the live date, kept until the day, the model or the engine's tables change.

    Held as Arrow: batches append their rows, `pos` points at each account's newest one, and lookups are
    takes by position, so a batch costs time in proportion to its own accounts, not to the portfolio's."""

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.table: Any = None  # pa.Table: every row ever added; the newest per account is the live one
        self.pos: dict[str, int] = {}
        self.sets: dict[str, dict[str, set]] = {}  # "<pid>__set" -> account -> the values a distinct count counts

    @property
    def ids(self):
        return self.pos.keys()

    def update(self, fetched: pa.Table) -> pa.Table:
        """These accounts' rows, freshly fetched with all of the query's columns, replace theirs. Returns
        them in the rollup's column order and types (the distinct values of `<pid>__set` columns are kept
        as sets, not as columns)."""
        import pyarrow as pa

        set_columns = [c for c in fetched.column_names if c.endswith("__set")]
        if set_columns:
            ids = fetched.column("account_id").to_pylist()
            for c in set_columns:
                self.sets.setdefault(c, {}).update(
                    (a, set(values or ())) for a, values in zip(ids, fetched.column(c).to_pylist()))
            fetched = fetched.drop_columns(set_columns)
        if self.table is not None and fetched.schema != self.table.schema:  # completed and merged rows
            fetched = fetched.select(self.table.column_names).cast(self.table.schema)
        if fetched.num_rows == 0:
            return fetched
        start = 0 if self.table is None else self.table.num_rows
        self.table = fetched if self.table is None else pa.concat_tables([self.table, fetched])
        self.pos.update(zip(fetched.column("account_id").to_pylist(), range(start, start + fetched.num_rows)))
        if self.table.num_rows > 2 * len(self.pos) + 10_000:  # mostly replaced rows: keep the live ones
            keep = sorted(self.pos.values())
            self.table = self.table.take(pa.array(keep, pa.int64())).combine_chunks()
            self.pos = {a: i for i, a in enumerate(self.table.column("account_id").to_pylist())}
        return fetched

    def complete(self, fetched: pa.Table) -> pa.Table:
        """Fetched rows of some sources' aggregates, with every other column taken from the rollup."""
        import pyarrow as pa

        columns = [c for c in self.table.column_names if c not in set(fetched.column_names)]
        if not columns:
            return fetched
        at = pa.array([self.pos[a] for a in fetched.column("account_id").to_pylist()], pa.int64())
        rows = self.table.select(columns).take(at)
        return pa.Table.from_arrays(fetched.columns + rows.columns, names=fetched.column_names + columns)


@dataclass
class LiveDeps:
    """What the live service works with, built by the composition root (project.py)."""

    engine: Callable[[], EngineAdapter]  # the engine as it is open now (the web app reopens it per request)
    model: Callable[[], LoadedModel]  # the active model
    store: Store
    ingest_rows: Callable[..., TableReport]  # IngestionService.ingest_rows
    with_history: Callable[..., ScoredFrames]  # smoothing, published tiers, trend notes
    history_frame: Callable[[dt.date], pd.DataFrame]  # the stored snapshots smoothing looks back on
    load_accounts: Callable[[], dict]  # owner, ARR, renewal date ... of every account
    past_scores: Callable[[dt.date, set[int]], dict]  # every account's score days before a date
    review_snapshots: Callable[..., dict]  # alerts and tasks from stored snapshots


class LiveService:
    def __init__(self, deps: LiveDeps, *, notify: bool = True, rollup: bool = False):
        """rollup: keep per-account daily aggregates across batches (the consumer on an engine file it holds
        alone, so it sees every write of the engine's tables; the REST API reads the engine for each request
        instead)."""
        self.deps = deps
        self.notify = notify
        self._key: tuple | None = None
        self._query: Any = None  # CompiledQuery
        self._portfolio_size: int | None = None
        self._past: dict | None = None
        self._prior: Any = None  # (day and model version, the stored snapshots smoothing looks back on, account spans)
        self._accounts: dict | None = None
        self._account_ids = None
        self._newest: dict[tuple[str, int], tuple[float, Any]] = {}
        self._partial: dict[frozenset, Any] = {}  # the day's query of some sources only, by source set
        self._increments: dict[str, Any] = {}  # the day's query of a source's new rows, by source
        # accounts brought up to date so far: "full" (every source read), "read:<table>" (a touched table
        # read again), "merged:<table>" (from the batch's new rows of the table alone)
        self.reads: Counter = Counter()
        self.rollup: Rollup | None = None
        if rollup and deps.engine().single_writer_file:
            # A DuckDB file is the consumer's alone while it runs: no other process changes the tables
            # behind the rollup's back. Elsewhere every batch reads its accounts from the engine.
            self.rollup = Rollup()
        self.lock = threading.Lock()

    def _compiled(self, as_of: dt.date):
        """The day's compiled query (again when the day or the active model changes)."""
        from healthscore.engine.compile import compile_query

        model = self.deps.model()
        key = (as_of, model.version)
        if key != self._key:
            engine = self.deps.engine()
            engine.create_empty_table(BATCH_TABLE, {"account_id": "string"})
            self._query = compile_query(engine.con, model.ir, [as_of], account_table=BATCH_TABLE, with_sql=True,
                                        with_sets=self.rollup is not None)
            self._partial = {}
            self._increments = {}
            if self.rollup is not None:
                self.rollup.clear()
            self._past = None
            self.forget_accounts()
            self._newest = {}
            self._portfolio_size = len(self.accounts())
            self._key = key
        return self._query

    def accounts(self) -> dict:
        """Owner, ARR, renewal date ... of every account, read once a day, and again when a batch brings
        accounts rows or names an account not among them (stream.stage_batch). A changed attribute of a
        known account (owner, renewal date) loaded by 'healthscore ingest' is seen the next day."""
        if self._accounts is None:
            self._accounts = self.deps.load_accounts()
        return self._accounts

    def account_ids(self):
        """The accounts' ids as ingestion checks rows against them (read once a day with accounts())."""
        import pyarrow as pa

        if self._account_ids is None or self._accounts is None:
            self._account_ids = pa.table({"account_id": pa.array(list(self.accounts()), pa.string())})
        return self._account_ids

    def forget_accounts(self) -> None:
        self._accounts = None
        self._account_ids = None

    def _newest_before(self, con, source: str, as_of, limit_days: int):
        """A source's newest row (the freshness gate) is portfolio-wide and the same for every account of
        a live batch: read at most once a minute, not per batch."""
        import pandas as pd

        from healthscore.engine.compile import _newest_before

        if as_of.nunique() != 1:
            return _newest_before(con, source, as_of, limit_days)
        key = (source, limit_days)
        hit = self._newest.get(key)
        if hit is None or time.monotonic() - hit[0] > NEWEST_TTL_SECONDS:
            hit = (time.monotonic(), _newest_before(con, source, as_of.iloc[:1], limit_days).iloc[0])
            self._newest[key] = hit
        return pd.Series(hit[1], index=as_of.index, dtype="datetime64[ns]")

    def _past_scores(self, today: dt.date) -> dict:
        """Every account's score `days` before today for score-drop rules: fixed for the day, so read once."""
        from healthscore.workflow.alerts import score_drop_days

        if self._past is None:
            drops = score_drop_days(self.deps.model().ir)
            self._past = self.deps.past_scores(today, drops) if drops else {}
        return self._past

    def rescore(self, account_ids: list[str], received_at: dt.datetime | None = None) -> dict[str, Any]:
        """Score these accounts now, store their live snapshots, raise alerts and tasks from them."""
        return self.finish(self.prepare(account_ids), received_at)

    def prepare(self, account_ids: list[str], touched: set[str] | None = None,
                appended: dict[str, pa.Table | None] | None = None) -> Prepared | None:
        """The engine stage: everything that reads the compute engine (the model's query over these
        accounts, the day's accounts and past scores). `finish` then needs only the store, so a consumer
        can run the engine stage of the next batch while this one is finished (stream.py).

        touched: the tables the batch wrote to. With a rollup, only they are read again for accounts the
        rollup holds (None: read every source); appended: the rows the batch added to them, by table
        (DuckDB), from which the rollup updates the aggregates that combine exactly, reading nothing."""
        from healthscore.engine.compile import run_query

        ids = sorted(set(account_ids))
        if not ids:
            return None
        today = utcnow().date()
        as_of = today + dt.timedelta(days=1)
        if self._query is not None and touched and touched & self._query.missing_tables:
            self._key = None  # a table the model reads appeared: compile again, with its aggregates
        query = self._compiled(as_of)
        fetched = self._fetch_rows(query, as_of, ids, touched, appended or {})
        frame = run_query(self.deps.engine().con, self.deps.model().ir, query, fetched,
                          newest_before=self._newest_before)
        known = self.accounts()
        return Prepared(ids, today, as_of, query, frame, self._past_scores(today),
                        {a: known[a] for a in ids if a in known}, self._portfolio_size)

    def _fill_batch_table(self, ids: list[str]) -> None:
        import pyarrow as pa

        self.deps.engine().replace_rows(BATCH_TABLE, pa.table({"account_id": pa.array(ids, pa.string())}))

    def _run(self, sql: str, ids: list[str]) -> pa.Table:
        from healthscore.engine.compile import fetch_arrow

        self._fill_batch_table(ids)
        return fetch_arrow(self.deps.engine().con, sql)

    def _fetch_rows(self, query, as_of: dt.date, ids: list[str], touched: set[str] | None,
                    appended: dict[str, pa.Table | None]) -> pd.DataFrame:
        """The query's rows for these accounts. Without a rollup, or for accounts it does not hold: from the
        engine. For the others, from the rollup, with the touched sources brought up to date: from the
        batch's new rows alone where every aggregate of the source combines exactly, else read again."""
        import pyarrow as pa

        from healthscore.engine.compile import fetch_sql

        rollup = self.rollup
        if rollup is None:
            self._fill_batch_table(ids)
            return fetch_sql(self.deps.engine().con, query.sql)
        warmed = False
        if not rollup.ids and self._portfolio_size is not None and self._portfolio_size <= ROLLUP_WARM_MAX:
            self.warm(as_of)
            warmed = True
        if touched is None or warmed:  # read after the batch's rows were added: nothing to merge into it
            return rollup.update(self._run(query.sql, ids)).to_pandas()
        held = [a for a in ids if a in rollup.pos]
        new = [a for a in ids if a not in rollup.pos]
        parts = []
        if held:
            read = touched & {prim.source for prim in query.plan.primitives}
            merged = {t for t in read if appended.get(t) is not None and self._merge_rules(t) is not None}
            table = rollup.complete(self._run(self._partial_sql(as_of, read - merged), held))
            for source in sorted(merged):  # the batch table still holds `held`
                table = self._merge(table, source, self._increment(as_of, source, appended[source]))
            parts.append(rollup.update(table))
            self.reads.update({f"read:{t}": len(held) for t in read - merged})
            self.reads.update({f"merged:{t}": len(held) for t in merged})
        if new:
            parts.append(rollup.update(self._run(query.sql, new)))
            self.reads["full"] += len(new)
        return pa.concat_tables(parts).to_pandas()  # one schema: update() returns the rollup's

    def _merge_rules(self, source: str) -> dict[str, tuple[str, str | None]] | None:
        """How each fetched column of a source's aggregates combines old and new rows: add, max, min or
        unite (a distinct count, with its set column); None when one of them does not combine exactly."""
        from healthscore.model.measures import MEASURES

        rules: dict[str, tuple[str, str | None]] = {}
        aliases = self._query.aliases
        for prim, pid in self._query.plan.primitives.items():
            if prim.source != source:
                continue
            merge = MEASURES[prim.measure].merge
            if merge is None:
                return None
            rules[aliases.get(f"{pid}__rows", f"{pid}__rows")] = ("add", None)
            rules[aliases.get(f"{pid}__latest", f"{pid}__latest")] = ("max", None)
            if merge != "shared":
                rules[f"{pid}__value"] = (merge, f"{pid}__set" if merge == "unite" else None)
        return rules

    def _increment(self, as_of: dt.date, source: str, rows: pa.Table) -> pa.Table:
        """The source's aggregates over the batch's new rows only, for the accounts of the batch table."""
        from healthscore.engine.compile import compile_query, fetch_arrow

        engine = self.deps.engine()
        stand_in = f"_healthscore_live_new_{source}"
        if source not in self._increments:  # a table of the source's columns that holds a batch's new rows
            engine.create_empty_like(stand_in, source)
            self._increments[source] = compile_query(engine.con, self.deps.model().ir, [as_of],
                                                     account_table=BATCH_TABLE, with_sql=True, sources={source},
                                                     tables={source: stand_in}, with_sets=True).sql
        engine.replace_rows(stand_in, rows)
        return fetch_arrow(engine.con, self._increments[source])

    def _merge(self, table: pa.Table, source: str, new: pa.Table) -> pa.Table:
        """The rollup's rows (`table`) with a source's aggregates over new rows (`new`) combined in."""
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = table.column("account_id").to_pylist()
        at = {a: i for i, a in enumerate(new.column("account_id").to_pylist())}
        new = new.take(pa.array([at.get(a) for a in ids], pa.int64()))  # aligned; null rows: no new rows
        rules = self._merge_rules(source)
        assert rules is not None and self.rollup is not None  # merged only where every aggregate combines
        for column, (how, set_column) in rules.items():
            old, add = table.column(column), new.column(column)
            if how == "add":
                zero = pa.scalar(0, old.type)
                merged = pc.add(pc.fill_null(old, zero), pc.fill_null(add.cast(old.type), zero))
            elif how in ("max", "min"):
                fn = pc.max_element_wise if how == "max" else pc.min_element_wise
                merged = fn(old, add.cast(old.type), skip_nulls=True)
            else:  # unite: the values seen so far, and the new ones
                assert set_column is not None  # a distinct count keeps its set column
                sets = self.rollup.sets.setdefault(set_column, {})
                counts = []
                for a, values in zip(ids, new.column(set_column).to_pylist()):
                    seen = sets.setdefault(a, set())
                    if values:
                        seen.update(values)
                    counts.append(len(seen))
                merged = pa.array(counts, pa.int64()).cast(old.type)
            table = table.set_column(table.column_names.index(column), column, merged)
        return table

    def _partial_sql(self, as_of: dt.date, touched: set[str]) -> str:
        """The day's query of the touched sources' aggregates only (and the accounts' own columns)."""
        from healthscore.engine.compile import compile_query

        sources = frozenset(touched & {prim.source for prim in self._query.plan.primitives})
        if sources not in self._partial:
            # with the distinct values too: a table read again keeps its sets current for later merges
            self._partial[sources] = compile_query(self.deps.engine().con, self.deps.model().ir, [as_of],
                                                   account_table=BATCH_TABLE, with_sql=True, sources=set(sources),
                                                   with_sets=True).sql
        return self._partial[sources]

    def warm(self, as_of: dt.date | None = None) -> None:
        """Read the whole portfolio's rollup now (the consumer does this before its first batch, and a
        batch when the day or the model changed), so batches do not fill it one account at a time."""
        if self.rollup is None or "accounts" not in self.deps.engine().list_tables():
            return
        as_of = as_of or utcnow().date() + dt.timedelta(days=1)  # a batch passes its own: midnight may pass
        query = self._compiled(as_of)
        self.rollup.clear()
        self.rollup.update(self._run(query.sql, sorted(self.accounts())))

    def _history(self, as_of: dt.date, ids: list[str]) -> pd.DataFrame | None:
        """The stored snapshots these accounts' smoothing looks back on: with a rollup, read once a day for
        the whole portfolio (the consumer holds the DuckDB engine, so no scoring run stores snapshots
        meanwhile) and taken by account; without one, None (read per batch)."""
        import numpy as np

        if self.rollup is None:
            return None
        key = (as_of, self.deps.model().version)
        if self._prior is None or self._prior[0] != key:
            frame = self.deps.history_frame(as_of)[["account_id", "as_of", "score", "tier", "status"]]
            frame = frame.reset_index(drop=True)  # ordered by account_id, as_of
            accounts, starts, counts = np.unique(frame["account_id"].to_numpy(dtype=object), return_index=True,
                                                 return_counts=True)
            self._prior = (key, frame, dict(zip(accounts.tolist(), zip(starts.tolist(), counts.tolist()))))
        _, frame, bounds = self._prior
        spans = [bounds[a] for a in ids if a in bounds]
        at = np.concatenate([np.arange(start, start + n) for start, n in spans]) if spans else np.array([], int)
        return frame.iloc[at]

    def finish(self, prepared: Prepared | None, received_at: dt.datetime | None = None) -> dict[str, Any]:
        """The store stages: score the fetched rows and store the live snapshots, then alerts and tasks."""
        stored = self.store_live(prepared, received_at)
        return self.review(prepared, stored)

    def store_live(self, prepared: Prepared | None, received_at: dt.datetime | None = None) -> dict[str, Any]:
        """Score the fetched rows and store the live snapshots (what latency is measured to)."""
        from healthscore.explain.evidence import snapshot_dicts
        from healthscore.scoring.score import score_frame
        from healthscore.workflow.overrides import apply_overrides

        received_at = received_at or utcnow()
        if prepared is None:
            return {"accounts": 0, "snapshots": [], "stored_at": None}
        ids, as_of, query = prepared.ids, prepared.as_of, prepared.query
        model, store = self.deps.model(), self.deps.store
        frames = self.deps.with_history(score_frame(model.ir, model.version, query.plan, prepared.frame,
                                                    query.missing_tables), as_of, ids, prior=self._history(as_of, ids),
                                     previous_evidence=False)
        overrides = store.overrides(ids)  # owner corrections in force, newest first
        snaps = snapshot_dicts(frames)
        snaps = apply_overrides(snaps, overrides) if overrides else snaps
        stored_at = store.write_live(snaps, received_at)
        from healthscore.workflow.run import split_material, tiers_before

        material, _rises = split_material(frames.snapshots)  # only declines open tasks
        return {"accounts": len(snaps), "as_of": as_of.isoformat(), "stored_at": stored_at.isoformat(),
                "latency_ms": round((stored_at - received_at).total_seconds() * 1000, 1), "snapshots": snaps,
                "material": material, "previous_tiers": tiers_before(frames.snapshots)}

    def review(self, prepared: Prepared | None, stored: dict[str, Any]) -> dict[str, Any]:
        """Alerts through the hygiene rules and review tasks from the stored live snapshots."""
        if prepared is None:
            return stored
        review = self.deps.review_snapshots(prepared.today, stored["snapshots"], stored.pop("material"),
                                  notify=self.notify, portfolio_size=prepared.portfolio_size, past=prepared.past,
                                  accounts=prepared.accounts, previous_tiers=stored.pop("previous_tiers"))
        return {**stored, "review": review}


@dataclass
class Prepared:
    """What the engine stage read for one batch: all the store stage needs."""

    ids: list[str]
    today: dt.date
    as_of: dt.date
    query: Any  # CompiledQuery
    frame: Any  # the engine frame (pandas)
    past: dict
    accounts: dict
    portfolio_size: int | None
