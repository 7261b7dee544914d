"""Alert rules over a batch of snapshots, and the hygiene that keeps alerts few and meaningful.

Pure functions. An alert rule's condition is evaluated per account; an alert *fires* only on the
edge (the condition was not active before), at most once per cooldown, and a score or tier rule
re-arms only after the account recovered `hysteresis_points` past the threshold, so an account
hovering at a boundary does not flap. A rule never fires on more than `max_share_per_rule` of the
accounts in one run (the rest are recorded as `capped`), and each owner gets at most
`owner_daily_budget` alerts one by one per day; the overflow goes into one digest.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from healthscore.model.ir import AlertRule, HealthModel, Tiers, window_days
from healthscore.model.settings import TIER_RANK

SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass
class Account:
    """What the workflow needs to know of an account beyond its snapshot."""

    account_id: str
    name: str | None = None
    owner: str | None = None
    arr: float | None = None
    segment: str | None = None
    renewal_date: dt.date | None = None


@dataclass
class Candidate:
    account_id: str
    rule: AlertRule
    note: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


def tiers_for(model: HealthModel, segment: str | None) -> Tiers:
    seg = next((s for s in model.segments if s.name == segment), None)
    return seg.tiers if seg and seg.tiers else model.tiers


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _top_evidence(snap: dict, n: int = 3) -> list[dict]:
    """The evidence entries costing the most points: what a reviewer looks at first."""
    ev = [e for e in snap.get("evidence", []) if e.get("score") is not None]
    ev.sort(key=lambda e: -((e.get("weight") or 0.0) * (100.0 - e["score"])))
    return [{k: e.get(k) for k in ("metric", "value", "score", "points", "window", "source", "latest_at")}
            for e in ev[:n]]


def _holds(cond, value) -> bool:
    """One value against a Condition, as scoring's _condition_holds judges an array of them (a scalar
    version: building a one-element array per rule and account was a fifth of a live batch's time)."""
    present = value is not None and not (isinstance(value, float) and math.isnan(value))
    for op, target in cond.ops():
        if op == "is_null":
            if present == bool(target):
                return False
            continue
        if not present:
            return False
        if op in ("in", "not_in"):
            ok = (value in target) == (op == "in")
        elif isinstance(value, str):
            ok = {"eq": value == target, "ne": value != target}.get(op, False)
        else:
            v, x = float(value), float(target)
            ok = {"eq": v == x, "ne": v != x, "lt": v < x, "lte": v <= x, "gt": v > x, "gte": v >= x}[op]
        if not ok:
            return False
    return True


def evaluate(model: HealthModel, as_of: dt.date, snaps: list[dict], accounts: dict[str, Account],
             past_scores: dict[str, dict[int, float]], states: dict[tuple[str, str], dict],
             previous_tiers: dict[str, str | None] | None = None) -> tuple[
                 list[Candidate], dict[tuple[str, str], dict]]:
    """Which alerts fire at `as_of`, and the new state of every (account, rule) that changed.

    `snaps` are effective snapshots (overrides applied); `past_scores[account][days]` is the score
    `days` before as_of (for score_drop rules); `states` the stored state per (account, rule);
    `previous_tiers` the published tier of each account's snapshot before this one, where known: a tier
    rule met for the first time by an account that was already in that tier (or below) then is a standing
    condition, not a drop, and fires nothing (the 2,000-account demo's first weekly run sent "score dropped
    to yellow" 634 times, mostly for accounts that had been yellow the week before).
    """
    hyg = model.workflow.hygiene
    as_of_dt = dt.datetime(as_of.year, as_of.month, as_of.day)
    fired: list[Candidate] = []
    new_states: dict[tuple[str, str], dict] = {}
    for snap in snaps:
        aid = snap["account_id"]
        acc = accounts.get(aid, Account(aid))
        by_metric = {e["metric"]: e for e in snap.get("evidence", [])}
        tiers = tiers_for(model, snap.get("segment"))
        # tier rules follow the published tier (from the smoothed score); drop rules read the raw score
        raw = _num(snap.get("score")) if snap["status"] in ("scored", "overridden") else None
        score = _num(snap.get("smoothed_score")) if snap["status"] == "scored" else None
        score = score if score is not None else raw
        tier = snap.get("tier") if snap["status"] in ("scored", "overridden") else None
        tier_hits: list[Candidate] = []
        for rule in model.workflow.alerts:
            key = (aid, rule.name)
            state = states.get(key, {"active": False, "since": None, "last_fired_as_of": None})
            active, detail, evidence = _condition(rule, snap, acc, by_metric, tiers,
                                                  raw if rule.kind == "score_drop" else score, tier, as_of,
                                                  past_scores.get(aid, {}), state["active"], hyg.hysteresis_points)
            if active is None:  # cannot tell (e.g. no trusted score): keep the state as it is
                continue
            if active == state["active"]:
                continue
            if active and rule.tier_to and key not in states and previous_tiers is not None:
                before = previous_tiers.get(aid)
                if before in TIER_RANK and TIER_RANK[before] <= TIER_RANK[rule.tier_to]:  # no drop: it stood there
                    new_states[key] = {"active": True, "since": as_of_dt, "last_fired_as_of": None}
                    continue
            new = {"active": active, "since": as_of_dt if active else None,
                   "last_fired_as_of": state["last_fired_as_of"]}
            if active:
                last = state["last_fired_as_of"]
                if last is None or (as_of_dt - last).days >= hyg.cooldown_days:
                    new["last_fired_as_of"] = as_of_dt
                    cand = Candidate(aid, rule, detail, evidence or _top_evidence(snap))
                    (tier_hits if rule.tier_to else fired).append(cand)
            new_states[key] = new
        # green -> red in one step: one alert (to red), not two.
        if tier_hits:
            fired.append(min(tier_hits, key=lambda c: TIER_RANK[c.rule.tier_to or ""]))
    return fired, new_states


