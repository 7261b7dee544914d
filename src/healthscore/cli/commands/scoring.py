"""Scores: score the portfolio, explain an account, its history, backfills and material changes."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import AsOf, Json, Limit, Offset, Workspace, open_project, parse_date, parse_days
from healthscore.cli.render import emit_json, emit_json_lines, note, output
from healthscore.cli.render import scoring as show


def score(
    workspace: Workspace = Path("."),
    as_of: AsOf = None,
    json_out: bool = typer.Option(False, "--json", help="print one JSON snapshot per account and line"),
    lowest: int = typer.Option(10, "--lowest", help="lowest-scored accounts to list"),
    write_back: bool | None = typer.Option(None, "--write-back/--no-write-back",
                                           help="also write health_snapshots / health_evidence to the engine"
                                                " (default: write_back in healthscore.yaml)"),
    excluded: bool = typer.Option(False, "--excluded",
                                  help="list the accounts not scored and why (with --json: one JSON object per line)"),
    no_store: bool = typer.Option(False, "--no-store", help="compute and print only: store nothing"),
) -> None:
    """Score every account at the as-of date and store the snapshots (idempotent)."""
    with open_project(workspace) as p:
        run = p.score(parse_date(as_of, "--as-of"), write_back=False if no_store else write_back,
                      store=not no_store, history=True)
        if p.model_notice:
            note(p.model_notice)
        if excluded:
            rows = show.excluded_rows(run)
            if json_out:
                emit_json_lines(rows)
            else:
                show.excluded(rows)
            return
        if json_out:
            emit_json_lines(run.snapshots)
            show.coverage(run)
            return
        show.portfolio_summary(run, lowest)


def explain(
    account_id: str = typer.Argument(..., help="the account to explain"),
    workspace: Workspace = Path("."),
    as_of: AsOf = None,
    compare: str | None = typer.Option(None, "--compare", help="earlier date: attribute the change since then"),
    json_out: Json = False,
    fresh: bool = typer.Option(False, "--fresh", help="compute from the engine now instead of reading the stored"
                                                      " snapshot (nothing is stored)"),
) -> None:
    """Show an account's snapshot: score, tier, components, and the evidence behind every point.

    Reads the stored snapshot (without --as-of: the newest); a date without one is computed now and
    not stored ('healthscore score --as-of DATE' stores it)."""
    with open_project(workspace) as p:
        snap = p.explain(account_id, parse_date(as_of, "--as-of"), parse_date(compare, "--compare"), fresh=fresh)
    if not snap.get("stored", True):
        show.computed_not_stored(account_id, snap["as_of"])
    if json_out:
        emit_json(snap)
        return
    show.snapshot(snap)
    if "change" in snap:
        show.change(snap["change"], snap["trend_note"])


def history(
    account_id: str = typer.Argument(..., help="the account"),
    workspace: Workspace = Path("."),
    date_from: str | None = typer.Option(None, "--from", help="first as-of date (inclusive)"),
    date_to: str | None = typer.Option(None, "--to", help="last as-of date (inclusive)"),
    json_out: Json = False,
) -> None:
    """List an account's stored snapshots over time."""
    with open_project(workspace) as p:
        rows = p.history(account_id, parse_date(date_from, "--from"), parse_date(date_to, "--to"))
        live = p.read_models.live_of(account_id)
    if json_out:
        emit_json_lines(rows + ([live] if live else []))  # the live one last, marked "live": true
    else:
        show.history(account_id, rows, live)


def backfill(
    workspace: Workspace = Path("."),
    date_from: str = typer.Option(..., "--from", help="first as-of date YYYY-MM-DD"),
    date_to: str = typer.Option(..., "--to", help="last as-of date YYYY-MM-DD (inclusive)"),
    every: str = typer.Option("7d", "--every", help="step between as-of dates: 1d, 7d, 2w ..."),
    json_out: Json = False,
    write_back: bool | None = typer.Option(None, "--write-back/--no-write-back",
                                           help="also write the snapshots of the range to the engine's"
                                                " health_snapshots / health_evidence"),
) -> None:
    """Score every account at every date of a range; resumes where an interrupted run stopped."""
    start, end, step = parse_date(date_from, "--from"), parse_date(date_to, "--to"), parse_days(every)
    with open_project(workspace) as p, show.backfill_progress(disable=json_out) as progress:
        result = p.backfill(start, end, step, progress=progress, write_back=write_back)
    output(result, json_out, show.backfill)


def changes(
    workspace: Workspace = Path("."),
    since: str = typer.Option(..., "--since", help="list material changes at or after this date"),
    json_out: Json = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> None:
    """Material score changes (per the model's history.material_change) with their main driver, newest first."""
    with open_project(workspace) as p:
        rows = p.changes(parse_date(since, "--since"))
    if json_out:
        emit_json_lines(rows)
    else:
        show.changes(rows, since, limit, offset)
