"""The web app on a PostgreSQL store: the same aggregates, paging, review and audit as on SQLite."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from tests.web.conftest import END, PASSWORDS, SECRET, bearer, csrf_of, login, open_task_of

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_client(demo_ws, tmp_path, pg_database):
    from fastapi.testclient import TestClient

    from healthscore.project import Project
    from healthscore.web.app import create_app

    ws = tmp_path / "pgws"
    shutil.copytree(demo_ws, ws, ignore=shutil.ignore_patterns("store.db*"))
    cfg = ws / "healthscore.yaml"
    cfg.write_text(cfg.read_text() + f"store: {pg_database}\n")
    with Project(ws) as p:
        p.backfill(END - dt.timedelta(days=21), END - dt.timedelta(days=7), every_days=7)
        p.score(END)
        p.run_weekly(END, notify=False)
        for user, role in (("admin", "admin"), ("dana.kim", "csm"), ("viewer", "viewer")):
            p.user_add(user, role, "admin", password=PASSWORDS[user])
    app = create_app(ws, secret_key=SECRET)
    with TestClient(app) as c:
        yield c, app.state.project


def test_portfolio_accounts_and_a_review_on_postgres(pg_client):
    client, project = pg_client
    assert project.store.engine.dialect.name == "postgresql"
    secret = project.token_create("viewer", "t", ["read", "write"], "admin")[1]
    h = bearer(secret)
    p = client.get("/api/v1/portfolio", headers=h).json()
    assert p["as_of"] == END.isoformat() and sum(t["accounts"] for t in p["tiers"]) == p["accounts"] > 0
    assert [d["as_of"] for d in p["distribution"]][-1] == END.isoformat()
    a = client.get("/api/v1/accounts?limit=10&offset=10", headers=h).json()
    assert len(a["items"]) == 10 and a["total"] == p["accounts"]
    task = open_task_of(project, "dana.kim")
    r = client.post(f"/api/v1/tasks/{task['task_id']}/review", json={"decision": "accept"}, headers=h)
    assert r.status_code == 403
    login(client, "dana.kim")
    page = client.get(f"/tasks/{task['task_id']}").text
    r = client.post(f"/tasks/{task['task_id']}/review",
                    data={"decision": "dismiss", "note": "known data gap", "csrf_token": csrf_of(page)})
    assert r.status_code == 200 and "dismissed by dana.kim" in r.text
    for path in ("/portfolio", "/queue", "/workbench", f"/accounts/{task['account_id']}"):
        assert client.get(path).status_code == 200, path
    assert project.audit_verify()["ok"]
