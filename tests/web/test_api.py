"""The REST API through HTTP (TestClient): authentication, every role's denials, pagination, JSON errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.web.conftest import bearer, csrf_of, login, open_task_of

OK_EXPIRES = "2026-11-20"


def test_no_credentials_bad_and_revoked_tokens_get_401_json(client, project, tokens):
    r = client.get("/api/v1/accounts")
    assert r.status_code == 401 and "Bearer" in r.json()["error"]
    r = client.get("/api/v1/accounts", headers=bearer("hs_not-a-token"))
    assert r.status_code == 401 and "unknown, revoked" in r.json()["error"]
    token = next(t for t in project.store.tokens() if t["name"] == "manager-read" or t["scopes"] == ["read"])
    assert client.get("/api/v1/me", headers=bearer(tokens["manager-read"])).status_code == 200
    project.store.revoke_token(token["token_id"], "admin")
    assert client.get("/api/v1/me", headers=bearer(tokens["manager-read"])).status_code == 401


def test_a_token_without_the_read_scope_cannot_read(client, tokens):
    r = client.get("/api/v1/accounts", headers=bearer(tokens["manager-events"]))
    assert r.status_code == 403 and "'read' scope" in r.json()["error"]


def test_accounts_pagination_and_filters(client, tokens):
    h = bearer(tokens["viewer"])
    first = client.get("/api/v1/accounts?limit=20", headers=h).json()
    second = client.get("/api/v1/accounts?limit=20&offset=20", headers=h).json()
    assert first["total"] == second["total"] > 40
    assert first["next_offset"] == 20 and len(first["items"]) == len(second["items"]) == 20
    ids1, ids2 = {a["account_id"] for a in first["items"]}, {a["account_id"] for a in second["items"]}
    assert not ids1 & ids2
    scores = [a["score"] for a in first["items"] + second["items"] if a["score"] is not None]
    assert scores == sorted(scores)  # lowest score first
    last = client.get(f"/api/v1/accounts?limit=20&offset={first['total'] - 5}", headers=h).json()
    assert len(last["items"]) == 5 and last["next_offset"] is None
    red = client.get("/api/v1/accounts?tier=red&limit=500", headers=h).json()
    assert red["total"] == len(red["items"]) and all(a["tier"] == "red" for a in red["items"])
    mine = client.get("/api/v1/accounts?owner=dana.kim&limit=500", headers=h).json()
    assert mine["total"] > 0 and all(a["owner"] == "dana.kim" for a in mine["items"])
    seg = mine["items"][0]["segment"]
    both = client.get(f"/api/v1/accounts?owner=dana.kim&segment={seg}&limit=500", headers=h).json()
    assert 0 < both["total"] <= mine["total"] and all(a["segment"] == seg for a in both["items"])


@pytest.mark.parametrize("query, names", [
    ("/api/v1/accounts?tier=purple", "tier"),
    ("/api/v1/accounts?limit=0", "limit"),
    ("/api/v1/accounts?limit=abc", "limit"),
    ("/api/v1/accounts?offset=-1", "offset"),
    ("/api/v1/accounts?segment=nosuch", "segment"),
    ("/api/v1/accounts?owner=nobody", "owner"),
    ("/api/v1/changes?since=2026-13-01", "since"),
    ("/api/v1/changes", "since"),
    ("/api/v1/alerts?status=lost", "status"),
    ("/api/v1/accounts/A00001/snapshots?from=yesterday", "from"),
    ("/api/v1/changes?since=0001-01-01", "since"),
])
def test_bad_input_is_a_400_json_error_naming_the_parameter(client, tokens, query, names):
    r = client.get(query, headers=bearer(tokens["viewer"]))
    assert r.status_code == 400, r.text
    assert names in r.json()["error"]


def test_unknown_objects_are_404_json(client, tokens):
    h = bearer(tokens["viewer"])
    for path, word in (("/api/v1/accounts/NOPE", "unknown account 'NOPE'"), ("/api/v1/tasks/999999", "no review task"),
                       ("/api/v1/accounts/NOPE/evidence", "unknown account"), ("/api/v1/models/abcdef12", "no model")):
        r = client.get(path, headers=h)
        assert r.status_code == 404 and word in r.json()["error"], (path, r.text)
    assert client.get("/api/v1/nothing-here", headers=h).json() == {"error": "Not Found"}


def test_account_snapshot_evidence_and_history(client, tokens):
    h = bearer(tokens["viewer"])
    acc = client.get("/api/v1/accounts?tier=red&limit=1", headers=h).json()["items"][0]["account_id"]
    one = client.get(f"/api/v1/accounts/{acc}", headers=h).json()
    snap = one["snapshot"]
    assert snap["account_id"] == acc and snap["evidence"]
    assert abs(sum(e["points"] or 0 for e in snap["evidence"]) - (snap.get("computed") or snap)["score"]) < 0.02
    ev = client.get(f"/api/v1/accounts/{acc}/evidence?as_of={snap['as_of']}", headers=h).json()
    assert ev["evidence"] == snap["evidence"]
    hist = client.get(f"/api/v1/accounts/{acc}/snapshots?from=2026-10-01", headers=h).json()
    assert [s["as_of"] for s in hist] == sorted(s["as_of"] for s in hist) and hist[-1]["as_of"] == snap["as_of"]
    r = client.get(f"/api/v1/accounts/{acc}/evidence?as_of=2020-01-01", headers=h)
    assert r.status_code == 404 and "no stored snapshot at 2020-01-01" in r.json()["error"]


def test_explain_with_compare_attributes_the_change(client, tokens):
    h = bearer(tokens["viewer"])
    acc = client.get("/api/v1/accounts?limit=1", headers=h).json()["items"][0]
    r = client.get(f"/api/v1/accounts/{acc['account_id']}/explain?as_of=2026-11-02&compare=2026-10-26", headers=h)
    assert r.status_code == 200, r.text
    ch = r.json()["change"]
    assert ch["delta"] is None or abs(sum(m["points"] for m in ch["metrics"]) + ch["model_version_part"]
                                      + ch["override_part"] - ch["delta"]) < 0.02
    r = client.get(f"/api/v1/accounts/{acc['account_id']}/explain?as_of=2026-10-01&compare=2026-11-01", headers=h)
    assert r.status_code == 400 and "--compare" in r.json()["error"]


def test_viewer_and_read_only_tokens_cannot_review(client, project, tokens):
    task = open_task_of(project, "dana.kim")
    body = {"decision": "accept"}
    r = client.post(f"/api/v1/tasks/{task['task_id']}/review", json=body, headers=bearer(tokens["viewer"]))
    assert r.status_code == 403 and "role viewer" in r.json()["error"]
    r = client.post(f"/api/v1/tasks/{task['task_id']}/review", json=body, headers=bearer(tokens["manager-read"]))
    assert r.status_code == 403 and "'write' scope" in r.json()["error"]
    assert project.task(task["task_id"])["status"] == "open"


def test_a_csm_acts_only_on_own_accounts(client, project, tokens):
    task = open_task_of(project, "dana.kim")
    r = client.post(f"/api/v1/tasks/{task['task_id']}/review", json={"decision": "accept"},
                    headers=bearer(tokens["marco.rossi"]))
    assert r.status_code == 403 and "own accounts" in r.json()["error"]
    r = client.post(f"/api/v1/tasks/{task['task_id']}/review", json={"decision": "accept"},
                    headers=bearer(tokens["dana.kim"]))
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    entry = project.audit_page(5, object_type="task", object_id=str(task["task_id"]))["items"][0]
    assert entry["actor"] == "dana.kim" and entry["action"] == "task.accept"
    again = client.post(f"/api/v1/tasks/{task['task_id']}/review", json={"decision": "dismiss", "note": "x"},
                        headers=bearer(tokens["dana.kim"]))
    assert again.status_code == 409 and "already accepted" in again.json()["error"]
    assert project.audit_verify()["ok"]


def test_corrections_are_validated_like_the_cli(client, project, tokens):
    task = open_task_of(project, "dana.kim")
    url, h = f"/api/v1/tasks/{task['task_id']}/review", bearer(tokens["manager"])
    assert client.get("/api/v1/accounts?status=overridden", headers=h).json()["total"] == 0  # fills the cache
    cases = [({"decision": "correct", "score": 80, "reason_code": "other", "note": "n"}, "--expires"),
             ({"decision": "correct", "score": 80, "reason_code": "nope", "note": "n", "expires": OK_EXPIRES},
              "--reason-code"),
             ({"decision": "correct", "score": 180, "reason_code": "other", "note": "n", "expires": OK_EXPIRES},
              "--score"),
             ({"decision": "correct", "score": 80, "reason_code": "other", "note": "n", "expires": "2027-12-01"},
              "--expires"),
             ({"decision": "maybe"}, "decision"),
             ({"decision": "accept", "extra": 1}, "extra")]
    for body, word in cases:
        r = client.post(url, json=body, headers=h)
        assert r.status_code == 400 and word in r.json()["error"], (body, r.text)
    r = client.post(url, json={"decision": "correct", "score": 81, "reason_code": "relationship_context",
                               "note": "exec sponsor re-engaged", "expires": OK_EXPIRES}, headers=h)
    assert r.status_code == 200, r.text
    ov = client.get(f"/api/v1/overrides?account_id={task['account_id']}", headers=h).json()
    assert ov[0]["score"] == 81 and ov[0]["author"] == "manager" and ov[0]["expires_on"] == OK_EXPIRES
    acc = client.get(f"/api/v1/accounts/{task['account_id']}", headers=h).json()["snapshot"]
    assert acc["status"] == "overridden" and acc["score"] == 81
    listed = client.get("/api/v1/accounts?status=overridden", headers=h).json()["items"]  # cached lists follow
    assert [(a["account_id"], a["score"]) for a in listed] == [(task["account_id"], 81)]


def test_a_browser_session_writes_only_with_its_csrf_header(client, project):
    task = open_task_of(project, "dana.kim")
    assert login(client, "dana.kim").status_code == 303
    assert client.get("/api/v1/me").json()["username"] == "dana.kim"  # the session reads
    url = f"/api/v1/tasks/{task['task_id']}/review"
    r = client.post(url, json={"decision": "accept"})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    token = csrf_of(client.get("/workbench").text)
    r = client.post(url, json={"decision": "accept"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["decided_by"] == "dana.kim"


def test_only_an_admin_approves_a_model_version(client, project, tokens, ws):
    original = project.model_propose(None, "the demo model", "admin", backtest=False)["version"]
    project.model_approve(original, "admin")
    model = ws / "models" / "health.yaml"
    text = model.read_text()
    assert "relationship: 5}" in text
    model.write_text(text.replace("relationship: 5}", "relationship: 6}", 1))
    project.reload_model()
    proposed = project.model_propose(None, "comment only", "manager", backtest=False)
    version = proposed["version"]
    shown = client.get(f"/api/v1/models/{version}", headers=bearer(tokens["viewer"])).json()
    assert shown["status"] == "proposed" and "relationship: 6}" in shown["diff"]
    for who in ("manager", "dana.kim", "viewer"):
        r = client.post(f"/api/v1/models/{version}/approve", headers=bearer(tokens[who]))
        assert r.status_code == 403 and "model.approve needs admin" in r.json()["error"], who
    r = client.post(f"/api/v1/models/{version}/approve", headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = client.post(f"/api/v1/models/{version}/approve", headers=bearer(tokens["admin"]))
    assert r.status_code == 409 and "already active" in r.json()["error"]
    assert project.model.version == version
    r = client.get(f"/api/v1/models/{version}/backtest", headers=bearer(tokens["admin"]))
    assert r.status_code == 404 and "no stored backtest" in r.json()["error"]


def test_tasks_alerts_audit_and_measurement(client, tokens):
    h = bearer(tokens["viewer"])
    tasks = client.get("/api/v1/tasks?status=all&limit=5&order=due", headers=h).json()
    assert tasks["total"] >= len(tasks["items"]) > 0
    dues = [t["due_at"] for t in tasks["items"]]
    assert dues == sorted(dues)
    # open tasks come by rank: the most expected ARR at risk first, and the total is the real count
    ranked = client.get("/api/v1/tasks?status=open&limit=500", headers=h).json()
    values = [t["next_action"]["triage"]["rank_value"] for t in ranked["items"]]
    assert ranked["order"] == "rank" and values == sorted(values, reverse=True)
    assert ranked["total"] == len(ranked["items"])
    page = client.get("/api/v1/tasks?status=open&limit=2", headers=h).json()
    assert page["total"] == ranked["total"] and page["shown"] == 2 and page["next_offset"] == 2
    one = client.get(f"/api/v1/tasks/{tasks['items'][0]['task_id']}", headers=h).json()
    assert one["evidence"] and one["next_action"]["draft"] is True
    alerts = client.get("/api/v1/alerts?limit=3", headers=h).json()
    assert len(alerts["items"]) == 3 and alerts["total"] > 3
    more = client.get("/api/v1/alerts?limit=3&offset=3", headers=h).json()
    assert {a["alert_id"] for a in alerts["items"]}.isdisjoint(a["alert_id"] for a in more["items"])
    audit = client.get("/api/v1/audit?limit=2", headers=h).json()
    older = client.get(f"/api/v1/audit?limit=2&before_seq={audit['next_before_seq']}", headers=h).json()
    assert audit["items"][0]["seq"] > audit["items"][1]["seq"] > older["items"][0]["seq"]
    assert client.get("/api/v1/audit/verify", headers=h).json()["ok"] is True
    assert "material_changes" in client.get("/api/v1/reports/measurement", headers=h).json()


def test_portfolio_api_adds_up(client, tokens):
    p = client.get("/api/v1/portfolio", headers=bearer(tokens["viewer"])).json()
    assert sum(t["accounts"] for t in p["tiers"]) == p["accounts"]
    assert abs(sum(t["share"] for t in p["tiers"]) - 1) < 0.01
    risk = sum(t["arr"] for t in p["tiers"] if t["tier"] in ("red", "yellow"))
    assert abs(risk - p["arr_at_risk"]) < 1
    assert p["distribution"][-1]["as_of"] == p["as_of"]
    assert sum(p["distribution"][-1]["buckets"].values()) <= p["accounts"]
    assert all(r["tier"] in ("red", "yellow") for r in p["at_risk"])
    mine = client.get("/api/v1/portfolio?owner=dana.kim", headers=bearer(tokens["viewer"])).json()
    assert 0 < mine["accounts"] < p["accounts"]


def test_portfolio_arr_is_the_snapshots_arr_as_of_each_date(client, project, tokens):
    """Point in time: a tier's ARR (this date's and last month's) is the ARR its accounts had as of that date, as
    their snapshots recorded it (the CLI's figures), not today's accounts table applied to an older date."""
    import duckdb

    p = client.get("/api/v1/portfolio", headers=bearer(tokens["viewer"])).json()
    files = str(project.store.history.root / f"model_version={project.model.version}" / "*" / "*.parquet")

    def arr_by_tier(as_of: str) -> dict[str, float]:
        rows = duckdb.sql("SELECT coalesce(tier, status), sum(arr) FROM read_parquet(?, hive_partitioning = true)"
                          " WHERE CAST(as_of AS VARCHAR) = ? GROUP BY 1", params=[files, as_of]).fetchall()
        return {tier: float(arr) for tier, arr in rows}

    now, before = arr_by_tier(p["as_of"]), arr_by_tier(p["previous_as_of"])
    assert now and before
    # this date's total (an owner's override, which other tests make, moves an account between tiers, not its ARR)
    assert abs(p["arr"] - sum(now.values())) < 0.01, (p["arr"], sum(now.values()))
    for t in p["tiers"]:
        assert abs(t["previous_arr"] - before.get(t["tier"], 0.0)) < 0.01, t


def test_small_backtest_runs_for_a_manager_not_a_viewer(client, tokens):
    body = {"from": "2026-03-01", "to": "2026-05-01", "every_days": 30}
    r = client.post("/api/v1/backtests", json=body, headers=bearer(tokens["viewer"]))
    assert r.status_code == 403
    r = client.post("/api/v1/backtests", json={**body, "to": "2027-06-01", "every_days": 7},
                    headers=bearer(tokens["manager"]))
    assert r.status_code == 400 and "more than 12" in r.json()["error"]
    r = client.post("/api/v1/backtests", json=body, headers=bearer(tokens["manager"]))
    assert r.status_code == 200, r.text
    assert r.json()["from"] == "2026-03-01" and "roc_auc" in r.json()


# ---- events in -----------------------------------------------------------------------------------


def test_events_need_the_events_scope_and_a_canonical_table(client, tokens):
    rows = [{"account_id": "A00001", "ts": "2026-11-01T10:00:00", "event": "login", "event_id": "e1"}]
    r = client.post("/api/v1/events?table=usage_events", json=rows, headers=bearer(tokens["manager-read"]))
    assert r.status_code == 403 and "events:write" in r.json()["error"]
    r = client.post("/api/v1/events?table=usage_events", json=rows, headers=bearer(tokens["viewer"]))
    assert r.status_code == 403
    r = client.post("/api/v1/events?table=nope", json=rows, headers=bearer(tokens["manager-events"]))
    assert r.status_code == 400 and "canonical table" in r.json()["error"]
    r = client.post("/api/v1/events?table=usage_events", content=b"{not json\n", headers=bearer(tokens["manager-events"]))
    assert r.status_code == 400 and "line 1" in r.json()["error"]


def test_events_as_ndjson_and_json_array_are_validated_and_idempotent(client, tokens):
    h = bearer(tokens["manager-events"])
    good = [{"account_id": "A00001", "ts": "2026-11-01T10:00:00", "event": "login", "event_id": f"api-{i}"}
            for i in range(3)]
    bad = {"account_id": "A00001", "ts": "not a time", "event": "login", "event_id": "api-bad"}
    ndjson = "\n".join(json.dumps(r) for r in [*good, bad]).encode()
    r = client.post("/api/v1/events?table=usage_events", content=ndjson,
                    headers={**h, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["read"] == 4 and rep["accepted"] == 3 and rep["quarantined"] == 1
    assert rep["read"] == rep["accepted"] + rep["quarantined"] and rep["quarantine"][0]["reason"]
    again = client.post("/api/v1/events?table=usage_events", json=good, headers=h).json()
    assert again["read"] == 3 and again["read"] == again["accepted"] + again["quarantined"]
    assert again["already_ingested"] == 3  # event ids already stored are not added twice
    assert rep["rescored"] == 1  # the one account the events name was rescored at once


def test_openapi_lists_the_api(client):
    spec = client.get("/api/v1/openapi.json").json()
    paths = set(spec["paths"])
    for p in ("/api/v1/accounts", "/api/v1/accounts/{account_id}", "/api/v1/tasks/{task_id}/review",
              "/api/v1/events", "/api/v1/models/{version}/approve", "/api/v1/audit", "/api/v1/backtests"):
        assert p in paths
    assert not any(p.startswith("/portfolio") or p == "/login" for p in paths)  # pages are not API
    assert client.get("/docs").status_code == 200


def test_dates_are_checked(client, tokens):
    r = client.get(f"/api/v1/overrides?active_on={dt.date(1, 1, 1)}", headers=bearer(tokens["viewer"]))
    assert r.status_code == 400 and "active_on" in r.json()["error"]


def test_the_server_leaves_the_engine_free_for_the_cli(client, project, tokens, ws):
    """A DuckDB file allows one process at a time: between requests the app holds no engine connection,
    so 'healthscore score' and 'run weekly' (another process) work while it serves."""
    import subprocess
    import sys

    h = bearer(tokens["viewer"])
    acc = client.get("/api/v1/accounts?limit=1", headers=h).json()["items"][0]["account_id"]
    assert client.get(f"/api/v1/accounts/{acc}/snapshots", headers=h).status_code == 200
    assert client.get("/api/v1/reports/measurement", headers=h).status_code == 200
    assert "con" not in project.__dict__
    path = str(ws / ".healthscore" / "engine.duckdb")
    other = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({path!r}).close()"],
                           capture_output=True, text=True)
    assert other.returncode == 0, other.stderr[-300:]  # another process opens the engine file


def test_a_one_account_explain_does_not_move_the_portfolio_date(client, project, tokens):
    """'explain' is a read: without a date it returns the account's newest stored snapshot; at a later
    date (today, after the demo's end) it computes one and stores nothing, so the portfolio stays at
    the date of the last portfolio-wide run, with every account."""
    h = bearer(tokens["viewer"])
    before = client.get("/api/v1/portfolio", headers=h).json()
    latest = project.store.latest_as_of(project.model.version)
    acc = client.get("/api/v1/accounts?limit=1", headers=h).json()["items"][0]["account_id"]
    stored = client.get(f"/api/v1/accounts/{acc}/explain", headers=h).json()
    assert (stored["as_of"], stored["stored"]) == (before["as_of"], True)
    later = (dt.date.fromisoformat(before["as_of"]) + dt.timedelta(days=3)).isoformat()
    r = client.get(f"/api/v1/accounts/{acc}/explain?as_of={later}", headers=h)
    assert r.status_code == 200 and (r.json()["as_of"], r.json()["stored"]) == (later, False)
    assert project.store.latest_as_of(project.model.version) == latest  # nothing was stored
    after = client.get("/api/v1/portfolio", headers=h).json()
    assert (after["as_of"], after["accounts"]) == (before["as_of"], before["accounts"])
    assert client.get("/api/v1/accounts?limit=1", headers=h).json()["total"] == before["accounts"]
