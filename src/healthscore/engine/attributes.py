"""Account attributes as of each date: the point-in-time view of the accounts table.

Today's accounts row is not what an account looked like last spring: a churned account's
``renewal_date`` is the renewal it lost, a survivor's is next year's, so a "renewal soon" metric read
from it separates past churners perfectly. Two canonical tables give the history instead:

- ``subscriptions``: ARR, seats, plan and the next renewal come from the subscriptions valid on the
  date (``starts_at <= date < ends_at``; an empty ``ends_at`` is open-ended): ARR and seats summed,
  the plan of the latest-started one, the renewal at the earliest end. An account with subscription
  rows but none valid on the date has no ARR (0) and no renewal date.
- ``account_changes``: any other attribute (segment, owner, parent ...) is its latest value before
  the date.

Where neither holds a value for an account and column, today's value is used, and the column
``<column>__as_of_source`` says so (``current``); evidence carries it as ``as_of_source``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from healthscore.contract import CHANGEABLE_ACCOUNT_COLUMNS, SUBSCRIPTION_ACCOUNT_COLUMNS, TABLES

CURRENT, SUBSCRIPTIONS, ACCOUNT_CHANGES = "current", "subscriptions", "account_changes"
IBIS_TYPES = {"string": "string", "float": "float64", "int": "int64", "bool": "boolean", "timestamp": "timestamp"}


# Text a change's value must match to be read as the column's type: TRY_CAST is not portable
# (PostgreSQL has none), so a guarded CAST. A value that does not match is not read: today's value is
# used and marked current (ingestion does not yet quarantine such rows).
VALUE_PATTERNS = {
    "float64": r"^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$",
    "int64": r"^[-+]?[0-9]+$",
    "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$",
}


def _typed(value, type_: str):
    """A text column as `type_` where its text is of that type, else NULL."""
    import ibis

    if type_ == "string":
        return value
    return ibis.ifelse(value.re_search(VALUE_PATTERNS[type_]), value.cast(type_), ibis.null(type_))


def source_column(column: str) -> str:
    """The frame column telling where an attribute's value came from."""
    return f"{column}__as_of_source"


def point_in_time(con, base, present: set[str], columns: list[str], *, single=None, spine=None, only=None):
    """`base` (accounts x as_of, today's attribute columns) with every changeable column in `columns`
    replaced by its value as of the row's date, plus a ``<column>__as_of_source`` column for each.

    single: the as-of literal of a one-date query; spine: the table of as-of dates otherwise; only:
    the account ids a query is restricted to (an Ibis column or list), or None."""
    import ibis

    changeable = [c for c in columns if c in CHANGEABLE_ACCOUNT_COLUMNS]
    if not changeable:
        return base

    def by_date(t, cond):
        """t joined to the as-of dates where cond(t, as_of) holds, and the grouping keys."""
        if only is not None:
            t = t.filter(t.account_id.isin(only))
        if single is not None:
            return t.filter(cond(t, single)), {"g_account_id": "account_id"}
        sp = spine.select(g_as_of=spine.as_of)
        return t.join(sp, cond(t, sp.g_as_of)), {"g_account_id": "account_id", "g_as_of": "g_as_of"}

    def attach(base, g, keys):
        on = base.account_id == g.g_account_id
        if "g_as_of" in keys:
            on = on & (base.as_of == g.g_as_of)
        return base.left_join(g, on).drop(*keys)

    # Join every history first, then pick each column's value over the joined table.
    changes = "account_changes" in present
    if changes:
        ch = con.table("account_changes")
        ch = ch.filter(ch.field.isin(changeable))
        joined, keys = by_date(ch, lambda t, as_of: t.ts < as_of)
        g = joined.group_by(**{k: joined[v] for k, v in keys.items()}).aggregate(**{
            f"chg__{c}": joined.value.argmax(joined.ts, where=joined.field == c) for c in changeable})
        base = attach(base, g, keys)
    derived = [c for c in changeable if c in SUBSCRIPTION_ACCOUNT_COLUMNS] if "subscriptions" in present else []
    if derived:
        subs = con.table("subscriptions")
        valid = lambda t, as_of: (t.starts_at <= as_of) & (t.ends_at.isnull() | (t.ends_at > as_of))  # noqa: E731
        joined, keys = by_date(subs, valid)
        g = joined.group_by(**{k: joined[v] for k, v in keys.items()}).aggregate(
            sub__arr=joined.arr.sum(), sub__seats=joined.seats.sum(),
            sub__plan=joined.plan.argmax(joined.starts_at), sub__renewal_date=joined.ends_at.min())
        base = attach(base, g, keys)
        holders = subs if only is None else subs.filter(subs.account_id.isin(only))
        holders = holders.select(h_account_id=holders.account_id).distinct()
        base = base.left_join(holders, base.account_id == holders.h_account_id)

    acc_types = {c.name: IBIS_TYPES[c.type] for c in TABLES["accounts"].columns}
    values: dict[str, Any] = {}
    for c in changeable:
        value, source = base[c], ibis.literal(CURRENT)
        if changes:
            changed = base[f"chg__{c}"]
            typed = _typed(changed, acc_types[c])
            value = ibis.ifelse(typed.notnull(), typed, value)
            source = ibis.ifelse(typed.notnull(), ibis.literal(ACCOUNT_CHANGES), source)
        if c in derived:  # an account with a subscription history: no valid subscription means no ARR
            has = base.h_account_id.notnull()
            sub = base[f"sub__{c}"]
            if c in ("arr", "seats"):
                sub = sub.fill_null(0)
            value = ibis.ifelse(has, sub.cast(acc_types[c]), value)
            source = ibis.ifelse(has, ibis.literal(SUBSCRIPTIONS), source)
        values[c], values[source_column(c)] = value, source
    keep = [c for c in base.columns if not c.startswith(("chg__", "sub__", "h_account_id")) and c not in values]
    return base.select(*keep, **values)


