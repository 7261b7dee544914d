"""Security fixtures: a small demo workspace (users of every role, dana.kim and marco.rossi owning accounts)
whose CLI identities are removed, so each test decides which credential the shell holds."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

END = dt.date(2026, 11, 2)
SECRET = "test-secret-key-" + "x" * 32
PASSWORDS = {"admin": "admin-demo-pass", "manager": "manager-demo-pass", "dana.kim": "dana-demo-pass",
             "viewer": "viewer-demo-pass", "marco.rossi": "marco-demo-pass"}


@pytest.fixture(scope="session")
def sec_demo(tmp_path_factory) -> Path:
    from healthscore.project import Project
    from tests.fixtures import demo_workspace

    ws = demo_workspace(tmp_path_factory, tmp_path_factory.mktemp("security") / "demo", accounts=150, seed=11,
                        end=END, history_weeks=6, workflow_end=END)
    (ws / ".healthscore" / "credentials").unlink()  # no identity unless a test gives one
    with Project(ws) as p:
        p.user_add("marco.rossi", "csm", "admin", password=PASSWORDS["marco.rossi"])
    return ws


@pytest.fixture
def ws(sec_demo, tmp_path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(sec_demo, dest)
    return dest


@pytest.fixture
def tokens(ws) -> dict[str, str]:
    """read+write API token secrets of every demo user."""
    from healthscore.project import Project

    with Project(ws) as p:
        return {u: p.token_create(u, "cli", ["read", "write"], "admin")[1] for u in PASSWORDS}


def run_cli(ws: Path, *args: str, token: str | None = None, env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """The real command line in a clean environment: no token unless given, an empty config home."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHSCORE_")}
    e["XDG_CONFIG_HOME"] = str(ws.parent / "config-home")
    if token is not None:
        e["HEALTHSCORE_TOKEN"] = token
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "healthscore", *args, "-w", str(ws)], input=input,
                          capture_output=True, text=True, timeout=120, env=e)


def refused(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """A refusal: exit 2, one clear message naming the problem, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: "), proc.stderr
    for n in needles:
        assert n in proc.stderr, proc.stderr
    return proc.stderr


def audit_count(ws: Path) -> int:
    from healthscore.project import Project

    with Project(ws) as p:
        return len(p.audit_log())


@pytest.fixture
def app(ws):
    from healthscore.web.app import create_app

    return create_app(ws, secret_key=SECRET)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def live_server(app):
    from tests.web.conftest import serve

    yield from serve(app)


@pytest.fixture
def project(app):
    return app.state.project
