"""Governance: users and API tokens, and the health model's versions (propose, approve, show)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.authz import AccessDenied, Authorizer
from healthscore.errors import InvalidInput

if TYPE_CHECKING:
    from healthscore.services.calibration import CalibrationService
    from healthscore.services.parts import Parts

TOKEN_SCOPES = ("events:write", "read", "write")


class GovernanceService:
    def __init__(self, parts: Parts, authorizer: Authorizer, calibration: CalibrationService):
        self.parts = parts
        self.authorizer = authorizer
        self.calibration = calibration

    def user_add(self, username: str, role: str, actor: str, password: str | None = None,
                 display_name: str | None = None, os_user: str | None = None) -> dict:
        """Add a user: an admin does; the very first user of a store (an admin) adds themselves."""
        from healthscore.security import hash_password

        first = not self.parts.store.users()
        if first:
            if role != "admin":
                raise InvalidInput(f"the first user of a store must be an admin (--role admin), not {role}: nobody"
                                   " could add users otherwise", field="role")
        else:
            self.authorizer.authorize(actor, "users")
        return self.parts.store.add_user(username, role, actor, display_name=display_name, os_user=os_user,
                                   password_hash=hash_password(password, username) if password else None,
                                   first_only=first)

    def user_set(self, username: str, actor: str, role: str | None = None, password: str | None = None,
                 disabled: bool | None = None, old_password: str | None = None, os_user: str | None = None) -> dict:
        """Change a user. Role, disabling and the OS account: admins. A password: your own with the current
        one (a stolen session or shell must not lock you out), anyone's by an admin."""
        from healthscore.security import hash_password, verify_password

        me = self.authorizer.authorize(actor, "read")
        admin = me["role"] == "admin"
        if (role is not None or disabled is not None or os_user is not None) and not admin:
            raise AccessDenied(f"user {actor!r} has role {me['role']}; changing a role, a login or an OS"
                                     " account needs admin")
        if password:
            if actor == username:
                if not old_password or not verify_password(self.parts.store.password_hash(username), old_password):
                    raise AccessDenied("changing your own password needs your current one: give it on the"
                                             " first line of standard input with --old-password-stdin")
            elif not admin:
                raise AccessDenied(f"user {actor!r} has role {me['role']}; changing another user's password"
                                         " needs admin")
        return self.parts.store.set_user(username, actor, role=role, disabled=disabled, os_user=os_user,
                                   password_hash=hash_password(password, username) if password else None)

    def token_create(self, username: str, name: str, scopes: list[str], actor: str) -> tuple[dict, str]:
        bad = [s for s in scopes if s not in TOKEN_SCOPES]
        if bad or not scopes:
            raise InvalidInput(f"--scope {', '.join(bad) or '(none)'}: use one or more of {', '.join(TOKEN_SCOPES)}",
                               field="scope")
        self.authorizer.authorize(actor, "read" if actor == username else "users")
        return self.parts.store.create_token(username, name, scopes, actor)

    def model_list(self) -> list[dict]:
        file = self.parts.file_model
        self.parts.store.record_model_version(file.version, file.ir.name, str(file.path), file.yaml_text, file.ir_json)
        return self.parts.store.model_versions()

    def model_propose(self, path: Path | None, note: str, author: str, *, backtest: bool = True,
                      every_days: int = 30) -> dict:
        """Record a model file as a proposed version, with the backtest an approver will want to see."""
        from healthscore.model.load import load_health_model

        if not note:
            raise InvalidInput("--note is required: what changed and why, for the approver and the audit log",
                               field="note")
        loaded = self.parts.file_model if path is None else load_health_model(Path(path))
        self.parts.store.record_model_version(loaded.version, loaded.ir.name, str(loaded.path), loaded.yaml_text,
                                        loaded.ir_json)
        summary = None
        if backtest:
            summary = self.calibration.backtest_summary(loaded, every_days)
        return self.parts.store.propose_model(loaded.version, author, note, summary)

    def model_approve(self, version: str, actor: str) -> dict:
        return self.parts.store.approve_model(version, actor)

    def model_show(self, version: str) -> dict:
        """One stored version, with the diff of its YAML against the active (or the file's) model."""
        import difflib

        record = self.parts.store.model_version_record(version)
        base = self.parts.store.active_model_version()
        base_text, base_label = (base["yaml_text"], f"active {base['version']}") if base else \
            (self.parts.file_model.yaml_text, f"file {self.parts.file_model.version}")
        diff = "".join(difflib.unified_diff(base_text.splitlines(True), record["yaml_text"].splitlines(True),
                                            base_label, f"version {record['version']}"))
        return {**{k: v for k, v in record.items() if k != "yaml_text"}, "diff": diff}

    def login(self, username: str, password: str) -> dict | None:
        """The enabled user whose argon2 password hash matches, else None."""
        from healthscore.security import verify_password

        # one argon2 verification whether or not the user exists: the time taken tells nothing
        if not verify_password(self.parts.store.password_hash(username), password):
            return None
        user = self.parts.store.user(username)
        return user if user is not None and not user["disabled_at"] else None

    def api_token_user(self, secret: str) -> tuple[dict, dict] | None:
        """(token, user) for a valid, unrevoked API token of an enabled user (last use recorded once a minute)."""
        from healthscore.store import queries as Q

        return Q.token_lookup(self.parts.store, secret)

