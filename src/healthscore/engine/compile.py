"""Compile a health model's metrics to Ibis expressions and run them for many as-of dates at once.

Every aggregate a model needs becomes a *primitive*: (source, time column, measure, column,
filter, window start, window end). Primitives over the same source and time column share one
scan: the source is joined to a date spine of as-of dates (rows strictly before each as-of and
inside the widest window) and grouped by (account_id, as_of) with conditional aggregates. All
groups are left-joined onto accounts x as-of dates and executed as one query.

As-of rule: a row counts for an as-of date only if its time column is strictly before it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from healthscore.contract import BOOL, TABLES, TIMESTAMP
from healthscore.engine.attributes import IBIS_TYPES, point_in_time
from healthscore.engine.pipeline import pipeline_column
from healthscore.model.filters import AS_OF, ColumnRef, Filter
from healthscore.model.ir import HealthModel
from healthscore.model.measures import MEASURES, prior_shift
from healthscore.model.metrics import Aggregate
from healthscore.model.windows import duration_days, window_days

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from ibis.backends import BaseBackend

ACCOUNT_COLUMNS = ("account_id", "name", "segment", "owner", "arr", "created_at")


@dataclass(frozen=True)
class Primitive:
    source: str
    time_col: str
    measure: str
    column: str | None
    filter_json: str  # canonical JSON of the filter, so equal filters share a primitive
    start_days: int | None  # window start, days before as-of (None: no lower bound)
    end_days: int  # window end, days before as-of (0 for the current window)
    holidays: tuple[tuple[dt.date, dt.date], ...] = ()  # [first day, day after) windows whose rows are ignored

    @property
    def filter(self) -> Filter:
        return Filter.model_validate(json.loads(self.filter_json))


@dataclass
class MetricPlan:
    """Which primitives (by id) each metric's aggregates read, and which accounts columns it needs."""

    primitives: dict[Primitive, str] = field(default_factory=dict)
    metric_inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # metric -> role -> prim id
    account_columns: set[str] = field(default_factory=lambda: set(ACCOUNT_COLUMNS))
    last_outcome: str = ""  # primitive id of the latest outcome kind (churned accounts are not scored)
    holidays: tuple[tuple[dt.date, dt.date], ...] = ()  # the model's merged holiday windows

    def add(self, agg: Aggregate, *, shift_days: int = 0) -> str:
        """Register an aggregate over [as_of - shift - window, as_of - shift)."""
        days = window_days(agg.window)
        start, end = days, 0
        if shift_days and days is not None:  # a change's baseline: always a finite window
            start, end = days + shift_days, shift_days
        prim = Primitive(agg.source, agg.time_col, agg.measure, agg.column,
                         json.dumps(agg.filter.model_dump(mode="json", by_alias=True, exclude_none=True),
                                    sort_keys=True),
                         start, end, self.holidays if agg.exclude_holidays else ())
        return self.primitives.setdefault(prim, f"p{len(self.primitives)}")


def plan_model(model: HealthModel) -> MetricPlan:
    plan = MetricPlan(holidays=tuple(model.calendar.windows()))
    for _, metric in model.metrics:
        inputs = {role: plan.add(agg, shift_days=prior_shift(metric) if role == "prior" else 0)
                  for role, agg in metric.aggregates().items()}
        plan.metric_inputs[metric.name] = inputs
        if metric.per:
            plan.account_columns.add(metric.per)
        if metric.target is not None and metric.target.column:
            plan.account_columns.add(metric.target.column)
    for seg in model.segments:
        plan.account_columns |= seg.when.columns()
    plan.last_outcome = plan.add(LAST_OUTCOME)
    return plan


# The latest outcome tells which accounts had churned before the as-of date.
LAST_OUTCOME = Aggregate(source="outcomes", measure="latest", column="kind", window=None)


# ---- filters ---------------------------------------------------------------------------------


def _literal(value: Any, ctype: str):
    import ibis

    if ctype == TIMESTAMP and isinstance(value, (str, dt.date)):
        return ibis.timestamp(str(value))
    if ctype == BOOL and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value


