"""Readiness: is this workspace ready for a pilot, item by item, and where is it on the maturity ladder?

Maturity ladder of a health score:
  0 no score; 1 subjective flags; 2 a documented rubric computed by hand; 3 computed automatically
  from connected signals; 4 versioned, backtested, calibrated from outcomes, sensitivity with
  intervals; 5 real-time and self-calibrating under approval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthscore.services.parts import Parts

LEVELS = {
    0: "no score",
    1: "subjective flags",
    2: "documented rubric, computed by hand",
    3: "computed automatically from connected signals",
    4: "versioned, backtested, calibrated from outcomes, sensitivity with intervals",
    5: "real-time and self-calibrating under approval",
}
NEXT_STEP = {
    0: "Write the rubric down as a health model: 'healthscore init DIR --example starter-five', then map your"
       " accounts and one signal per component in healthscore.yaml.",
    1: "Replace the flags with measured signals: map usage, tickets or billing exports under sources and run"
       " 'healthscore ingest'.",
    2: "Compute it automatically: 'healthscore ingest' then 'healthscore score' (and 'healthscore run weekly' every"
       " Monday).",
    3: "Version, backtest and calibrate: map outcomes, run 'healthscore backtest', 'healthscore calibrate --out"
       " proposed.yaml', then 'healthscore model propose' and an admin's 'approve'.",
    4: "Run it continuously under approval: add pipeline gates and a drift section to the model, score daily, and"
       " recalibrate through 'model propose/approve' when 'healthscore report drift' says the inputs shifted.",
    5: "Keep it there: review the drift report monthly and the measurement report weekly.",
}
SUBJECTIVE = {"assessments", "accounts"}


def _item(key: str, ok: bool, detail: str, todo: str, **extra) -> dict[str, Any]:
    return {"item": key, "ok": bool(ok), "detail": detail, "next": None if ok else todo, **extra}


def readiness(project: Parts, measurement_report: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    import pandas as pd

    from healthscore.contract import TABLES
    from healthscore.model.windows import end_of_data, window_days

    ir = project.model.ir
    present = set(project.con.list_tables()) if engine_exists(project) else set()
    counts = {t: int(project.con.table(t).count().execute()) for t in present if t in TABLES}
    now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    newest: dict[str, pd.Timestamp] = {}
    for t in counts:
        tc = TABLES[t].time_column
        if tc and counts[t]:
            v = project.con.table(t)[tc].max().execute()
            if v is not None and not pd.isna(v):
                newest[t] = pd.Timestamp(v)
    data_end = end_of_data(newest, now)
    items = []

    # 1. component signals defined and fed with fresh data
    comp_rows: list[dict[str, Any]] = []
    for c in ir.components:
        sources = sorted({a.source for m in c.metrics for a in m.aggregates().values() if a.source != "goals"}
                         | {"accounts" for m in c.metrics if m.per})
        fed = [s for s in sources if counts.get(s, 0) > 0]
        stale = []
        for s in fed:
            limit = window_days(ir.freshness.get(s, "30d"))
            if s in newest and (data_end - newest[s]).days > limit:
                stale.append(f"{s} newest row {(data_end - newest[s]).days} days old")
        comp_rows.append({"component": c.name, "sources": sources, "fed": fed, "stale": stale,
                          "ok": bool(fed) and not stale})
    bad = [r for r in comp_rows if not r["ok"]]
    items.append(_item("signals", not bad and bool(comp_rows),
                       f"{len(comp_rows) - len(bad)} of {len(comp_rows)} components fed with fresh data"
                       + (": " + "; ".join(_unfed(r) for r in bad) if bad else ""),
                       "Map and ingest a source for every component (healthscore.yaml sources, 'healthscore ingest');"
                       " re-export stale sources.", components=comp_rows))

    # 2. historical outcomes
    oc = None
    if counts.get("outcomes"):
        oc = project.con.table("outcomes").select("kind", "ts").execute()
    need = ir.calibration_spec.min_events
    if oc is not None and len(oc):
        kinds = {k: int(v) for k, v in oc["kind"].value_counts().items()}
        bad_n = sum(kinds.get(k, 0) for k in ir.outcome_spec.label)
        period = f"{pd.Timestamp(oc['ts'].min()).date()}..{pd.Timestamp(oc['ts'].max()).date()}"
        items.append(_item("outcomes", bad_n >= need and kinds.get("renewed", 0) > 0,
                           f"{kinds.get('renewed', 0)} renewals, {kinds.get('churned', 0)} churns,"
                           f" {kinds.get('contracted', 0)} contractions over {period}; {bad_n} bad outcomes"
                           f" (calibration needs {need})",
                           f"Collect more outcomes: at least {need} bad outcomes and some renewals"
                           " (outcomes table: account_id, ts, kind).", by_kind=kinds, period=period))
    else:
        items.append(_item("outcomes", False, "no outcomes table or no outcomes yet",
                           "Map renewals and churns under sources.outcomes (account_id, ts, kind) and ingest them."))

    # 3. owners assigned
    if counts.get("accounts"):
        acc = project.con.table("accounts")
        cols = acc.columns
        total = counts["accounts"]
        owned = int(acc.filter(acc.owner.notnull()).count().execute()) if "owner" in cols else 0
        share = owned / total
        items.append(_item("owners", share >= 0.95, f"{owned} of {total} accounts have an owner ({share:.0%})",
                           "Assign an owner to every account (accounts.owner); unowned ones go to the fallback queue.",
                           share=round(share, 4)))
    else:
        items.append(_item("owners", False, "no accounts in the engine", "Map and ingest the accounts table."))

    # 4. owners reviewing score changes
    m = measurement_report() if _store_exists(project) else None
    share_rev = (m or {}).get("material_changes", {}).get("share_reviewed")
    total_mc = (m or {}).get("material_changes", {}).get("total", 0)
    items.append(_item("reviews", share_rev is not None and share_rev >= 0.8,
                       f"{share_rev:.0%} of {total_mc} material changes reviewed" if share_rev is not None
                       else "no material-change review tasks yet",
                       "Run 'healthscore run weekly' and have owners decide their tasks ('healthscore review TASK"
                       " --accept|--correct|--dismiss'); aim for 80% reviewed.", share_reviewed=share_rev))

    # 5. the measurement plan
    pilot = ir.pilot
    plan_ok = pilot is not None
    items.append(_item("measurement_plan", plan_ok,
                       (f"pilot from {pilot.start} for {pilot.duration_days} days"
                        f"{' in segment ' + pilot.segment if pilot.segment else ''}, threshold"
                        f" {pilot.threshold:.0%}") if pilot is not None else "no pilot section in the model",
                       "Add a pilot to the model: pilot: {segment: smb, start: 2026-12-01, duration_days: 60,"
                       " threshold: 0.8}; then track it with 'healthscore report pilot'."))

    level, why = _level(project, counts, newest, data_end, comp_rows, items)
    return {"ready_for_pilot": all(i["ok"] for i in items), "items": items,
            "maturity": {"level": level, "name": LEVELS[level], "why": why,
                         "next_level": min(level + 1, 5), "next_step": NEXT_STEP[level]},
            "ladder": [{"level": k, "name": v} for k, v in LEVELS.items()]}


def _unfed(row: dict[str, Any]) -> str:
    """A component without fresh data, and why: its stale sources, or the sources without rows."""
    return f"{row['component']} ({', '.join(row['stale']) or 'no rows in ' + ', '.join(row['sources'])})"


def engine_exists(project) -> bool:
    """A server engine is there to be asked; an engine file exists once something was ingested."""
    from healthscore.engine.adapters import adapter_class

    ws = project.ws
    return not adapter_class(ws.config.engine.backend).single_writer_file or ws.resolve(ws.config.engine.path).exists()


def _store_exists(project) -> bool:
    from pathlib import Path

    url = project.ws.store_url
    return not url.startswith("sqlite:///") or Path(url[len("sqlite:///"):]).exists()


def _level(project, counts, newest, data_end, comp_rows, items) -> tuple[int, str]:
    if not counts.get("accounts"):
        return 0, "no accounts in the engine: nothing is scored"
    measured = [t for t, n in counts.items() if n and t not in SUBJECTIVE]
    if not measured:
        return 1, "only the CSM's own assessments feed the model"
    store = _store_exists(project)
    latest = project.store.latest_as_of() if store else None
    if latest is None:
        return 2, "the model is written down, but no snapshot was ever computed and stored"
    active = project.store.active_model_version() if store else None
    outcomes_ok = next(i for i in items if i["item"] == "outcomes")["ok"]
    backtested = bool(active and active.get("backtest") and not active["backtest"].get("skipped"))
    if not (active and backtested and outcomes_ok):
        missing = [w for w, ok in (("an approved model version", bool(active)), ("a backtest on record", backtested),
                                   ("enough outcomes to calibrate", outcomes_ok)) if not ok]
        return 3, f"scored automatically from {', '.join(sorted(measured))}; missing: {', '.join(missing)}"
    ir = project.model.ir
    approved = [v for v in project.store.model_versions() if v.get("approved_at")]
    recent = (data_end.date() - latest).days <= 2
    if ir.pipeline is not None and ir.drift is not None and len(approved) >= 2 and recent:
        return 5, "scored daily with pipeline gates and drift checks; recalibrated versions approved by an admin"
    return 4, f"approved version {active['version']} with a backtest; calibrated from outcomes"
