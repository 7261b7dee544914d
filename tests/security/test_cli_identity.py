"""Forged identities on the command line: the CLI acts only as a user the shell can prove (an API token in
HEALTHSCORE_TOKEN or a 0600 credentials file, or a mapped OS account), with that user's role and ownership
rules. Every forgery is refused with a clear message and a non-zero exit, and nothing reaches the audit log.

The CLI runs in-process (tests.cli.runner) in an environment of its own: no token unless given, an empty config
home; the OS account is the kernel's uid either way."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from healthscore.authz import os_login
from healthscore.project import Project
from tests.cli.runner import invoke
from tests.security.conftest import PASSWORDS, audit_count, refused


def run_cli(ws: Path, *args: str, token: str | None = None, env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """The command line as tests.security.conftest.run_cli gives it, in-process: no HEALTHSCORE_* variable but
    the token, an empty config home, then `env`."""
    e: dict[str, str | None] = {k: None for k in os.environ if k.startswith("HEALTHSCORE_")}
    e["XDG_CONFIG_HOME"] = str(ws.parent / "config-home")
    if token is not None:
        e["HEALTHSCORE_TOKEN"] = token
    e.update(env or {})
    return invoke(*args, "-w", str(ws), input=input, env=e)


def task_of(ws, owner: str) -> int:
    with Project(ws) as p:
        return next(t["task_id"] for t in p.tasks(owner=owner) if t["owner"] == owner)


def test_review_by_another_user_name_is_refused(ws, tokens):
    task = task_of(ws, "dana.kim")
    before = audit_count(ws)
    refused(run_cli(ws, "review", str(task), "--accept", "--by", "viewer", token=tokens["dana.kim"]),
            "no credential for 'viewer'")
    refused(run_cli(ws, "review", str(task), "--accept", "--by", "admin", token=tokens["dana.kim"]),
            "no credential for 'admin'")
    assert audit_count(ws) == before
    # her own name works: --by only picks among the shell's verified identities
    ok = run_cli(ws, "review", str(task), "--accept", "--by", "dana.kim", token=tokens["dana.kim"])
    assert ok.returncode == 0, ok.stderr
    assert audit_count(ws) == before + 1


def test_a_viewer_with_a_valid_token_still_cannot_review(ws, tokens):
    task = task_of(ws, "dana.kim")
    before = audit_count(ws)
    refused(run_cli(ws, "review", str(task), "--accept", token=tokens["viewer"]), "role viewer", "review needs")
    assert audit_count(ws) == before


def test_a_user_that_does_not_exist_is_refused(ws, tokens):
    task = task_of(ws, "dana.kim")
    before = audit_count(ws)
    refused(run_cli(ws, "review", str(task), "--accept", "--by", "nobody.at.all"), "no verified identity")
    refused(run_cli(ws, "review", str(task), "--accept", "--by", "nobody.at.all", token=tokens["manager"]),
            "no credential for 'nobody.at.all'")
    refused(run_cli(ws, "review", str(task), "--accept", token="hs_forged-token-value"), "HEALTHSCORE_TOKEN")
    assert audit_count(ws) == before


def test_a_csm_cannot_act_on_another_csms_task(ws, tokens):
    task = task_of(ws, "marco.rossi")
    before = audit_count(ws)
    refused(run_cli(ws, "review", str(task), "--dismiss", "--reason", "x", token=tokens["dana.kim"]),
            "acts only on own accounts", "marco.rossi")
    refused(run_cli(ws, "followup", str(task), "--note", "x", token=tokens["dana.kim"]), "acts only on own accounts")
    refused(run_cli(ws, "intervention", "log", str(task), "--channel", "call", token=tokens["dana.kim"]),
            "acts only on own accounts")
    assert audit_count(ws) == before


def test_healthscore_user_cannot_make_anyone_an_admin(ws, tokens):
    with Project(ws) as p:
        version = p.model_propose(None, "a proposal", "manager", backtest=False)["version"]
        p.user_set("admin", "admin", os_user="someone-else")
    before = audit_count(ws)
    refused(run_cli(ws, "model", "approve", version, env={"HEALTHSCORE_USER": "admin"}), "no verified identity")
    refused(run_cli(ws, "model", "approve", version, token=tokens["dana.kim"], env={"HEALTHSCORE_USER": "admin"}),
            "HEALTHSCORE_USER admin", "no credential for 'admin'")
    refused(run_cli(ws, "model", "approve", version, token=tokens["manager"]), "model.approve needs admin")
    # $USER and $LOGNAME are not the OS account (admin is mapped to someone-else): the kernel's uid is
    refused(run_cli(ws, "model", "approve", version, env={"USER": "someone-else", "LOGNAME": "someone-else"}),
            "no verified identity")
    assert audit_count(ws) == before
    ok = run_cli(ws, "model", "approve", version, token=tokens["admin"])
    assert ok.returncode == 0, ok.stderr


def test_user_add_from_an_unmapped_shell_is_refused(ws, tokens):
    before = audit_count(ws)
    refused(run_cli(ws, "user", "add", "eve", "--role", "admin", "--by", "admin"), "no verified identity",
            f"--os-user {os_login()}")
    refused(run_cli(ws, "user", "add", "eve", "--role", "admin", "--by", "admin", token=tokens["manager"]),
            "no credential for 'admin'")
    refused(run_cli(ws, "user", "add", "eve", "--role", "admin", token=tokens["manager"]), "users needs admin")
    refused(run_cli(ws, "token", "create", "x", "--user", "admin", token=tokens["manager"]), "users needs admin")
    assert audit_count(ws) == before


def test_changing_a_password_needs_the_old_one(ws, tokens):
    before = audit_count(ws)
    new = "a brand new passphrase for dana"
    refused(run_cli(ws, "user", "set", "dana.kim", "--password-stdin", token=tokens["dana.kim"], input=new + "\n"),
            "needs your current one")
    refused(run_cli(ws, "user", "set", "dana.kim", "--old-password-stdin", "--password-stdin",
                    token=tokens["dana.kim"], input=f"wrong old password\n{new}\n"), "needs your current one")
    refused(run_cli(ws, "user", "set", "marco.rossi", "--password-stdin", token=tokens["dana.kim"], input=new + "\n"),
            "needs admin")
    refused(run_cli(ws, "user", "set", "dana.kim", "--role", "admin", token=tokens["dana.kim"]), "needs admin")
    assert audit_count(ws) == before
    ok = run_cli(ws, "user", "set", "dana.kim", "--old-password-stdin", "--password-stdin", token=tokens["dana.kim"],
                 input=f"{PASSWORDS['dana.kim']}\n{new}\n")
    assert ok.returncode == 0, ok.stderr
    with Project(ws) as p:
        assert p.login("dana.kim", new) and not p.login("dana.kim", PASSWORDS["dana.kim"])


def test_common_passwords_are_refused(ws, tokens):
    for weak in ("password", "password1234", "qwertyuiop123", "dana.kim2026!"):
        refused(run_cli(ws, "user", "set", "dana.kim", "--password-stdin", token=tokens["admin"], input=weak + "\n"),
                "password")


def test_a_credentials_file_others_can_read_is_refused(ws, tokens):
    path = ws / ".healthscore" / "credentials"
    path.write_text(f"dana.kim {tokens['dana.kim']}\n")
    os.chmod(path, 0o644)
    task = task_of(ws, "dana.kim")
    refused(run_cli(ws, "review", str(task), "--accept"), "chmod 600")
    os.chmod(path, 0o600)
    ok = run_cli(ws, "review", str(task), "--accept")
    assert ok.returncode == 0, ok.stderr
    with Project(ws) as p:
        assert p.task(task)["decided_by"] == "dana.kim"


def test_a_read_only_token_cannot_write(ws):
    with Project(ws) as p:
        ro = p.token_create("dana.kim", "ro", ["read"], "admin")[1]
    before = audit_count(ws)
    refused(run_cli(ws, "review", str(task_of(ws, "dana.kim")), "--accept", token=ro), "lacks the 'write' scope")
    assert audit_count(ws) == before


def test_a_mapped_os_account_acts_as_its_user(ws):
    with Project(ws) as p:
        p.user_set("manager", "admin", os_user=os_login())
    task = task_of(ws, "dana.kim")
    ok = run_cli(ws, "review", str(task), "--accept")
    assert ok.returncode == 0, ok.stderr
    with Project(ws) as p:
        assert p.task(task)["decided_by"] == "manager"


@pytest.mark.parametrize("role", ["manager", "csm"])
def test_the_first_user_must_be_an_admin_and_maps_the_os_account(tmp_path, role):
    from healthscore.scaffold import init_workspace

    ws = tmp_path / "w"
    init_workspace(ws)
    refused(run_cli(ws, "user", "add", "first", "--role", role), "first user of a store must be an admin")
    ok = run_cli(ws, "user", "add", "first", "--role", "admin")
    assert ok.returncode == 0, ok.stderr
    with Project(ws) as p:
        assert p.store.user("first")["os_user"] == os_login()
    ok = run_cli(ws, "user", "add", "second", "--role", role)
    assert ok.returncode == 0, ok.stderr
