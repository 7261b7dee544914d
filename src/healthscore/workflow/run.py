"""The weekly review run: score, raise alerts through the hygiene rules, create owner review tasks with
the evidence, trend note and drafted next action, and notify the internal team.

Idempotent within a week: alerts keep state per (account, rule) and tasks are keyed per account and
ISO week, so running twice adds nothing new.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from healthscore.model.settings import TIER_RANK
from healthscore.workflow.alerts import Account, apply_hygiene, evaluate, score_drop_days
from healthscore.workflow.playbooks import draft_next_action

if TYPE_CHECKING:
    from healthscore.services.parts import HasParts


def week_key(as_of: dt.date) -> str:
    year, week, _ = as_of.isocalendar()
    return f"{year}-W{week:02d}"


def explainable(snap: dict) -> bool:
    """Components and evidence present, and the evidence points add up to the computed score."""
    computed = (snap.get("computed") or snap)
    if computed.get("status") != "scored" or computed.get("score") is None or not snap.get("evidence"):
        return False
    total = sum(e.get("points") or 0.0 for e in snap["evidence"])
    return bool(snap.get("components")) and abs(total - computed["score"]) <= 0.01


def load_accounts(project: HasParts, account_ids: list[str] | None = None,
                  as_of: dt.date | None = None) -> dict[str, Account]:
    """Owner, ARR, segment and renewal date of the accounts as of a date (today when None): from the
    subscriptions and account changes where the workspace has them (engine/attributes.py)."""
    import pandas as pd

    from healthscore.engine.attributes import accounts_as_of

    frame = accounts_as_of(project.con, as_of or dt.datetime.now(dt.UTC).date(),
                           ["name", "owner", "arr", "segment", "renewal_date"], account_ids)
    out = {}
    for r in frame.to_dict("records"):
        clean = {k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v) for k, v in r.items()}
        rd, arr = clean.get("renewal_date"), clean.get("arr")
        out[r["account_id"]] = Account(
            account_id=r["account_id"], name=clean.get("name"), owner=clean.get("owner"),
            arr=float(arr) if arr is not None else None, segment=clean.get("segment"),
            renewal_date=pd.Timestamp(rd).date() if rd is not None else None)
    return out


def _past_scores(project: HasParts, as_of: dt.date, days_list: set[int],
                 account_ids: list[str] | None = None) -> dict[str, dict[int, float]]:
    """Raw score of each account `days` before as_of: the stored snapshot of that date (or, for a
    baseline a week or more back, up to 3 days before it), else scored now without storing."""
    out: dict[str, dict[int, float]] = {}
    version = project.model.version
    for days in sorted(days_list):
        target = as_of - dt.timedelta(days=days)
        slack = 3 if days >= 7 else 0  # persistence days are read exactly
        frame = project.store.snapshot_frame(date_from=target - dt.timedelta(days=slack), date_to=target,
                                             model_version=version, account_ids=account_ids)
        frame = frame[frame["status"] == "scored"]
        if frame.empty:
            snaps = project.score(as_of_dates=[target], account_ids=account_ids, store=False).frames.snapshots
            frame = snaps[snaps["status"] == "scored"]
        latest = frame.sort_values("as_of").groupby("account_id").tail(1)
        for aid, score in zip(latest["account_id"], latest["score"]):
            if score is not None and not (isinstance(score, float) and math.isnan(score)):
                out.setdefault(aid, {})[days] = float(score)
    return out


def split_material(frame) -> tuple[set[str], dict[str, str]]:
    """Material changes of a scored batch: (declines, {account: note} of rises). Only a decline opens a
    review task; a rise is good news for the owner's digest."""
    declines, rises = set(), {}
    cols = [c for c in ("account_id", "material_change", "score", "previous_score", "tier", "previous_tier",
                        "trend_note") if c in frame]
    for r in frame[cols].to_dict("records"):
        if not r.get("material_change"):
            continue
        now, before = r.get("score"), r.get("previous_score")
        tier, prev_tier = r.get("tier"), r.get("previous_tier")
        fell = (isinstance(now, (int, float)) and isinstance(before, (int, float)) and not math.isnan(now)
                and not math.isnan(before) and now < before)
        tier_down = tier in TIER_RANK and prev_tier in TIER_RANK and TIER_RANK[tier] < TIER_RANK[prev_tier]
        tier_up = tier in TIER_RANK and prev_tier in TIER_RANK and TIER_RANK[tier] > TIER_RANK[prev_tier]
        if tier_down or (fell and not tier_up):
            declines.add(r["account_id"])
        else:
            rises[r["account_id"]] = r.get("trend_note") or "health rose"
    return declines, rises


