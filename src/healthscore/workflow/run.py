"""The weekly review run: score, raise alerts through the hygiene rules, create owner review tasks with
the evidence, trend note and drafted next action, and notify the internal team.

Idempotent within a week: alerts keep state per (account, rule) and tasks are keyed per account and
ISO week, so running twice adds nothing new.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from healthscore.workflow.alerts import Account, apply_hygiene, evaluate
from healthscore.workflow.playbooks import draft_next_action

if TYPE_CHECKING:
    from healthscore.project import Project


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


def load_accounts(project: "Project", account_ids: list[str] | None = None) -> dict[str, Account]:
    import pandas as pd

    t = project.con.table("accounts")
    if account_ids is not None:
        t = t.filter(t.account_id.isin(account_ids))
    cols = [c for c in ("account_id", "name", "owner", "arr", "segment", "renewal_date") if c in t.columns]
    frame = t.select(*cols).execute()
    out = {}
    for r in frame.to_dict("records"):
        clean = {k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v) for k, v in r.items()}
        rd = clean.get("renewal_date")
        out[r["account_id"]] = Account(
            account_id=r["account_id"], name=clean.get("name"), owner=clean.get("owner"),
            arr=float(clean["arr"]) if clean.get("arr") is not None else None, segment=clean.get("segment"),
            renewal_date=pd.Timestamp(rd).date() if rd is not None else None)
    return out


def _past_scores(project: "Project", as_of: dt.date, days_list: set[int],
                 account_ids: list[str] | None = None) -> dict[str, dict[int, float]]:
    """Score of each account `days` before as_of: the stored snapshot of that date (or up to 3 days
    before it), else scored now without storing."""
    out: dict[str, dict[int, float]] = {}
    version = project.model.version
    for days in sorted(days_list):
        target = as_of - dt.timedelta(days=days)
        frame = project.store.snapshot_frame(date_from=target - dt.timedelta(days=3), date_to=target,
                                             model_version=version, account_ids=account_ids)
        frame = frame[frame["status"] == "scored"]
        if frame.empty:
            snaps = project.score(as_of_dates=[target], account_ids=account_ids, store=False).frames.snapshots
            frame = snaps[snaps["status"] == "scored"]
        latest = frame.sort_values("as_of").groupby("account_id").tail(1)
        score_col = "smoothed_score" if "smoothed_score" in latest and latest["smoothed_score"].notna().any() \
            else "score"
        for aid, score in zip(latest["account_id"], latest[score_col]):
            if score is not None and not (isinstance(score, float) and math.isnan(score)):
                out.setdefault(aid, {})[days] = float(score)
    return out


def run_weekly(project: "Project", as_of: dt.date, *, notify: bool = True) -> dict[str, Any]:
    """Score (snapshots commit, idempotent), then alerts, tasks and their links in one transaction
    (review_snapshots): a crash at any point leaves either nothing of the review or all of it, so
    the re-run reaches the state of an unbroken run (tests/security/test_crash.py)."""
    from healthscore.faults import fault_point

    run = project.score(as_of)
    fault_point("run_weekly:scores")
    material = {aid for aid, m in zip(run.frames.snapshots["account_id"], run.frames.snapshots["material_change"])
                if m}
    # overrides in force applied: alerts follow what the owner sees
    result = review_snapshots(project, as_of, run.snapshots, material, notify=notify)
    return {"as_of": as_of.isoformat(), "week": week_key(as_of), "model_version": project.model.version,
            "accounts": len(run.snapshots), "snapshots_written": run.inserted, **result}


def review_snapshots(project: "Project", as_of: dt.date, snaps: list[dict], material: set[str], *,
                     notify: bool = True, portfolio_size: int | None = None,
                     past: dict[str, dict[int, float]] | None = None,
                     accounts: dict[str, Account] | None = None) -> dict[str, Any]:
    """Alerts through the hygiene rules, review tasks and notifications for freshly scored snapshots
    (the weekly run's whole portfolio, or a real-time batch of a few accounts)."""
    if not snaps:
        return {"material_changes": 0, "alerts": {"fired": 0, "by_status": {}, "by_rule": {}},
                "tasks": {"created": 0, "already_open_this_week": 0}, "deliveries": {"ok": 0, "failed": 0},
                "pipeline": {"paused_accounts": 0, "owner_alerts_suppressed": 0, "admin_alerts": []}}
    model = project.model.ir
    wf = model.workflow
    store = project.store
    material = material if wf.material_change_tasks else set()
    by_id = {s["account_id"]: s for s in snaps}
    if accounts is None:
        accounts = load_accounts(project, None if portfolio_size is None else list(by_id))
    queue_of = {aid: (accounts[aid].owner if aid in accounts and accounts[aid].owner else wf.routing.fallback_queue)
                for aid in by_id}

    drops = {r.score_drop.days for r in wf.alerts if r.score_drop}
    if past is None:
        past = _past_scores(project, as_of, drops, None if portfolio_size is None else list(by_id)) if drops else {}
    from healthscore.program.drift import PORTFOLIO_ACCOUNT, pipeline_admin_alerts

    # a real-time batch reads only its own accounts' states (and the portfolio's, for pipeline alerts)
    stored_states = store.alert_states(None if portfolio_size is None else [*by_id, PORTFOLIO_ACCOUNT])
    fired, states = evaluate(model, as_of, snaps, accounts, past, stored_states)
    # A pipeline break pauses the snapshots it touched: one alert to the admin queue, none to owners.

    broken, admin_rows, admin_states = pipeline_admin_alerts(model, project.model.version, as_of, snaps,
                                                             stored_states)
    suppressed = sum(1 for c in fired if c.account_id in broken)
    fired = [c for c in fired if c.account_id not in broken]
    states = {k: v for k, v in states.items() if k[0] not in broken}
    states.update(admin_states)
    today = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
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
    # Alerts, tasks and links commit together: a crash between them once lost the tasks for good
    # (the re-run found the alerts stored and the cooldown suppressed them) and left alerts unlinked.
    from healthscore.faults import fault_point

    with store.transaction() as tx:
        alert_ids = store.save_alerts(states, alert_rows, tx=tx)
        fault_point("run_weekly:alerts")
        created = _review_tasks(project, as_of, model, snaps, by_id, accounts, queue_of, material, broken,
                                alert_rows, alert_ids, tx)
    fault_point("run_weekly:links")
    deliveries = notify_alerts(project, alert_rows, alert_ids, accounts) if notify else []

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
        "tasks": {"created": sum(1 for _, new in created.values() if new),
                  "already_open_this_week": sum(1 for _, new in created.values() if not new)},
        "deliveries": {"ok": sum(1 for d in deliveries if d.ok), "failed": sum(1 for d in deliveries if not d.ok)},
        "pipeline": {"paused_accounts": len(broken), "owner_alerts_suppressed": suppressed,
                     "admin_alerts": [{"rule": r["rule"], "queue": r["queue"], "note": r["note"]} for r in admin_rows]},
    }


