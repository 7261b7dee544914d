"""Interventions and their effect.

Every action an owner takes on a review task is logged as an intervention (play, channel, attempt,
response): a measurement event of kind `intervention` with its audit entry. Repeated attempts without
a response (interventions.no_response_attempts, default 3) draft a suggestion: switch the channel or
ask the executive sponsor to reach out. A draft: nothing is sent.

`healthscore report plays`: per playbook, how health and renewal moved after the play against
comparable accounts without it (same as-of date, tier, segment and score trend), with bootstrap
intervals over accounts and the time to improvement; the recovery rate of yellow accounts; tier
transitions red -> yellow and yellow -> green per quarter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from healthscore.errors import InvalidInput
from healthscore.workflow.playbooks import DRAFT_NOTICE

if TYPE_CHECKING:
    from healthscore.services.parts import Parts

RESPONSES = ("none", "positive", "negative")
CHANNEL_SWITCH = {"email": "call", "call": "meeting", "meeting": "call", "internal": "call"}
IMPROVED_POINTS = 5.0


def segment_of(project: Parts) -> dict[str, Any]:
    """account_id -> segment, from the engine's accounts table."""
    t = project.con.table("accounts")
    cols = [c for c in ("account_id", "segment") if c in t.columns]
    frame = t.select(*cols).execute()
    return dict(zip(frame["account_id"], frame["segment"] if "segment" in frame else [None] * len(frame)))


def interventions(project: Parts, account_id: str | None = None) -> list[dict[str, Any]]:
    out = []
    for e in project.store.measurement_events("intervention"):
        if account_id is None or e["account_id"] == account_id:
            out.append({"event_id": e["event_id"], "at": e["at"], "account_id": e["account_id"],
                        "task_id": e["task_id"], "actor": e["actor"], **e["payload"]})
    return out


def log_intervention(project: Parts, task_id: int, actor: str, *, play: str | None, channel: str | None,
                     response: str, note: str | None) -> dict[str, Any]:
    task = project.store.task(task_id)
    if response not in RESPONSES:
        raise InvalidInput(f"--response {response!r} is not allowed; use none, positive or negative", field="response")
    wf = project.model.ir.workflow
    play = play or (task["next_action"] or {}).get("playbook")
    if play is None:
        raise InvalidInput(f"task {task_id} has no drafted playbook: name the play with --play"
                        f" (one of {', '.join(p.name for p in wf.playbooks) or 'the model has none'})")
    known = {p.name for p in wf.playbooks}
    if known and play not in known:
        raise InvalidInput(f"--play {play!r} is not a playbook of the model; use one of {', '.join(sorted(known))}",
                           field="play")
    channel = channel or (task["next_action"] or {}).get("channel") or "call"
    before = [e for e in interventions(project, task["account_id"]) if e["play"] == play and e["channel"] == channel]
    attempt = len(before) + 1
    payload = {"play": play, "channel": channel, "attempt": attempt, "response": response, "note": note,
               "as_of": task["as_of"], "tier": task["tier"], "score": task["score"]}
    event = project.store.record_event("intervention", actor, payload, account_id=task["account_id"],
                                       task_id=task_id)
    limit = project.model.ir.interventions.no_response_attempts if project.model.ir.interventions else 3
    silent = 0
    for e in [*before, {"response": response}][::-1]:
        if e["response"] != "none":
            break
        silent += 1
    suggestion = None
    if silent >= limit:
        other = CHANNEL_SWITCH.get(channel, "call")
        suggestion = {"draft": True, "notice": DRAFT_NOTICE, "after_attempts": silent,
                      "action": f"{silent} attempts by {channel} without a response: switch to {other}, or ask the"
                                " executive sponsor to reach out to their counterpart.",
                      "options": [{"kind": "channel_switch", "channel": other},
                                  {"kind": "executive_sponsor_outreach", "channel": "meeting"}]}
    return {"intervention": {"event_id": event["event_id"], "task_id": task_id, "account_id": task["account_id"],
                             "actor": actor, **payload}, "suggestion": suggestion}


