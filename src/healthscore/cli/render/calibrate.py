"""Outcomes: backtests, calibration proposals and what-if."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthscore.cli.render import console, fmt_ci

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console


def leaks(con: Console, leak_result: dict[str, Any] | None, allowed: list[str] | None = None) -> None:
    """Leak warnings, loudly: a metric that knows the answer makes every other figure meaningless."""
    from healthscore.calibrate.leaks import warning_lines

    lines = warning_lines(leak_result)
    if not lines or leak_result is None:
        return
    allowed_names = set(allowed or [])
    con.print("[bold red]LEAK WARNING[/] [red]metrics that may know the outcome in advance:[/]")
    for lk, line in zip(leak_result["leaks"], lines):
        tag = " [yellow](allowed by --allow-leak)[/]" if lk["metric"] in allowed_names else ""
        con.print(f"  [red]![/] {line}{tag}", highlight=False)


def backtest(result: dict[str, Any], html_out: Path | None) -> None:
    con = console()
    leaks(con, result.get("leaks"))
    ho = result.get("held_out")
    if ho and ho.get("roc_auc"):
        con.print(f"[bold]held-out[/] ({ho['method']}, fitted {ho['fitted_on'].get('from')}.."
                  f"{ho['fitted_on'].get('to')}): AUC {fmt_ci(ho['roc_auc'])}, lift {fmt_ci(ho['lowest_decile_lift'])}"
                  f", gain over the model it came from {fmt_ci(ho['auc_gain'])}", highlight=False)
        if ho.get("backtest_in_sample"):
            con.print(f"[yellow]{ho['note']}[/]", highlight=False)
    con.print(f"Backtest of {result['model']['name']} ({result['model']['version']}): {len(result['as_of_dates'])}"
              f" as-of dates {result['from']}..{result['to']}, outcome {'/'.join(result['outcome']['label'])} within"
              f" {result['outcome']['horizon']}, data until {result['data_end'][:10]}", highlight=False)
    con.print(f"snapshots {result['rows']:,}: " + ", ".join(f"{k} {v:,}" for k, v in result["statuses"].items())
              + f"; labelled {result['labelled']:,}, censored {result['censored']:,}, events {result['events']:,}",
              highlight=False)
    if "note" in result:
        con.print(result["note"])
    else:
        width, lines = _figure_lines(result)
        for k, v in lines:
            con.print(f"  {k:<{width}}  {v}", highlight=False)
        con.print("  [dim]brackets: bootstrap 95% intervals over accounts[/]")
    if html_out is not None:
        con.print(f"HTML report: {html_out}")


def _figure_lines(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]]]:
    """A backtest's figures as (label, value) lines, and the width of the labels."""
    prob = result.get("probability", {})
    lines = [("ROC AUC", fmt_ci(result["roc_auc"])), ("PR AUC", fmt_ci(result["pr_auc"])),
             ("lift, lowest decile", fmt_ci(result["lowest_decile"]["lift"])),
             ("precision, lowest decile", fmt_ci(result["lowest_decile"]["precision"])),
             ("Brier (out-of-time probability)", fmt_ci(prob.get("brier"))
              + (f"  (base rate only: {prob['brier_base_rate']:.4f})" if "brier_base_rate" in prob else "")),
             ("false positives: red, no churn", f"{result['false_positives']['count']}  share of red "
              + fmt_ci(result["false_positives"]["share_of_red"])),
             ("missed risks: green, churned", f"{result['missed_risks']['count']}  share of events "
              + fmt_ci(result["missed_risks"]["share_of_events"]))]
    if result.get("lead_time"):
        lt = result["lead_time"]
        lines.append(("lead time", f"{lt['flagged']}/{lt['events']} flagged; median days "
                      + fmt_ci(lt["median_days_flagged"])))
    if prob.get("brier_skill"):
        lines.append(("Brier skill vs base rate", fmt_ci(prob["brier_skill"])
                      + ("  ADDS NOTHING over the base rate" if prob.get("adds_nothing") else "")))
    for t, v in result["tiers"].items():
        lines.append((f"tier {t}", f"share {fmt_ci(v['share'])}  churn rate {fmt_ci(v['churn_rate'])}"))
    for g, v in (result.get("groups") or {}).items():
        if g != "scored" and v["labelled"]:
            lines.append((f"group {g} (not scored)", f"{v['labelled']:,} labelled, {v['events']} events, churn rate"
                          f" {fmt_ci(v['churn_rate'])}, {v['share_of_events']:.1%} of all bad outcomes"))
    return max(len(k) for k, _ in lines), lines


