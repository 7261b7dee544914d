"""A self-contained HTML backtest report: figures inline as SVG (matplotlib, Agg), no external resources."""

from __future__ import annotations

import html
import io
import json
import re


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE (it names an external DTD)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)  # RDF metadata names web vocabularies
    # matplotlib names the SVG namespaces with http URIs: identifiers, not loads; keep them out of the text
    return svg.replace('xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def _fmt(m) -> str:
    if m is None:
        return "-"
    if isinstance(m, dict) and "value" in m:
        if m["value"] is None:
            return "-"
        if m.get("low") is None:
            return f"{m['value']:.3f}"
        return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"
    return html.escape(str(m))


def backtest_html(result: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"
    figs = []

    if result.get("_roc"):
        fig, ax = plt.subplots(figsize=(4.2, 4))
        xs, ys = zip(*result["_roc"])
        ax.plot(xs, ys, label=f"AUC {result['roc_auc']['value']:.3f}")
        ax.plot([0, 1], [0, 1], "--", color="grey")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
        ax.legend(loc="lower right")
        figs.append(("ROC curve", _svg(fig)))
    if result.get("lift_by_decile"):
        fig, ax = plt.subplots(figsize=(5, 3.5))
        d = result["lift_by_decile"]
        ax.bar([r["decile"] for r in d], [r["lift"] or 0 for r in d])
        ax.axhline(1, color="grey", ls="--")
        ax.set(xlabel="score decile (1 = lowest scores)", ylabel="lift", title="Lift by decile")
        figs.append(("Lift by decile", _svg(fig)))
    if result.get("tiers"):
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
        tiers = list(result["tiers"])
        vals = [result["tiers"][t]["churn_rate"]["value"] or 0 for t in tiers]
        lo = [v - (result["tiers"][t]["churn_rate"]["low"] or v) for t, v in zip(tiers, vals)]
        hi = [(result["tiers"][t]["churn_rate"]["high"] or v) - v for t, v in zip(tiers, vals)]
        ax.bar(tiers, vals, yerr=[lo, hi], color=["#c0392b", "#f1c40f", "#27ae60"][:len(tiers)], capsize=4)
        ax.set(ylabel="churn rate", title="Churn rate per tier (95% interval)")
        figs.append(("Churn rate per tier", _svg(fig)))
    if result.get("score_bands"):
        fig, ax = plt.subplots(figsize=(5, 3.5))
        b = [r for r in result["score_bands"] if r["churn_rate"] is not None]
        ax.bar([r["band"] for r in b], [r["churn_rate"] for r in b])
        ax.set(xlabel="score band", ylabel="churn rate", title="Churn rate per score band")
        ax.tick_params(axis="x", rotation=45)
        figs.append(("Churn rate per score band", _svg(fig)))
    rel = (result.get("probability") or {}).get("reliability")
    if rel:
        fig, ax = plt.subplots(figsize=(4.2, 4))
        ax.plot([r["predicted"] for r in rel], [r["observed"] for r in rel], "o-")
        top = max(max(r["predicted"] for r in rel), max(r["observed"] for r in rel)) * 1.05
        ax.plot([0, top], [0, top], "--", color="grey")
        ax.set(xlabel="predicted probability", ylabel="observed rate", title="Reliability (out of time)")
        figs.append(("Reliability curve", _svg(fig)))
    study = (result.get("metric_study") or {}).get("metrics") or []
    curves = [m for m in study if m.get("cohorts")]
    if curves:
        cols = 4
        rows = (len(curves) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
        for ax, m in zip(axes.flat, curves):
            c = m["cohorts"]
            ax.plot(range(1, len(c) + 1), [r["churn_rate"] or 0 for r in c], "o-")
            ax.set_title(m["metric"], fontsize=9)
            ax.set_xticks(range(1, len(c) + 1))
            ax.set_xticklabels([r["range"] if r["median"] is None else f"{r['median']:.3g}" for r in c],
                               fontsize=6, rotation=60)
            ax.tick_params(axis="y", labelsize=7)
        for ax in list(axes.flat)[len(curves):]:
            ax.axis("off")
        fig.suptitle("Churn rate by metric decile (x: decile median)")
        fig.tight_layout()
        figs.append(("Metric versus churn cohorts", _svg(fig)))

    summary = [
        ("model", f"{result['model']['name']} ({result['model']['version']})"),
        ("as-of dates", f"{result['from']} .. {result['to']}, every {result['every_days']} days"),
        ("outcome", f"{', '.join(result['outcome']['label'])} within {result['outcome']['horizon']}"),
        ("snapshots", f"{result['rows']:,} ({result['accounts']:,} accounts); statuses {result['statuses']}"),
        ("labelled / censored", f"{result['labelled']:,} / {result['censored']:,}; events {result['events']}"),
        ("ROC AUC", _fmt(result.get("roc_auc"))), ("PR AUC", _fmt(result.get("pr_auc"))),
        ("lift, lowest decile", _fmt((result.get("lowest_decile") or {}).get("lift"))),
        ("precision, lowest decile", _fmt((result.get("lowest_decile") or {}).get("precision"))),
        ("Brier (calibrated probability)", _fmt((result.get("probability") or {}).get("brier"))),
        ("Brier skill vs base rate", _fmt((result.get("probability") or {}).get("brier_skill"))
         + (" (adds nothing over the base rate)" if (result.get("probability") or {}).get("adds_nothing") else "")),
        *[(f"group {g} (churn rate)", f"{_fmt(v.get('churn_rate'))}; {v['labelled']:,} labelled, {v['events']} events")
          for g, v in (result.get("groups") or {}).items() if v.get("labelled")],
        ("false positives (red, no churn)", _fmt((result.get("false_positives") or {}).get("share_of_red"))),
        ("missed risks (green, churned)", _fmt((result.get("missed_risks") or {}).get("share_of_events"))),
        ("lead time, median days", _fmt((result.get("lead_time") or {}).get("median_days_flagged"))),
    ]
    rows_html = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v) if k in ('model',) else v}</td></tr>"
                        for k, v in summary)
    groups = (result.get("metric_study") or {}).get("correlated_groups") or []
    figs_html = "".join(f"<figure><figcaption>{html.escape(t)}</figcaption>{s}</figure>" for t, s in figs)
    from healthscore.calibrate.leaks import warning_lines

    warns = warning_lines(result.get("leaks"))
    warn_html = ("<div style='border:2px solid #c0392b;padding:.5em 1em'><h2 style='color:#c0392b'>Leak warning</h2>"
                 "<ul>" + "".join(f"<li>{html.escape(w)}</li>" for w in warns) + "</ul></div>") if warns else ""
    ho = result.get("held_out") or {}
    held_html = ""
    if ho.get("roc_auc"):
        held_html = (f"<h2>Held-out figures ({html.escape(str(ho.get('method')))})</h2><p>AUC {_fmt(ho['roc_auc'])},"
                     f" lift in the riskiest 10% {_fmt(ho.get('lowest_decile_lift'))}, Brier skill"
                     f" {_fmt(ho.get('brier_skill'))}, AUC gain over the model it came from {_fmt(ho.get('auc_gain'))}."
                     f" {html.escape(ho.get('note') or '')}</p>")
    data = html.escape(json.dumps({k: v for k, v in result.items() if not k.startswith("_")}, default=str,
                                  indent=1))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>healthscore backtest</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