def _column_type(table: str, column: str) -> str:
    col = TABLES[table].column(column)
    assert col is not None, (table, column)  # validated against the data contract on load
    return col.type


def compile_filter(f: Filter, table, table_name: str, as_of=None):
    """A Filter as an Ibis boolean expression over `table` (as_of: the spine column, for $as_of)."""
    import ibis

    expr = ibis.literal(True)
    for col_name, cond in f.conditions.items():
        col = table[col_name]
        ctype = _column_type(table_name, col_name)
        for op, raw in cond.ops():
            if isinstance(raw, ColumnRef):
                value = table[raw.column]
            elif raw == AS_OF:
                value = as_of
            elif isinstance(raw, list):
                value = [_literal(v, ctype) for v in raw]
            else:
                value = _literal(raw, ctype)
            if op == "is_null":
                part = col.isnull() if value else col.notnull()
            elif op == "in":
                part = col.isin(value)
            elif op == "not_in":
                part = col.notin(value)
            else:
                part = {"eq": col.__eq__, "ne": col.__ne__, "lt": col.__lt__, "lte": col.__le__,
                        "gt": col.__gt__, "gte": col.__ge__}[op](value)
            # NULL never satisfies a comparison: make that explicit so NOT/OR behave predictably.
            expr = expr & part.fill_null(False)
    if f.any_of:
        alt = ibis.literal(False)
        for sub in f.any_of:
            alt = alt | compile_filter(sub, table, table_name, as_of)
        expr = expr & alt
    return expr


# ---- execution -------------------------------------------------------------------------------


