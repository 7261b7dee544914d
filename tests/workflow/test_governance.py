"""Model governance, users and API tokens: only an admin activates a model, the audit log records it,
snapshots keep the version they were scored with."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from healthscore.cli.app import app
from healthscore.errors import UserError
from healthscore.project import Project
from healthscore.scaffold import build_demo

END = dt.date(2026, 9, 1)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("gov") / "demo"
    build_demo(ws, accounts=200, seed=5, end=END)
    return ws


@pytest.fixture
def ws(base, tmp_path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(base, dest)
    return dest


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def cli_error(*args: str, input: str | None = None) -> str:
    """Run the real command line; a user error exits 2 with one message and no traceback."""
    proc = subprocess.run([sys.executable, "-m", "healthscore", *args], input=input, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def test_only_an_admin_activates_a_proposed_version_and_the_active_version_scores(ws):
    w = ["-w", str(ws)]
    assert cli("user", "add", "root", "--role", "admin", *w, "--by", "root").exit_code == 0  # the first user
    assert cli("user", "add", "dana.kim", "--role", "csm", *w, "--by", "root").exit_code == 0
    assert "no credential for 'dana.kim'" in cli_error("user", "add", "eve", "--role", "admin", *w, "--by", "dana.kim")

    with Project(ws) as p:
        original = p.model.version
        proposed = p.model_propose(None, "seed model", "dana.kim", backtest=True)
        assert proposed["status"] == "proposed" and proposed["version"] == original
        assert proposed["backtest"]["roc_auc"] is not None and proposed["backtest"]["labelled"] > 0
        with pytest.raises(UserError, match="needs admin"):
            p.model_approve(original, "dana.kim")
        assert p.model_approve(original[:6], "root")["status"] == "active"
        p.score(END)

    # An edited model file does not score until it is proposed and approved.
    path = ws / "models" / "health.yaml"
    data = yaml.safe_load(path.read_text())
    data["tiers"] = {"green": 75, "yellow": 45}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with Project(ws) as p:
        assert p.model.version == original and p.file_model.version != original
        assert "is not approved" in p.model_notice
        edited = p.model_propose(None, "stricter tiers", "dana.kim", backtest=False)
        shown = p.model_show(edited["version"])
        assert "+tiers:" in shown["diff"] or "green: 75" in shown["diff"]
        p.model_approve(edited["version"], "root")
    with Project(ws) as p:
        assert p.model.version == edited["version"] and p.model_notice is None
        statuses = {v["version"]: v["status"] for v in p.model_list()}
        assert statuses[original] == "retired" and statuses[edited["version"]] == "active"
        p.score(END)
        # history is never rewritten: both versions' snapshots of the same date are stored
        versions = {s["model_version"] for s in p.store.snapshots(as_of=END, with_evidence=False)}
        assert {original, edited["version"]} <= versions
        actions = [(e["action"], e["actor"]) for e in p.audit_log()]
        assert ("model.approve", "root") in actions and ("model.propose", "dana.kim") in actions
        assert p.audit_verify()["ok"]


def test_approving_needs_a_proposal_first(ws):
    with Project(ws) as p:
        p.user_add("root", "admin", "root")
        p.model_list()  # records the file's version
        with pytest.raises(UserError, match="propose it first"):
            p.model_approve(p.file_model.version, "root")
        with pytest.raises(UserError, match="no model version"):
            p.model_approve("ffffffff", "root")
        with pytest.raises(UserError, match="--note"):
            p.model_propose(None, "", "root", backtest=False)


def test_tokens_are_hashed_scoped_and_revocable(ws):
    w = ["-w", str(ws)]
    cli("user", "add", "root", "--role", "admin", *w, "--by", "root")
    res = cli("token", "create", "segment", "--user", "root", "--scope", "read", "--scope", "events:write", *w,
              "--by", "root", "--json")
    assert res.exit_code == 0, res.output
    token = json.loads(res.stdout)
    with Project(ws) as p:
        found = p.store.token_user(token["secret"])
        assert found and found[0]["scopes"] == ["read", "events:write"] and found[1]["username"] == "root"
        assert token["secret"] not in json.dumps(p.store.tokens())
        assert p.store.token_user(token["secret"] + "x") is None
    assert cli("token", "revoke", token["token_id"], *w, "--by", "root").exit_code == 0
    with Project(ws) as p:
        assert p.store.token_user(token["secret"]) is None
    assert "events:write, read, write" in cli_error("token", "create", "x", "--user", "root", "--scope", "admin", *w,
                                                    "--by", "root")


def test_passwords_are_argon2_hashes(ws):
    w = ["-w", str(ws)]
    res = cli("user", "add", "root", "--role", "admin", "--password-stdin", *w, "--by", "root",
              input="correct horse battery\n")
    assert res.exit_code == 0, res.output
    from healthscore.security import verify_password

    with Project(ws) as p:
        stored = p.store.password_hash("root")
        assert stored.startswith("$argon2") and "correct horse" not in stored
        assert verify_password(stored, "correct horse battery") and not verify_password(stored, "wrong")
    assert "at least 12" in cli_error("user", "add", "x", "--role", "viewer", "--password-stdin", *w, "--by", "root",
                                     input="short\n")
