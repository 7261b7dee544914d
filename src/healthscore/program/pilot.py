"""The pilot report: material score changes in the pilot's segment and period, with explainable
components and an owner accept or correct, against the pilot threshold; and a seeded validation
sample with its component signals, data freshness, override reason, account action and later outcome,
exported as CSV and as a self-contained HTML page.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthscore.errors import InvalidInput

if TYPE_CHECKING:
    from healthscore.services.parts import Parts

SAMPLE_COLUMNS = ["task_id", "account_id", "as_of", "score", "tier", "trigger", "explainable", "decision",
                  "decided_by", "signals", "oldest_input_days", "override_reason", "account_action",
                  "follow_up", "later_outcome"]


def pilot_report(project: Parts, sample: int | None = None, seed: int = 0) -> dict[str, Any]:
    import pandas as pd

    from healthscore.program.plays import interventions, segment_of
    from healthscore.workflow.measure import load_outcomes

    ir = project.model.ir
    pilot = ir.pilot
    if pilot is None:
        raise InvalidInput(f"{project.ws.model_path}: no pilot section; add e.g. pilot: {{segment: smb, start:"
                           " 2026-12-01, duration_days: 60, threshold: 0.8}")
    end = pilot.start + dt.timedelta(days=pilot.duration_days)
    seg = segment_of(project)
    in_pilot = lambda t: (pilot.start <= dt.date.fromisoformat(t["as_of"]) < end  # noqa: E731
                          and (pilot.segment is None or seg.get(t["account_id"]) == pilot.segment))
    # backlog rows, superseded and closed tasks are no owner decisions (the weekly triage's bookkeeping)
    tasks = [t for t in project.store.tasks(status="all") if in_pilot(t)
             and t["status"] not in ("backlog", "superseded", "closed")]
    material = [t for t in tasks if any(x["kind"] == "material_change" for x in t["triggers"])]
    reviewed = [t for t in material if t["status"] != "open"]
    validated = [t for t in reviewed if t["explainable"] and t["status"] in ("accepted", "corrected")]
    rate = round(len(validated) / len(reviewed), 4) if reviewed else None

    n = sample or pilot.sample
    rng = random.Random(seed)
    picked = sorted(rng.sample(material, min(n, len(material))), key=lambda t: t["task_id"]) if material else []
    outcomes = load_outcomes(project)
    horizon = pd.Timedelta(days=ir.outcome_spec.horizon_days)
    data_end = outcomes["ts"].max() if len(outcomes) else None
    actions_of: dict[int, list[dict]] = {}
    for e in interventions(project):
        if e.get("task_id") is not None:
            actions_of.setdefault(e["task_id"], []).append(e)
    rows = []
    for t in picked:
        start = pd.Timestamp(t["as_of"])
        ev = sorted(t["evidence"] or [], key=lambda e: -abs(e.get("points") or 0.0))
        ages = [(start - pd.Timestamp(e["latest_at"])).days for e in ev if e.get("latest_at")]
        if data_end is None or start + horizon > data_end:
            later = "horizon_open"
        else:
            g = outcomes[(outcomes["account_id"] == t["account_id"]) & (outcomes["ts"] >= start)
                         & (outcomes["ts"] < start + horizon)]
            later = str(g.sort_values("ts")["kind"].iloc[0]) if len(g) else "none"
        acts = actions_of.get(t["task_id"], [])
        action = "; ".join(f"{a['play']} by {a['channel']} (attempt {a['attempt']}, response {a['response']})"
                           for a in acts) or (t["next_action"] or {}).get("action")
        rows.append({
            "task_id": t["task_id"], "account_id": t["account_id"], "as_of": t["as_of"], "score": t["score"],
            "tier": t["tier"], "trigger": "; ".join(x["note"] for x in t["triggers"] if x["kind"] == "material_change"),
            "explainable": t["explainable"], "decision": t["status"], "decided_by": t["decided_by"],
            "signals": "; ".join(f"{e['metric']}={e.get('value')} ({e.get('points')} pts)" for e in ev[:5]),
            "oldest_input_days": max(ages) if ages else None,
            "override_reason": t["reason_code"] if t["status"] == "corrected" else None,
            "account_action": action, "follow_up": t["follow_up_note"], "later_outcome": later,
        })
    return {
        "pilot": {"segment": pilot.segment, "start": pilot.start.isoformat(), "end": end.isoformat(),
                  "duration_days": pilot.duration_days, "threshold": pilot.threshold,
                  "days_elapsed": max(0, min(pilot.duration_days, (dt.date.today() - pilot.start).days))},
        "material_changes": len(material), "reviewed": len(reviewed), "validated": len(validated),
        "health_score_signal_validation_rate": rate,
        "meets_threshold": None if rate is None else rate >= pilot.threshold,
        "verdict": ("no reviewed material changes yet" if rate is None else
                    f"{rate:.0%} validated: {'meets' if rate >= pilot.threshold else 'below'} the"
                    f" {pilot.threshold:.0%} threshold"),
        "sample": {"size": len(rows), "requested": n, "seed": seed, "rows": rows},
    }


def sample_csv(report: dict, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=SAMPLE_COLUMNS)
        w.writeheader()
        for r in report["sample"]["rows"]:
            w.writerow({k: r.get(k) for k in SAMPLE_COLUMNS})


def sample_html(report: dict) -> str:
    """One self-contained page (no scripts, no network): the verdict and the sample table."""
    esc = lambda v: html.escape("" if v is None else str(v))  # noqa: E731
    p = report["pilot"]
    head = "".join(f"<th>{esc(c)}</th>" for c in SAMPLE_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{esc(r.get(c))}</td>" for c in SAMPLE_COLUMNS) + "</tr>"
                   for r in report["sample"]["rows"])
    buf = io.StringIO()
    buf.write("<!doctype html><html><head><meta charset='utf-8'><title>healthscore pilot report</title><style>"
              "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
              "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}th{background:#eee}</style></head><body>")
    buf.write(f"<h1>Pilot {esc(p['start'])} to {esc(p['end'])}"
              f"{' (segment ' + esc(p['segment']) + ')' if p['segment'] else ''}</h1>")
    buf.write(f"<p><b>{esc(report['verdict'])}</b>: {report['validated']} of {report['reviewed']} reviewed material"
              f" changes had explainable components and an owner accept or correct ({report['material_changes']}"
              " material changes in the pilot).</p>")
    buf.write(f"<h2>Validation sample ({report['sample']['size']}, seed {report['sample']['seed']})</h2>")
    buf.write(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    buf.write("</body></html>")
    return buf.getvalue()
