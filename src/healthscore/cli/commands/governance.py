"""Model governance: versions are proposed with their backtest, reviewed as a diff, approved by an admin."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import By, Json, Workspace, acting_user, open_project
from healthscore.cli.render import admin as show
from healthscore.cli.render import emit_json_lines, output


def model_list(workspace: Workspace = Path("."), json_out: Json = False) -> None:
    """Model versions the store knows, with status (recorded, proposed, active, retired) and backtest."""
    with open_project(workspace) as p:
        rows = p.model_list()
        notice = p.model_notice
    if json_out:
        emit_json_lines(rows)
    else:
        show.models(rows, notice)


def model_propose(
    path: Path | None = typer.Argument(None, help="model YAML (default: the workspace's model file)"),
    workspace: Workspace = Path("."),
    note: str = typer.Option(..., "--note", help="what changed and why"),
    backtest: bool = typer.Option(True, "--backtest/--no-backtest", help="backtest the last year (default: yes)"),
    by: By = None,
    json_out: Json = False,
) -> None:
    """Record a model file as a proposed version with its backtest; an admin approves it."""
    with open_project(workspace) as p:
        r = p.model_propose(path, note, acting_user(p, by, "model.propose"), backtest=backtest)
    output(r, json_out, show.model_proposed)


def model_show(version: str = typer.Argument(...), workspace: Workspace = Path("."), json_out: Json = False) -> None:
    """One version: status, author, note, backtest, and the diff against the active model."""
    with open_project(workspace) as p:
        r = p.model_show(version)
    output(r, json_out, show.model)


def model_approve(version: str = typer.Argument(...), workspace: Workspace = Path("."), by: By = None,
                  json_out: Json = False) -> None:
    """Make a proposed version the active model (admin only; recorded in the audit log)."""
    with open_project(workspace) as p:
        r = p.model_approve(version, acting_user(p, by, "model.approve"))
    output(r, json_out, show.model_approved)
