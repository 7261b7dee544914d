"""Running the health program (docs/program.md): measurement, drift, readiness, the pilot, hierarchy, plays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthscore.cli.render import console, fmt_ci

if TYPE_CHECKING:
    from pathlib import Path


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def measurement(r: dict[str, Any]) -> None:
    con = console()
    m, v, o = r["material_changes"], r["validation"], r["outcomes"]
    con.print(f"Material changes reviewed: {m['reviewed']:,} of {m['total']:,} ({_pct(m['share_reviewed'])})")
    verdict = "-" if v["meets_threshold"] is None else ("meets" if v["meets_threshold"] else "below")
    con.print(f"Signal validation rate: {_pct(r['health_score_signal_validation_rate'])} ({v['validated']} of "
              f"{v['reviewed_material_changes']}); {verdict} the {v['threshold']:.0%} pilot threshold")
    con.print(f"Time to decision (hours): median {r['time_to_decision_hours']['median']}, "
              f"p90 {r['time_to_decision_hours']['p90']}")
    con.print(f"Tasks: {r['tasks']}")
    if v.get("note"):
        con.print(f"  ({v['note']})")
    elif v.get("interval_95"):
        con.print(f"  95% interval of the validation rate: {_pct(v['interval_95'][0])}-{_pct(v['interval_95'][1])}")
    _tasking(r.get("tasking") or {})
    con.print(f"Owner follow-through: {_pct(r['owner_follow_through']['share'])}")
    if o.get("evaluated_as_of"):
        con.print(f"As of {o['evaluated_as_of']} ({o['horizon_days']}-day horizon): false positives "
                  f"{o['false_positives']} ({_pct(o['false_positive_rate'])} of red/yellow), missed risks "
                  f"{o['missed_risks']} ({_pct(o['missed_risk_rate'])} of green); churn by tier "
                  + ", ".join(f"{k} {_pct(v)}" for k, v in o["churn_rate_by_tier"].items()))
    else:
        con.print(f"Outcomes: {o.get('note')}")


def _tasking(tk: dict[str, Any]) -> None:
    """Did the tasks come before the losses (recall), and were the tasked accounts at risk (precision)?"""
    con = console()
    rc, pr = tk.get("recall"), tk.get("precision")
    if rc:
        iv = rc["interval_95"]
        con.print(f"Tasking recall: {_pct(rc['arr_share'])} of the ARR that churned or contracted after {tk['from']} "
                  f"({rc['arr_tasked_first']:,.0f} of {rc['arr_lost']:,.0f}; {rc['events_tasked_first']} of "
                  f"{rc['events']} events) had a task first"
                  + (f"; 95% interval {_pct(iv[0])}-{_pct(iv[1])}" if iv else ""))
    if pr:
        iv = pr["interval_95"]
        con.print(f"Tasking precision: {_pct(pr['rate'])} of {pr['tasked_accounts']} tasked accounts churned, "
                  f"contracted or were corrected" + (f" (95% {_pct(iv[0])}-{_pct(iv[1])})" if iv else "") +
                  f"; base rate in the same windows {_pct(pr.get('base_rate_same_windows'))}"
                  + (f" (lift {pr['lift']}x)" if pr["lift"] is not None else "")
                  + f"; over the whole period {_pct(pr['base_rate'])}"
                  + (f" (lift {pr['lift_vs_whole_period']}x)" if pr.get("lift_vs_whole_period") is not None else ""))


def drift(r: dict[str, Any]) -> None:
    con = console()
    ref = r["reference"]
    con.print(f"Drift at {r['as_of']} against {ref['from']}..{ref['to']} ({ref['source']}); threshold PSI"
              f" {r['threshold']}", highlight=False)
    sc = r["score"]
    con.print(f"  score: PSI {sc['psi']} ({sc['level']})", highlight=False)
    for m in r["metrics"]:
        con.print(f"  {m['metric']}: PSI {m['psi']} ({m['level']})", highlight=False)
    con.print(("[yellow]Recalibration suggested[/]: " if r["recalibration_suggested"] else "") + r["next_step"],
              highlight=False)


def readiness(r: dict[str, Any]) -> None:
    con = console()
    for i in r["items"]:
        mark = "[green]ok[/]  " if i["ok"] else "[red]todo[/]"
        con.print(f"{mark} {i['item']}: {i['detail']}", highlight=False)
        if i["next"]:
            con.print(f"       next: {i['next']}", highlight=False)
    m = r["maturity"]
    con.print(f"Maturity level {m['level']} ({m['name']}): {m['why']}", highlight=False)
    con.print(f"To reach level {m['next_level']}: {m['next_step']}", highlight=False)


def pilot(r: dict[str, Any], csv_out: Path | None, html_out: Path | None) -> None:
    con = console()
    pl = r["pilot"]
    con.print(f"Pilot {pl['start']}..{pl['end']}{' segment ' + pl['segment'] if pl['segment'] else ''}:"
              f" {r['material_changes']} material changes, {r['reviewed']} reviewed, {r['validated']} validated",
              highlight=False)
    con.print(r["verdict"], highlight=False)
    con.print(f"Validation sample: {r['sample']['size']} rows"
              + (f", CSV {csv_out}" if csv_out else "") + (f", HTML {html_out}" if html_out else ""), highlight=False)


def hierarchy(rows: list[dict[str, Any]]) -> None:
    con = console()
    for r in rows:
        con.print(f"{r['account_id']}: {r['score']} ({r['tier']}) from {r['children_scored']} of {r['children']}"
                  f" children, {r['rollup']}", highlight=False)
        for e in r["evidence"]:
            con.print(f"    {e['child']}: score {e['score']} weight {e['weight']} points {e['points']}",
                      highlight=False)


def plays(r: dict[str, Any]) -> None:
    con = console()
    con.print(f"{r['interventions']} interventions; matched on {r['matching']}", highlight=False)
    for pl in r["plays"]:
        e = pl["effect_vs_matched"]
        con.print(f"  {pl['play']}: {pl['accounts']} accounts ({pl['matched']} matched); effect on health"
                  f" {fmt_ci(e)}; days to improvement (median) {pl['days_to_improvement']['median']}",
                  highlight=False)
    y = r["yellow_recovery"]
    con.print(f"Yellow recovery within {y['window_days']} days: {y['recovered']} of {y['yellow_accounts']}"
              f" ({y['rate']})", highlight=False)
    for q in r["transitions"]:
        con.print(f"  {q['quarter']}: red->yellow {q['red_to_yellow']}, yellow->green {q['yellow_to_green']}",
                  highlight=False)
