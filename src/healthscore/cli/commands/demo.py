"""The demo: a generated portfolio, scored, with history, a weekly review and web users."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import Json, parse_date
from healthscore.cli.render import workspace as show


def demo(
    accounts: int = typer.Option(2000, "--accounts", help="number of accounts to generate"),
    seed: int = typer.Option(7, "--seed", help="random seed (same seed and end date: same data)"),
    directory: Path = typer.Option(Path("demo-workspace"), "--dir", help="where to create the demo workspace"),
    end: str | None = typer.Option(None, "--end", help="last day of data + 1 (default: today, UTC)"),
    history_weeks: int = typer.Option(8, "--history-weeks", help="weekly snapshots to store before the end date"),
    json_out: Json = False,
) -> None:
    """Generate a realistic B2B SaaS portfolio, ingest, score, store weekly history, run the weekly review and add
    demo users for the web app (their logins are printed)."""
    from healthscore.scaffold import build_demo, demo_workflow

    end_date = parse_date(end, "--end")
    with show.demo_progress(disable=json_out) as progress:
        run, counts = build_demo(directory, accounts=accounts, seed=seed, end=end_date, progress=progress,
                                 history_weeks=history_weeks)
        extra = demo_workflow(directory, run.as_of_dates[-1], progress=progress)
    if json_out:
        show.demo_json(directory, run, counts, extra)
    else:
        show.demo(directory, run, counts, extra)
