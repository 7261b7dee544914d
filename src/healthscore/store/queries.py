"""Read-only queries for the web application: the latest snapshots, aggregates over the snapshot
history, tasks and alerts.

Module functions over a `Store` so that the store's own methods stay as they are. The portfolio of the
newest date is a range of the store's `snapshots` (the latest snapshot per account, revision 0009);
older dates, distributions, transitions and an account's history read only the columns and partitions
they need from the snapshot history's files (store/history.py, through DuckDB), so a page never loads
a portfolio's history into Python.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from healthscore.store import tables as t
from healthscore.store.common import column_in, midnight, utcnow

LATEST_COLUMNS = ("account_id", "score", "tier", "status", "segment", "primary_driver", "confidence",
                  "smoothed_score", "trend_note")



def change_key(store: Any) -> tuple:
    """One round trip that changes whenever anything a page shows may have changed: [0:2] a scoring run,
    [2:4] an ingest, [4] any human action (each lands in the audit log: decisions, overrides, approvals),
    [5:7] an override created or revoked."""
    r, b, a, o = t.scoring_runs.c, t.ingest_batches.c, t.audit_log.c, t.overrides.c
    wrote = r.snapshots_written > 0  # a run that stored nothing (e.g. 'explain' of a stored date) changes nothing
    stmt = select(select(func.coalesce(func.sum(r.snapshots_written), 0)).scalar_subquery(),
                  select(func.max(r.finished_at)).where(wrote).scalar_subquery(),
                  select(func.count()).select_from(t.ingest_batches).scalar_subquery(),
                  select(func.max(b.started_at)).scalar_subquery(),
                  select(func.max(a.seq)).scalar_subquery(),
                  select(func.count()).select_from(t.overrides).scalar_subquery(),
                  select(func.max(o.revoked_at)).scalar_subquery())
    with store.engine.connect() as conn:
        return tuple(conn.execute(stmt).first())


def token_lookup(store: Any, secret: str, touch_after_s: float = 60.0) -> tuple[dict, dict] | None:
    """(token, user) for a valid, unrevoked token of an enabled user, like `Store.token_user`, but read-only
    on most requests: last_used_at is written at most once a minute per token, so API reads do not queue
    on the database's write lock."""
    from sqlalchemy import update

    from healthscore.store.governance import _user_dict, token_hash

    k, u = t.api_tokens.c, t.users.c
    stmt = (select(t.api_tokens, u.role, u.display_name, u.password_hash, u.created_at.label("user_created_at"),
                   u.disabled_at)
            .join(t.users, u.username == k.username)
            .where(k.token_hash == token_hash(secret), k.revoked_at.is_(None)))
    with store.engine.connect() as conn:
        r = conn.execute(stmt).first()
    if r is None or r.disabled_at is not None:
        return None
    now = utcnow()
    if r.last_used_at is None or (now - r.last_used_at).total_seconds() > touch_after_s:
        with store.engine.begin() as conn:
            conn.execute(update(t.api_tokens).where(k.token_id == r.token_id).values(last_used_at=now))
    user = _user_dict(type("U", (), {"username": r.username, "role": r.role, "display_name": r.display_name,
                                     "password_hash": r.password_hash, "created_at": r.user_created_at,
                                     "disabled_at": r.disabled_at}))
    return {"token_id": r.token_id, "name": r.name, "scopes": r.scopes}, user



def portfolio_dates(store: Any, model_version: str, share: float = 0.5) -> list[date]:
    """As-of dates of portfolio-wide scoring runs, oldest first: runs that scored at least `share` of the
    most accounts any run of the version scored. A one-account run ('explain' at today's date) stores a
    snapshot too, but its date is not the portfolio's."""
    r = t.scoring_runs.c
    stmt = select(r.as_of_dates, r.accounts).where(r.model_version == model_version, r.finished_at.is_not(None),
                                                   r.snapshots_written > 0)
    with store.engine.connect() as conn:
        runs = conn.execute(stmt).all()
    most = max((run.accounts or 0 for run in runs), default=0)
    dates = {date.fromisoformat(d) for run in runs if (run.accounts or 0) >= share * most for d in run.as_of_dates}
    return sorted(dates)


