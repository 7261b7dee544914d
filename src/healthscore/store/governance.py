"""Users and roles, API tokens, and model governance in the store (a mixin of `Store`).

A model version moves recorded -> proposed -> active -> retired. Only a user with the admin role
activates a version; the audit log records every step. Snapshots keep the version they were scored
with, so activating a new version adds snapshots and never rewrites history.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from healthscore.errors import AccessDenied, Conflict, InvalidInput, NotFound
from healthscore.store import tables as t
from healthscore.store.audit import AuditRecords
from healthscore.store.common import iso, utcnow

# The key of the PostgreSQL advisory lock that login attempts take turns on (any constant of the application)
_LOGIN_ATTEMPTS_LOCK = 0x6873_4C6F_6769_6E

ROLES = t.ROLES


def _user_dict(r) -> dict[str, Any]:
    return {"username": r.username, "role": r.role, "display_name": r.display_name,
            "has_password": r.password_hash is not None, "created_at": iso(r.created_at),
            "disabled_at": iso(r.disabled_at), "os_user": getattr(r, "os_user", None),
            "session_epoch": getattr(r, "session_epoch", 0) or 0}


def _version_dict(r, with_yaml: bool = False) -> dict[str, Any]:
    out = {"version": r.version, "name": r.name, "source_path": r.source_path, "created_at": iso(r.created_at),
           "status": r.status, "author": r.author, "note": r.note, "backtest": r.backtest,
           "approved_by": r.approved_by, "approved_at": iso(r.approved_at)}
    if with_yaml:
        out["yaml_text"] = r.yaml_text
    return out


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_os_user(conn: Connection, os_user: str | None, username: str) -> None:
    if os_user is None:
        return
    if not os_user or any(c.isspace() for c in os_user) or len(os_user) > 64:
        raise InvalidInput(f"--os-user {os_user!r} is not an OS account name", field="os_user")
    other = conn.execute(select(t.users.c.username).where(t.users.c.os_user == os_user,
                                                          t.users.c.username != username)).scalar()
    if other is not None:
        raise Conflict(f"--os-user {os_user}: that OS account already acts as {other!r}; one store user per account",
                       field="os_user")


class GovernanceRecords(AuditRecords):

    # -- failed logins (web/throttle.py) ----------------------------------------------------------

    def login_failures(self, scope: str, subject: str, since: datetime) -> list[datetime]:
        """When `subject` (a user name or a client, by `scope`) failed to log in after `since`, oldest first."""
        c = t.login_failures.c
        with self.engine.connect() as conn:
            return list(conn.scalars(select(c.failed_at).where(c.scope == scope, c.subject == subject,
                                                               c.failed_at > since).order_by(c.failed_at)))

    def reserve_login_attempt(self, subjects: list[tuple[str, str, int, datetime]], at: datetime,
                              forget_before: datetime) -> tuple[list[int], tuple[str, list[datetime]] | None]:
        """Count one login attempt as failed for each (scope, subject, attempts allowed, start of its window)
        before its password is checked: attempts take turns (SQLite: the transaction's first statement writes,
        which takes the database's write lock; PostgreSQL: a transaction-scoped advisory lock), so concurrent
        attempts cannot all pass a check made before any of them failed (OWASP ASVS 2.2.1).

        Returns the new rows' ids (`forget_login_attempt` removes them when the password was right) and None;
        or, when a subject has used up its attempts, no rows and (its scope, its failures in the window, oldest
        first). Failures before `forget_before` are dropped."""
        c = t.login_failures.c
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_LOGIN_ATTEMPTS_LOCK)))
            conn.execute(delete(t.login_failures).where(c.failed_at < forget_before))
            for scope, subject, attempts, since in subjects:
                failed = list(conn.scalars(select(c.failed_at).where(c.scope == scope, c.subject == subject,
                                                                     c.failed_at > since).order_by(c.failed_at)))
                if len(failed) >= attempts:
                    return [], (scope, failed)
            ids = [conn.execute(insert(t.login_failures).values(scope=scope, subject=subject, failed_at=at)
                                .returning(c.failure_id)).scalar_one() for scope, subject, _, _ in subjects]
        return ids, None

    def forget_login_attempt(self, failure_ids: list[int], clear: tuple[str, str] | None = None) -> None:
        """Remove an attempt's rows (its password was right); `clear`: also every failure of that (scope, subject)."""
        c = t.login_failures.c
        with self.engine.begin() as conn:
            conn.execute(delete(t.login_failures).where(c.failure_id.in_(failure_ids)))
            if clear is not None:
                conn.execute(delete(t.login_failures).where(c.scope == clear[0], c.subject == clear[1]))

    # -- users ----------------------------------------------------------------------------------

    def add_user(self, username: str, role: str, actor: str, *, display_name: str | None = None,
                 password_hash: str | None = None, os_user: str | None = None,
                 first_only: bool = False) -> dict[str, Any]:
        """A new user; `first_only`: only if the store has no user yet (the bootstrap admin), checked in
        the insert's transaction so two first users cannot race in."""
        if role not in ROLES:
            raise InvalidInput(f"--role {role!r} is not allowed; use one of {', '.join(ROLES)}", field="role")
        if not username or not username.replace(".", "").replace("-", "").replace("_", "").replace("@", "").isalnum():
            raise InvalidInput(f"user name {username!r} is not allowed; use letters, digits and . - _ @",
                               field="username")

        def work(conn: Connection) -> dict[str, Any]:
            if conn.execute(select(t.users.c.username).where(t.users.c.username == username)).first():
                raise Conflict(f"user {username!r} already exists; see 'healthscore user list'", object_id=username)
            if first_only and conn.execute(select(t.users.c.username).limit(1)).first():
                raise Conflict("the store has users already: only an admin adds more")
            _check_os_user(conn, os_user, username)
            row = {"username": username, "role": role, "display_name": display_name, "password_hash": password_hash,
                   "created_at": utcnow(), "os_user": os_user}
            conn.execute(insert(t.users), row)
            self._audit(conn, actor, "user.add", "user", username, None,
                        {"role": role, **({"os_user": os_user} if os_user else {})})
            return row

        self._in_transaction(work)
        return self._written_user(username)

    def set_user(self, username: str, actor: str, *, role: str | None = None, password_hash: str | None = None,
                 disabled: bool | None = None, os_user: str | None = None) -> dict[str, Any]:
        if role is not None and role not in ROLES:
            raise InvalidInput(f"--role {role!r} is not allowed; use one of {', '.join(ROLES)}", field="role")

        def work(conn: Connection) -> None:
            r = conn.execute(select(t.users).where(t.users.c.username == username)).first()
            if r is None:
                raise NotFound(f"no user {username!r}; see 'healthscore user list'", object_id=username)
            values: dict[str, Any] = {}
            if role is not None:
                values["role"] = role
            if password_hash is not None:
                values["password_hash"] = password_hash
            if disabled is not None:
                values["disabled_at"] = utcnow() if disabled else None
            if os_user is not None:
                _check_os_user(conn, os_user or None, username)
                values["os_user"] = os_user or None
            if not values:
                raise InvalidInput("nothing to change: give --role, --password-stdin, --disable/--enable or --os-user")
            if {"role", "password_hash", "disabled_at"} & values.keys():
                # the user's web sessions end: a new password or role starts from a fresh login
                values["session_epoch"] = (r.session_epoch or 0) + 1
            conn.execute(update(t.users).where(t.users.c.username == username).values(**values))
            shown = {k: ("(changed)" if k == "password_hash" else v) for k, v in values.items() if k != "session_epoch"}
            self._audit(conn, actor, "user.change", "user", username, {"role": r.role}, shown)

        self._in_transaction(work)
        return self._written_user(username)

    def _written_user(self, username: str) -> dict[str, Any]:
        """The user just added or changed (committed, so it exists)."""
        user = self.user(username)
        assert user is not None
        return user

    def user(self, username: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        return _user_dict(r) if r else None

    def user_by_os(self, os_user: str) -> dict[str, Any] | None:
        """The store user an OS account acts as on the command line (user add/set --os-user)."""
        with self.engine.connect() as conn:
            r = conn.execute(select(t.users).where(t.users.c.os_user == os_user)).first()
        return _user_dict(r) if r else None

    def end_sessions(self, username: str) -> None:
        """Every web session of the user ends (logout): sessions carry the epoch they were made in."""
        with self.engine.begin() as conn:
            conn.execute(update(t.users).where(t.users.c.username == username)
                         .values(session_epoch=t.users.c.session_epoch + 1))

    def password_hash(self, username: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(t.users.c.password_hash).where(t.users.c.username == username,
                                                                     t.users.c.disabled_at.is_(None)))

    def users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [_user_dict(r) for r in conn.execute(select(t.users).order_by(t.users.c.username))]

    def require_role(self, username: str, *roles: str) -> dict[str, Any]:
        """The user, if it exists, is enabled and has one of the roles; else a clear UserError."""
        u = self.user(username)
        if u is None:
            raise NotFound(f"no user {username!r}; an admin adds one with"
                           f" 'healthscore user add {username} --role ...'", object_id=username)
        if u["disabled_at"]:
            raise AccessDenied(f"user {username!r} is disabled", object_id=username)
        if u["role"] not in roles:
            raise AccessDenied(f"user {username!r} has role {u['role']}; this needs {' or '.join(roles)}",
                               object_id=username)
        return u

    # -- API tokens -----------------------------------------------------------------------------

    def create_token(self, username: str, name: str, scopes: list[str], actor: str) -> tuple[dict[str, Any], str]:
        """A new token; the secret is returned once and only its hash is kept."""
        self.require_role(username, *ROLES)
        secret = "hs_" + secrets.token_urlsafe(32)
        row = {"token_id": uuid.uuid4().hex, "name": name, "username": username, "token_hash": token_hash(secret),
               "scopes": list(scopes), "created_at": utcnow()}

        def work(conn: Connection) -> None:
            conn.execute(insert(t.api_tokens), row)
            self._audit(conn, actor, "token.create", "api_token", row["token_id"], None,
                        {"name": name, "username": username, "scopes": list(scopes)})

        self._in_transaction(work)
        return {k: v for k, v in row.items() if k != "token_hash"}, secret

    def token_user(self, secret: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(token, user) for a valid, unrevoked token of an enabled user; None otherwise."""
        a = t.api_tokens.c
        with self.engine.begin() as conn:
            r = conn.execute(select(t.api_tokens).where(a.token_hash == token_hash(secret),
                                                        a.revoked_at.is_(None))).first()
            if r is None:
                return None
            conn.execute(update(t.api_tokens).where(a.token_id == r.token_id).values(last_used_at=utcnow()))
        user = self.user(r.username)
        if user is None or user["disabled_at"]:
            return None
        return {"token_id": r.token_id, "name": r.name, "scopes": r.scopes}, user

    def tokens(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [{"token_id": r.token_id, "name": r.name, "username": r.username, "scopes": r.scopes,
                     "created_at": iso(r.created_at), "last_used_at": iso(r.last_used_at),
                     "revoked_at": iso(r.revoked_at)} for r in conn.execute(select(t.api_tokens))]

    def revoke_token(self, token_id: str, actor: str) -> None:
        def work(conn: Connection) -> None:
            done = conn.execute(update(t.api_tokens).where(t.api_tokens.c.token_id == token_id,
                                                           t.api_tokens.c.revoked_at.is_(None))
                                .values(revoked_at=utcnow())).rowcount
            if not done:
                raise NotFound(f"no active API token {token_id!r}; see 'healthscore token list'", object_id=token_id)
            self._audit(conn, actor, "token.revoke", "api_token", token_id)

        self._in_transaction(work)

    # -- model governance -----------------------------------------------------------------------

    def model_versions(self) -> list[dict[str, Any]]:
        m = t.model_versions.c
        with self.engine.connect() as conn:
            return [_version_dict(r) for r in conn.execute(select(t.model_versions).order_by(m.created_at))]

    def model_version_record(self, version: str, with_yaml: bool = True) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.model_versions).where(t.model_versions.c.version.startswith(version))).all()
        if not rows:
            raise NotFound(f"no model version {version!r}; see 'healthscore model list'", object_id=version)
        if len(rows) > 1:
            raise InvalidInput(f"model version {version!r} is ambiguous: {', '.join(r.version for r in rows)}",
                               object_id=version)
        return _version_dict(rows[0], with_yaml)

    def active_model_version(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.model_versions).where(t.model_versions.c.status == "active")).first()
        return _version_dict(r, with_yaml=True) if r else None

    def propose_model(self, version: str, author: str, note: str, backtest: dict | None) -> dict[str, Any]:
        m = t.model_versions.c

        def work(conn: Connection) -> None:
            r = conn.execute(select(t.model_versions).where(m.version == version)).one()  # recorded before
            if r.status == "active":
                raise Conflict(f"model version {version} is already active", object_id=version)
            conn.execute(update(t.model_versions).where(m.version == version)
                         .values(status="proposed", author=author, note=note, backtest=backtest))
            self._audit(conn, author, "model.propose", "model_version", version, {"status": r.status},
                        {"status": "proposed", "note": note, "backtest": backtest})

        self._in_transaction(work)
        return self.model_version_record(version, with_yaml=False)

    def approve_model(self, version: str, actor: str) -> dict[str, Any]:
        self.require_role(actor, "admin")
        record = self.model_version_record(version, with_yaml=False)
        m = t.model_versions.c
        if record["status"] == "active":
            raise Conflict(f"model version {record['version']} is already active", object_id=record["version"])
        if record["status"] != "proposed":
            raise InvalidInput(f"model version {record['version']} is {record['status']}, not proposed: propose it"
                               " first with 'healthscore model propose FILE --note ...'")

        def work(conn: Connection) -> None:
            now = utcnow()
            old = conn.execute(select(m.version).where(m.status == "active")).scalar()
            if old is not None:
                conn.execute(update(t.model_versions).where(m.version == old).values(status="retired"))
            conn.execute(update(t.model_versions).where(m.version == record["version"])
                         .values(status="active", approved_by=actor, approved_at=now))
            self._audit(conn, actor, "model.approve", "model_version", record["version"],
                        {"active": old}, {"active": record["version"]})

        self._in_transaction(work)
        return self.model_version_record(record["version"], with_yaml=False)