th,td{{text-align:left;padding:.2em .8em;border-bottom:1px solid #ddd}}figure{{display:inline-block;margin:1em}}
figcaption{{font-weight:bold}}pre{{font-size:11px;background:#f6f6f6;padding:1em;overflow:auto}}</style></head>
<body><h1>Backtest of {html.escape(result['model']['name'])}</h1>
{warn_html}{held_html}<p>Values in brackets are bootstrap 95% intervals over accounts.</p>
<table>{rows_html}</table>
<p>Correlated metric groups (|Spearman| &ge; {(result.get('metric_study') or {}).get('threshold')}):
{html.escape('; '.join(', '.join(g) for g in groups) or 'none')}</p>
{figs_html}
<details><summary>All figures as JSON</summary><pre>{data}</pre></details>
</body></html>
"""


def _ci(m) -> str:
    if not m or m.get("value") is None:
        return "-"
    if m.get("low") is None:
        return f"{m['value']:.3f}"
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def calibration_markdown(result: dict) -> str:
    """The calibration report an approver reads: the decision first, then held-out figures only."""
    lines = [f"# Calibration of {result['model']['name']} ({result['model']['version']})", ""]
    if result["accepted"]:
        lines += [f"**Proposal written** to `{result.get('written_to') or '(not written: no --out)'}`.", "",
                  f"Why: {result['decision']}.", ""]
    else:
        lines += ["**No proposal written.**", "", f"Why: {result['decision']}.", ""]
    one_date = f" One-date data ({result['one_date']})." if result.get("one_date") else ""
    lines += [f"Fitted on {result['labelled']:,} labelled snapshots ({result['events']:,} bad outcomes,"
              f" {result['survivors']:,} survivors),"
              f" as-of dates {result['as_of_dates'][0]}..{result['as_of_dates'][-1]},"
              f" outcome {'/'.join(result['outcome']['label'])} within {result['outcome']['horizon']}, data until"
              f" {result['data_end'][:19]}." + one_date,
              ""]
    leaks = result.get("leaks", {}).get("leaks", [])
    if leaks:
        lines += ["## Leak warnings", ""]
        allowed = {a["metric"] for a in result.get("allow_leak", [])}
        for lk in leaks:
            verdict = "ALLOWED by --allow-leak (weight kept)" if lk["metric"] in allowed else "refused: share 0"
            lines.append(f"- **{lk['metric']}** ({verdict}): " + "; ".join(r["message"] for r in lk["reasons"]))
        lines.append("")
    cmp_ = result["comparison"]
    lines += ["## Held-out comparison", "", f"{cmp_.get('note')}.", ""]
    if "pooled" in cmp_:
        lines += [f"{cmp_['test_rows']:,} held-out snapshots, {cmp_['test_events']:,} bad outcomes. Brackets: bootstrap"
                  " 95% intervals over accounts.", "",
                  "| model | AUC | lift, riskiest 10% | Brier | Brier skill vs base rate |", "|---|---|---|---|---|"]
        for name, m in cmp_["pooled"].items():
            lines.append(f"| {name} | {_ci(m['roc_auc'])} | {_ci(m['lift_lowest_decile'])} | {_ci(m['brier'])} |"
                         f" {_ci(m['brier_skill'])} |")
        lines += ["", f"AUC gain of the calibrated model over the current one: {_ci(cmp_['auc_gain'])}.", "",
                  "Held-out tiers (thresholds cut on each training fold): " + "; ".join(
                      f"{t} share {_ci(v['share'])}, churn rate {_ci(v['churn_rate'])}"
                      for t, v in cmp_["tiers"].items()), ""]
    lines += ["## Weights", "", "| metric | status | current | fitted | proposed |", "|---|---|---|---|---|"]
    for w in result["weights"]:
        st = w["status"] + (", direction flipped" if w.get("flipped") else "")
        fitted = "-" if w["fitted_share"] is None else f"{w['fitted_share']:.3f}"
        lines.append(f"| {w['component']}.{w['metric']} | {st} | {w['current_share']:.3f} | {fitted} |"
                     f" {w['proposed_share']:.3f} |")
    for f in result.get("flipped", []):
        lines.append(f"\n{f['metric']}: on its own a higher score goes with more bad outcomes (AUC"
                     f" {f['single_metric_auc']}, interval {f['interval']}); "
                     + ("its direction is flipped in the proposal." if f["flipped"] else
                        "its transform scores explicitly (bands/map): fix it by hand."))
    imp = result["impact"]
    port = imp.get("portfolio") or imp
    lines += ["", "## Impact", "", f"Proposed tiers: green {result['tiers']['proposed']['green']}, yellow"
              f" {result['tiers']['proposed']['yellow']} (target red share {result['tiers']['target_shares']['red']})."
              f" Applied to the portfolio as of {port['as_of']}: red {port['proposed_tier_shares']['red']}, yellow"
              f" {port['proposed_tier_shares']['yellow']}, green {port['proposed_tier_shares']['green']};"
              f" {port['tier_changes']} of {port['accounts_compared']} accounts change tier.", ""]
    return "\n".join(lines) + "\n"
