"""Outcomes: backtest the model at past dates, calibrate it from outcomes, and what-if for one account."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import AsOf, Bootstrap, Json, Workspace, open_project, parse_date, parse_days
from healthscore.cli.render import calibrate as show
from healthscore.cli.render import output


def backtest(
    workspace: Workspace = Path("."),
    date_from: str = typer.Option(..., "--from", help="first as-of date YYYY-MM-DD"),
    date_to: str = typer.Option(..., "--to", help="last as-of date YYYY-MM-DD (inclusive)"),
    every: str = typer.Option("30d", "--every", help="step between as-of dates: 7d, 30d, 4w ..."),
    horizon: str | None = typer.Option(None, "--horizon", help="outcome window after each date (default: the"
                                       " model's outcome.horizon, 90d)"),
    model: Path | None = typer.Option(None, "--model", help="score with this model YAML instead of the workspace's"),
    html_out: Path | None = typer.Option(None, "--html", help="write a self-contained HTML report here"),
    resamples: Bootstrap = 200,
    seed: int = typer.Option(0, "--seed", help="bootstrap seed"),
    json_out: Json = False,
) -> None:
    """Replay the model at past dates (only data before each) and measure it against churn and contraction."""
    start, end, step = parse_date(date_from, "--from"), parse_date(date_to, "--to"), parse_days(every)
    with open_project(workspace) as p:
        result = p.backtest(start, end, step, horizon=horizon, model_path=model, n_boot=resamples, seed=seed)
    if html_out is not None:
        from healthscore.calibrate.report import backtest_html

        html_out.write_text(backtest_html(result), encoding="utf-8")
    result.pop("_roc", None)  # the ROC curve is for the HTML figure, not for the console or JSON
    output(result, json_out, show.backtest, html_out)


def calibrate(
    workspace: Workspace = Path("."),
    date_from: str | None = typer.Option(None, "--from", help="first as-of date (default: a year before --to)"),
    date_to: str | None = typer.Option(None, "--to", help="last as-of date (default: the last whose horizon is over)"),
    every: str = typer.Option("30d", "--every", help="step between as-of dates"),
    folds: int = typer.Option(3, "--folds", help="held-out folds for the model comparison (time folds for panel"
                              " data; at least 5 account folds for one-date data)"),
    out: Path | None = typer.Option(None, "--out", help="write the proposed model YAML here (never the active model)"),
    report: Path | None = typer.Option(None, "--report", help="write the calibration report (Markdown) here"
                                       " (default with --out: the same name with .report.md)"),
    allow_leak: list[str] = typer.Option([], "--allow-leak", help="let this metric keep weight although the leak"
                                         " guard flags it (repeatable; recorded with the proposal)"),
    resamples: Bootstrap = 200,
    seed: int = typer.Option(0, "--seed", help="seed of the folds and the bootstrap"),
    shapes: bool = typer.Option(False, "--shapes", help="learn a shape per metric (binned, an additive model) instead"
                                                        " of fitting weights alone; the evidence still adds up"),
    hybrid: bool = typer.Option(False, "--hybrid", help="keep the rubric as it stands and add a learned risk"
                                " component beside it (learned shapes with their own score, evidence and tiers)"),
    tier_rule: str = typer.Option("both", "--tier-rule", help="with --hybrid: the snapshot's tier follows the"
                                  " rubric, the learned component, or both (the worse of the two)"),
    json_out: Json = False,
) -> None:
    """Fit weights and tier thresholds from outcomes; propose them only if better than the current model on
    held-out data. Exits 3 (and writes no proposal) when it is not."""
    with open_project(workspace) as p:
        r = p.calibrate(parse_date(date_from, "--from"), parse_date(date_to, "--to"), parse_days(every), out=out,
                        folds=folds, n_boot=resamples, seed=seed, allow_leak=allow_leak, report=report, shapes=shapes,
                        hybrid=tier_rule if hybrid else None)
    output(r, json_out, show.calibration)
    if not r["accepted"]:
        raise typer.Exit(3)


def whatif(
    account_id: str = typer.Argument(..., help="the account"),
    workspace: Workspace = Path("."),
    set_: list[str] = typer.Option([], "--set", help="metric=value: use this raw value (repeatable)"),
    change: list[str] = typer.Option([], "--change", help="metric=-20% or metric=+5: change the raw value"),
    as_of: AsOf = None,
    fit_from: str | None = typer.Option(None, "--fit-from", help="first as-of date the churn probability is"
                                        " fitted on (default: a year before --fit-to)"),
    fit_to: str | None = typer.Option(None, "--fit-to", help="last as-of date the churn probability is fitted on"
                                      " (default: the last whose horizon is over)"),
    fit_every: str = typer.Option("30d", "--fit-every", help="step between the fitted as-of dates"),
    json_out: Json = False,
) -> None:
    """Recompute an account's score and tier with metric values changed; show the evidence that moved."""
    with open_project(workspace) as p:
        r = p.whatif(account_id, set_, change, parse_date(as_of, "--as-of"),
                     fit_from=parse_date(fit_from, "--fit-from"), fit_to=parse_date(fit_to, "--fit-to"),
                     fit_every=parse_days(fit_every, "--fit-every"))
    output(r, json_out, show.whatif)
