"""What the web application and the REST API show: the portfolio, account lists, one account, a CSM's
workbench and the manager's queue, and who may do what.

Functions of a `Project` (the facade calls them; endpoints call the facade). Aggregates are SQL
(store/queries.py); the latest snapshot of each account (one as-of date, one row per account) and the
account directory (the engine's accounts table: name, segment, owner, ARR) are cached in memory
until a scoring run, an ingest or an override changes them.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from healthscore.errors import EngineBusy, NotFound, UserError  # noqa: F401 - NotFound re-exported

if TYPE_CHECKING:
    import pandas as pd

    from healthscore.project import Project

TIERS = ("green", "yellow", "red")
STATUSES = ("scored", "paused", "insufficient_data", "onboarding", "overridden")
AT_RISK = ("red", "yellow")
DIRECTORY_COLUMNS = ("account_id", "name", "segment", "owner", "arr", "renewal_date")
DIRECTORY_TTL_S = 300.0

# ---- who may do what: healthscore.authz (the one home of roles and ownership rules) -------------

from healthscore.authz import PERMISSIONS, AccessDenied, authorize  # noqa: E402,F401 - re-exported


# ---- caches ------------------------------------------------------------------------------------


class _Cache:
    """name -> (key, value): a value is rebuilt when its key changes. Bounded: the oldest names go first."""

    def __init__(self, size: int = 128) -> None:
        self.lock = threading.RLock()
        self.items: dict[str, tuple[Any, Any]] = {}
        self.building: dict[str, threading.Lock] = {}
        self.size = size

    def get(self, name: str, key: Any, build):
        with self.lock:
            hit = self.items.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]
            building = self.building.setdefault(name, threading.Lock())
        with building:  # concurrent requests for a cold entry wait for one build instead of all building it
            with self.lock:
                hit = self.items.get(name)
                if hit is not None and hit[0] == key:
                    return hit[1]
            value = build()
        with self.lock:
            self.items.pop(name, None)
            self.items[name] = (key, value)
            while len(self.items) > self.size:
                self.items.pop(next(iter(self.items)))
        return value


def _cache(p: Project) -> _Cache:
    c = p.__dict__.get("_views_cache")
    if c is None:
        c = p.__dict__.setdefault("_views_cache", _Cache())
    return c


def engine_lock(p: Project) -> threading.RLock:
    """One engine connection per Project: requests that query it (explain, backtests) take turns."""
    lock = p.__dict__.get("_engine_lock")
    if lock is None:
        lock = p.__dict__.setdefault("_engine_lock", threading.RLock())
    return lock


@contextmanager
def engine_session(p: Project):
    """The compute engine for one piece of work. A DuckDB file allows one process at a time, so the web
    app opens it only while it needs it (and retries for a while when a CLI run holds it), leaving the
    workspace free for 'healthscore score', 'run weekly' or another server worker in between."""
    with engine_lock(p):
        depth = p.__dict__.get("_engine_depth", 0)
        duck = p.ws.config.engine.backend == "duckdb"
        p.__dict__["_engine_depth"] = depth + 1
        try:
            if depth == 0 and duck:
                p.engine_lock_timeout = 0  # fail at once: this loop retries, within its own deadline
                deadline = time.monotonic() + 15
                while True:
                    try:
                        p.con  # noqa: B018 - opens the connection
                        break
                    except Exception as exc:  # duckdb.IOException: "Could not set lock on file"
                        if "lock" not in str(exc).lower():
                            raise
                        if time.monotonic() > deadline:
                            raise EngineBusy(f"the engine file {p.ws.config.engine.path} is in use by another"
                                             " process; try again when it is done") from None
                        time.sleep(0.1)
            yield p
        finally:
            p.__dict__["_engine_depth"] = depth
            if depth == 0 and duck and "con" in p.__dict__:
                p.__dict__.pop("con").disconnect()


def directory(p: Project) -> pd.DataFrame:
    """The engine's accounts table (account_id, name, segment, owner, arr, renewal_date), indexed by account_id."""
    import pandas as pd

    def build() -> pd.DataFrame:
        with engine_session(p):
            if "accounts" not in p.con.list_tables():
                frame = pd.DataFrame(columns=list(DIRECTORY_COLUMNS))
            else:
                t = p.con.table("accounts")
                cols = [c for c in DIRECTORY_COLUMNS if c in t.columns]
                frame = t.select(*cols).execute()
        for c in DIRECTORY_COLUMNS:
            if c not in frame:
                frame[c] = None
        frame["account_id"] = frame["account_id"].astype(str)
        frame["arr"] = pd.to_numeric(frame["arr"], errors="coerce").fillna(0.0)
        frame["owner"] = frame["owner"].astype(object).where(frame["owner"].notna(), None)
        return frame.set_index("account_id", drop=False)

    key = (change_key(p)[2:4], int(time.monotonic() // DIRECTORY_TTL_S))
    return _cache(p).get("directory", key, build)


def change_key(p: Project) -> tuple:
    """The store's change key (store/queries.py change_key), read at most once per request."""
    from healthscore.store import queries as Q

    memo = _request_memo.get()
    if memo is not None and "change_key" in memo:
        return memo["change_key"]
    key = Q.change_key(p.store)
    if memo is not None:
        memo["change_key"] = key
    if p.__dict__.get("_views_last_key") != key:
        # Something was written (maybe by another process, e.g. 'healthscore model approve'): score and
        # show with the version that is active now.
        p.__dict__["_views_last_key"] = key
        active = p.store.active_model_version()
        if active is not None and "model" in p.__dict__ and p.model.version != active["version"]:
            p.reload_model()
    return key


_request_memo: ContextVar[dict | None] = ContextVar("healthscore_request_memo", default=None)


def request_scope() -> Token:
    """Start a request's memo (the web app's middleware): the change key is read once per request."""
    return _request_memo.set({})


def end_request_scope(token: Token) -> None:
    _request_memo.reset(token)


def account_owner(p: Project, account_id: str) -> str | None:
    d = directory(p)
    if account_id not in d.index:
        raise NotFound(f"unknown account {account_id!r}: it is not in the accounts table")
    return d.at[account_id, "owner"]


def latest(p: Project) -> dict[str, Any]:
    """{model_version, as_of, frame, previous_as_of, previous}: the latest stored snapshot of every account
    (overrides in force applied, directory columns joined) and the snapshot about a month earlier."""
    import pandas as pd

    from healthscore.store import queries as Q

    version = p.model.version
    k = change_key(p)
    key = (version, k[0:4], k[5:7])  # snapshots, the directory and overrides; not every audited action

    def build() -> dict[str, Any]:
        dates = Q.portfolio_dates(p.store, version)
        as_of = dates[-1] if dates else Q.latest_as_of(p.store, version)
        if as_of is None:
            empty = pd.DataFrame(columns=[*Q.LATEST_COLUMNS, "name", "owner", "arr", "renewal_date", "last_trusted",
                                          "reasons"])
            add_risk_columns(empty)
            return {"model_version": version, "as_of": None, "frame": empty, "previous_as_of": None,
                    "previous": pd.DataFrame(columns=["account_id", "score", "tier", "status"]), "key": key,
                    "dates": []}
        frame = Q.snapshots_on(p.store, version, as_of, (*Q.LATEST_COLUMNS, "last_trusted", "reasons"))
        frame["computed_tier"] = frame["tier"]
        add_risk_columns(frame)
        active = p.store.overrides(active_on=as_of)
        for o in reversed(active):  # oldest first: the newest one wins
            m = frame["account_id"] == o["account_id"]
            if o["score"] is not None:
                frame.loc[m, "score"] = o["score"]
            if o["tier"]:
                frame.loc[m, "tier"] = o["tier"]
            frame.loc[m, "status"] = "overridden"
        d = directory(p)
        frame = frame.merge(d[["name", "owner", "arr", "renewal_date"]], left_on="account_id", right_index=True,
                            how="left")
        frame["arr"] = frame["arr"].fillna(0.0)
        month_ago = as_of - dt.timedelta(days=28)
        prev_as_of = max((d for d in dates if d <= month_ago), default=None) if dates else \
            Q.latest_as_of(p.store, version, month_ago)
        prev = Q.snapshots_on(p.store, version, prev_as_of, ("account_id", "score", "tier", "status")) \
            if prev_as_of else pd.DataFrame(columns=["account_id", "score", "tier", "status"])
        frame = frame.merge(prev[["account_id", "score"]].rename(columns={"score": "previous_score"}),
                            on="account_id", how="left")
        frame["trend"] = (frame["score"] - frame["previous_score"]).round(2)
        frame = frame.sort_values(["score", "account_id"], na_position="last", kind="stable").reset_index(drop=True)
        return {"model_version": version, "as_of": as_of, "frame": frame, "previous_as_of": prev_as_of,
                "previous": prev, "key": key, "dates": dates or [as_of]}

    return _cache(p).get("latest", key, build)


# ---- filters -----------------------------------------------------------------------------------


def _check_choice(name: str, value: str | None, allowed) -> None:
    if value is not None and value not in allowed:
        raise UserError(f"{name}={value!r} is not allowed; use one of {', '.join(allowed)}")


def _filter(p: Project, frame: pd.DataFrame, *, tier: str | None = None, segment: str | None = None,
            owner: str | None = None, status: str | None = None, q: str | None = None) -> pd.DataFrame:
    _check_choice("tier", tier, TIERS)
    _check_choice("status", status, STATUSES)
    if segment is not None:
        segments = sorted({s for s in frame["segment"].dropna().unique()} |
                          {s.name for s in p.model.ir.segments})
        _check_choice("segment", segment, segments)
        frame = frame[frame["segment"] == segment]
    if owner is not None:
        owners = set(directory(p)["owner"].dropna().unique())
        if owner not in owners:
            raise UserError(f"owner={owner!r} owns no account; owners are e.g. {', '.join(sorted(owners)[:8])}")
        frame = frame[frame["owner"] == owner]
    if tier is not None:
        frame = frame[frame["tier"] == tier]
    if status is not None:
        frame = frame[frame["status"] == status]
    if q:
        ql = q.lower()
        frame = frame[frame["account_id"].str.lower().str.contains(ql, regex=False)
                      | frame["name"].fillna("").astype(str).str.lower().str.contains(ql, regex=False)]
    return frame


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """JSON-ready rows: missing values None, floats rounded to 2 places, dates as ISO text."""
    import math

    out = []
    for row in zip(*(frame[c].tolist() for c in columns)):
        r = {}
        for k, v in zip(columns, row):
            if v is None or v is __import__("pandas").NA or v is __import__("pandas").NaT:
                v = None
            elif isinstance(v, float):
                v = None if math.isnan(v) else round(v, 2)
            elif isinstance(v, (dt.date, dt.datetime)):
                v = v.isoformat()[:10]
            elif hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
                v = v.item()
            r[k] = v
        out.append(r)
    return out


ACCOUNT_COLUMNS = ["account_id", "name", "segment", "owner", "arr", "renewal_date", "score", "tier", "status",
                   "confidence", "primary_driver", "previous_score", "trend", "trend_note", "smoothed_score",
                   "risk_score", "risk_tier", "display_tier", "paused_at_risk", "pause_reason"]


def check_page(limit: int, offset: int, max_limit: int = 500) -> None:
    if not 1 <= limit <= max_limit:
        raise UserError(f"limit={limit} is out of range; use 1..{max_limit}")
    if offset < 0:
        raise UserError(f"offset={offset} is out of range; use 0 or more")


def accounts(p: Project, *, tier=None, segment=None, owner=None, status=None, q=None, limit: int = 50,
             offset: int = 0) -> dict[str, Any]:
    check_page(limit, offset)
    lat = latest(p)
    filters = (tier, segment, owner, status, q)
    import numpy as np

    def rows() -> np.ndarray:  # positions in the latest frame (small to keep, unlike the rows)
        f = _filter(p, lat["frame"], tier=tier, segment=segment, owner=owner, status=status, q=q)
        return lat["frame"].index.get_indexer(f.index).astype(np.int32)

    positions = _cache(p).get(f"accounts:{filters!r}", lat["key"], rows)
    page = lat["frame"].iloc[positions[offset:offset + limit]]
    total = int(len(positions))
    return {"as_of": lat["as_of"].isoformat() if lat["as_of"] else None, "model_version": lat["model_version"],
            "total": total, "limit": limit, "offset": offset,
            "next_offset": offset + limit if offset + limit < total else None,
            "items": _records(page, ACCOUNT_COLUMNS)}


def portfolio(p: Project, *, segment: str | None = None, owner: str | None = None, top: int = 15) -> dict[str, Any]:
    lat = latest(p)
    return _cache(p).get(f"portfolio:{segment!r}:{owner!r}:{top}", (lat["model_version"], change_key(p)),
                         lambda: _portfolio(p, lat, segment, owner, top))


def pause_reason(reason: str) -> str:
    """The kind of a pause reason: "stale: tickets", "conflict: csm_green_usage_collapsed", "pipeline: ..."."""
    if reason.startswith("conflict "):
        return "conflict: " + reason[len("conflict "):].split(":", 1)[0]
    if reason.startswith("pipeline "):
        return "pipeline: " + reason[len("pipeline "):].split(":", 1)[0]
    if " stale" in reason:
        return "stale: " + reason.split(" stale", 1)[0]
    return reason.split(":", 1)[0]


def add_risk_columns(frame: pd.DataFrame) -> None:
    """risk_tier / risk_score: the tier and score that count for ARR at risk. A paused snapshot keeps
    its last trusted score and tier (it is not healthier for having no score), shown as "paused (at
    risk)" when that tier is yellow or red; pause_reason: the kind of its first pause reason."""
    import numpy as np

    paused = (frame["status"] == "paused").to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    lt = frame["last_trusted"] if "last_trusted" in frame else [None] * len(frame)
    lt_tier = [x.get("tier") if isinstance(x, dict) else None for x in lt]
    lt_score = [x.get("score") if isinstance(x, dict) else None for x in lt]
    frame["risk_tier"] = [t if pz else tier for t, pz, tier in zip(lt_tier, paused, frame["tier"])]
    frame["risk_score"] = [sc if pz else v for sc, pz, v in zip(lt_score, paused, frame["score"])]
    frame["paused_at_risk"] = [bool(pz and t in AT_RISK) for t, pz in zip(lt_tier, paused)]
    reasons = frame["reasons"] if "reasons" in frame else [[]] * len(frame)
    frame["pause_reason"] = [pause_reason(r[0]) if pz and isinstance(r, list) and r else None
                             for r, pz in zip(reasons, paused)]
    frame["display_tier"] = [("paused (at risk)" if par else "paused") if pz else tier
                             for par, pz, tier in zip(frame["paused_at_risk"], paused, frame["tier"])]


def _portfolio(p: Project, lat: dict[str, Any], segment: str | None, owner: str | None, top: int) -> dict[str, Any]:
    from healthscore.store import queries as Q

    as_of = lat["as_of"]
    frame = _filter(p, lat["frame"], segment=segment, owner=owner)
    out: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None, "model_version": lat["model_version"],
                           "previous_as_of": lat["previous_as_of"].isoformat() if lat["previous_as_of"] else None,
                           "filters": {"segment": segment, "owner": owner}, "accounts": int(len(frame))}
    if as_of is None:
        out.update(tiers=[], arr_at_risk=0.0, distribution=[], transitions=[], at_risk=[],
                   segments=[], owners=[])
        return out
    prev = lat["previous"]
    subset = frame["account_id"].tolist() if owner is not None else None
    if subset is not None or segment is not None:
        prev = prev[prev["account_id"].isin(frame["account_id"])]
    prev = prev.merge(directory(p)[["arr"]], left_on="account_id", right_index=True, how="left")
    label = frame["tier"].fillna(frame["status"])
    prev_label = prev["tier"].fillna(prev["status"])
    total_arr = float(frame["arr"].sum())
    tiers = []
    for tier in [*TIERS, *sorted(set(label) - set(TIERS))]:
        m, pm = label == tier, prev_label == tier
        n, arr = int(m.sum()), float(frame.loc[m, "arr"].sum())
        tiers.append({"tier": tier, "accounts": n, "share": round(n / len(frame), 4) if len(frame) else 0.0,
                      "arr": round(arr, 2), "arr_share": round(arr / total_arr, 4) if total_arr else 0.0,
                      "previous_accounts": int(pm.sum()) if len(prev) else None,
                      "previous_arr": round(float(prev.loc[pm, "arr"].fillna(0).sum()), 2) if len(prev) else None})
    # paused snapshots count at their last trusted tier: a pause never hides risk
    at_risk = frame[frame["tier"].isin(AT_RISK) | frame["paused_at_risk"]]
    prev_risk = prev[prev["tier"].isin(AT_RISK)]
    out["tiers"] = tiers
    out["arr"] = round(total_arr, 2)
    out["arr_at_risk"] = round(float(at_risk["arr"].sum()), 2)
    par = frame[frame["paused_at_risk"]]
    out["paused_at_risk"] = {"accounts": int(len(par)), "arr": round(float(par["arr"].sum()), 2)}
    pz = frame[frame["status"] == "paused"]
    out["paused_by_reason"] = [{"reason": r, "accounts": int(n),
                                "at_risk": int(pz.loc[pz["pause_reason"] == r, "paused_at_risk"].sum())}
                               for r, n in pz["pause_reason"].fillna("unknown").value_counts().items()]
    out["previous_arr_at_risk"] = round(float(prev_risk["arr"].fillna(0).sum()), 2) if len(prev) else None

    def aggregates() -> dict[str, Any]:
        dates = [d for d in lat["dates"] if as_of - dt.timedelta(days=366) < d <= as_of]
        sample = dates[::max(1, len(dates) // 12)][-12:]
        if as_of not in sample:
            sample = [*sample[-11:], as_of]
        q_start = min((d for d in lat["dates"] if d >= Q.quarter_start(as_of)), default=as_of)
        return {
            "distribution": Q.score_distribution(p.store, lat["model_version"], sample, segment=segment,
                                                 account_ids=subset),
            "transitions": {"from": q_start.isoformat(), "to": as_of.isoformat(),
                            "moves": Q.tier_transitions(p.store, lat["model_version"], q_start, as_of,
                                                        segment=segment, account_ids=subset)},
        }

    # SQL over the history: rebuilt after a scoring run (or an ingest, for the owner filter), not after decisions
    k = change_key(p)
    out.update(_cache(p).get(f"aggregates:{segment!r}:{owner!r}", (lat["model_version"], k[0:4]), aggregates))
    top_rows = frame[frame["tier"] == "red"].head(top)
    if len(top_rows) < top:
        top_rows = frame[frame["tier"].isin(AT_RISK)].head(top)
    rows = _records(top_rows, ACCOUNT_COLUMNS)
    actions = Q.last_actions(p.store, [r["account_id"] for r in rows])
    for r in rows:
        r["last_action"] = actions.get(r["account_id"])
    out["at_risk"] = rows
    out["segments"] = sorted(lat["frame"]["segment"].dropna().unique().tolist())
    out["owners"] = sorted(lat["frame"]["owner"].dropna().unique().tolist())
    return out


def account(p: Project, account_id: str) -> dict[str, Any]:
    """One account: its latest stored snapshot with evidence (overrides in force applied), its history
    without evidence, tasks, overrides, alerts and the audit trail of its tasks and overrides."""
    from healthscore.store import queries as Q
    from healthscore.workflow.overrides import apply_overrides

    d = directory(p)
    if account_id not in d.index:
        raise NotFound(f"unknown account {account_id!r}: it is not in the accounts table")
    info = _records(d.loc[[account_id]], list(DIRECTORY_COLUMNS))[0]
    version = p.model.version
    overrides = p.store.overrides([account_id])
    # one query through the (account_id, as_of) index: the last 400 days of every model version
    history = Q.account_history(p.store, account_id, dt.date.today() - dt.timedelta(days=400))
    if not any(h["model_version"] == version for h in history):  # an older store: look further back
        history = Q.account_history(p.store, account_id)
    mine = [h["as_of"] for h in history if h["model_version"] == version]
    as_of = dt.date.fromisoformat(max(mine)) if mine else None
    history = [h for h in history if as_of is None or h["as_of"] >= (as_of - dt.timedelta(days=400)).isoformat()]
    history = apply_overrides(history, overrides)
    snap = None
    if as_of is not None:
        snaps = p.store.snapshots(account_id, as_of=as_of, model_version=version)
        snap = apply_overrides(snaps, overrides)[0] if snaps else None
    tasks = p.store.tasks(account_id=account_id, status="all")
    alerts = p.store.alerts(account_id=account_id, limit=50)
    ids = [str(x["task_id"]) for x in tasks]
    audit = Q.audit_page(p.store, object_type="task", object_ids=ids, limit=100) + \
        Q.audit_page(p.store, object_type="override", object_ids=[str(o["override_id"]) for o in overrides], limit=100)
    audit.sort(key=lambda e: -e["seq"])
    versions = {}
    for h in history:
        versions.setdefault(h["model_version"], h["as_of"])
    live = live_of(p, account_id)
    return {"account": info, "model_version": version, "as_of": as_of.isoformat() if as_of else None,
            "snapshot": snap, "live": live,
            "history": [{k: h.get(k) for k in ("as_of", "model_version", "score", "tier", "status", "confidence",
                                               "primary_driver", "trend_note")} for h in history],
            "model_versions_seen": [{"version": v, "first_as_of": a} for v, a in versions.items()],
            "tasks": tasks, "overrides": overrides, "alerts": alerts, "audit": audit,
            "override_reasons": list(p.model.ir.workflow.override_reasons),
            "max_override_days": p.model.ir.workflow.max_override_days}


def driver_words(p: Project, metric: str | None) -> str | None:
    """A metric in words: its description in the model, else its name without underscores."""
    if not metric:
        return None
    m = next((m for _, m in p.model.ir.metrics if m.name == metric), None)
    return (m.description if m is not None and getattr(m, "description", None) else metric.replace("_", " "))


def enrich_tasks(p: Project, tasks: list[dict]) -> list[dict]:
    """What a list of tasks needs beside the task: account name, ARR and renewal date, the driver in
    words, the smoothed score the published tier follows."""
    d = directory(p)
    out = []
    for t in tasks:
        info = _records(d.loc[[t["account_id"]]], ["name", "arr", "renewal_date"])[0] if t["account_id"] in d.index \
            else {"name": None, "arr": None, "renewal_date": None}
        na = t.get("next_action") or {}
        driver = next((w[len("main driver: "):].replace(" ", "_") for w in na.get("why", [])
                       if w.startswith("main driver: ")), None)
        tri = na.get("triage") or {}
        out.append({**t, **info, "driver": driver, "driver_text": driver_words(p, driver),
                    "smoothed_score": tri.get("smoothed_score"),
                    "why": ", ".join(x["name"].replace("_", " ") for x in t["triggers"] if x["kind"] != "routing"),
                    "routed": ", ".join(tri.get("routed") or [])})
    return out


def page_info(total: int, shown: int, limit: int, offset: int) -> dict[str, Any]:
    """What a list shows of what there is: "N of M", and the neighbouring pages' offsets."""
    return {"total": total, "shown": shown, "limit": limit, "offset": offset,
            "first": offset + 1 if shown else 0, "last": offset + shown, "truncated": shown < total,
            "next_offset": offset + limit if offset + limit < total else None,
            "previous_offset": max(0, offset - limit) if offset > 0 else None}


def workbench(p: Project, username: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """The owner's ranked open tasks (this week's capacity), their alerts and accounts, each list with its
    true size; the owners a manager can pick from."""
    from healthscore.store import queries as Q

    check_page(limit, offset)
    lat = latest(p)
    mine = lat["frame"][lat["frame"]["owner"] == username]
    tasks, total = _tasks(p, queue=username, status="open", limit=limit, offset=offset, order="rank")
    backlog, n_backlog = _tasks(p, queue=username, status="backlog", limit=limit, order="rank")
    ids, n_alerts = Q.alerts_page(p.store, queue=username, limit=limit)
    alerts = Q.alerts_by_id(p.store, ids)
    cap = p.model.ir.workflow.triage.capacity_of(username)
    shown_accounts = mine.head(200)
    return {"username": username, "as_of": lat["as_of"].isoformat() if lat["as_of"] else None,
            "capacity": cap, "tasks": enrich_tasks(p, tasks), "open_tasks": total,
            "tasks_page": page_info(total, len(tasks), limit, offset),
            "backlog": enrich_tasks(p, backlog), "backlog_page": page_info(n_backlog, len(backlog), limit, 0),
            "alerts": alerts, "alerts_page": page_info(n_alerts, len(alerts), limit, 0),
            "accounts": _records(shown_accounts, ACCOUNT_COLUMNS),
            "accounts_page": page_info(int(len(mine)), int(len(shown_accounts)), 200, 0),
            "owners": sorted(lat["frame"]["owner"].dropna().unique().tolist())}


def decisions(p: Project, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Recent decisions, newest first: accepts, corrections (with their overrides) and dismissals."""
    from healthscore.store import queries as Q

    check_page(limit, offset)
    rows, total = [], 0
    for status in ("accepted", "corrected", "dismissed"):
        total += Q.tasks_page(p.store, status=status, limit=1)[1]
    items, _ = _decided(p, limit + offset)
    page = items[offset:offset + limit]
    overrides = {o["override_id"]: o for o in p.store.overrides()}
    for t in page:
        rows.append({**t, "override": overrides.get(t.get("override_id"))})
    counts = {s: Q.tasks_page(p.store, status=s, limit=1)[1] for s in ("accepted", "corrected", "dismissed")}
    return {"items": enrich_tasks(p, rows), "page": page_info(total, len(page), limit, offset), "counts": counts,
            "active_overrides": len(p.store.overrides(active_on=dt.date.today()))}


def _decided(p: Project, n: int) -> tuple[list[dict], int]:
    from healthscore.store import queries as Q

    out = []
    for status in ("accepted", "corrected", "dismissed"):
        out += Q.tasks_page(p.store, status=status, limit=n, order="decided")[0]
    out.sort(key=lambda t: (t["decided_at"] or "", t["task_id"]), reverse=True)
    return out[:n], len(out)


def _tasks(p: Project, **kw) -> tuple[list[dict], int]:
    from healthscore.store import queries as Q

    return Q.tasks_page(p.store, **kw)


def manager_queue(p: Project, *, owner: str | None = None, status: str = "open", priority: str | None = None,
                  limit: int = 50, offset: int = 0, order: str | None = None) -> dict[str, Any]:
    """Every owner's tasks (filters: owner, status, priority; by rank), overdue tasks, unreviewed material
    changes, accounts yellow for more than 30 days and paused snapshots: each with its true count."""
    from healthscore.project import today
    from healthscore.store import queries as Q

    check_page(limit, offset)
    _check_choice("status", status, ("open", "backlog", "accepted", "corrected", "dismissed", "superseded", "closed",
                                     "all"))
    _check_choice("priority", priority, ("high", "normal"))
    lat = latest(p)
    now = today()
    _check_choice("order", order, ("rank", "due", "newest", "decided"))
    order = order or ("rank" if status in ("open", "backlog") else "newest")
    tasks, n_tasks = _tasks(p, queue=owner, status=status, priority=priority, limit=limit, offset=offset,
                            order=order)
    open_all, _ = _tasks(p, status="open", limit=100_000, order="rank")
    material_all = [x for x in open_all if any(tr["kind"] == "material_change" for tr in x["triggers"])]
    material = material_all[:limit]
    overdue, n_overdue = _tasks(p, status="open", due_before=now, limit=limit, order="due")
    frame = lat["frame"]
    yellow, n_yellow = [], 0
    if lat["as_of"] is not None:
        version = lat["model_version"]
        start = max((d for d in lat["dates"] if d <= lat["as_of"] - dt.timedelta(days=30)), default=None)

        def steady() -> list[str]:
            return Q.steady_tier(p.store, version, "yellow", start, lat["as_of"]) if start else []

        ids = set(_cache(p).get("steady_yellow", (version, change_key(p)[0:2]), steady))
        ys = frame[frame["account_id"].isin(ids) & (frame["tier"] == "yellow")]
        n_yellow = int(len(ys))
        yellow = _records(ys.sort_values("arr", ascending=False).head(limit), ACCOUNT_COLUMNS)
    pz = frame[frame["status"] == "paused"]
    paused = _records(pz.sort_values("arr", ascending=False).head(limit), ACCOUNT_COLUMNS)
    return {"as_of": lat["as_of"].isoformat() if lat["as_of"] else None, "today": now.isoformat(),
            "filters": {"owner": owner, "status": status, "priority": priority, "order": order},
            "owners": sorted(set(lat["frame"]["owner"].dropna().unique().tolist())
                             | {p.model.ir.workflow.routing.fallback_queue}),
            "tasks": enrich_tasks(p, tasks), "tasks_page": page_info(n_tasks, len(tasks), limit, offset),
            "material_changes": enrich_tasks(p, material),
            "material_changes_page": page_info(len(material_all), len(material), limit, 0),
            "overdue": enrich_tasks(p, overdue), "overdue_total": n_overdue,
            "overdue_page": page_info(n_overdue, len(overdue), limit, 0),
            "yellow_30_days": yellow, "yellow_30_days_page": page_info(n_yellow, len(yellow), limit, 0),
            "paused": paused, "paused_page": page_info(int(len(pz)), len(paused), limit, 0)}


LIVE_FIELDS = ("account_id", "as_of", "model_version", "score", "smoothed_score", "tier", "status", "confidence",
               "primary_driver", "trend_note", "reasons", "received_at", "scored_at", "live")


def live_of(p: Project, account_id: str) -> dict[str, Any] | None:
    """The account's live snapshot (real-time events, `healthscore stream`), marked live with its time."""
    rows = p.store.live_snapshots([account_id], p.model.version)
    return {k: rows[0].get(k) for k in LIVE_FIELDS} if rows else None
