"""Users and roles, API tokens, and the audit log that records what they did."""

from __future__ import annotations

from pathlib import Path

import typer

from healthscore.cli.options import By, Json, OsUser, Workspace, acting_user, open_project, read_password
from healthscore.cli.render import admin as show
from healthscore.cli.render import emit_json, emit_json_lines, output
from healthscore.errors import InvalidInput


def user_add(
    username: str = typer.Argument(..., help="the login name, e.g. dana.kim (owners in the accounts table)"),
    role: str = typer.Option(..., "--role", help="admin, manager, csm or viewer"),
    workspace: Workspace = Path("."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read a password for web logins from stdin"),
    name: str | None = typer.Option(None, "--name", help="display name"),
    os_user: OsUser = None,
    by: By = None,
    json_out: Json = False,
) -> None:
    """Add a user (an admin does this). The first user of a store is an admin who adds themselves: their OS
    account (or --os-user) acts as them from then on."""
    from healthscore.authz import os_login

    with open_project(workspace) as p:
        if not p.store.users():  # bootstrap: nobody to verify yet
            if by and by != username:
                raise InvalidInput(f"--by {by}: the store has no users yet; its first user ({username}) adds"
                                   " themselves")
            actor, os_user = username, os_user or os_login()
        else:
            actor = acting_user(p, by, "users")
        u = p.user_add(username, role, actor, password=read_password(password_stdin), display_name=name,
                       os_user=os_user)
    output(u, json_out, show.user_added)


def user_set(
    username: str = typer.Argument(...),
    workspace: Workspace = Path("."),
    role: str | None = typer.Option(None, "--role", help="a new role"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read a new password from stdin"),
    disable: bool | None = typer.Option(None, "--disable/--enable", help="disable or enable the login"),
    old_password_stdin: bool = typer.Option(False, "--old-password-stdin",
                                            help="your current password, on the line before the new one"),
    os_user: str | None = typer.Option(None, "--os-user",
                                       help="the OS account that acts as this user ('' to remove)"),
    by: By = None,
    json_out: Json = False,
) -> None:
    """Change a user's role, password, OS account or whether it can log in (admins; anyone for their own
    password, with the current one)."""
    old = read_password(old_password_stdin, "--old-password-stdin")
    with open_project(workspace) as p:
        actor = acting_user(p, by, "read")
        u = p.user_set(username, actor, role=role, password=read_password(password_stdin), disabled=disable,
                       old_password=old, os_user=os_user)
    output(u, json_out, show.user_changed)


def user_list(workspace: Workspace = Path("."), json_out: Json = False) -> None:
    """Users and their roles."""
    with open_project(workspace) as p:
        rows = p.store.users()
    if json_out:
        emit_json_lines(rows)
    else:
        show.users(rows)


def token_create(
    name: str = typer.Argument(..., help="what the token is for, e.g. segment-webhook"),
    workspace: Workspace = Path("."),
    user: str = typer.Option(..., "--user", help="the token acts with this user's role"),
    scope: list[str] = typer.Option(["read"], "--scope", help="read, write, events:write (repeat the flag)"),
    by: By = None,
    json_out: Json = False,
) -> None:
    """Create an API token; the secret is shown once and only its hash is stored."""
    with open_project(workspace) as p:
        token, secret = p.token_create(user, name, scope, acting_user(p, by, "read"))
    if json_out:
        emit_json({**token, "secret": secret})
    else:
        show.token_created(token, secret, user)


def token_list(workspace: Workspace = Path("."), json_out: Json = False) -> None:
    """API tokens (never their secrets)."""
    with open_project(workspace) as p:
        rows = p.store.tokens()
    if json_out:
        emit_json_lines(rows)
    else:
        show.tokens(rows)


def token_revoke(token_id: str = typer.Argument(...), workspace: Workspace = Path("."), by: By = None) -> None:
    """Revoke an API token at once."""
    with open_project(workspace) as p:
        p.store.revoke_token(token_id, acting_user(p, by, "users"))
    show.token_revoked(token_id)


def audit_verify(workspace: Workspace = Path("."), json_out: Json = False) -> None:
    """Recompute the audit log's hash chain; exits 1 naming the first entry that was changed."""
    with open_project(workspace) as p:
        r = p.audit_verify()
    output(r, json_out, show.audit_verified)
    if not r["ok"]:
        raise typer.Exit(1)


def audit_log(
    workspace: Workspace = Path("."),
    limit: int = typer.Option(20, "--limit", help="the newest entries to show"),
    json_out: Json = False,
) -> None:
    """The newest audit entries: who did what, when, before and after."""
    with open_project(workspace) as p:
        rows = p.audit_log(limit)
    if json_out:
        emit_json_lines(rows)
    else:
        show.audit_log(rows)