def accounts_as_of(con, as_of, columns: list[str], account_ids: list[str] | None = None):
    """One date's accounts (account_id and `columns`) with their attributes as of that date, as pandas."""
    import pandas as pd

    return _accounts_as_of(con, pd.Timestamp(as_of).isoformat(), columns, account_ids).execute()


def account_as_of(con, as_of: dt.date, columns: list[str], account_id: str) -> dict | None:
    """One account's attributes as of a date as plain values (None: no such account). The compiled SQL
    runs through the adapter, so a read command (explain) loads no pandas."""
    from healthscore.engine.adapters import adapter_for

    stamp = dt.datetime.combine(as_of, dt.time()).isoformat()
    expr = _accounts_as_of(con, stamp, columns, [account_id])
    rows = adapter_for(con).fetch_arrow(str(con.compile(expr))).to_pylist()
    return rows[0] if rows else None


def has_account(con, account_id: str) -> bool | None:
    """Whether the accounts table holds this account (None: the engine has no accounts table), in one
    plain query through the adapter (no Ibis expression to execute, so no pandas)."""
    from sqlglot import exp

    from healthscore.engine.adapters import adapter_for

    engine = adapter_for(con)
    if not engine.has_table("accounts"):
        return None
    query = exp.select("account_id").from_("accounts").where(
        exp.column("account_id").eq(exp.Literal.string(account_id))).limit(1)
    return bool(engine.fetchall(query))


def _accounts_as_of(con, stamp: str, columns: list[str], account_ids: list[str] | None):
    import ibis

    from healthscore.engine.adapters import adapter_for

    engine = adapter_for(con)  # two catalog lookups: listing every table costs a read command ~0.1 s
    present = {name for name in ("account_changes", "subscriptions") if engine.has_table(name)}
    t = con.table("accounts")
    if account_ids is not None:
        t = t.filter(t.account_id.isin(list(account_ids)))
    cols = ["account_id", *[c for c in columns if c in t.columns and c != "account_id"]]
    single = ibis.timestamp(stamp)
    base = t.select(*cols).mutate(as_of=single)
    return point_in_time(con, base, present, cols, single=single,
                         only=list(account_ids) if account_ids is not None else None)


def not_yet_created(con, as_of_dates, account_ids: list[str] | None = None):
    """(account_id, as_of) of the accounts a query leaves out because they were created on or after
    the date (pandas): scoring says how many accounts it did not score, and why."""
    import ibis
    import pandas as pd

    t = con.table("accounts")
    if account_ids is not None:
        t = t.filter(t.account_id.isin(list(account_ids)))
    import numpy as np

    first = ibis.timestamp(pd.Timestamp(min(as_of_dates)).isoformat())
    late = t.filter(t.created_at.notnull() & (t.created_at >= first)).select("account_id", "created_at").execute()
    dates = pd.to_datetime(sorted(set(as_of_dates))).to_numpy("datetime64[ns]")
    created = pd.to_datetime(late["created_at"]).to_numpy("datetime64[ns]")
    acc, day = np.nonzero(created[:, None] >= dates[None, :])  # accounts x dates at once: a backfill has many
    return pd.DataFrame({"account_id": late["account_id"].to_numpy(object)[acc], "as_of": dates[day]})