def latest_as_of(store: Any, model_version: str, on_or_before: date | None = None) -> date | None:
    """The newest date of the version's snapshot history (on or before a date): its partitions, no data read."""
    return max((d for _, d, _ in store.history.listing(model_version, date_to=on_or_before)), default=None)


def snapshots_on(store: Any, model_version: str, as_of: date, columns: tuple[str, ...] = LATEST_COLUMNS,
                 account_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per account stored at one as-of date.

    The store's latest snapshots when they are the whole date (as many rows at that date as the history's
    files hold: the usual case, the newest portfolio date), otherwise the history's files of the date."""
    s = t.snapshots.c
    stmt = select(*(s[c] for c in columns)).where(s.model_version == model_version, s.as_of == midnight(as_of))
    count = select(func.count()).where(s.model_version == model_version, s.as_of == midnight(as_of))
    stored = store.snapshot_counts(model_version, [as_of]).get(as_of, 0)
    with store.engine.connect() as conn:
        if stored and conn.scalar(count) == stored:
            if account_ids is not None:
                stmt = stmt.where(column_in(conn, s.account_id, account_ids))
            rows = conn.execute(stmt).all()
            # column by column: a frame built from 100,000 row objects cost the first portfolio page 0.7 s
            values = list(zip(*rows)) if rows else [() for _ in columns]
            frame = pd.DataFrame({c: list(v) for c, v in zip(columns, values, strict=True)},
                                 columns=list(columns))
        else:
            frame = _history_frame(store, columns, model_version=model_version, dates=[as_of], account_ids=account_ids)
    for c in ("score", "confidence", "smoothed_score"):
        if c in frame:
            frame[c] = frame[c].astype("float64")
    return frame


def arr_on(store: Any, model_version: str, as_of: date) -> pd.Series:
    """Each account's ARR as of a date, as its snapshot recorded it (point in time, like its score), indexed by
    account_id; NaN where the snapshot holds none (written before snapshots recorded the account's ARR)."""
    frame = _history_frame(store, ("account_id", "arr"), model_version=model_version, dates=[as_of])
    return pd.Series(pd.to_numeric(frame["arr"], errors="coerce").to_numpy(dtype="float64"),
                     index=frame["account_id"].astype(str), dtype="float64")


_HISTORY_JSON = ("components", "reasons", "flags", "last_trusted")


def _history_frame(store: Any, columns: tuple[str, ...] | list[str], **where: Any) -> pd.DataFrame:
    """Columns of the snapshot history as a frame (JSON columns decoded, as_of as dates); a column the files
    lack (written before it existed, e.g. the account's ARR) is all missing values."""
    import orjson

    table = store.history_table(list(columns), **where)
    rows = 0 if table is None else table.num_rows
    data = {c: table.column(c).to_pylist() if table is not None and c in table.column_names else [None] * rows
            for c in columns}
    for c in _HISTORY_JSON:
        if c in data:
            data[c] = [None if v is None else orjson.loads(v) for v in data[c]]
    return pd.DataFrame(data, columns=list(columns))