def tiers_before(frame) -> dict[str, str | None]:
    """Each scored account's published tier at its snapshot before this one (None: it had none), for the
    alerts' tier rules (workflow/alerts.evaluate)."""
    if "previous_tier" not in frame:
        return {}
    return dict(zip(frame["account_id"].astype(object).tolist(), frame["previous_tier"].astype(object).tolist()))


def run_weekly(project: HasParts, as_of: dt.date, *, notify: bool = True) -> dict[str, Any]:
    """Score (snapshots commit, idempotent), then alerts, tasks and their links in one transaction
    (review_snapshots): a crash at any point leaves either nothing of the review or all of it, so
    the re-run reaches the state of an unbroken run (tests/security/test_crash.py)."""
    from healthscore.faults import fault_point

    run = project.score(as_of)
    fault_point("run_weekly:scores")
    material, rises = split_material(run.frames.snapshots)
    # overrides in force applied: alerts follow what the owner sees
    result = review_snapshots(project, as_of, run.snapshots, material, notify=notify, good_news=rises,
                              previous_tiers=tiers_before(run.frames.snapshots))
    return {"as_of": as_of.isoformat(), "week": week_key(as_of), "model_version": project.model.version,
            "accounts": len(run.snapshots), "snapshots_written": run.inserted, **result}


