"""The review workflow: the weekly run, review tasks and decisions, follow-ups, alerts and interventions."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import AsOf, By, Json, Limit, Offset, Workspace, acting_user, open_project, parse_date
from healthscore.cli.render import emit_json, emit_json_lines, output
from healthscore.cli.render import workflow as show
from healthscore.errors import InvalidInput


def run_weekly(
    workspace: Workspace = Path("."),
    as_of: AsOf = None,
    no_notify: bool = typer.Option(False, "--no-notify", help="record alerts and tasks, send nothing"),
    json_out: Json = False,
) -> None:
    """The weekly account review: score, raise alerts (deduped, budgeted), create owner review tasks."""
    with open_project(workspace) as p:
        result = p.run_weekly(parse_date(as_of, "--as-of"), notify=not no_notify)
    output(result, json_out, show.weekly)


def tasks(
    workspace: Workspace = Path("."),
    owner: str | None = typer.Option(None, "--owner", help="only this owner's (or queue's) tasks"),
    status: str = typer.Option("open", "--status", help="open, backlog, accepted, corrected, dismissed, superseded, "
                                                        "closed or all"),
    account: str | None = typer.Option(None, "--account", help="only this account's tasks"),
    show_task: int | None = typer.Option(None, "--show", help="show one task in full, with its evidence"),
    json_out: Json = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> None:
    """Owner review tasks, by rank (expected ARR at risk): what to look at, why, and the drafted next action.
    --status backlog lists the ranked backlog the weekly triage left over."""
    with open_project(workspace) as p:
        rows = [p.task(show_task)] if show_task is not None else show.sort_tasks(p.tasks(owner, status, account))
    if json_out:
        emit_json_lines(rows)
    elif show_task is not None:
        show.task(rows[0])
    else:
        show.tasks(rows, status, owner, limit, offset)


def review(
    task_id: int = typer.Argument(..., help="the task number (see 'healthscore tasks')"),
    workspace: Workspace = Path("."),
    accept: bool = typer.Option(False, "--accept", help="the score and the drafted action are right"),
    correct: bool = typer.Option(False, "--correct", help="override the score or tier (reason code, note, expiry)"),
    dismiss: bool = typer.Option(False, "--dismiss", help="a false positive (give --reason)"),
    score: float | None = typer.Option(None, "--score", help="with --correct: the score to show instead"),
    tier: str | None = typer.Option(None, "--tier", help="with --correct: green, yellow or red"),
    reason_code: str | None = typer.Option(None, "--reason-code", help="with --correct: why (see the model)"),
    note: str | None = typer.Option(None, "--note", "--reason", help="free text: why"),
    expires: str | None = typer.Option(None, "--expires", help="with --correct: last day + 1 of the override"),
    by: By = None,
    json_out: Json = False,
) -> None:
    """Decide on a review task: accept, correct (override with expiry), or dismiss as a false positive."""
    chosen = [name for name, on in (("accept", accept), ("correct", correct), ("dismiss", dismiss)) if on]
    if len(chosen) != 1:
        raise InvalidInput("give exactly one of --accept, --correct or --dismiss")
    with open_project(workspace) as p:
        actor = acting_user(p, by, "review", p.task(task_id)["account_id"])
        result = p.review(task_id, chosen[0], actor, score=score, tier=tier, reason_code=reason_code, note=note,
                          expires=parse_date(expires, "--expires"))
    if json_out:
        emit_json(result)
    else:
        show.review(task_id, result)


def followup(
    task_id: int = typer.Argument(..., help="an accepted or corrected task"),
    workspace: Workspace = Path("."),
    note: str = typer.Option(..., "--note", help="what was done"),
    by: By = None,
    json_out: Json = False,
) -> None:
    """Log that the follow-up of a reviewed task was done (owner follow-through)."""
    with open_project(workspace) as p:
        actor = acting_user(p, by, "review", p.task(task_id)["account_id"])
        result = p.follow_up(task_id, actor, note)
    if json_out:
        emit_json(result)
    else:
        show.followup(task_id, actor)


def alerts(
    workspace: Workspace = Path("."),
    since: str | None = typer.Option(None, "--since", help="alerts of as-of dates at or after this date"),
    owner: str | None = typer.Option(None, "--owner", help="only this owner's (or queue's) alerts"),
    status: str | None = typer.Option(None, "--status", help="sent, digest or capped"),
    json_out: Json = False,
    limit: Limit = 50,
) -> None:
    """Alerts raised by weekly runs, with the evidence and snapshot they came from."""
    with open_project(workspace) as p:
        rows = p.alerts(parse_date(since, "--since"), owner, status)
    if json_out:
        emit_json_lines(rows)
    else:
        show.alerts(rows, limit)


def intervention_log(
    task_id: int = typer.Argument(..., help="the review task the action belongs to"),
    workspace: Workspace = Path("."),
    play: str | None = typer.Option(None, "--play", help="the playbook (default: the task's drafted one)"),
    channel: str | None = typer.Option(None, "--channel", help="call, email, meeting ..."),
    response: str = typer.Option("none", "--response", help="none, positive or negative"),
    note: str | None = typer.Option(None, "--note"),
    by: By = None,
    json_out: Json = False,
) -> None:
    """Log an action taken on a task; repeated silence drafts a channel switch or sponsor outreach."""
    with open_project(workspace) as p:
        actor = acting_user(p, by, "review", p.task(task_id)["account_id"])
        r = p.intervention_log(task_id, actor, play=play, channel=channel, response=response, note=note)
    output(r, json_out, show.intervention_logged)


def intervention_list(
    workspace: Workspace = Path("."),
    account_id: str | None = typer.Option(None, "--account", help="only this account"),
    json_out: Json = False,
) -> None:
    """Logged interventions, oldest first."""
    with open_project(workspace) as p:
        rows = p.interventions(account_id)
    if json_out:
        emit_json_lines(rows)
    else:
        show.interventions(rows)