def _boot(values: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    if len(values) == 0:
        return {"value": None, "low": None, "high": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = [float(values[rng.integers(0, len(values), len(values))].mean()) for _ in range(n_boot)]
    return {"value": round(float(values.mean()), 3), "low": round(float(np.quantile(means, 0.025)), 3),
            "high": round(float(np.quantile(means, 0.975)), 3), "n": int(len(values))}


def _trend(delta: float | None) -> str:
    if delta is None or np.isnan(delta):
        return "unknown"
    return "down" if delta <= -5 else "up" if delta >= 5 else "flat"


def plays_report(project: Parts, horizon_days: int = 60, n_boot: int = 200, seed: int = 0) -> dict[str, Any]:
    import pandas as pd

    from healthscore.workflow.measure import load_outcomes

    frame = project.store.snapshot_frame(model_version=project.model.version)
    frame = frame[frame["status"] == "scored"][["account_id", "as_of", "score", "tier"]].copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame = frame.sort_values(["account_id", "as_of"]).reset_index(drop=True)
    segment = segment_of(project)
    outcomes = load_outcomes(project)
    horizon = pd.Timedelta(days=horizon_days)
    cache: dict[pd.Timestamp, pd.DataFrame] = {}

    def states(when: pd.Timestamp) -> pd.DataFrame:
        """Per account at `when`: the snapshot at or up to 10 days before it, its 28-day trend (down, flat,
        up), segment, the last snapshot within the horizon after it, and whether it renewed in 180 days."""
        if when in cache:
            return cache[when]
        day = pd.Timedelta(days=1)
        cur = frame[(frame["as_of"] <= when) & (frame["as_of"] >= when - 10 * day)].groupby("account_id").last()
        prev = frame[(frame["as_of"] <= when - 28 * day) & (frame["as_of"] >= when - 42 * day)] \
            .groupby("account_id")["score"].last()
        later = frame[(frame["as_of"] > when) & (frame["as_of"] <= when + horizon)]
        # merge on a column, not the index: pandas 3 keeps the index name and then cannot tell
        # the `account_id` level from the column
        start = cur["score"].rename("start").rename_axis(None).reset_index().rename(columns={"index": "account_id"})
        up = later.merge(start, on="account_id")
        up = up[up["score"] >= up["start"] + IMPROVED_POINTS].groupby("account_id")["as_of"].first()
        later = later.groupby("account_id")["score"].last()
        out = cur.rename(columns={"as_of": "start_as_of"})
        out["trend"] = [_trend(float(s) - float(prev[a])) if a in prev.index else "unknown"
                        for a, s in zip(out.index, out["score"])]
        out["segment"] = [segment.get(a) if isinstance(segment.get(a), str) else None for a in out.index]
        out["after"] = later.reindex(out.index)
        out["delta"] = out["after"] - out["score"]
        out["improved_on"] = up.reindex(out.index)
        window = outcomes[(outcomes["ts"] >= when) & (outcomes["ts"] < when + pd.Timedelta(days=180))]
        churned = set(window.loc[window["kind"] == "churned", "account_id"])
        renewed = set(window.loc[window["kind"].isin(["renewed", "expanded"]), "account_id"]) - churned
        out["renewed"] = [0.0 if a in churned else 1.0 if a in renewed else np.nan for a in out.index]
        cache[when] = out
        return out

    events = interventions(project)
    first: dict[tuple[str, str], pd.Timestamp] = {}
    for e in events:
        key = (e["play"], e["account_id"])
        t0 = pd.Timestamp(e["as_of"])
        first[key] = min(first.get(key, t0), t0)
    treated_any = {a for _, a in first}
    plays = []
    for play in sorted({p for p, _ in first}):
        deltas, effects, t_improve, ren_t, ren_c, unmatched = [], [], [], [], [], 0
        for (p, acc), t0 in first.items():
            if p != play:
                continue
            st = states(t0)
            if acc not in st.index or np.isnan(st.at[acc, "delta"]):
                unmatched += 1
                continue
            me = st.loc[acc]
            if not pd.isna(me["improved_on"]):
                t_improve.append((me["improved_on"] - me["start_as_of"]).days)
            ctl = st[(~st.index.isin(list(treated_any))) & (st["tier"] == me["tier"]) & (st["trend"] == me["trend"])
                     & (st["segment"].fillna("") == (me["segment"] or "")) & st["delta"].notna()]
            if ctl.empty:
                unmatched += 1
                continue
            deltas.append(float(me["delta"]))
            effects.append(float(me["delta"]) - float(ctl["delta"].mean()))
            ren_t.append(float(me["renewed"]))
            ren_c.extend(ctl["renewed"].tolist())
        rt, rc = np.array(ren_t, float), np.array(ren_c, float)
        plays.append({
            "play": play, "accounts": sum(1 for p, _ in first if p == play), "matched": len(effects),
            "unmatched": unmatched,
            "health_change": _boot(np.array(deltas), n_boot, seed),
            "effect_vs_matched": _boot(np.array(effects), n_boot, seed),
            "renewal_rate": {"treated": _boot(rt[~np.isnan(rt)], n_boot, seed),
                             "matched_controls": _boot(rc[~np.isnan(rc)], n_boot, seed)},
            "days_to_improvement": {"median": float(np.median(t_improve)) if t_improve else None,
                                    "improved": len(t_improve),
                                    "definition": f"first snapshot {IMPROVED_POINTS:g}+ points above the start"},
        })
    return {"horizon_days": horizon_days, "interventions": len(events), "plays": plays,
            "matching": "same as-of date, tier, segment and 28-day score trend (down/flat/up), no intervention",
            "bootstrap": {"resamples": n_boot, "seed": seed, "unit": "account"},
            "yellow_recovery": _yellow_recovery(frame, 90), "transitions": _transitions(frame)}


def _yellow_recovery(frame, days: int) -> dict[str, Any]:
    """Of the accounts yellow at some snapshot, the share that were green within `days` after it."""
    import pandas as pd

    yellow = frame[frame["tier"] == "yellow"].groupby("account_id")["as_of"].min()
    recovered = 0
    for acc, t0 in yellow.items():
        after = (frame["as_of"] > t0) & (frame["as_of"] <= t0 + pd.Timedelta(days=days))
        g = frame[(frame["account_id"] == acc) & after]
        recovered += bool((g["tier"] == "green").any())
    n = len(yellow)
    return {"window_days": days, "yellow_accounts": n, "recovered": recovered,
            "rate": round(recovered / n, 4) if n else None}


def _transitions(frame) -> list[dict[str, Any]]:
    f = frame.copy()
    f["prev"] = f.groupby("account_id")["tier"].shift(1)
    f["quarter"] = f["as_of"].dt.to_period("Q").astype(str)
    out = []
    for q, g in f.groupby("quarter"):
        out.append({"quarter": q, "red_to_yellow": int(((g["prev"] == "red") & (g["tier"] == "yellow")).sum()),
                    "yellow_to_green": int(((g["prev"] == "yellow") & (g["tier"] == "green")).sum()),
                    "yellow_to_red": int(((g["prev"] == "yellow") & (g["tier"] == "red")).sum()),
                    "green_to_yellow": int(((g["prev"] == "green") & (g["tier"] == "yellow")).sum())})
    return out