def score_distribution(store: Any, model_version: str, dates: list[date], width: int = 10, *,
                       segment: str | None = None, account_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Accounts per score bucket (0-9, 10-19, ... 90-100) at each date, from the history's score column (counted
    in numpy: 12 dates of 100,000 accounts as Python values cost the first portfolio page 1.3 s)."""
    import numpy as np

    table = store.history_table(["as_of", "score"], model_version=model_version, dates=dates, segment=segment,
                                account_ids=account_ids)
    out: dict[str, dict[int, int]] = {d.isoformat(): {} for d in dates}
    if table is not None and table.num_rows:
        day = table.column("as_of").to_numpy().astype("datetime64[D]")
        score = table.column("score").to_numpy(zero_copy_only=False).astype("float64")  # null: NaN
        kept = ~np.isnan(score)
        bucket = (score[kept] // width * width).clip(0, 100 - width).astype("int64")
        key = day[kept].astype("int64") * 101 + bucket  # one number per (date, bucket): bucket <= 100
        keys, counts = np.unique(key, return_counts=True)
        for k, n in zip(keys.tolist(), counts.tolist(), strict=True):
            out[str(np.datetime64(k // 101, "D"))][k % 101] = n
    return [{"as_of": d, "buckets": {f"{lo}-{lo + width - 1 if lo < 100 - width else 100}": v.get(lo, 0)
                                     for lo in range(0, 100, width)}} for d, v in out.items()]


def tier_transitions(store: Any, model_version: str, start: date, end: date, *, segment: str | None = None,
                     account_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Accounts per (tier at start, tier at end): the accounts of the start date (in the segment or subset)
    that have a snapshot at the end date; a missing tier is the status (paused, insufficient data)."""
    a = _history_frame(store, ("account_id", "tier", "status"), model_version=model_version, dates=[start],
                       segment=segment, account_ids=account_ids)
    b = _history_frame(store, ("account_id", "tier", "status"), model_version=model_version, dates=[end],
                       account_ids=a["account_id"].tolist())
    if a.empty or b.empty:
        return []
    for f in (a, b):
        f["state"] = f["tier"].astype(object).where(f["tier"].notna(), f["status"])
    moves = a[["account_id", "state"]].merge(b[["account_id", "state"]], on="account_id", suffixes=("_from", "_to"))
    counts = moves.groupby(["state_from", "state_to"], dropna=False).size()
    return [{"from": f, "to": to, "accounts": int(n)} for (f, to), n in counts.items()]


def steady_tier(store: Any, model_version: str, tier: str, date_from: date, date_to: date) -> list[str]:
    """Accounts with a snapshot in the tier at every stored date of [date_from, date_to]."""
    frame = _history_frame(store, ("account_id", "as_of", "tier"), model_version=model_version, date_from=date_from,
                           date_to=date_to)
    if frame.empty:
        return []
    grouped = frame.assign(off=frame["tier"].ne(tier)).groupby("account_id")
    summary = pd.DataFrame({"off": grouped["off"].sum(), "first": grouped["as_of"].min()})
    return summary.index[(summary["off"] == 0) & (summary["first"] == date_from)].tolist()


def account_history(store: Any, account_id: str, date_from: date | None = None) -> list[dict[str, Any]]:
    """One account's snapshots of every model version, oldest first, without the JSON columns (the history's
    files are sorted by account, so the read skips most of each file; for the trend chart and the change log)."""
    columns = ("account_id", "as_of", "model_version", "score", "tier", "status", "confidence", "primary_driver",
               "trend_note")
    rows = store.history_rows(list(columns), account_id=account_id, date_from=date_from,
                              order=("as_of", "model_version"))
    return [{**r, "as_of": r["as_of"].isoformat()} for r in rows]