def calibration(r: dict[str, Any]) -> None:
    """A calibration proposal: fitted weights and tiers, the held-out comparison and the impact."""
    con = console()
    leaks(con, r["leaks"], [a["metric"] for a in r["allow_leak"]])
    con.print(f"Calibrated {r['model']['name']} on {r['labelled']:,} labelled snapshots ({r['events']} bad outcomes,"
              f" {r['survivors']:,} survivors), {r['as_of_dates'][0]}..{r['as_of_dates'][-1]}"
              + (f" (one-date data of {r['one_date']})" if r.get("one_date") else ""), highlight=False)
    con.print(f"method: {r['method']}", highlight=False)
    if r.get("shape_settings"):
        st = r["shape_settings"]
        how = (f"chosen by {st.get('folds')}-fold cross-validation inside the training rows" if st["chosen_by"] == "cv"
               else "fixed (calibration.shape_bins / shape_l2)")
        con.print(f"shape settings: {st['bins']} bins, l2 {st['l2']:g} ({how})", highlight=False)
    if r.get("hybrid"):
        h = r["hybrid"]
        lt = h["learned_tiers"]
        con.print(f"hybrid: the rubric as it stands + learned_risk (tiers green {lt['green']}, yellow {lt['yellow']});"
                  f" tier_rule {h['tier_rule']}", highlight=False)
    con.print("  metric                          current  fitted  proposed")
    for w in r["weights"]:
        fitted = "      -" if w["fitted_share"] is None else f"{w['fitted_share']:7.3f}"
        note = "" if w["status"] == "fitted" else f"  {w['status']}"
        note += "  direction flipped" if w["flipped"] else ""
        con.print(f"  {w['component'] + '.' + w['metric']:<32}{w['current_share']:7.3f} {fitted}"
                  f" {w['proposed_share']:8.3f}{note}", highlight=False)
    t = r["tiers"]
    con.print(f"tiers (cut by rank): current green {t['current']['green']}, yellow {t['current']['yellow']}; proposed"
              f" green {t['proposed']['green']}, yellow {t['proposed']['yellow']}", highlight=False)
    for s in r["segments"]:
        con.print(f"segment {s['segment']}: fitted ({s['events']} events)" if s["fitted"] else s["message"],
                  highlight=False)
    _comparison(con, r["comparison"])
    imp = r["impact"]
    con.print(f"impact at {imp['as_of']}: {imp['tier_changes']} of {imp['accounts_compared']} accounts change tier "
              + ", ".join(f"{m['from']}->{m['to']} {m['accounts']}" for m in imp["moves"]), highlight=False)
    port = imp.get("portfolio")
    if port:
        sh = port["proposed_tier_shares"]
        con.print(f"today's portfolio ({port['as_of']}) under the proposal: red {sh['red']}, yellow {sh['yellow']},"
                  f" green {sh['green']} (red target {port['red_target']})", highlight=False)
    groups = r["metric_study"]["correlated_groups"]
    con.print("correlated metrics: " + ("; ".join(", ".join(g) for g in groups) or "none"), highlight=False)
    if r["accepted"]:
        con.print(r["diff"] or "(no change)", highlight=False, markup=False)
        con.print(f"[green]Proposal accepted[/]: {r['decision']}", highlight=False)
        con.print(f"proposed model written to {r['written_to']}" if r["written_to"] else
                  "(pass --out FILE to write the proposed model)")
    if r.get("report"):
        con.print(f"report: {r['report']}")
    if not r["accepted"]:
        con.print(f"[bold red]No proposal[/]: {r['decision']}", highlight=False)


def _comparison(con: Console, cmp_: dict[str, Any]) -> None:
    if "pooled" not in cmp_:
        con.print(cmp_["note"], highlight=False)
        return
    con.print(f"held-out ({cmp_['note']}; {cmp_['test_rows']:,} snapshots, {cmp_['test_events']} events):",
              highlight=False)
    for name, m in cmp_["pooled"].items():
        con.print(f"  {name:<20} AUC {fmt_ci(m['roc_auc'])}  lift {fmt_ci(m['lift_lowest_decile'])}"
                  f"  Brier skill {fmt_ci(m['brier_skill'])}", highlight=False)
    con.print("  held-out tiers: " + "; ".join(f"{k} {fmt_ci(v['share'])} (churn {fmt_ci(v['churn_rate'])})"
                                               for k, v in cmp_["tiers"].items()), highlight=False)
    bs = cmp_["pooled"]["calibrated"]["brier_skill"]
    if bs.get("low") is not None and bs["low"] <= 0:
        con.print("  [yellow]the calibrated churn probability adds nothing over the base rate (Brier skill"
                  " interval reaches 0)[/]")


def _score_tier(s: dict[str, Any]) -> str:
    return "-" if s["score"] is None else f"{s['score']:.1f} {s['tier'] or s['status']}"


def whatif(r: dict[str, Any]) -> None:
    con = console()
    b, a = r["before"], r["after"]
    con.print(f"{r['account_id']} as of {r['as_of']}: {_score_tier(b)} -> {_score_tier(a)}"
              + ("" if r["delta"] is None else f" ({r['delta']:+.2f} points)"), highlight=False)
    for e in r["evidence_moved"]:
        con.print(f"  {e['metric']:<26} value {e['value_before']} -> {e['value_after']}, score {e['score_before']}"
                  f" -> {e['score_after']}, points {e['points_before']} -> {e['points_after']}", highlight=False)
    p_ = r["probability"]
    if p_.get("available"):
        con.print(f"churn probability within {p_['horizon']}: {fmt_ci(p_['before'])} -> {fmt_ci(p_['after'])}"
                  f" (fitted on {p_['fitted_on']:,} snapshots, {p_['events']} events, as-of dates {p_['from']}.."
                  f"{p_['to']}; Brier skill over the base rate {fmt_ci(p_.get('brier_skill'))})", highlight=False)
        if p_.get("note"):
            con.print(f"[yellow]{p_['note']}[/]", highlight=False)
    else:
        con.print(p_["note"], highlight=False)
