"""Issue 15 views: a paused snapshot stays visible at its last trusted tier, and lists say how much they show."""

from __future__ import annotations

import json
import sqlite3

from healthscore.project import Project


def _pause(ws, account_id: str, last: dict, reason: str) -> None:
    """Turn the account's latest stored snapshot into a paused one that remembers `last`."""
    db = sqlite3.connect(ws / ".healthscore" / "store.db")
    as_of = db.execute("SELECT max(as_of) FROM snapshots WHERE account_id = ?", (account_id,)).fetchone()[0]
    db.execute("UPDATE snapshots SET status = 'paused', score = NULL, tier = NULL, smoothed_score = NULL,"
               " last_trusted = ?, reasons = ? WHERE account_id = ? AND as_of = ?",
               (json.dumps(last), json.dumps([reason]), account_id, as_of))
    db.commit()
    db.close()


def test_paused_at_risk_accounts_count_in_arr_at_risk(ws):
    with Project(ws) as p:
        before = p.read_models.portfolio()
        frame = p.read_models.latest()["frame"]
        red = frame[(frame["tier"] == "red") & (frame["arr"] > 0)].iloc[0]
        green = frame[(frame["tier"] == "green") & (frame["arr"] > 0)].iloc[0]
    _pause(ws, red["account_id"], {"as_of": "2026-10-01", "score": 31.0, "tier": "red"},
           "conflict csm_green_usage_collapsed: the CSM says green while usage fell")
    _pause(ws, green["account_id"], {"as_of": "2026-10-01", "score": 88.0, "tier": "green"},
           "tickets stale: newest row 40 days old (limit 30d)")
    with Project(ws) as p:  # a fresh project: nothing cached
        after = p.read_models.portfolio()
        rows = {r["account_id"]: r for r in p.read_models.accounts(status="paused", limit=500)["items"]}
    # the red account paused: still in ARR at risk, shown as paused (at risk) with its last trusted score
    assert after["arr_at_risk"] == before["arr_at_risk"]
    assert after["paused_at_risk"] == {"accounts": 1, "arr": round(float(red["arr"]), 2)}
    r = rows[red["account_id"]]
    assert r["display_tier"] == "paused (at risk)" and r["risk_tier"] == "red" and r["risk_score"] == 31.0
    assert rows[green["account_id"]]["display_tier"] == "paused"
    reasons = {x["reason"]: x for x in after["paused_by_reason"]}
    assert reasons["conflict: csm_green_usage_collapsed"] == {"reason": "conflict: csm_green_usage_collapsed",
                                                              "accounts": 1, "at_risk": 1}
    assert reasons["stale: tickets"]["accounts"] == 1 and reasons["stale: tickets"]["at_risk"] == 0


def test_every_truncated_list_says_so(client, project):
    from tests.web.conftest import login

    login(client, "manager")
    everything = project.tasks_page(status="all", limit=500)["total"]
    assert everything > 3
    r = client.get("/queue?status=all&limit=3")
    assert r.status_code == 200
    assert f"1–3 of {everything:,} all" in r.text and 'data-testid="pager"' in r.text
    assert "offset=3" in r.text  # the next page
    whole = client.get("/queue?status=all&limit=500")
    assert f"{everything:,} all" in whole.text and f"of {everything:,} all" not in whole.text
    # the workbench: open tasks of one owner cut to one row, and its CSM picker for a manager
    owner = next(t["queue"] for t in project.tasks() if sum(x["queue"] == t["queue"] for x in project.tasks()) > 1)
    n = sum(t["queue"] == owner for t in project.tasks())
    r = client.get(f"/workbench?user={owner}&limit=1")
    assert f"1–1 of {n} open" in r.text and 'data-testid="pager"' in r.text and 'data-testid="csm-picker"' in r.text
    # the API: total is the real count, shown what came back
    page = client.get("/api/v1/tasks?status=all&limit=2").json()
    assert page["total"] == everything and page["shown"] == 2 and page["next_offset"] == 2


