"""A real browser (Debian's Chromium through Playwright) against a real uvicorn server.

Screenshots of every page go to $HEALTHSCORE_ARTIFACTS (default tests/web/artifacts/, gitignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.web.conftest import PASSWORDS, open_task_of

CHROMIUM = os.environ.get("HEALTHSCORE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("HEALTHSCORE_ARTIFACTS", Path(__file__).parent / "artifacts"))

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() or shutil.which("chromium")),
    reason=f"no Chromium at {CHROMIUM}: install it (apt-get install -y chromium; 'make dev' does) to run the"
           " browser tests")


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")


def test_a_csm_reviews_a_task_with_evidence_and_an_expiring_override(browser, live_server, project):
    base = live_server
    task = open_task_of(project, "dana.kim")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "dana.kim")
    assert "Workbench: dana.kim" in page.inner_text("h1")
    shot(page, "workbench")
    for path, name in (("/portfolio", "portfolio"), ("/queue", "manager-queue"), ("/models", "model"),
                       ("/accounts?tier=red", "accounts")):
        page.goto(base + path)
        shot(page, name)
    page.goto(base + "/portfolio")
    page.wait_for_function("document.querySelector('#dist-chart').width > 0")
    page.goto(f"{base}/accounts/{task['account_id']}")
    page.wait_for_selector("[data-testid=change]", timeout=30_000)  # the attribution fragment loaded
    assert page.locator("[data-testid=evidence] tbody tr").count() > 3
    labels = page.evaluate("Chart.getChart('components-chart').data.labels")
    components = project.explain(task["account_id"])["components"]
    assert labels == [f"{c['name']} {'no data' if c['score'] is None else format(c['score'], '.1f')} (w {c['weight']})"
                      for c in components]  # each bar says its score: a bar at 0 is not missing data
    shot(page, "account")

    page.goto(f"{base}/workbench")
    page.click(f"a[href='/tasks/{task['task_id']}']")
    page.wait_for_selector("[data-testid=correct-form]")
    rows = page.locator("[data-testid=evidence] tbody tr")
    assert rows.count() > 3 and rows.first.inner_text().strip()  # the evidence is readable
    assert "Draft for the account owner" in page.inner_text("[data-testid=next-action]")
    shot(page, "task-open")

    form = page.locator("[data-testid=correct-form]")
    form.locator("input[name=score]").fill("74")
    form.locator("select[name=reason_code]").select_option("relationship_context")
    form.locator("input[name=note]").fill("sponsor confirmed the renewal on a call")
    form.locator("input[name=expires]").fill("2026-11-30")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=decided]")
    assert page.inner_text("[data-testid=task-status]") == "corrected"
    audit = page.inner_text("[data-testid=audit]")
    assert "dana.kim" in audit and "override.create" in audit and "task.correct" in audit
    shot(page, "task-corrected")

    page.goto(f"{base}/accounts/{task['account_id']}")
    assert page.inner_text("[data-testid=status]") == "overridden"
    assert "sponsor confirmed the renewal" in page.inner_text("[data-testid=audit]")
    assert not errors, errors


def test_a_viewer_has_no_form_and_a_forged_post_is_refused(browser, live_server, project):
    base = live_server
    task = open_task_of(project, "dana.kim")
    page = browser.new_page()
    log_in(page, base, "viewer")
    page.goto(f"{base}/tasks/{task['task_id']}")
    assert page.locator("[data-testid=read-only]").count() == 1
    assert page.locator("form[action*='/review']").count() == 0
    shot(page, "task-viewer")
    # A forged submission from the viewer's own session, with the page's valid CSRF token.
    status = page.evaluate(
        """async (taskId) => {
             const token = document.querySelector("input[name=csrf_token]").value;
             const body = new URLSearchParams({decision: "accept", csrf_token: token});
             const r = await fetch(`/tasks/${taskId}/review`, {method: "POST", body});
             return r.status;
           }""", task["task_id"])
    assert status == 403
    api = page.evaluate(
        """async (taskId) => (await fetch(`/api/v1/tasks/${taskId}/review`, {method: "POST",
             headers: {"Content-Type": "application/json"}, body: JSON.stringify({decision: "accept"})})).status""",
        task["task_id"])
    assert api == 403
    assert project.task(task["task_id"])["status"] == "open"