def _condition(rule: AlertRule, snap: dict, acc: Account, by_metric: dict, tiers: Tiers, score: float | None,
               tier: str | None, as_of: dt.date, past: dict[int, float], was_active: bool,
               hysteresis: float) -> tuple[bool | None, str, list]:
    """(active, detail, evidence) of one rule for one account; active None means unknown."""
    kind = rule.kind
    if kind == "tier_to":
        if tier is None or score is None:
            return None, "", []
        target = rule.tier_to
        assert target is not None  # a tier_to rule names its tier
        bound = tiers.green if target == "yellow" else tiers.yellow  # the boundary crossed on the way down
        if was_active:  # re-arm only clearly above the boundary
            return score < bound + hysteresis, "", []
        return TIER_RANK[tier] <= TIER_RANK[target], f"{rule.note}: score {score:.1f} ({tier})", []
    if kind == "score_drop":
        sd = rule.score_drop
        assert sd is not None  # a score_drop rule has its settings
        before = past.get(sd.days)
        if score is None or before is None:
            return None, "", []
        drop = before - score
        limit = sd.points - (hysteresis if was_active else 0.0)
        if was_active:  # re-arms on today's raw score alone
            return drop >= limit, "", []
        # persistence: the days before today must be as far down (one bad day of data does not fire)
        recent = [past.get(k) for k in range(1, sd.persist)]
        if drop < limit:
            return False, "", []
        if any(r is None for r in recent):
            return None, "", []
        held = all(before - r >= limit for r in recent if r is not None)
        days_note = f", held {sd.persist} days" if sd.persist > 1 else ""
        return held, (f"{rule.note}: {before:.1f} -> {score:.1f} ({-drop:+.1f} points in {sd.days} days"
                      f"{days_note})"), []
    if kind == "when":
        parts, evidence = [], []
        for cond in rule.when:
            e = by_metric.get(cond.metric)
            if e is None:
                return None, "", []
            if rule.min_rows and (e.get("rows") or 0) < rule.min_rows:
                return False, "", []  # too little volume for the ratio to mean anything
            v = e.get("value") if cond.value is not None else e.get("score")
            if not _holds(cond.value or cond.score, v):
                return False, "", []
            parts.append(f"{cond.metric} {'value' if cond.value is not None else 'score'} {v}")
            evidence.append({k: e.get(k) for k in ("metric", "value", "score", "points", "window", "source",
                                                   "latest_at")})
        return True, f"{rule.note} ({'; '.join(parts)})", evidence
    if kind == "renewal_within":
        if acc.renewal_date is None:
            return None, "", []
        days = (acc.renewal_date - as_of).days
        within = window_days(rule.renewal_within)
        assert within is not None  # the rule's validator requires renewal_within
        return 0 <= days <= within, f"{rule.note}: renews {acc.renewal_date} ({days} days)", []
    if kind == "stale_after":
        if snap["status"] in ("scored", "overridden", "onboarding"):
            return False, "", []
        lt = snap.get("last_trusted")
        age = None if not lt else (as_of - dt.date.fromisoformat(lt["as_of"])).days
        stale_days = window_days(rule.stale_after)
        assert stale_days is not None  # a stale_after rule names its window
        stale = age is None or age > stale_days
        since = "never scored" if age is None else f"last trusted score {age} days ago"
        return stale, f"{rule.note}: {since}; {'; '.join(snap.get('reasons', [])[:2])}", []
    raise ValueError(kind)  # pragma: no cover - validated by the IR


def apply_hygiene(model: HealthModel, fired: list[Candidate], snaps: dict[str, dict], accounts: dict[str, Account],
                  queue_of: dict[str, str], sent_today: dict[str, int], n_accounts: int) -> list[tuple[Candidate, str]]:
    """Status of each fired alert: `capped` past the per-rule share, else `sent` within the owner's
    daily budget (severe first, high value next, lowest score next), else `digest`."""
    hyg = model.workflow.hygiene

    def urgency(c: Candidate):
        s = snaps.get(c.account_id, {})
        arr = accounts.get(c.account_id, Account(c.account_id)).arr or 0.0
        return (SEVERITY_RANK[c.rule.severity], -arr, _num(s.get("score")) if _num(s.get("score")) is not None
                else 101.0, c.account_id)

    out: list[tuple[Candidate, str]] = []
    cap = max(1, math.floor(hyg.max_share_per_rule * n_accounts))
    by_rule: dict[str, list[Candidate]] = {}
    for c in fired:
        by_rule.setdefault(c.rule.name, []).append(c)
    kept: list[Candidate] = []
    for cands in by_rule.values():
        cands.sort(key=urgency)
        kept.extend(cands[:cap])
        out.extend((c, "capped") for c in cands[cap:])
    used = dict(sent_today)
    for c in sorted(kept, key=urgency):
        q = queue_of[c.account_id]
        if used.get(q, 0) < hyg.owner_daily_budget:
            used[q] = used.get(q, 0) + 1
            out.append((c, "sent"))
        else:
            out.append((c, "digest"))
    return out


def score_drop_days(model: HealthModel) -> set[int]:
    """Days before the as-of date whose raw scores the score-drop rules read (baseline and persistence)."""
    out: set[int] = set()
    for r in model.workflow.alerts:
        if r.score_drop:
            out |= {r.score_drop.days, *range(1, r.score_drop.persist)}
    return out