def last_actions(store: Any, account_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The newest decision on a review task of each account (decision, who, when)."""
    if not account_ids:
        return {}
    c = t.review_tasks.c
    stmt = (select(c.account_id, c.status, c.decided_by, c.decided_at, c.task_id)
            .where(c.decided_at.is_not(None)).order_by(c.decided_at))
    out: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(stmt.where(column_in(conn, c.account_id, account_ids))):
            out[r.account_id] = {"decision": r.status, "by": r.decided_by, "at": r.decided_at.isoformat(),
                                 "task_id": r.task_id}
    return out



def alerts_page(store: Any, *, since: date | None = None, queue: str | None = None, status: str | None = None,
                account_id: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[int], int]:
    """Alert ids of one page (newest first) and the total matching."""
    c = t.alerts.c
    conds = []
    if since is not None:
        conds.append(c.as_of >= midnight(since))
    if queue:
        conds.append(c.queue == queue)
    if status:
        conds.append(c.status == status)
    if account_id:
        conds.append(c.account_id == account_id)
    with store.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(t.alerts).where(*conds))
        ids = list(conn.scalars(select(c.alert_id).where(*conds).order_by(c.as_of.desc(), c.alert_id)
                                .limit(limit).offset(offset)))
    return ids, int(total or 0)


TASK_ORDERS = ("rank", "due", "newest", "decided")


def _rank_sort_key(task: dict) -> tuple:
    """By the weekly triage's value (expected ARR at risk x routing): an owner's rank order, and across
    owners the most ARR at risk first; tasks from before triage last, by due date."""
    tri = (task.get("next_action") or {}).get("triage") or {}
    value = tri.get("rank_value")
    return (value is None, -(value or 0.0), task.get("rank") or 0, task["due_at"], task["task_id"])


def tasks_page(store: Any, *, queue: str | None = None, status: str | None = None, account_id: str | None = None,
               due_before: date | None = None, priority: str | None = None, limit: int = 50, offset: int = 0,
               order: str = "due") -> tuple[list[dict], int]:
    """One page of tasks and the total matching. order: rank (open and backlog lists, which the
    triage keeps small: sorted after reading them all), due (due date), newest (as-of date, newest
    first) or decided (decision time, newest first)."""
    from healthscore.store.workflow import _task_dict

    c = t.review_tasks.c
    conds = []
    if queue:
        conds.append(c.queue == queue)
    if status and status != "all":
        conds.append(c.status == status)
    if account_id:
        conds.append(c.account_id == account_id)
    if due_before is not None:
        conds.append(c.due_at < midnight(due_before))
    if priority:
        conds.append(c.priority == priority)
    by = {"due": (c.due_at, c.task_id), "newest": (c.as_of.desc(), c.task_id.desc()),
          "decided": (c.decided_at.desc(), c.task_id.desc())}.get(order, (c.due_at, c.task_id))
    with store.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(t.review_tasks).where(*conds))
        if order == "rank" and status in ("open", "backlog"):
            rows = [_task_dict(r) for r in conn.execute(select(t.review_tasks).where(*conds)).all()]
            rows.sort(key=_rank_sort_key)
            return rows[offset:offset + limit], int(total or 0)
        rows = conn.execute(select(t.review_tasks).where(*conds).order_by(*by).limit(limit).offset(offset)).all()
    return [_task_dict(r) for r in rows], int(total or 0)


def alerts_by_id(store: Any, ids: list[int]) -> list[dict[str, Any]]:
    from healthscore.store.workflow import _alert_dict

    if not ids:
        return []
    c = t.alerts.c
    with store.engine.connect() as conn:
        rows = {r.alert_id: r for r in conn.execute(select(t.alerts).where(c.alert_id.in_(ids)))}
    return [_alert_dict(rows[i]) for i in ids if i in rows]


def audit_page(store: Any, *, limit: int = 50, before_seq: int | None = None, object_type: str | None = None,
               object_id: str | None = None, object_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Audit entries, newest first (seq descending), from an index instead of the whole chain."""
    a = t.audit_log.c
    stmt = select(t.audit_log).order_by(a.seq.desc()).limit(limit)
    if before_seq is not None:
        stmt = stmt.where(a.seq < before_seq)
    if object_type:
        stmt = stmt.where(a.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(a.object_id == str(object_id))
    if object_ids is not None:
        if not object_ids:
            return []
        stmt = stmt.where(a.object_id.in_([str(x) for x in object_ids]))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
             "object_type": r.object_type, "object_id": r.object_id, "before": r.before, "after": r.after,
             "hash": r.hash} for r in rows]



def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
