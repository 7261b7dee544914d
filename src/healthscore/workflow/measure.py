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
    from healthscore.services.parts import Parts

PILOT_THRESHOLD = 0.80


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))], 2)


def load_outcomes(project: Parts):
    import pandas as pd

    if "outcomes" not in project.con.list_tables():
        return pd.DataFrame(columns=["account_id", "ts", "kind"])
    t = project.con.table("outcomes")
    frame = t.select("account_id", "ts", "kind").execute()
    frame["ts"] = pd.to_datetime(frame["ts"])
    return frame


MIN_VALIDATION_SAMPLE = 20


def measurement_report(project: Parts, horizon_days: int = 90, threshold: float = PILOT_THRESHOLD) -> dict[str, Any]:
    import pandas as pd

    pilot = project.model.ir.pilot
    min_sample = pilot.sample if pilot is not None else MIN_VALIDATION_SAMPLE

    store = project.store
    all_rows = store.tasks(status="all")
    # backlog rows and superseded ones are not decisions: only tasks an owner was given count here
    tasks = [t for t in all_rows if t["status"] not in ("backlog", "superseded", "closed")]
    material = [t for t in tasks if any(x["kind"] == "material_change" for x in t["triggers"])]
    reviewed = [t for t in material if t["status"] != "open"]
    validated = [t for t in reviewed if t["explainable"] and t["status"] in ("accepted", "corrected")]
    decided = [t for t in tasks if t["status"] != "open"]
    hours = [(dt.datetime.fromisoformat(t["decided_at"]) - dt.datetime.fromisoformat(t["created_at"])).total_seconds()
             / 3600 for t in decided]
    acted = [t for t in decided if t["status"] in ("accepted", "corrected")]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
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
                       "threshold": threshold, "min_sample": min_sample,
                       "interval_95": wilson(len(validated), len(reviewed)),
                       # no claim on a handful of reviews: the sample must reach min_sample first
                       "meets_threshold": None if rate is None or len(reviewed) < min_sample else rate >= threshold,
                       "note": None if len(reviewed) >= min_sample else
                       f"{len(reviewed)} reviewed material changes; the claim needs at least {min_sample}"},
        "time_to_decision_hours": {"median": _quantile(hours, 0.5), "p90": _quantile(hours, 0.9)},
        "dismissed_as_false_positive": sum(t["status"] == "dismissed" for t in tasks),
        "owner_follow_through": {"acted": len(acted), "followed_up": sum(bool(t["follow_up_at"]) for t in acted),
                                 "share": _share(sum(bool(t["follow_up_at"]) for t in acted), len(acted))},
        "outcomes": {"horizon_days": horizon_days, **tier_outcomes(project, outcomes, horizon_days)},
        "reviewed_task_outcomes": task_outcomes,
        "tasks_superseded": sum(t["status"] == "superseded" for t in all_rows),
        "backlog": sum(t["status"] == "backlog" for t in all_rows),
        "tasking": tasking(project, all_rows, outcomes, horizon_days),
    }


def wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    """95% Wilson score interval of k successes in n trials."""
    if not n:
        return None
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def assigned(task: dict) -> bool:
    """A task an owner was given (not only listed in a backlog digest)."""
    tri = (task.get("next_action") or {}).get("triage")
    if tri is not None:
        return bool(tri.get("assigned"))
    return task["status"] != "backlog"


