"""Read-only SQL for the web application: aggregates over stored snapshots, tasks and alerts.

Module functions over a `Store` (they use `store.engine` only) so that the store's own methods stay as
they are. Every query reads one as-of date through the snapshots' key (model_version, as_of, ...)
or aggregates in the database (revision 0005's `ix_snapshots_portfolio` covers tier and score), so
a page never loads a portfolio's history into Python.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, select

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
    s = t.snapshots.c
    stmt = select(func.max(s.as_of)).where(s.model_version == model_version)
    if on_or_before is not None:
        stmt = stmt.where(s.as_of <= midnight(on_or_before))
    with store.engine.connect() as conn:
        v = conn.scalar(stmt)
    return v.date() if v is not None else None



def snapshots_on(store: Any, model_version: str, as_of: date, columns: tuple[str, ...] = LATEST_COLUMNS,
                 account_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per account stored at one as-of date (a range scan of the primary key)."""
    s = t.snapshots.c
    stmt = select(*(s[c] for c in columns)).where(s.model_version == model_version, s.as_of == midnight(as_of))
    with store.engine.connect() as conn:
        if account_ids is not None:
            stmt = stmt.where(column_in(conn, s.account_id, account_ids))
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=list(columns))
    for c in ("score", "confidence", "smoothed_score"):
        if c in frame:
            frame[c] = frame[c].astype("float64")
    return frame



def _subset(conn: Any, s: Any, segment: str | None, account_ids: list[str] | None) -> list[Any]:
    conds = []
    if segment is not None:
        conds.append(s.segment == segment)
    if account_ids is not None:
        conds.append(column_in(conn, s.account_id, account_ids))
    return conds


def score_distribution(store: Any, model_version: str, dates: list[date], width: int = 10, *,
                       segment: str | None = None, account_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Accounts per score bucket (0-9, 10-19, ... 90-100) at each date, counted in the database."""
    s = t.snapshots.c
    bucket = case(*[(s.score < lo + width, lo) for lo in range(0, 100 - width, width)], else_=100 - width)
    stmt = (select(s.as_of, bucket.label("bucket"), func.count())
            .where(s.model_version == model_version, s.as_of.in_([midnight(d) for d in dates]),
                   s.score.is_not(None))
            .group_by(s.as_of, bucket))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.where(*_subset(conn, s, segment, account_ids))).all()
    out: dict[str, dict[int, int]] = {d.isoformat(): {} for d in dates}
    for as_of, b, n in rows:
        out[as_of.date().isoformat()][int(b)] = int(n)
    return [{"as_of": d, "buckets": {f"{lo}-{lo + width - 1 if lo < 100 - width else 100}": v.get(lo, 0)
                                     for lo in range(0, 100, width)}} for d, v in out.items()]



def tier_transitions(store: Any, model_version: str, start: date, end: date, *, segment: str | None = None,
                     account_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Accounts per (tier at start, tier at end), counted by a self-join in the database."""
    a, b = t.snapshots.alias("a"), t.snapshots.alias("b")
    fa, fb = func.coalesce(a.c.tier, a.c.status), func.coalesce(b.c.tier, b.c.status)
    stmt = (select(fa, fb, func.count())
            .select_from(a.join(b, and_(a.c.account_id == b.c.account_id, b.c.model_version == model_version,
                                        b.c.as_of == midnight(end))))
            .where(a.c.model_version == model_version, a.c.as_of == midnight(start))
            .group_by(fa, fb))
    with store.engine.connect() as conn:
        stmt = stmt.where(*_subset(conn, a.c, segment, account_ids))
        return [{"from": f, "to": to, "accounts": int(n)} for f, to, n in conn.execute(stmt)]


def steady_tier(store: Any, model_version: str, tier: str, date_from: date, date_to: date) -> list[str]:
    """Accounts with a snapshot in the tier at every stored date of [date_from, date_to]."""
    s = t.snapshots.c
    stmt = (select(s.account_id)
            .where(s.model_version == model_version, s.as_of >= midnight(date_from), s.as_of <= midnight(date_to))
            .group_by(s.account_id)
            .having(func.sum(case((s.tier == tier, 0), else_=1)) == 0)
            .having(func.min(s.as_of) == midnight(date_from)))
    with store.engine.connect() as conn:
        return list(conn.scalars(stmt))


def account_history(store: Any, account_id: str, date_from: date | None = None) -> list[dict[str, Any]]:
    """One account's snapshots of every model version, oldest first, without the JSON columns (the
    (account_id, as_of) index; for the trend chart and the change log)."""
    s = t.snapshots.c
    stmt = (select(s.account_id, s.as_of, s.model_version, s.score, s.tier, s.status, s.confidence,
                   s.primary_driver, s.trend_note)
            .where(s.account_id == account_id).order_by(s.as_of, s.model_version))
    if date_from is not None:
        stmt = stmt.where(s.as_of >= midnight(date_from))
    with store.engine.connect() as conn:
        return [{"account_id": r.account_id, "as_of": r.as_of.date().isoformat(), "model_version": r.model_version,
                 "score": r.score, "tier": r.tier, "status": r.status, "confidence": r.confidence,
                 "primary_driver": r.primary_driver, "trend_note": r.trend_note} for r in conn.execute(stmt)]



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