def review_snapshots(project: HasParts, as_of: dt.date, snaps: list[dict], material: set[str], *,
                     notify: bool = True, portfolio_size: int | None = None,
                     past: dict[str, dict[int, float]] | None = None,
                     accounts: dict[str, Account] | None = None,
                     good_news: dict[str, str] | None = None,
                     previous_tiers: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Alerts through the hygiene rules, review tasks and notifications for freshly scored snapshots
    (the weekly run's whole portfolio, or a real-time batch of a few accounts). `material` holds the
    accounts whose material change is a decline; `good_news` the rises (digest only, no task);
    `previous_tiers` each account's published tier before these snapshots (`tiers_before`)."""
    good_news = good_news or {}
    if not snaps:
        return {"material_changes": 0, "alerts": {"fired": 0, "by_status": {}, "by_rule": {}},
                "tasks": {"created": 0, "already_open_this_week": 0, "candidates": 0, "backlog": 0,
                          "superseded": 0, "returned_to_backlog": 0, "open": 0, "in_backlog": 0, "by_owner": {}},
                "good_news": 0, "deliveries": {"ok": 0, "failed": 0},
                "pipeline": {"paused_accounts": 0, "owner_alerts_suppressed": 0, "admin_alerts": []}}
    model = project.model.ir
    wf = model.workflow
    store = project.store
    material = material if wf.material_change_tasks else set()
    by_id = {s["account_id"]: s for s in snaps}
    if accounts is None:
        accounts = load_accounts(project, None if portfolio_size is None else list(by_id), as_of)
    queue_of: dict[str, str] = {aid: (accounts[aid].owner or wf.routing.fallback_queue) if aid in accounts
                                else wf.routing.fallback_queue for aid in by_id}

    drops = score_drop_days(model)
    if past is None:
        past = _past_scores(project, as_of, drops, None if portfolio_size is None else list(by_id)) if drops else {}
    from healthscore.workflow.pipeline import PORTFOLIO_ACCOUNT, pipeline_admin_alerts

    # a real-time batch reads only its own accounts' states (and the portfolio's, for pipeline alerts)
    stored_states = store.alert_states(None if portfolio_size is None else [*by_id, PORTFOLIO_ACCOUNT])
    fired, states = evaluate(model, as_of, snaps, accounts, past, stored_states, previous_tiers)
    # A pipeline break pauses the snapshots it touched: one alert to the admin queue, none to owners.

    broken, admin_rows, admin_states = pipeline_admin_alerts(model, project.model.version, as_of, snaps,
                                                             stored_states)
    suppressed = sum(1 for c in fired if c.account_id in broken)
    fired = [c for c in fired if c.account_id not in broken]
    states = {k: v for k, v in states.items() if k[0] not in broken}
    states.update(admin_states)
    today = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    sent_today = store.alerts_sent_on(today, {queue_of[c.account_id] for c in fired})
    decided = apply_hygiene(model, fired, by_id, accounts, queue_of, sent_today, portfolio_size or len(snaps))
    alert_rows = [{
        "account_id": c.account_id, "rule": c.rule.name, "severity": c.rule.severity, "as_of": as_of,
        "model_version": project.model.version, "status": status, "owner": accounts.get(c.account_id, Account(
            c.account_id)).owner, "queue": queue_of[c.account_id], "note": c.note,
        "snapshot": {k: by_id[c.account_id].get(k) for k in ("score", "tier", "status", "confidence",
                                                               "smoothed_score")},
        "evidence": c.evidence,
    } for c, status in decided] + admin_rows
    # Alerts, tasks (with the triage's changes to earlier ones) and links commit together: a crash between
    # them once lost the tasks for good (the re-run found the alerts stored and the cooldown suppressed
    # them) and left alerts unlinked.
    from healthscore.faults import fault_point

    with store.transaction() as tx:
        alert_ids = store.save_alerts(states, alert_rows, tx=tx)
        fault_point("run_weekly:alerts")
        candidates, outcome = _review_tasks(project, as_of, model, snaps, by_id, accounts, queue_of, material,
                                            broken, alert_rows, alert_ids, good_news, portfolio_size, tx)
    fault_point("run_weekly:links")
    created = outcome["created"]
    open_now = store.count_tasks("open")  # after the commit: the transaction's own rows counted
    in_backlog = store.count_tasks("backlog")
    deliveries = notify_alerts(project, alert_rows, alert_ids, accounts) if notify else []
    if notify:
        deliveries += notify_digests(project, outcome["digests"])

    statuses: dict[str, int] = {}
    per_rule: dict[str, int] = {}
    for row, alert_id in zip(alert_rows, alert_ids):
        if alert_id is None:
            continue
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        per_rule[row["rule"]] = per_rule.get(row["rule"], 0) + 1
    return {
        "material_changes": len(material),
        "alerts": {"fired": sum(statuses.values()), "by_status": statuses, "by_rule": per_rule},
        "tasks": {"created": outcome["assigned_new"],
                  "already_open_this_week": sum(1 for _, new in created.values() if not new),
                  "candidates": len(candidates), "backlog": outcome["backlog"],
                  "superseded": outcome["superseded"], "returned_to_backlog": outcome["returned"],
                  "closed_not_scored": outcome["closed"],
                  "open": open_now, "in_backlog": in_backlog, "by_owner": outcome["by_owner"]},
        "good_news": len(good_news),
        "deliveries": {"ok": sum(1 for d in deliveries if d.ok), "failed": sum(1 for d in deliveries if not d.ok)},
        "pipeline": {"paused_accounts": len(broken), "owner_alerts_suppressed": suppressed,
                     "admin_alerts": [{"rule": r["rule"], "queue": r["queue"], "note": r["note"]} for r in admin_rows]},
    }


def _review_tasks(project, as_of, model, snaps, by_id, accounts, queue_of, material, broken, alert_rows, alert_ids,
                  good_news, portfolio_size, tx) -> tuple[list[dict], dict]:
    """Candidate review tasks for the run's triggers, triaged, and the links of their alerts, in the
    transaction ``tx``: (candidates, the triage's outcome)."""
    from healthscore.faults import fault_point
    from healthscore.model.ir import window_days
    from healthscore.workflow.pipeline import PORTFOLIO_ACCOUNT

    store = project.store
    wf = model.workflow
    # Candidates: declines, alerts that were not capped, rules asking for review; routed accounts
    # (renewal near, high value) rank higher and are never left to a queue alone.
    routing = wf.routing
    triggers: dict[str, list[dict]] = {}
    for aid in material:
        s = by_id.get(aid)
        if s is not None:
            triggers.setdefault(aid, []).append({"kind": "material_change", "name": "material_change",
                                                 "note": s.get("trend_note") or "material change"})
    alerts_of: dict[str, list[str]] = {}
    alert_ids_of: dict[str, list[int]] = {}
    context_rules = {r.name for r in wf.alerts if r.renewal_within}  # routing context, not a risk signal
    for row, alert_id in zip(alert_rows, alert_ids):
        if row["status"] == "capped" or alert_id is None or row["account_id"] == PORTFOLIO_ACCOUNT:
            continue
        alerts_of.setdefault(row["account_id"], []).append(row["rule"])
        alert_ids_of.setdefault(row["account_id"], []).append(alert_id)
        if row["rule"] not in context_rules:
            triggers.setdefault(row["account_id"], []).append({"kind": "alert", "name": row["rule"],
                                                               "note": row["note"]})
    for s in snaps:
        if s.get("review_required") and s["account_id"] not in broken:
            flags = ", ".join(s.get("flags") or []) or "rule"
            triggers.setdefault(s["account_id"], []).append({"kind": "review_rule", "name": flags,
                                                             "note": "; ".join(s.get("reasons", [])[:2])})
    renew_days = window_days(routing.renewal_within)
    assert renew_days is not None  # routing.renewal_within is a window, never "all"
    # A high-value account's renewal is always reviewed by a person, once per renewal window, even
    # when nothing looks wrong (a quiet green account can still leave at its renewal).
    if routing.high_value_arr is not None and portfolio_size is None:
        due = [aid for aid, acc in accounts.items() if aid in by_id and aid not in broken
               and (acc.arr or 0.0) >= routing.high_value_arr and acc.renewal_date is not None
               and 0 <= (acc.renewal_date - as_of).days <= renew_days]
        if due:
            since = as_of - dt.timedelta(days=renew_days)
            due_set = set(due)
            reviewed = {t["account_id"] for t in store.tasks(status="all")
                        if t["account_id"] in due_set and dt.date.fromisoformat(t["as_of"]) >= since
                        and week_key(dt.date.fromisoformat(t["as_of"])) != week_key(as_of)}
            for aid in due:
                if aid not in reviewed:
                    days = (accounts[aid].renewal_date - as_of).days
                    triggers.setdefault(aid, []).append({
                        "kind": "renewal_review", "name": "high-value renewal",
                        "note": f"renews in {days} days with ARR {accounts[aid].arr:,.0f}: reviewed by a person"})
    candidates = []
    for aid, trig in triggers.items():
        s, acc = by_id[aid], accounts.get(aid, Account(aid))
        routed = _routed(acc, as_of, renew_days, routing.high_value_arr)
        due_days = wf.task_due_days.get(s.get("tier") or "default", wf.task_due_days.get("default", 10))
        candidates.append({
            "dedupe_key": f"{aid}:{week_key(as_of)}", "account_id": aid, "as_of": as_of,
            "model_version": project.model.version,
            "triggers": trig + [{"kind": "routing", "name": r, "note": "always reviewed by a person"} for r in routed],
            "priority": "normal", "owner": acc.owner, "queue": queue_of[aid],
            "due_at": as_of + dt.timedelta(days=due_days),
            "score": s.get("score"), "tier": s.get("tier"), "snapshot_status": s["status"],
            "explainable": explainable(s), "trend_note": s.get("trend_note"),
            "evidence": s.get("evidence", []),
            "next_action": {**draft_next_action(model, s, alerts_of.get(aid, []), acc.owner),
                            "triage": triage_value(model, s, acc, as_of, trig)},
        })
    n_scored = sum(1 for x in snaps if x["status"] in ("scored", "overridden"))
    if portfolio_size is not None:  # a real-time batch: the portfolio's size, not the batch's
        n_scored = max(n_scored, portfolio_size)
    outcome = triage(project, as_of, candidates, by_id, accounts, good_news, n_scored,
                     full_run=portfolio_size is None, tx=tx)
    fault_point("run_weekly:tasks")
    created = outcome["created"]
    store.link_alerts_to_tasks({alert_id: created[f"{aid}:{week_key(as_of)}"][0]
                                for aid, ids in alert_ids_of.items() for alert_id in ids
                                if f"{aid}:{week_key(as_of)}" in created}, tx=tx)
    return candidates, outcome


def by_rule_severity(model, name: str) -> str | None:
    return next((r.severity for r in model.workflow.alerts if r.name == name), None)


def notify_alerts(project: HasParts, alert_rows: list[dict], alert_ids: list, accounts: dict) -> list:
    """Alerts within the budget one by one, the overflow in one digest per queue; every delivery's
    outcome is recorded (a failed one too). Internal recipients only."""
    config = getattr(project.ws.config, "notifications", None)
    if config is None or not getattr(config, "sinks", None):
        return []
    from healthscore.workflow.notify import Notification, deliver

    results = []
    digests: dict[str, list[dict]] = {}
    for row, alert_id in zip(alert_rows, alert_ids):
        if alert_id is None or row["status"] == "capped":
            continue
        if row["status"] == "digest":
            digests.setdefault(row["queue"], []).append(row)
            continue
        acc = accounts.get(row["account_id"])
        snap = row["snapshot"]
        title = f"[{row['severity']}] {row['account_id']} {acc.name if acc and acc.name else ''}: {row['rule']}"
        text = (f"{row['note']}\nScore {snap.get('score')} ({snap.get('tier') or snap.get('status')}). "
                f"Review task for {row['queue']}. Nothing has been sent to the customer.")
        n = Notification(kind="alert", title=title.strip(), text=text, account_id=row["account_id"],
                         owner=row["queue"], fields={"rule": row["rule"], "as_of": str(row["as_of"])})
        res = deliver(config, n)
        project.store.record_deliveries(res, n.title, row["queue"], {"alert_ids": [alert_id]})
        results.extend(res)
    for queue, rows in digests.items():
        lines = [f"- {r['account_id']}: {r['note']}" for r in rows]
        n = Notification(kind="digest", title=f"Digest for {queue}: {len(rows)} more alerts",
                         text="\n".join(lines), owner=queue, fields={})
        res = deliver(config, n)
        project.store.record_deliveries(res, n.title, queue,
                                        {"alert_ids": [i for r, i in zip(alert_rows, alert_ids) if r in rows]})
        results.extend(res)
    return results


# ---- triage: few right tasks -------------------------------------------------------------------


def _routed(acc: Account, as_of: dt.date, renew_days: int, high_value_arr: float | None) -> list[str]:
    routed = []
    if acc.renewal_date is not None and 0 <= (acc.renewal_date - as_of).days <= renew_days:
        routed.append(f"renewal in {(acc.renewal_date - as_of).days} days")
    if high_value_arr is not None and (acc.arr or 0.0) >= high_value_arr:
        routed.append(f"high value (ARR {acc.arr:,.0f})")
    return routed


def churn_probability(model, snap: dict) -> tuple[float | None, str | None]:
    """Prior probability of churn or contraction within the outcome horizon from the score (the raw one,
    or the last trusted one of a paused snapshot), interpolated between the tier priors of
    workflow.triage.churn_probability. (score used, its source) beside it."""
    import numpy as np

    from healthscore.workflow.alerts import tiers_for

    score, used = _num(snap.get("score")), "score"
    if score is None or snap.get("status") not in ("scored", "overridden"):
        lt = snap.get("last_trusted") or {}
        score, used = _num(lt.get("score")), "last_trusted"
    if score is None:
        return None, None
    p = model.workflow.triage.churn_probability
    tiers = tiers_for(model, snap.get("segment"))
    g, y = tiers.green, tiers.yellow
    xs = [0.0, y / 2, y, g, 100.0]
    ps = [min(0.95, 2 * p["red"]), p["red"], p["yellow"], p["green"], p["green"] / 2]
    return float(np.interp(score, xs, ps)), used


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def triage_value(model, snap: dict, acc: Account, as_of: dt.date, triggers: list[dict] | None = None) -> dict:
    """What a candidate task is worth: expected ARR at risk (churn probability x ARR, discounted toward
    the yellow prior by low confidence), times the routing boosts (renewal near, high value)."""
    from healthscore.model.ir import window_days

    wf = model.workflow
    tri = wf.triage
    p, used = churn_probability(model, snap)
    if p is None:  # never scored: the yellow prior, nothing better is known
        p, used = tri.churn_probability["yellow"], "prior"
    conf = _num(snap.get("confidence"))
    conf = 1.0 if conf is None else max(0.0, min(1.0, conf))
    p_eff = conf * p + (1 - conf) * tri.churn_probability["yellow"]
    arr = acc.arr or 0.0
    expected = p_eff * arr
    boost, why = 1.0, []
    renew_days = window_days(wf.routing.renewal_within)
    assert renew_days is not None  # routing.renewal_within is a window, never "all"
    for r in _routed(acc, as_of, renew_days, wf.routing.high_value_arr):
        if r.startswith("renewal"):
            boost *= tri.renewal_boost
        else:
            boost *= tri.high_value_boost
        why.append(r)
    severe = any(t.get("kind") == "alert" and by_rule_severity(model, t["name"]) == "high" for t in triggers or [])
    renewal_days = (acc.renewal_date - as_of).days if acc.renewal_date is not None else None
    return {"expected_arr_at_risk": round(expected, 2), "churn_probability": round(p_eff, 4),
            "probability_from": used, "confidence": conf, "arr": arr, "boost": round(boost, 4),
            "rank_value": round(expected * boost, 2), "routed": why, "severe": severe, "renewal_days": renewal_days,
            "smoothed_score": _num(snap.get("smoothed_score"))}  # the published tier follows it


def _worth_a_task(task: dict, floor: float) -> bool:
    tri = (task.get("next_action") or {}).get("triage") or {}
    renewing = any(r.startswith("renewal") for r in tri.get("routed") or [])
    return renewing or (tri.get("churn_probability") or 0.0) >= floor


def _rank_key(task: dict) -> tuple:
    """High-value renewals' reviews first, the soonest renewal first (routing: always a person, once per
    renewal window), then by expected ARR at risk with the routing boosts."""
    tri = (task.get("next_action") or {}).get("triage") or {}
    renewal_review = any(t.get("kind") == "renewal_review" for t in task.get("triggers") or [])
    soonest = (tri.get("renewal_days") if tri.get("renewal_days") is not None else 10**6) if renewal_review else 0
    return (not renewal_review, soonest, -(tri.get("rank_value") or 0.0),
            task.get("score") if task.get("score") is not None else 101.0, task["account_id"])


def triage(project: HasParts, as_of: dt.date, candidates: list[dict], by_id: dict[str, dict],
           accounts: dict[str, Account], good_news: dict[str, str], scored_accounts: int, *,
           full_run: bool = False, tx=None) -> dict[str, Any]:
    """Give each owner at most their weekly capacity of open tasks, by expected ARR at risk.

    The owner's open tasks from earlier weeks compete with this week's candidates (re-valued from the
    account's new snapshot when there is one); a candidate for an account with an open or backlog task
    supersedes it (reasons merged, the old one closed as `superseded`). What does not fit is stored with
    status `backlog` and listed in one ranked digest per owner; an earlier open task pushed out returns
    to the backlog. At most `high_share` of an owner's open tasks are high priority: the top-ranked
    routed or severe ones.
    """
    model = project.model.ir
    wf = model.workflow
    tri = wf.triage
    store = project.store
    week = week_key(as_of)
    queues = {c["queue"] for c in candidates} | {accounts[a].owner or wf.routing.fallback_queue
                                                 for a in good_news if a in accounts}
    # A full run plans every owner; a real-time batch the owners of its candidates only, so it reads their
    # tasks alone (every task of the book, read for each batch, made the stream's p99 latency 2.7 s), and
    # counts the other owners' open tasks for the portfolio's limit.
    of_queues = None if full_run else queues
    every = store.triage_tasks("open", of_queues) + store.triage_tasks("backlog", of_queues)
    # what each task holds now (the triage replaces the dicts' next_action and its triage entry, never changes
    # what they held): only changed tasks are written
    stored = {t["task_id"]: {**t, "next_action": t["next_action"] and dict(t["next_action"])} for t in every}
    # a full run scores every account: one without a snapshot now (churned, removed) needs no review
    gone = {t["task_id"]: as_of for t in every if full_run and t["account_id"] not in by_id}
    # a full run re-plans every owner (an owner without candidates this week still gets last week's backlog
    # replaced), so running it twice in a week changes nothing; a real-time batch touches its owners only
    current = [t for t in every if (full_run or t["queue"] in queues) and t["task_id"] not in gone]
    cand_of = {c["account_id"]: c for c in candidates}
    # earlier rows of an account with a new candidate: superseded, their reasons merged into the new one
    supersede: dict[int, str] = {}
    keep: list[dict] = []
    for t in current:
        same_week = week_key(dt.date.fromisoformat(t["as_of"])) == week
        # an earlier task this week's run returned to the backlog belongs to this week's digest
        returned_now = ((t["next_action"] or {}).get("triage") or {}).get("returned_week") == week
        c = cand_of.get(t["account_id"])
        if c is not None and not same_week and not returned_now:
            known = {(x["kind"], x["name"]) for x in c["triggers"]}
            c["triggers"] += [{**x, "from_task": t["task_id"]} for x in t["triggers"]
                              if (x["kind"], x["name"]) not in known and x["kind"] != "routing"]
            supersede[t["task_id"]] = c["dedupe_key"]
        elif t["status"] == "open" or same_week or returned_now:
            keep.append(t)
        else:  # last week's backlog digest is replaced by this week's
            supersede[t["task_id"]] = ""
    # re-value carried-over open tasks from the account's new snapshot
    for t in keep:
        s = by_id.get(t["account_id"])
        if s is not None and t["as_of"] != as_of.isoformat():
            acc = accounts.get(t["account_id"], Account(t["account_id"]))
            t["next_action"] = {**(t["next_action"] or {}),
                                "triage": triage_value(model, s, acc, as_of, t["triggers"])}
    this_week = {t["account_id"] for t in keep if week_key(dt.date.fromisoformat(t["as_of"])) == week}
    merge_rows = [c for c in candidates if c["account_id"] in this_week]  # a second run: reasons added only
    by_queue: dict[str, list[dict]] = {}
    for c in candidates:
        if c["account_id"] not in this_week:
            by_queue.setdefault(c["queue"], []).append(c)
    kept_of: dict[str, list[dict]] = {}
    for t in keep:
        kept_of.setdefault(t["queue"], []).append(t)
    new_rows: list[dict] = []
    updates: dict[int, dict] = {}
    digests: dict[str, dict] = {}
    stats = {"backlog": 0, "returned": 0, "assigned_new": 0}
    by_owner: dict[str, dict] = {}
    plan: dict[str, tuple[list, list]] = {}
    for queue in sorted(set(by_queue) | set(kept_of)):
        cap = tri.capacity_of(queue)
        pool = [("new", c) for c in by_queue.get(queue, [])] + [("old", t) for t in kept_of.get(queue, [])]
        pool.sort(key=lambda x: _rank_key(x[1]))
        worth = [x for x in pool if _worth_a_task(x[1], tri.min_churn_probability)]
        low = [x for x in pool if not _worth_a_task(x[1], tri.min_churn_probability)]
        plan[queue] = (worth[:cap], worth[cap:] + low)
    # the portfolio's limit: open tasks stay within max_open_share of the scored accounts
    limit = math.floor(tri.max_open_share * scored_accounts + 1e-9)
    elsewhere = sum(1 for t in every if t["status"] == "open" and t["queue"] not in plan and t["task_id"] not in gone
                    and t["task_id"] not in supersede)  # superseded now: no longer open
    if of_queues is not None and plan:  # the owners a real-time batch did not read (plan's are all among them)
        elsewhere += store.count_tasks("open", other_than_queues=of_queues)
    # (each owner keeps their top-ranked task: a small portfolio with many owners still reaches everyone)
    tops = [(q, *a[0]) for q, (a, _) in plan.items() if a]
    rest = sorted(((q, k, i) for q, (a, _) in plan.items() for k, i in a[1:]), key=lambda x: _rank_key(x[2]))
    for q, kind, item in rest[max(0, limit - elsewhere - len(tops)):]:
        a, b = plan[q]
        a.remove((kind, item))
        b.append((kind, item))
    for queue, (assigned, backlog) in plan.items():
        cap = tri.capacity_of(queue)
        backlog.sort(key=lambda x: _rank_key(x[1]))
        n_high = math.floor(tri.high_share * len(assigned) + 1e-9)
        high_left = n_high
        for rank, (kind, item) in enumerate(assigned, start=1):
            tri_v = item["next_action"]["triage"]
            eligible = bool(tri_v.get("routed")) or bool(tri_v.get("severe"))
            priority = "high" if eligible and high_left > 0 else "normal"
            high_left -= priority == "high"
            item["next_action"]["triage"] = {**tri_v, "rank": rank, "capacity": cap, "assigned": True}
            if kind == "new":
                due_days = 3 if priority == "high" else (item["due_at"] - as_of).days
                new_rows.append({**item, "priority": priority, "due_at": as_of + dt.timedelta(days=due_days)})
                stats["assigned_new"] += 1
            else:
                updates[item["task_id"]] = {"priority": priority, "next_action": item["next_action"],
                                            "status": "open"}
        for rank, (kind, item) in enumerate(backlog, start=len(assigned) + 1):
            item["next_action"]["triage"] = {**item["next_action"]["triage"], "rank": rank, "capacity": cap,
                                             "assigned": False}
            if kind == "new":
                new_rows.append({**item, "priority": "normal", "status": "backlog"})
                stats["backlog"] += 1
            elif item["status"] == "open":  # assigned until now: pushed out by higher-ranked tasks
                item["next_action"]["triage"]["returned_week"] = week
                updates[item["task_id"]] = {"priority": "normal", "next_action": item["next_action"],
                                            "status": "backlog",
                                            "note": f"returned to the backlog on {as_of}: {cap} higher-ranked tasks"}
                stats["returned"] += 1
            else:  # waiting in the backlog already: only its rank moves
                updates[item["task_id"]] = {"priority": "normal", "next_action": item["next_action"],
                                            "status": "backlog"}
        digests[queue] = {"queue": queue, "capacity": cap, "assigned": len(assigned),
                          "backlog": [{"account_id": i["account_id"], "rank": i["next_action"]["triage"]["rank"],
                                       "expected_arr_at_risk": i["next_action"]["triage"]["expected_arr_at_risk"],
                                       "why": ", ".join(x["name"].replace("_", " ") for x in i["triggers"]
                                                        if x["kind"] != "routing")} for _, i in backlog],
                          "good_news": []}
        by_owner[queue] = {"capacity": cap, "open": len(assigned), "new": sum(k == "new" for k, _ in assigned),
                           "backlog": len(backlog), "high": n_high - high_left}
    for aid, note in good_news.items():
        q = accounts[aid].owner or wf.routing.fallback_queue if aid in accounts else wf.routing.fallback_queue
        digests.setdefault(q, {"queue": q, "capacity": tri.capacity_of(q), "assigned": 0, "backlog": [],
                               "good_news": []})["good_news"].append({"account_id": aid, "note": note})
    created = store.create_tasks(new_rows + merge_rows, tx=tx)
    task_of = {t["task_id"]: t for t in every}
    updates = {tid: values for tid, values in updates.items()
               if _task_state({**task_of[tid], **values}) != _task_state(stored[tid])}
    store.triage_updates(updates, {tid: created[key][0] if key else None for tid, key in supersede.items()
                                   if not key or key in created}, closed=gone, tx=tx)
    return {"created": created, "digests": list(digests.values()), "superseded": len(supersede), "closed": len(gone),
            "by_owner": by_owner, **stats}


def _task_state(task: dict) -> tuple:
    """What the triage may change of a stored task, comparable."""
    import orjson  # a real-time batch compares thousands of tasks: json.dumps was 0.1 s of it

    return (task["priority"], task["status"], task.get("note"),
            orjson.dumps(task["next_action"], default=str,
                         option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))


def notify_digests(project: HasParts, digests: list[dict]) -> list:
    """One ranked backlog digest per owner, with the week's good news (rises): internal only."""
    config = getattr(project.ws.config, "notifications", None)
    if config is None or not getattr(config, "sinks", None):
        return []
    from healthscore.workflow.notify import Notification, deliver

    results = []
    for d in digests:
        if not d["backlog"] and not d["good_news"]:
            continue
        lines = [f"{d['assigned']} review tasks this week (capacity {d['capacity']})."]
        if d["backlog"]:
            lines.append(f"Backlog, ranked by expected ARR at risk ({len(d['backlog'])}):")
            lines += [f"{b['rank']}. {b['account_id']}: {b['why']} (ARR at risk {b['expected_arr_at_risk']:,.0f})"
                      for b in d["backlog"]]
        if d["good_news"]:
            lines.append(f"Good news ({len(d['good_news'])}):")
            lines += [f"- {g['account_id']}: {g['note']}" for g in d["good_news"]]
        n = Notification(kind="digest", title=f"Weekly backlog for {d['queue']}: {len(d['backlog'])} more, "
                         f"{len(d['good_news'])} good news", text="\n".join(lines), owner=d["queue"], fields={})
        res = deliver(config, n)
        project.store.record_deliveries(res, n.title, d["queue"], {"backlog": [b["account_id"] for b in d["backlog"]]})
        results.extend(res)
    return results