def test_a_csv_export_has_every_matching_task(client, project):
    from tests.web.conftest import login

    login(client, "manager")
    r = client.get("/queue.csv?status=all")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("rank,task_id,queue,account_id,name,arr")
    assert len(lines) - 1 == project.tasks_page(status="all", limit=500)["total"]


def test_cli_lists_say_how_much_they_show(tmp_path, ws):
    from typer.testing import CliRunner

    from healthscore.cli.app import app

    def cli(*args):
        return CliRunner().invoke(app, list(args), catch_exceptions=False, terminal_width=250)

    with Project(ws) as p:
        n_all = len(p.tasks(status="all"))
        n_changes = len(p.changes(p.store.snapshot_frame()["as_of"].min().date()))
        since = str(p.store.snapshot_frame()["as_of"].min().date())
    r = cli("tasks", "-w", str(ws), "--status", "all", "--limit", "2")
    assert f"2 of {n_all:,} all review tasks" in r.stdout and "more with --offset 2" in r.stdout
    r = cli("tasks", "-w", str(ws), "--status", "all", "--limit", "2", "--offset", "2")
    assert f"3-4 of {n_all:,}" in r.stdout
    r = cli("tasks", "-w", str(ws), "--status", "all", "--limit", "5000")
    assert f"{n_all:,} all review tasks" in r.stdout and " of " not in r.stdout.splitlines()[0]
    assert n_changes > 3
    r = cli("changes", "-w", str(ws), "--since", since, "--limit", "3")
    assert f"3 of {n_changes:,} material changes" in r.stdout and "newest first" in r.stdout
    dates = [line.split("│")[1].strip() for line in r.stdout.splitlines() if line.startswith("│ 20")]
    assert dates == sorted(dates, reverse=True)


def test_swagger_ui_is_served_from_vendored_assets(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in r.text
    assert "cdn." not in r.text and "unpkg" not in r.text and "jsdelivr" not in r.text
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text[:200_000]
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/assets/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_a_live_snapshot_shows_on_the_account_marked_live_with_its_time(client, tokens):
    from tests.web.conftest import bearer, login

    rows = [{"account_id": "A00001", "ts": "2026-11-01T10:00:00", "event": "login", "event_id": "live-1"}]
    r = client.post("/api/v1/events?table=usage_events", json=rows, headers=bearer(tokens["manager-events"]))
    assert r.status_code == 200, r.text
    acc = client.get("/api/v1/accounts/A00001", headers=bearer(tokens["viewer"])).json()
    live = acc["live"]
    assert live is not None and live["live"] is True and live["scored_at"] and live["account_id"] == "A00001"
    login(client, "viewer")
    page = client.get("/accounts/A00001").text
    assert 'data-testid="live"' in page and live["scored_at"][:16].replace("T", " ") in page


def test_model_page_shows_the_rubric_and_decisions_page_the_measurement(client, project):
    from tests.web.conftest import login

    login(client, "viewer")
    page = client.get("/models").text
    assert 'data-testid="rubric"' in page and "csat_90d" in page and "adoption_review" in page
    task = project.tasks()[0]
    project.review(task["task_id"], "accept", "admin")
    page = client.get("/decisions").text
    assert 'data-testid="decisions"' in page and f"#{task['task_id']}" in page
    assert "1 decisions" in page and 'data-testid="measurement"' in page


def test_the_queue_sorts_by_due_date_when_asked(client, project):
    from tests.web.conftest import login

    login(client, "manager")
    r = client.get("/queue?status=all&order=due&limit=500")
    assert r.status_code == 200 and "by due date" in r.text
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(client.get("/queue.csv?status=all&order=due").text)))
    dues = [row["due_at"] for row in rows]
    assert len(dues) == project.tasks_page(status="all", limit=500)["total"]
    assert dues == sorted(dues)
    assert client.get("/queue?order=sideways").status_code == 400