def tasking(project: Parts, tasks: list[dict], outcomes, horizon_days: int = 90, n_boot: int = 500,
            seed: int = 0) -> dict[str, Any]:
    """Did the triage task the right accounts?

    - recall: of the ARR that churned or contracted after the first task, within `horizon_days` of a
      task's as-of date, the share whose account had a task (given to an owner) before the event;
    - precision: of the accounts given a task, the share that churned or contracted within the horizon
      after their first task, or whose task the owner corrected; against the base rate of all scored
      accounts over the same period (lift), with 95% intervals.
    """
    import numpy as np
    import pandas as pd

    given = [t for t in tasks if assigned(t)]
    if not given or outcomes.empty:
        return {"note": "no tasks or no outcomes yet", "recall": None, "precision": None}
    horizon = pd.Timedelta(days=horizon_days)
    start = min(pd.Timestamp(t["as_of"]) for t in given)
    end = outcomes["ts"].max()
    loss = outcomes[outcomes["kind"].isin(["churned", "contracted"]) & (outcomes["ts"] > start)].copy()
    arr_col = "arr_change" if "arr_change" in outcomes else None
    if arr_col is None and "outcomes" in project.con.list_tables() and \
            "arr_change" in project.con.table("outcomes").columns:
        o = project.con.table("outcomes").select("account_id", "ts", "kind", "arr_change").execute()
        o["ts"] = pd.to_datetime(o["ts"])
        loss = o[o["kind"].isin(["churned", "contracted"]) & (o["ts"] > start)].copy()
        arr_col = "arr_change"
    task_dates: dict[str, list] = {}
    for t in given:
        task_dates.setdefault(t["account_id"], []).append(pd.Timestamp(t["as_of"]))
    hit = np.array([any(d < ts and ts - d <= horizon for d in task_dates.get(a, []))
                    for a, ts in zip(loss["account_id"], loss["ts"])], dtype=bool)
    arr = np.abs(pd.to_numeric(loss[arr_col], errors="coerce").fillna(0.0).to_numpy()) if arr_col else \
        np.ones(len(loss))
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot if len(loss) else 0):
        idx = rng.integers(0, len(loss), len(loss))
        tot = arr[idx].sum()
        if tot > 0:
            boots.append(arr[idx][hit[idx]].sum() / tot)
    recall = {"events": int(len(loss)), "events_tasked_first": int(hit.sum()),
              "arr_lost": round(float(arr.sum()), 2), "arr_tasked_first": round(float(arr[hit].sum()), 2),
              "arr_share": round(float(arr[hit].sum() / arr.sum()), 4) if arr.sum() > 0 else None,
              "interval_95": [round(float(np.quantile(boots, 0.025)), 4), round(float(np.quantile(boots, 0.975)), 4)]
              if boots else None,
              "event_share": _share(int(hit.sum()), len(loss)),
              "definition": f"churn or contraction after {start.date()} whose account had a task given to its "
                            f"owner in the {horizon_days} days before"}
    # precision: tasked accounts that then churned / contracted within the horizon, or were corrected
    first = {a: min(ds) for a, ds in task_dates.items()}
    corrected = {t["account_id"] for t in given if t["status"] == "corrected"}
    by_acc = loss.groupby("account_id")["ts"].apply(list).to_dict()
    good = sum(1 for a, d in first.items()
               if a in corrected or any(d < ts <= d + horizon for ts in by_acc.get(a, [])))
    snaps = project.store.snapshot_frame(date_from=start.date(), date_to=end.date(),
                                         model_version=project.model.version)
    live = snaps[snaps["status"].isin(["scored", "paused"])]
    scored = set(live["account_id"])
    base_hits = len(set(loss["account_id"]) & scored)
    prec = _share(good, len(first))
    base = _share(base_hits, len(scored))
    # The same exposure for the base rate: a task first given on date d is watched from d to d + horizon
    # (or the end of the data); the base rate of that window is the share of all accounts scored at d
    # with an event in it. Averaged over the tasked accounts, it is what tasking at random would find.
    events_of = loss.groupby("account_id")["ts"].apply(list).to_dict()
    on_date: dict = {}
    for d, g in live.groupby("as_of"):
        on_date[pd.Timestamp(d)] = set(g["account_id"])
    window_rate: dict = {}
    expected = []
    for d in first.values():
        if d not in window_rate:
            pool = on_date.get(d) or scored
            if not pool:
                continue
            stop = min(d + horizon, end)
            window_rate[d] = sum(1 for x in pool if any(d < ts <= stop for ts in events_of.get(x, []))) / len(pool)
        if d in window_rate:
            expected.append(window_rate[d])
    matched = round(float(np.mean(expected)), 4) if expected else None
    precision = {"tasked_accounts": len(first), "churned_contracted_or_corrected": good, "rate": prec,
                 "interval_95": wilson(good, len(first)), "base_rate": base,
                 "base_interval_95": wilson(base_hits, len(scored)), "base_accounts": len(scored),
                 "base_rate_same_windows": matched,
                 "lift": round(prec / matched, 2) if prec is not None and matched else None,
                 "lift_vs_whole_period": round(prec / base, 2) if prec is not None and base else None,
                 "definition": "lift: the tasked accounts' rate over the base rate of all scored accounts in the "
                               "same windows (from each account's first task to the horizon or the end of the data)"}
    return {"horizon_days": horizon_days, "from": start.date().isoformat(), "data_end": end.date().isoformat(),
            "recall": recall, "precision": precision}


def tier_outcomes(project: Parts, outcomes, horizon_days: int) -> dict[str, Any]:
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
