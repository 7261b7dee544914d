"""The measurement report: is the score reviewed, trusted and right?

- share of material changes reviewed, and how fast (hours to decision);
- health_score_signal_validation_rate: reviewed material changes that had explainable components
  (evidence adding up to the score) and an owner accept or correct, against the pilot threshold;
- false positives (red or yellow that renewed within the horizon) and missed risks (green that
  churned within it), from stored snapshots and the outcomes table;
- owner follow-through: accepted or corrected tasks whose follow-up was logged;
- the later outcome of every reviewed task, once its horizon is over.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthscore.project import Project

PILOT_THRESHOLD = 0.80


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))], 2)


def load_outcomes(project: "Project"):
    import pandas as pd

    if "outcomes" not in project.con.list_tables():
        return pd.DataFrame(columns=["account_id", "ts", "kind"])
    t = project.con.table("outcomes")
    frame = t.select("account_id", "ts", "kind").execute()
    frame["ts"] = pd.to_datetime(frame["ts"])
    return frame


def measurement_report(project: "Project", horizon_days: int = 90, threshold: float = PILOT_THRESHOLD) -> dict[str, Any]:
    import pandas as pd

    store = project.store
    tasks = store.tasks(status="all")
    material = [t for t in tasks if any(x["kind"] == "material_change" for x in t["triggers"])]
    reviewed = [t for t in material if t["status"] != "open"]
    validated = [t for t in reviewed if t["explainable"] and t["status"] in ("accepted", "corrected")]
    decided = [t for t in tasks if t["status"] != "open"]
    hours = [(dt.datetime.fromisoformat(t["decided_at"]) - dt.datetime.fromisoformat(t["created_at"])).total_seconds()
             / 3600 for t in decided]
    acted = [t for t in decided if t["status"] in ("accepted", "corrected")]
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    overdue = [t for t in tasks if t["status"] == "open" and dt.datetime.fromisoformat(t["due_at"]) < now]
    rate = _share(len(validated), len(reviewed))

    outcomes = load_outcomes(project)
    horizon = pd.Timedelta(days=horizon_days)
    data_end = outcomes["ts"].max() if len(outcomes) else None
    task_outcomes = {"churned": 0, "renewed": 0, "contracted": 0, "expanded": 0, "none_yet": 0, "horizon_open": 0}
    by_account = {aid: g.sort_values("ts") for aid, g in outcomes.groupby("account_id")} if len(outcomes) else {}
    for t in decided:
        start = pd.Timestamp(t["as_of"])
        if data_end is None or start + horizon > data_end:
            task_outcomes["horizon_open"] += 1
            continue
        g = by_account.get(t["account_id"])
        hit = g[(g["ts"] >= start) & (g["ts"] < start + horizon)] if g is not None else None
        kind = hit["kind"].iloc[0] if hit is not None and len(hit) else "none_yet"
        task_outcomes[kind] = task_outcomes.get(kind, 0) + 1

    return {
        "tasks": {"total": len(tasks), "open": len(tasks) - len(decided), "overdue": len(overdue),
                  "accepted": sum(t["status"] == "accepted" for t in tasks),
                  "corrected": sum(t["status"] == "corrected" for t in tasks),
                  "dismissed": sum(t["status"] == "dismissed" for t in tasks)},
        "material_changes": {"total": len(material), "reviewed": len(reviewed),
                             "share_reviewed": _share(len(reviewed), len(material))},
        "health_score_signal_validation_rate": rate,
        "validation": {"validated": len(validated), "reviewed_material_changes": len(reviewed),
                       "threshold": threshold, "meets_threshold": None if rate is None else rate >= threshold},
        "time_to_decision_hours": {"median": _quantile(hours, 0.5), "p90": _quantile(hours, 0.9)},
        "dismissed_as_false_positive": sum(t["status"] == "dismissed" for t in tasks),
        "owner_follow_through": {"acted": len(acted), "followed_up": sum(bool(t["follow_up_at"]) for t in acted),
                                 "share": _share(sum(bool(t["follow_up_at"]) for t in acted), len(acted))},
        "outcomes": {"horizon_days": horizon_days, **tier_outcomes(project, outcomes, horizon_days)},
        "reviewed_task_outcomes": task_outcomes,
    }


def tier_outcomes(project: "Project", outcomes, horizon_days: int) -> dict[str, Any]:
    """At the latest stored as-of date whose horizon is over: false positives (red or yellow that
    renewed within the horizon without churning) and missed risks (green that churned in it)."""
    import pandas as pd

    if outcomes.empty:
        return {"evaluated_as_of": None, "note": "no outcomes table or no outcomes yet"}
    horizon = pd.Timedelta(days=horizon_days)
    data_end = outcomes["ts"].max()
    frame = project.store.snapshot_frame(date_to=(data_end - horizon).date(), model_version=project.model.version)
    frame = frame[frame["status"] == "scored"]
    if frame.empty:
        return {"evaluated_as_of": None,
                "note": f"no stored snapshot is {horizon_days} days older than the newest outcome "
                        f"({data_end.date()}); run 'healthscore backfill' over earlier dates"}
    as_of = frame["as_of"].max()
    snaps = frame[frame["as_of"] == as_of][["account_id", "tier"]]
    window = outcomes[(outcomes["ts"] >= as_of) & (outcomes["ts"] < as_of + horizon)]
    churned = set(window.loc[window["kind"] == "churned", "account_id"])
    renewed = set(window.loc[window["kind"].isin(["renewed", "expanded"]), "account_id"]) - churned
    at_risk = snaps[snaps["tier"].isin(["red", "yellow"])]
    green = snaps[snaps["tier"] == "green"]
    fp = int(at_risk["account_id"].isin(renewed).sum())
    missed = int(green["account_id"].isin(churned).sum())
    return {
        "evaluated_as_of": as_of.date().isoformat(), "accounts": len(snaps),
        "churned": len(churned & set(snaps["account_id"])), "renewed": len(renewed & set(snaps["account_id"])),
        "false_positives": fp, "false_positive_rate": _share(fp, len(at_risk)),
        "missed_risks": missed, "missed_risk_rate": _share(missed, len(green)),
        "churn_rate_by_tier": {tier: _share(int(g["account_id"].isin(churned).sum()), len(g))
                               for tier, g in snaps.groupby("tier")},
    }
