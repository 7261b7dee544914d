"""Running the health program (docs/program.md): measurement, drift, readiness, the pilot, parent accounts,
and which plays work."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import AsOf, Json, Workspace, open_project, parse_date, parse_days
from healthscore.cli.render import emit_json_lines, output
from healthscore.cli.render import program as show


def report_measurement(
    workspace: Workspace = Path("."),
    horizon: str = typer.Option("90d", "--horizon", help="outcome horizon: false positives and missed risks"),
    json_out: Json = False,
) -> None:
    """Is the score reviewed, trusted and right? Validation rate, false positives, missed risks, follow-through."""
    with open_project(workspace) as p:
        r = p.measurement_report(parse_days(horizon, "--horizon"))
    output(r, json_out, show.measurement)


def report_drift(
    workspace: Workspace = Path("."),
    as_of: AsOf = None,
    reference_from: str | None = typer.Option(None, "--reference-from", help="start of the reference period"),
    reference_to: str | None = typer.Option(None, "--reference-to", help="end of the reference period"),
    threshold: float | None = typer.Option(None, "--threshold", help="PSI that suggests recalibration (0.25)"),
    json_out: Json = False,
) -> None:
    """Score and input drift: PSI of every metric and of the score against a reference period."""
    with open_project(workspace) as p:
        r = p.drift_report(parse_date(as_of, "--as-of"), parse_date(reference_from, "--reference-from"),
                           parse_date(reference_to, "--reference-to"), threshold)
    output(r, json_out, show.drift)


def readiness(workspace: Workspace = Path("."), json_out: Json = False) -> None:
    """Pilot prerequisites item by item, the maturity level (0-5) and the next step."""
    with open_project(workspace) as p:
        r = p.readiness()
    output(r, json_out, show.readiness)


def report_pilot(
    workspace: Workspace = Path("."),
    sample: int | None = typer.Option(None, "--sample", help="material changes in the validation sample"),
    seed: int = typer.Option(0, "--seed", help="seed of the random sample"),
    csv_out: Path | None = typer.Option(None, "--csv", help="write the sample as CSV"),
    html_out: Path | None = typer.Option(None, "--html", help="write a self-contained HTML report"),
    json_out: Json = False,
) -> None:
    """The pilot: validated material changes against the threshold, and a validation sample."""
    from healthscore.program.pilot import sample_csv, sample_html

    with open_project(workspace) as p:
        r = p.pilot_report(sample, seed)
    if csv_out:
        sample_csv(r, csv_out)
    if html_out:
        html_out.write_text(sample_html(r), encoding="utf-8")
    output(r, json_out, show.pilot, csv_out, html_out)


def hierarchy(
    account_id: str | None = typer.Argument(None, help="a parent account (default: every parent)"),
    workspace: Workspace = Path("."),
    as_of: AsOf = None,
    json_out: Json = False,
) -> None:
    """Parent accounts' health rolled up from their children (model hierarchy.rollup)."""
    with open_project(workspace) as p:
        rows = p.hierarchy(parse_date(as_of, "--as-of"), account_id)
    if json_out:
        emit_json_lines(rows)
    else:
        show.hierarchy(rows)


def report_plays(
    workspace: Workspace = Path("."),
    horizon: str = typer.Option("60d", "--horizon", help="how long after the play health is compared"),
    json_out: Json = False,
) -> None:
    """Per playbook: health and renewal after the play against matched accounts without it."""
    with open_project(workspace) as p:
        r = p.plays_report(parse_days(horizon, "--horizon"))
    output(r, json_out, show.plays)
