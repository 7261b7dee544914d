"""Pipeline breaks in the weekly run: which snapshots a portfolio-wide break paused, and one admin alert per
broken source (the break itself is found by the engine's gate query, engine/pipeline.py)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from healthscore.model.ir import HealthModel

PIPELINE_FLAG = "pipeline_break"
PORTFOLIO_ACCOUNT = "*portfolio*"  # the account_id of a portfolio-level (admin) alert


# ---- pipeline gates ---------------------------------------------------------------------------


def pipeline_sources_of(snap: dict, model: HealthModel) -> list[tuple[str, str]]:
    """(source, reason) of the portfolio-level breaks that paused a snapshot."""
    if PIPELINE_FLAG not in (snap.get("flags") or []):
        return []
    sources = set(model.freshness) | set(model.pipeline.sources if model.pipeline else {})
    out = []
    for r in snap.get("reasons") or []:
        for s in sources:
            if r.startswith(f"pipeline {s}:") or r.startswith(f"{s} stale:"):
                out.append((s, r))
    return out


def pipeline_admin_alerts(model: HealthModel, version: str, as_of: dt.date, snaps: list[dict],
                          states: dict) -> tuple[set[str], list[dict], dict]:
    """(accounts paused by a pipeline break, the admin alert rows, their alert states).

    One alert per broken source, edge-triggered on the portfolio's state for that source: it fires
    when the break starts and re-arms when the source is healthy again.
    """
    wf = model.workflow
    queue = (model.pipeline.admin_queue if model.pipeline and model.pipeline.admin_queue
             else wf.routing.fallback_queue)
    broken: set[str] = set()
    per_source: dict[str, list[str]] = {}
    reason_of: dict[str, str] = {}
    for s in snaps:
        hits = pipeline_sources_of(s, model)
        if hits:
            broken.add(s["account_id"])
        for source, reason in hits:
            per_source.setdefault(source, []).append(s["account_id"])
            reason_of.setdefault(source, reason)
    as_of_dt = dt.datetime(as_of.year, as_of.month, as_of.day)
    sources = set(model.freshness) | set(model.pipeline.sources if model.pipeline else {})
    rows, new_states = [], {}
    for source in sorted(sources):
        rule = f"pipeline_break_{source}"
        key = (PORTFOLIO_ACCOUNT, rule)
        state = states.get(key, {"active": False, "since": None, "last_fired_as_of": None})
        active = source in per_source
        if active == state["active"]:
            continue
        new_states[key] = {"active": active, "since": as_of_dt if active else None,
                           "last_fired_as_of": as_of_dt if active else state["last_fired_as_of"]}
        if not active:
            continue
        n = len(per_source[source])
        rows.append({
            "account_id": PORTFOLIO_ACCOUNT, "rule": rule, "severity": "high", "as_of": as_of,
            "model_version": version, "status": "sent", "owner": None, "queue": queue,
            "note": f"{reason_of[source]}; {n:,} snapshots paused, no owner alerts raised for them."
                    " Check the data pipeline, then re-run the weekly review.",
            "snapshot": {"score": None, "tier": None, "status": "paused", "confidence": None, "smoothed_score": None},
            "evidence": [{"source": source, "paused_accounts": n, "reason": reason_of[source]}],
        })
    return broken, rows, new_states