def _review_tasks(project, as_of, model, snaps, by_id, accounts, queue_of, material, broken, alert_rows, alert_ids,
                  tx) -> dict:
    """Review tasks for the run's triggers and the links of their alerts, in the transaction ``tx``."""
    from healthscore.faults import fault_point
    from healthscore.program.drift import PORTFOLIO_ACCOUNT

    store = project.store
    wf = model.workflow

    # Review tasks: material changes, alerts that were not capped, rules asking for review; routed
    # accounts (renewal near, high value) get high priority and are never left to a queue alone.
    routing = wf.routing
    from healthscore.model.ir import window_days

    triggers: dict[str, list[dict]] = {}
    for aid in material:
        s = by_id.get(aid)
        if s is not None:
            triggers.setdefault(aid, []).append({"kind": "material_change", "name": "material_change",
                                                 "note": s.get("trend_note") or "material change"})
    alerts_of: dict[str, list[str]] = {}
    alert_ids_of: dict[str, list[int]] = {}
    for row, alert_id in zip(alert_rows, alert_ids):
        if row["status"] == "capped" or alert_id is None or row["account_id"] == PORTFOLIO_ACCOUNT:
            continue
        triggers.setdefault(row["account_id"], []).append({"kind": "alert", "name": row["rule"], "note": row["note"]})
        alerts_of.setdefault(row["account_id"], []).append(row["rule"])
        alert_ids_of.setdefault(row["account_id"], []).append(alert_id)
    for s in snaps:
        if s.get("review_required") and s["account_id"] not in broken:
            flags = ", ".join(s.get("flags") or []) or "rule"
            triggers.setdefault(s["account_id"], []).append({"kind": "review_rule", "name": flags,
                                                             "note": "; ".join(s.get("reasons", [])[:2])})
    tasks = []
    renew_days = window_days(routing.renewal_within)
    for aid, trig in triggers.items():
        s, acc = by_id[aid], accounts.get(aid, Account(aid))
        routed = []
        if acc.renewal_date is not None and 0 <= (acc.renewal_date - as_of).days <= renew_days:
            routed.append(f"renewal in {(acc.renewal_date - as_of).days} days")
        if routing.high_value_arr is not None and (acc.arr or 0.0) >= routing.high_value_arr:
            routed.append(f"high value (ARR {acc.arr:,.0f})")
        due_days = wf.task_due_days.get(s.get("tier") or "default", wf.task_due_days.get("default", 10))
        if routed:
            due_days = min(due_days, 3)
        tasks.append({
            "dedupe_key": f"{aid}:{week_key(as_of)}", "account_id": aid, "as_of": as_of,
            "model_version": project.model.version,
            "triggers": trig + [{"kind": "routing", "name": r, "note": "always reviewed by a person"} for r in routed],
            "priority": "high" if routed or any(t["kind"] == "alert" and by_rule_severity(model, t["name"]) == "high"
                                                for t in trig) else "normal",
            "owner": acc.owner, "queue": queue_of[aid], "due_at": as_of + dt.timedelta(days=due_days),
            "score": s.get("score"), "tier": s.get("tier"), "snapshot_status": s["status"],
            "explainable": explainable(s), "trend_note": s.get("trend_note"),
            "evidence": s.get("evidence", []),
            "next_action": draft_next_action(model, s, alerts_of.get(aid, []), acc.owner),
        })
    created = store.create_tasks(tasks, tx=tx)
    fault_point("run_weekly:tasks")
    store.link_alerts_to_tasks({alert_id: created[f"{aid}:{week_key(as_of)}"][0]
                                for aid, ids in alert_ids_of.items() for alert_id in ids}, tx=tx)
    return created


def by_rule_severity(model, name: str) -> str | None:
    return next((r.severity for r in model.workflow.alerts if r.name == name), None)


def notify_alerts(project: "Project", alert_rows: list[dict], alert_ids: list, accounts: dict) -> list:
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