def _aggregate_exprs(pid: str, prim: Primitive, joined, as_of, shared: dict,
                     with_sets: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """value, rows and latest_at aggregates of one primitive over the joined (rows x as-of) table.

    Primitives with the same condition (window, filter, non-null column) share their rows and
    latest_at aggregates: `shared` maps a condition to the names already emitted, and the returned
    aliases (pid column -> emitted column) are resolved after execution.
    """
    import ibis

    ts = joined[prim.time_col]
    cond = ibis.literal(True)
    if prim.start_days is not None:
        cond = cond & (ts >= as_of - ibis.interval(days=prim.start_days))
    if prim.end_days:
        cond = cond & (ts < as_of - ibis.interval(days=prim.end_days))
    for first, after in prim.holidays:  # literal dates: the same for every as-of date of the spine
        inside = (ts >= ibis.timestamp(first.isoformat())) & (ts < ibis.timestamp(after.isoformat()))
        cond = cond & ~inside
    flt = prim.filter
    if not flt.is_empty():
        cond = cond & compile_filter(flt, joined, prim.source, as_of)
    measure = MEASURES[prim.measure]
    col = None
    if prim.column:
        col = joined[prim.column]
        cond = cond & col.notnull()
        if _column_type(prim.source, prim.column) == BOOL and measure.numeric_column:
            col = ibis.ifelse(col, 1.0, 0.0)
    key = (prim.start_days, prim.end_days, prim.filter_json, prim.column, prim.holidays)
    exprs: dict[str, Any] = {}
    if key not in shared:
        shared[key] = (f"{pid}__rows", f"{pid}__latest")
        exprs[f"{pid}__rows"] = ts.count(where=cond)
        exprs[f"{pid}__latest"] = ts.max(where=cond)
    aliases = {f"{pid}__rows": shared[key][0], f"{pid}__latest": shared[key][1]}
    # FILTER (WHERE ...) aggregates: in DuckDB about 3x faster than CASE WHEN for distinct counts.
    if measure.aggregate == "rows":
        aliases[f"{pid}__value"] = shared[key][0]
    elif callable(measure.aggregate):
        assert col is not None  # validated: a measure with an aggregate of its own reads a column
        exprs[f"{pid}__value"] = measure.aggregate(col, ts, cond)
        if measure.merge == "unite" and with_sets:  # the values themselves, for the rollup to unite
            exprs[f"{pid}__set"] = col.collect(where=cond, distinct=True)
    return exprs, aliases


# Measures whose aggregate over a window is an aggregate of per-day partial aggregates (the rows of a day
# are all inside or all outside a window, because windows start and end at midnight): sums add, counts
# add, min/max/latest combine. A distinct count does not (the same value on two days), nor does a filter
# comparing a column to the as-of date; those join the event rows to the dates as before.
_ROLLUP_MEASURES = {"count", "sum", "mean", "min", "max", "latest", "days_since_last"}


def _widest(prims: list[tuple[str, Primitive]]):
    """The widest window of these primitives as an Ibis interval (None: one of them reads all rows)."""
    import ibis

    starts = [p.start_days for _, p in prims if p.start_days is not None]
    return ibis.interval(days=max(starts)) if len(starts) == len(prims) else None


def _rolls_up(prim: Primitive) -> bool:
    return prim.measure in _ROLLUP_MEASURES and json.dumps(AS_OF) not in prim.filter_json


def _daily_rollup(t, source: str, time_col: str, prims: list[tuple[str, Primitive]], spine, dates: list[dt.date],
                  widest) -> tuple[Any, dict[str, str]]:
    """Many as-of dates from one pass over the events: per (account, day) partial aggregates of every
    primitive's filtered rows, joined to the dates over days instead of rows, so a year of daily dates
    costs about the days an account was active, not events x dates (the backfill's rollup, issue 18).

    Returns the (g_account_id, g_as_of, <pid>__rows/__latest/__value ...) table and the shared-column
    aliases, as the row-level path does."""
    import ibis

    ts = t[time_col]
    first = ibis.timestamp(dt.datetime.combine(dates[0], dt.time()).isoformat())
    last = ibis.timestamp(dt.datetime.combine(dates[-1], dt.time()).isoformat())
    rows = t.filter(ts < last)
    if widest is not None:
        rows = rows.filter(ts >= first - widest)
    partials: dict[str, Any] = {}
    names: dict[tuple, str] = {}  # (filter, column, part) -> partial column: equal filters share their partials

    def partial(prim: Primitive, part: str, make) -> str:
        key = (prim.filter_json, prim.column, part)
        if key not in names:
            names[key] = f"r{len(names)}"
            partials[names[key]] = make()
        return names[key]

    spec: list[tuple[str, Primitive, dict[str, str]]] = []
    for pid, prim in prims:
        cond = ibis.literal(True) if prim.filter.is_empty() else compile_filter(prim.filter, rows, source)
        col = None
        if prim.column:
            col = rows[prim.column]
            cond = cond & col.notnull()
            if _column_type(source, prim.column) == BOOL and MEASURES[prim.measure].numeric_column:
                col = ibis.ifelse(col, 1.0, 0.0)
        tcol = rows[time_col]
        parts = {"rows": partial(prim, "rows", lambda c=cond, x=tcol: x.count(where=c)),
                 "latest": partial(prim, "latest", lambda c=cond, x=tcol: x.max(where=c))}
        if prim.measure in ("sum", "mean"):
            parts["sum"] = partial(prim, "sum", lambda c=cond, v=col: v.sum(where=c))
        elif prim.measure in ("min", "max"):
            parts[prim.measure] = partial(prim, prim.measure,
                                          lambda c=cond, v=col, m=prim.measure: getattr(v, m)(where=c))
        elif prim.measure == "latest":
            parts["value"] = partial(prim, "value", lambda c=cond, v=col, x=tcol: v.argmax(x, where=c))
        spec.append((pid, prim, parts))
    daily = rows.group_by(d_account_id=rows.account_id, d_day=rows[time_col].truncate("D")).aggregate(**partials)
    sp = spine.select(g_as_of=spine.as_of)
    cond = daily.d_day < sp.g_as_of
    if widest is not None:
        cond = cond & (daily.d_day >= sp.g_as_of - widest)
    joined = daily.join(sp, cond)
    day, as_of = joined.d_day, joined.g_as_of
    aggs: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    shared: dict[tuple, tuple[str, str]] = {}
    for pid, prim, parts in spec:
        win = ibis.literal(True)
        if prim.start_days is not None:
            win = win & (day >= as_of - ibis.interval(days=prim.start_days))
        if prim.end_days:
            win = win & (day < as_of - ibis.interval(days=prim.end_days))
        for lo, hi in prim.holidays:
            win = win & ~((day >= ibis.timestamp(lo.isoformat())) & (day < ibis.timestamp(hi.isoformat())))
        key = (prim.start_days, prim.end_days, prim.filter_json, prim.column, prim.holidays)
        if key not in shared:
            shared[key] = (f"{pid}__rows", f"{pid}__latest")
            aggs[f"{pid}__rows"] = joined[parts["rows"]].sum(where=win).cast("int64")
            aggs[f"{pid}__latest"] = joined[parts["latest"]].max(where=win)
        aliases.update({k: v for k, v in ((f"{pid}__rows", shared[key][0]), (f"{pid}__latest", shared[key][1]))
                        if k != v})
        m = prim.measure
        if m == "count":
            aliases[f"{pid}__value"] = shared[key][0]
        elif m == "sum":
            aggs[f"{pid}__value"] = joined[parts["sum"]].sum(where=win)
        elif m == "mean":
            n = joined[parts["rows"]].sum(where=win)
            aggs[f"{pid}__value"] = joined[parts["sum"]].sum(where=win) / n.nullif(0).cast("float64")
        elif m in ("min", "max"):
            aggs[f"{pid}__value"] = getattr(joined[parts[m]], m)(where=win)
        elif m == "latest":
            has = win & joined[parts["latest"]].notnull()
            aggs[f"{pid}__value"] = joined[parts["value"]].argmax(joined[parts["latest"]], where=has)
    g = joined.group_by(g_account_id=joined.d_account_id, g_as_of=joined.g_as_of).aggregate(**aggs)
    return g, aliases


def build_expr(con: BaseBackend, model: HealthModel, plan: MetricPlan, as_of_dates: list[dt.date],
               account_ids: list[str] | None = None, account_table: str | None = None,
               sources: set[str] | None = None, tables: dict[str, str] | None = None,
               with_sets: bool = False):
    """The one Ibis expression for all as-of dates, and the source tables missing from the engine.

    For the real-time rollup (realtime/live.py): ``sources`` aggregates only these source tables (None:
    all of them), ``tables`` reads a source from another engine table of its columns (a batch's new
    rows), and ``with_sets`` adds the distinct values behind every distinct count (``<pid>__set``)."""
    import ibis
    import pandas as pd

    present = set(con.list_tables())
    if "accounts" not in present:
        from healthscore.errors import NotFound

        raise NotFound("the engine has no accounts table: run 'healthscore ingest' first"
                       " (sources.accounts in healthscore.yaml)", object_id="accounts")
    missing_tables = {p.source for p in plan.primitives if p.source not in present}

    dates = sorted(set(as_of_dates))
    # One date (the daily score): a literal and a plain GROUP BY account_id, about twice as fast as
    # grouping by (account_id, as_of) after a join to the date spine, which many dates need.
    single = ibis.timestamp(pd.Timestamp(dates[0]).isoformat()) if len(dates) == 1 else None
    spine = None if single is not None else ibis.memtable(pd.DataFrame({"as_of": pd.to_datetime(dates)}))
    accounts = con.table("accounts")
    # Restrict to some accounts: a literal list, or a table of account ids filled before each run
    # (real-time rescoring compiles once and runs the same SQL for every batch of accounts).
    only = list(account_ids) if account_ids is not None else \
        con.table(account_table).account_id if account_table is not None else None
    if only is not None:
        accounts = accounts.filter(accounts.account_id.isin(only))
    acc_cols = [c for c in TABLES["accounts"].column_names if c in plan.account_columns]
    accounts = accounts.select(*acc_cols)
    base = accounts.mutate(as_of=single) if single is not None else accounts.cross_join(spine)
    base = base.filter(base.created_at.isnull() | (base.created_at < base.as_of))
    # Attributes (ARR, renewal date, segment, owner ...) as of each date, not today's (engine/attributes.py).
    base = point_in_time(con, base, present, acc_cols, single=single, spine=spine, only=only)
    seg_cases = [(compile_filter(s.when, base, "accounts"), s.name)
                 for s in sorted(model.segments, key=lambda s: -s.priority)]
    base = base.mutate(
        segment_rule=ibis.cases(*seg_cases, else_=ibis.null("string")) if seg_cases else ibis.null("string"))

    aliases: dict[str, str] = {}  # primitive column -> the shared column computed for it
    groups: dict[tuple[str, str], list[tuple[str, Primitive]]] = {}
    for prim, pid in plan.primitives.items():
        if prim.source in present and (sources is None or prim.source in sources):
            groups.setdefault((prim.source, prim.time_col), []).append((pid, prim))

    for (source, time_col), prims in sorted(groups.items()):
        t = con.table((tables or {}).get(source, source))
        if only is not None:
            t = t.filter(t.account_id.isin(only))
        widest = _widest(prims)
        if single is not None:
            joined = t.filter(t[time_col] < single)
            if widest is not None:
                joined = joined.filter(joined[time_col] >= single - widest)
            as_of = single
        else:
            assert spine is not None
            rolled = [(pid, p) for pid, p in prims if not with_sets and _rolls_up(p)]
            if rolled:  # many dates: per-account daily partials, then windows over days (see _daily_rollup)
                g, alias = _daily_rollup(t, source, time_col, rolled, spine, dates, widest)
                aliases.update(alias)
                base = base.left_join(g, (base.account_id == g.g_account_id) & (base.as_of == g.g_as_of)).drop(
                    "g_account_id", "g_as_of")
                prims = [(pid, p) for pid, p in prims if (pid, p) not in rolled]
                if not prims:
                    continue
                widest = _widest(prims)
            sp = spine.select(g_as_of=spine.as_of)
            cond = t[time_col] < sp.g_as_of
            if widest is not None:
                cond = cond & (t[time_col] >= sp.g_as_of - widest)
            joined = t.join(sp, cond)
            as_of = joined.g_as_of
        aggs: dict[str, Any] = {}
        shared: dict = {}
        for pid, prim in prims:
            exprs, alias = _aggregate_exprs(pid, prim, joined, as_of, shared, with_sets)
            aggs.update(exprs)
            aliases.update({k: v for k, v in alias.items() if k != v})
        if single is not None:
            g = joined.group_by(g_account_id=joined.account_id).aggregate(**aggs)
            base = base.left_join(g, base.account_id == g.g_account_id).drop("g_account_id")
        else:
            g = joined.group_by(g_account_id=joined.account_id, g_as_of=joined.g_as_of).aggregate(**aggs)
            base = base.left_join(g, (base.account_id == g.g_account_id) & (base.as_of == g.g_as_of)).drop(
                "g_account_id", "g_as_of"
            )

    return base, missing_tables, aliases


def compute_frame(
    con: BaseBackend,
    model: HealthModel,
    as_of_dates: list[dt.date],
    *,
    account_ids: list[str] | None = None,
) -> tuple[pd.DataFrame, MetricPlan, set[str]]:
    """One row per (account, as-of date): account columns, segment, and every primitive's aggregates.

    Returns the frame, the plan, and the set of source tables missing from the engine.
    """
    query = compile_query(con, model, as_of_dates, account_ids=account_ids)
    return run_query(con, model, query, _fetch(con, query.expr, order=FRAME_ORDER)), query.plan, query.missing_tables


@dataclass
class CompiledQuery:
    """A model's query for some as-of dates, compiled once; `sql` runs again without Ibis."""

    plan: MetricPlan
    expr: Any
    missing_tables: set[str]
    aliases: dict[str, str]
    sql: str | None = None  # with_sql=True


def compile_query(con: BaseBackend, model: HealthModel, as_of_dates: list[dt.date], *,
                  account_ids: list[str] | None = None, account_table: str | None = None,
                  with_sql: bool = False, sources: set[str] | None = None,
                  tables: dict[str, str] | None = None, with_sets: bool = False) -> CompiledQuery:
    plan = plan_model(model)
    expr, missing_tables, aliases = build_expr(con, model, plan, as_of_dates, account_ids, account_table, sources,
                                               tables, with_sets)
    return CompiledQuery(plan, expr, missing_tables, aliases, str(con.compile(expr)) if with_sql else None)


def fetch_sql(con: BaseBackend, sql: str) -> pd.DataFrame:
    """Run compiled SQL again (no Ibis build or compile: most of a small query's time)."""
    import pandas as pd

    if con.name == "duckdb":
        return fetch_arrow(con, sql).to_pandas()
    with con.raw_sql(sql) as cur:
        rows = cur.fetchall()
        names = [d[0] for d in cur.description]
    frame = pd.DataFrame.from_records(rows, columns=names)
    for col in frame.columns:  # PostgreSQL returns decimals for numeric aggregates
        first = next((v for v in frame[col] if v is not None), None)
        if isinstance(first, decimal.Decimal):
            frame[col] = frame[col].astype("float64")
    return frame


def fetch_arrow(con: BaseBackend, sql: str) -> pa.Table:
    """fetch_sql as an Arrow table (straight from DuckDB; other engines through pandas)."""
    import pyarrow as pa

    if con.name == "duckdb":
        result = con.con.execute(sql).arrow()  # a table, or a batch reader in newer DuckDB versions
        return result.read_all() if hasattr(result, "read_all") else result
    return pa.Table.from_pandas(fetch_sql(con, sql), preserve_index=False)


def run_query(con: BaseBackend, model: HealthModel, query: CompiledQuery, fetched: pd.DataFrame,
              newest_before: Callable | None = None) -> pd.DataFrame:
    """The fetched rows of a compiled query as the engine frame scoring reads. `newest_before` stands in
    for _newest_before (the real-time scorer reuses it across batches)."""
    import pandas as pd

    plan, missing_tables = query.plan, query.missing_tables
    frame = fetched if _in_frame_order(fetched) else fetched.sort_values(["as_of", "account_id"], kind="stable",
                                                                         ignore_index=True)
    for column, shared in query.aliases.items():
        frame[column] = frame[shared]
    # Counts and sums over no rows are zero, not missing (when the source table exists at all).
    for prim, pid in plan.primitives.items():
        if prim.source not in missing_tables:
            frame[f"{pid}__rows"] = frame[f"{pid}__rows"].fillna(0).astype("int64")
            if MEASURES[prim.measure].empty_is_zero:
                frame[f"{pid}__value"] = pd.to_numeric(frame[f"{pid}__value"]).fillna(0.0)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    for source, limit in model.freshness.items():
        if source not in missing_tables:
            frame[f"newest__{source}"] = (newest_before or _newest_before)(con, source, frame["as_of"],
                                                                        duration_days(limit))
    if model.pipeline is not None:  # portfolio-level gates: a source collapsing for most accounts at once
        for source, gate in model.pipeline.sources.items():
            if source not in missing_tables and source in con.list_tables():
                frame[f"pipeline__{source}"] = pipeline_column(con, source, gate, frame,
                                                               holidays=tuple(model.calendar.windows()))
    return frame


# The engine frame's row order: scoring, history and evidence rely on it.
FRAME_ORDER = ("as_of", "account_id")


def _in_frame_order(frame: pd.DataFrame) -> bool:
    """True when the rows are sorted by FRAME_ORDER already (the DuckDB fetch sorts in Arrow)."""
    import pandas as pd

    as_of = pd.to_datetime(frame["as_of"]).to_numpy()
    if len(frame) < 2:
        return True
    if (as_of[1:] < as_of[:-1]).any():
        return False
    ids = frame["account_id"].to_numpy(dtype=object)
    try:  # within a date, ids ascending: a fall from one row to the next only where the date changes
        falls = ids[1:] < ids[:-1]
    except TypeError:  # ids of mixed types: let pandas sort them as it always did
        return False
    return not (falls & (as_of[1:] == as_of[:-1])).any()


def _fetch(con: BaseBackend, expr, order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Execute to pandas. On DuckDB through Arrow: ibis's own conversion turns every column with a
    null into Python objects; other backends return decimals that Arrow will not take as doubles.
    `order`: columns to sort by, on DuckDB in Arrow before the conversion (sorting the pandas frame moved
    100,000 rows of Python objects: 0.3 s)."""
    if con.name == "duckdb":
        table = con.to_pyarrow(expr)
        if order:
            table = table.sort_by([(c, "ascending") for c in order])
        return table.to_pandas()
    return expr.execute()


def _newest_before(con: BaseBackend, source: str, as_of: pd.Series, limit_days: int) -> pd.Series:
    """The newest row of a whole source table strictly before each as-of date (pipeline freshness).

    One small query over the recent days (a few times the limit before each date): the newest row
    per day, then a running maximum looked up per date. Older rows are stale either way, reported
    as 'no rows in the limit' rather than with their exact age.
    """
    import ibis
    import numpy as np
    import pandas as pd

    if as_of.dropna().empty:  # no account at these dates (e.g. a backtest before the data): nothing to look up
        return pd.Series(pd.NaT, index=as_of.index, dtype="datetime64[ns]")
    t = con.table(source)
    tc = t[TABLES[source].time_column]
    lo = pd.Timestamp(as_of.min()) - pd.Timedelta(days=max(4 * limit_days, limit_days + 30))
    hi = pd.Timestamp(as_of.max())
    recent = t.filter(tc >= ibis.timestamp(lo.isoformat()), tc < ibis.timestamp(hi.isoformat()))
    days = _fetch(con, recent.group_by(day=tc.truncate("D")).aggregate(newest=tc.max()))
    if days.empty:
        return pd.Series(pd.NaT, index=as_of.index, dtype="datetime64[ns]")
    days = days.sort_values("day")
    day = pd.to_datetime(days["day"]).to_numpy("datetime64[ns]")
    running = np.maximum.accumulate(pd.to_datetime(days["newest"]).to_numpy("datetime64[ns]"))
    idx = np.searchsorted(day, as_of.to_numpy("datetime64[ns]"), side="left") - 1  # days before as-of
    out = np.where(idx >= 0, running[np.clip(idx, 0, None)], np.datetime64("NaT"))
    return pd.Series(out, index=as_of.index, dtype="datetime64[ns]")


def compiled_sql(con: BaseBackend, model: HealthModel, as_of_dates: list[dt.date]) -> str:
    """The SQL the engine runs for these dates (for `healthscore score --show-sql`)."""
    plan = plan_model(model)
    expr, _, _ = build_expr(con, model, plan, as_of_dates)
    return str(con.compile(expr))


# The dialects golden SQL is kept for (tests/engine/golden/): file name -> sqlglot/Ibis dialect. Spark
# SQL is compiled with Ibis's Databricks compiler (Spark SQL; Ibis's pyspark compiler needs a session).
SQL_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "databricks", "snowflake": "snowflake",
                "bigquery": "bigquery"}


class _UnboundTables:
    """Stands in for a backend: every canonical table as an unbound Ibis table, so that a model
    compiles to the SQL of any dialect without a connection."""

    def list_tables(self) -> list[str]:
        return list(TABLES)

    def table(self, name: str):
        import ibis

        return ibis.table({c.name: IBIS_TYPES[c.type] for c in TABLES[name].columns}, name=name)


def dialect_sql(model: HealthModel, as_of_dates: list[dt.date], dialect: str) -> str:
    """The SQL of the model's metrics in ``dialect`` (a key or value of SQL_DIALECTS), with no engine.

    One as-of date compiles to a literal; several to a date spine (an in-memory table whose name
    Ibis generates, so only the one-date SQL is stable enough for golden files)."""
    import ibis

    plan = plan_model(model)
    expr, _, _ = build_expr(_UnboundTables(), model, plan, as_of_dates)
    return ibis.to_sql(expr, dialect=SQL_DIALECTS.get(dialect, dialect)).strip() + "\n"
