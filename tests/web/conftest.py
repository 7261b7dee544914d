"""Web fixtures: a small demo workspace with weekly history, a weekly run, users of every role and API tokens."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

END = dt.date(2026, 11, 2)
SECRET = "test-secret-key-" + "x" * 32
PASSWORDS = {"admin": "admin-demo-pass", "manager": "manager-demo-pass", "dana.kim": "dana-demo-pass",
             "viewer": "viewer-demo-pass", "marco.rossi": "marco-demo-pass"}


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory) -> Path:
    from healthscore.project import Project
    from tests.fixtures import demo_workspace

    ws = demo_workspace(tmp_path_factory, tmp_path_factory.mktemp("web") / "demo", accounts=150, seed=11, end=END,
                        history_weeks=6, workflow_end=END)
    with Project(ws) as p:
        p.user_add("marco.rossi", "csm", "admin", password=PASSWORDS["marco.rossi"])
    return ws


@pytest.fixture
def ws(demo_ws, tmp_path) -> Path:
    """A private copy of the demo workspace, for tests that write."""
    dest = tmp_path / "ws"
    shutil.copytree(demo_ws, dest)
    return dest


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
def project(app):
    return app.state.project


@pytest.fixture
def tokens(project) -> dict[str, str]:
    """Secrets of API tokens: <user> with read+write; viewer-rw (a viewer with write scope); read-only and
    events-only tokens of the manager."""
    out = {}
    for user in ("admin", "manager", "dana.kim", "viewer", "marco.rossi"):
        out[user] = project.token_create(user, f"{user} rw", ["read", "write"], "admin")[1]
    out["manager-read"] = project.token_create("manager", "ro", ["read"], "admin")[1]
    out["manager-events"] = project.token_create("manager", "ev", ["events:write"], "admin")[1]
    return out


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client, username: str, password: str | None = None):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                       "csrf_token": token, "next": "/"}, follow_redirects=False)


def open_task_of(project, owner: str) -> dict:
    tasks = [t for t in project.tasks(owner=owner) if t["owner"] == owner]
    assert tasks, f"the demo gives {owner} no open task"
    return tasks[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app):
    """A real uvicorn server for `app` on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def live_server(app):
    yield from serve(app)
