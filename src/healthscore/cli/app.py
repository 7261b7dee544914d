"""The `healthscore` command line: the Typer app, its commands by area (healthscore.cli.commands), and `main`,
the one place a user error becomes a message and an exit code.

Heavy libraries (ibis, pandas, sqlalchemy, rich's tables) are imported inside the commands and the renderer,
so `--help` and `--version` stay instant."""

from __future__ import annotations

import gc
import sys

import typer

from healthscore.cli import render
from healthscore.cli.commands import (
    calibrate,
    demo,
    governance,
    live,
    program,
    scoring,
    serve,
    users,
    workflow,
    workspace,
)
from healthscore.errors import InvalidInput, UserError
from healthscore.extras import missing_extra

app = typer.Typer(
    name="healthscore",
    help="Explainable customer health scoring: health models as code, evidence behind every point.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from healthscore import __version__

        print(f"healthscore {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """Explainable customer health scoring: health models as code, evidence behind every point."""


def _group(name: str, help_text: str) -> typer.Typer:
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


# The order here is the order of `healthscore --help`: commands first, then the groups.
for command in (workspace.init, workspace.validate, workspace.ingest, scoring.score, scoring.explain,
                scoring.history, scoring.backfill, scoring.changes, demo.demo, workflow.tasks, workflow.review,
                workflow.followup, workflow.alerts, live.stream, calibrate.backtest, calibrate.calibrate,
                calibrate.whatif, program.readiness, program.hierarchy, serve.serve):
    app.command(command.__name__)(command)

run_app = _group("run", "Scheduled workflow jobs.")
run_app.command("weekly")(workflow.run_weekly)

report_app = _group("report", "Reports on how the health program works.")
report_app.command("measurement")(program.report_measurement)
report_app.command("drift")(program.report_drift)
report_app.command("pilot")(program.report_pilot)
report_app.command("plays")(program.report_plays)

audit_app = _group("audit", "The append-only, hash-chained audit log.")
audit_app.command("verify")(users.audit_verify)
audit_app.command("log")(users.audit_log)

user_app = _group("user", "Users and roles (admin, manager, csm, viewer).")
user_app.command("add")(users.user_add)
user_app.command("set")(users.user_set)
user_app.command("list")(users.user_list)

token_app = _group("token", "API tokens for integrations (hashed at rest, scoped, revocable).")
token_app.command("create")(users.token_create)
token_app.command("list")(users.token_list)
token_app.command("revoke")(users.token_revoke)

model_app = _group("model", "Model versions: propose, review the diff and backtest, approve (admin).")
model_app.command("list")(governance.model_list)
model_app.command("propose")(governance.model_propose)
model_app.command("show")(governance.model_show)
model_app.command("approve")(governance.model_approve)

intervention_app = _group("intervention", "Actions owners took on review tasks, and their responses.")
intervention_app.command("log")(workflow.intervention_log)
intervention_app.command("list")(workflow.intervention_list)


def main(argv: list[str] | None = None) -> None:
    """The console script: run a command; a user error is one line on stderr and its exit code, no traceback.

    Without `argv` (the process's own command line: the console script, `python -m healthscore`) the process
    ends after it, and its exit is made cheap (`_cheap_exit`)."""
    try:
        _run(argv)
    finally:
        if argv is None:
            _cheap_exit()


def _refuse_undecodable(args: list[str]) -> None:
    """An argument whose bytes are not UTF-8 (Python keeps them as lone surrogates) would fail deep in a
    database driver with a traceback: it is refused here, by position."""
    for i, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"argument {i} ({ascii(arg)}) is not UTF-8 text: account ids, names and paths"
                               " are read as UTF-8; pass it in that encoding") from None


def _cheap_exit() -> None:
    """Freeze every object left (gc.freeze): the interpreter's shutdown then skips its full garbage collections
    over every object of the imported libraries (0.15-0.2 s of a read command's CPU, issue 18; a collection
    here first would cost 0.05 s more). Modules are still torn down, atexit handlers still run and the
    standard streams are flushed; only objects in reference cycles are left to the OS, whose __del__ Python
    never promises to call at exit (the commands close their files, store and engine themselves)."""
    gc.freeze()


def _run(argv: list[str] | None) -> None:
    try:
        _refuse_undecodable(sys.argv[1:] if argv is None else argv)
        app(args=argv)
    except UserError as exc:
        render.error(exc)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        render.interrupted()
        raise SystemExit(130) from None
    except ModuleNotFoundError as exc:
        missing = missing_extra(exc)  # a command of an optional extra that is not installed
        if missing is None:
            raise
        render.error(missing)
        raise SystemExit(missing.exit_code) from None
    except Exception as exc:
        # SQLite's "database is locked" after the busy timeout: another writer held the store too long
        if type(exc).__name__ == "OperationalError" and "locked" in str(exc):
            render.failure("the store is busy: another healthscore process (a CLI job or the web app) kept it locked"
                           " for more than 30 s; the step that waited was rolled back: run the command again")
            raise SystemExit(2) from None
        raise


if __name__ == "__main__":
    main()
