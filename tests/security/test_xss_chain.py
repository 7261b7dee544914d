"""The stored-XSS chain in a real browser: a token with only the events:write scope plants accounts whose
ids and names carry HTML and JavaScript; an admin opens the lists and the planted accounts' pages in
Chromium. Nothing executes (ids and names are encoded, fetched text is never parsed as HTML, and the CSP
allows no inline script), and the admin's session dismisses nobody's task."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.security.conftest import END, PASSWORDS
from tests.web.conftest import bearer

CHROMIUM = os.environ.get("HEALTHSCORE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which("chromium")),
                                reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium")


def payloads(task_id: int) -> list[str]:
    # the dismissal the attacker wants, written without '/' so the id reaches its own account page
    dismiss = (f"fetch('\\x2ftasks\\x2f{task_id}\\x2freview',{{method:'POST',body:new URLSearchParams({{decision:"
               "'dismiss',note:'x',csrf_token:document.forms[0][0].value})})")
    out = [f'<img src=x onerror="window.__pwned=1;{dismiss}">',
            '"><svg onload=window.__pwned=2>',
            "x' onmouseover='window.__pwned=3",
            f"../../tasks/{task_id}?q=<script>window.__pwned=4</script>"]
    assert all(len(x) <= 200 for x in out), [len(x) for x in out]  # page paths take ids up to 200 characters
    return out


def test_planted_html_in_account_ids_does_not_run_in_an_admins_browser(live_server, project, client):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    task = next(t for t in project.tasks(owner="marco.rossi") if t["owner"] == "marco.rossi")
    planted = payloads(task["task_id"])
    events = project.token_create("manager", "planter", ["events:write"], "admin")[1]
    rows = [{"account_id": pid, "name": f"<script>window.__pwned=9</script>{i}", "segment": "SMB",
             "owner": "marco.rossi", "arr": 1000.0, "created_at": "2026-01-01T00:00:00"}
            for i, pid in enumerate(planted)]
    r = client.post("/api/v1/events?table=accounts", json=rows, headers=bearer(events))
    assert r.status_code == 200 and r.json()["accepted"] == len(planted), r.text
    with project.engine_session():  # stored history, so the planted pages load the change attribution too
        project.score(as_of_dates=[END - dt.timedelta(days=7), END], account_ids=planted)

    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=ARGS)
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORDS["admin"])
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=who]")
        opened = 0
        for url in [f"/accounts?q={quote('<')}", f"/accounts?q={quote('x')}", "/portfolio", "/queue",
                    *(f"/accounts/{quote(pid, safe='')}" for pid in planted)]:
            resp = page.goto(live_server + url)
            page.wait_for_load_state("networkidle")
            if url.startswith("/accounts/") and resp.status == 200:
                opened += 1
                assert "window.__pwned" in page.inner_text("h1") + page.content()  # shown, as text
                page.wait_for_selector("[data-testid=change]", timeout=30_000)  # fetched, built as text
            page.hover("body")
            assert page.evaluate("typeof window.__pwned") == "undefined", url
        assert opened >= 3  # the planted accounts' own pages did load (all but the one with '/')
        browser.close()
    assert not dialogs
    assert project.task(task["task_id"])["status"] == "open"
    assert not [e for e in project.audit_log() if e["action"] == "task.dismiss"]
