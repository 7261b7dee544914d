"""Who may do what, and who is acting: the one authorization module behind the CLI, the pages and the API.

Roles and ownership (`authorize`) are the same everywhere. The web app learns who acts from a session
or an API token (web/auth.py); the command line learns it from a credential (`cli_actor`): an API token
in HEALTHSCORE_TOKEN, a credentials file (mode 600) in the workspace's .healthscore/ or in
~/.config/healthscore/, or the OS account an admin mapped to a store user (`user add --os-user`).
Never from free text: `--by NAME` (and HEALTHSCORE_USER) only choose among the identities the shell
can prove.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from healthscore.errors import AccessDenied, Unauthenticated, UserError  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from healthscore.store.store import Store

# action -> roles allowed; "review" for a csm only on accounts they own.
PERMISSIONS = {
    "read": ("admin", "manager", "csm", "viewer"),
    "review": ("admin", "manager", "csm"),
    "backtest": ("admin", "manager"),
    "events": ("admin", "manager"),
    "model.propose": ("admin", "manager", "csm"),
    "model.approve": ("admin",),
    "users": ("admin",),
}


class Shell(Protocol):
    """What the command line's identity checks need (the facade has it)."""

    workspace_dir: Path

    @property
    def store(self) -> Store: ...

    def api_token_user(self, secret: str) -> tuple[dict, dict] | None: ...

    def authorize(self, username: str, action: str, account_id: str | None = None) -> dict: ...


class Authorizer:
    """Who may do what: the same roles and ownership rules for the CLI, the pages and the API."""

    def __init__(self, store: Callable[[], Store], owner_of: Callable[[str], str | None]):
        self._store = store
        self._owner_of = owner_of  # an account's owner (NotFound for an unknown account)

    def authorize(self, username: str, action: str, account_id: str | None = None) -> dict[str, Any]:
        """The user if they may do `action` (on `account_id`, for a csm's review); else AccessDenied."""
        if action not in PERMISSIONS:
            raise ValueError(f"unknown action {action!r}")
        user = self._store().user(username)
        if user is None or user["disabled_at"]:
            raise AccessDenied(f"user {username!r} is unknown or disabled", object_id=username)
        roles = PERMISSIONS[action]
        if user["role"] not in roles:
            raise AccessDenied(f"user {username!r} has role {user['role']}; {action} needs {' or '.join(roles)}",
                               object_id=username)
        if action == "review" and user["role"] == "csm":
            owner = self._owner_of(account_id) if account_id else None
            if owner != username:
                raise AccessDenied(f"user {username!r} (csm) acts only on own accounts; account {account_id!r} is"
                                   f" owned by {owner or 'nobody'}", object_id=account_id)
        return user


def require_scope(scopes: tuple[str, ...] | None, scope: str) -> None:
    """A token acts only within its scopes (None: a session or an OS account, which has them all)."""
    if scopes is not None and scope not in scopes:
        raise AccessDenied(f"this API token lacks the {scope!r} scope (it has {', '.join(scopes) or 'none'})")


# ---- who is acting on the command line ---------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    username: str
    source: str  # where it came from, for messages
    scopes: tuple[str, ...] | None  # None: an OS account mapping (all scopes)


def os_login() -> str:
    """The OS account running this process, from the kernel's uid (not $USER or $LOGNAME, which anyone
    can set)."""
    import pwd

    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def credential_files(workspace: Path) -> list[Path]:
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [Path(workspace) / ".healthscore" / "credentials", config / "healthscore" / "credentials"]


def read_credentials(path: Path) -> list[str]:
    """API token secrets in a credentials file: one per line, optionally after a label (`dana.kim hs_...`);
    '#' starts a comment. A file others can read is refused, like ssh refuses a private key."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(f"credentials file {path} can be read by other users (mode {stat.filemode(st.st_mode)}):"
                        f" run 'chmod 600 {path}'")
    secrets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        secrets += [f for f in fields if f.startswith("hs_")][:1]
    return secrets


def write_credentials(path: Path, lines: list[str]) -> None:
    """Write a credentials file readable by its owner only (created 0600, synced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def cli_credentials(p: Shell) -> list[Credential]:
    """Every identity this shell can prove, in order of precedence. HEALTHSCORE_TOKEN, when set, is the
    only one (an unknown or revoked token is an error, not a fallback)."""
    env = os.environ.get("HEALTHSCORE_TOKEN")
    if env is not None:
        found = p.api_token_user(env.strip())
        if found is None:
            raise Unauthenticated("HEALTHSCORE_TOKEN is not a valid API token of this workspace's store (unknown,"
                                  " revoked, or its user is disabled)")
        token, user = found
        return [Credential(user["username"], f"HEALTHSCORE_TOKEN ({token['name']})", tuple(token["scopes"]))]
    out = []
    for path in credential_files(p.workspace_dir):
        for secret in read_credentials(path):
            found = p.api_token_user(secret)
            if found is not None:  # a home file may hold tokens of other workspaces' stores
                token, user = found
                out.append(Credential(user["username"], f"{path} ({token['name']})", tuple(token["scopes"])))
    login = os_login()
    mapped = p.store.user_by_os(login)
    if mapped is not None and not mapped["disabled_at"]:
        out.append(Credential(mapped["username"], f"OS user {login}", None))
    return out


def cli_actor(p: Shell, by: str | None, action: str, account_id: str | None = None) -> str:
    """The verified store user a CLI command acts as, authorized for `action`; else a clear UserError.

    `by` (--by, else $HEALTHSCORE_USER) picks one of the shell's own identities; it never names anyone
    else. Writing through a token needs its 'write' scope."""
    flag = "--by" if by else "HEALTHSCORE_USER"
    by = by or os.environ.get("HEALTHSCORE_USER") or None
    creds = cli_credentials(p)
    if not creds:
        raise Unauthenticated(
            f"no verified identity: set HEALTHSCORE_TOKEN to an API token, keep one in"
            f" {credential_files(p.workspace_dir)[0]} or {credential_files(p.workspace_dir)[1]} (mode 600), or have"
            f" an admin map your OS account: 'healthscore user set NAME --os-user {os_login()}'")
    if by:
        mine = [c for c in creds if c.username == by]
        if not mine:
            names = ", ".join(sorted({c.username for c in creds}))
            raise AccessDenied(f"{flag} {by}: this shell holds no credential for {by!r} (it can act as {names});"
                               f" {flag} only picks one of your own identities")
    else:
        mine = [c for c in creds if c.username == creds[0].username]
    usable = [c for c in mine if c.scopes is None or "write" in c.scopes]
    if not usable:
        raise AccessDenied(f"the credential of {mine[0].username!r} ({mine[0].source}) lacks the 'write' scope")
    p.authorize(usable[0].username, action, account_id)
    return usable[0].username
