"""Server-rendered pages: login, sessions, CSRF, role denials, and the pages themselves."""

from __future__ import annotations

import pytest

from tests.web.conftest import csrf_of, login, open_task_of


def test_pages_need_a_login(client):
    for path in ("/", "/portfolio", "/workbench", "/queue", "/models", "/accounts/A00001", "/tasks/1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_login_checks_password_and_csrf_and_sets_a_safe_cookie(client):
    r = login(client, "dana.kim", "wrong-password")
    assert r.status_code == 401 and "wrong password" in r.text
    r = client.post("/login", data={"username": "dana.kim", "password": "dana-demo-pass", "csrf_token": "forged"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = login(client, "dana.kim")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http here
    assert client.get("/").headers.get("location") is None  # followed: the csm lands on the workbench
    assert "Workbench: dana.kim" in client.get("/workbench").text


def test_the_cookie_is_secure_over_https(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as c:
        r = login(c, "viewer")
        assert "secure" in r.headers["set-cookie"].lower()


def test_a_tampered_session_cookie_is_not_a_login(client):
    login(client, "viewer")
    value = client.cookies.get("hs_session")
    client.cookies.set("hs_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert client.get("/portfolio", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("path, text", [
    ("/portfolio", "Top at-risk accounts"), ("/accounts", "lowest score first"), ("/accounts?tier=red", "red"),
    ("/workbench", "Open review tasks"), ("/queue", "Yellow for more than 30 days"), ("/models", "Scoring with"),
    ("/portfolio?owner=dana.kim", "Top at-risk accounts"),
])
def test_every_page_renders_for_a_viewer(client, path, text):
    login(client, "viewer")
    r = client.get(path)
    assert r.status_code == 200 and text in r.text


def test_portfolio_filter_errors_are_pages_not_tracebacks(client):
    login(client, "viewer")
    r = client.get("/portfolio?segment=nosuch")
    assert r.status_code == 400 and "nosuch" in r.text and "is not allowed; use one of" in r.text
    r = client.get("/accounts/NOPE")
    assert r.status_code == 404 and "unknown account" in r.text


def test_account_page_shows_evidence_trend_and_change(client, project):
    login(client, "viewer")
    task = open_task_of(project, "dana.kim")
    r = client.get(f"/accounts/{task['account_id']}")
    assert r.status_code == 200
    assert 'data-testid="evidence"' in r.text and 'id="trend-chart"' in r.text and 'id="components-chart"' in r.text
    assert f"/tasks/{task['task_id']}" in r.text
    n = len(project.account(task["account_id"])["history"])  # the change log's caption counts what it cuts
    caption = r.text.split('data-testid="history-count">')[1].split("<")[0]
    assert caption.startswith(f"Newest 12 of {n} stored" if n > 12 else f"{n} stored snapshot"), caption
    assert r.text.split('data-testid="history-count"')[1].split("</tbody>")[0].count("<tr>") == min(n, 12) + 1
    src = r.text.split('data-src="')[1].split('"')[0].replace("&amp;", "&")
    change = client.get(src)
    assert change.status_code == 200 and 'data-testid="change"' in change.text and "points" in change.text


def test_the_tier_card_says_when_the_tier_follows_the_smoothed_score(client, project):
    """A01888 of the demo read 'Score 58.0 · Tier green': the published tier follows the smoothed score (73.1),
    which the card now names; where the two scores agree it says nothing more."""
    login(client, "viewer")
    snaps = [s for s in project.store.snapshots(as_of=project.account(open_task_of(project, "dana.kim")["account_id"])
                                                ["as_of"], with_evidence=False) if s["tier"]]
    apart = next(s for s in snaps if f"{s['smoothed_score']:.1f}" != f"{s['score']:.1f}")
    page = client.get(f"/accounts/{apart['account_id']}").text
    assert f'data-testid="tier-basis">from the smoothed score {apart["smoothed_score"]:.1f}<' in page
    alike = [s for s in snaps
             if s["smoothed_score"] is not None and f"{s['smoothed_score']:.1f}" == f"{s['score']:.1f}"]
    if alike:
        assert 'data-testid="tier-basis"' not in client.get(f"/accounts/{alike[0]['account_id']}").text


def test_the_account_header_says_its_facts_are_todays_and_shows_the_snapshots_arr_where_it_differs(client, project):
    """The header reads the accounts table as it is today; the cards below are as of the snapshot's date. An
    account whose ARR changed since shows both, each with its date, so the page agrees with the portfolio
    (which sums the ARR as of its date)."""
    moved, same = (t["account_id"] for t in project.store.tasks(status="open")[:2])
    as_of = project.store.snapshots(moved, model_version=project.model.version, with_evidence=False)[-1]["as_of"]
    then = {s["account_id"]: s["account"]["arr"] for s in project.store.snapshots(as_of=as_of, with_evidence=False)}
    with project.engine.session():  # the account grew after the snapshot's date
        project.parts.con.raw_sql(f"UPDATE accounts SET arr = {then[moved] + 12_000} WHERE account_id = '{moved}'")
    login(client, "viewer")
    header = client.get(f"/accounts/{moved}").text.split('data-testid="account-today">')[1].split("</p>")[0]
    assert header.startswith("As of today: owner")
    assert f"ARR {then[moved] + 12_000:,.0f} · renewal" in header, header
    assert f"(ARR {then[moved]:,.0f} as of {as_of}, the snapshot's date)" in header, header
    header = client.get(f"/accounts/{same}").text.split('data-testid="account-today">')[1].split("</p>")[0]
    assert f"ARR {then[same]:,.0f} · renewal" in header and "snapshot's date" not in header, header
    # a snapshot stored before snapshots kept the account's ARR: today's facts alone
    stored = project.store.snapshots
    project.store.snapshots = lambda *a, **k: [{x: v for x, v in s.items() if x != "account"} for s in stored(*a, **k)]
    page = client.get(f"/accounts/{moved}")
    assert page.status_code == 200 and "snapshot's date" not in page.text.split('data-testid="account-today">')[1]


def test_viewer_sees_no_form_and_a_forged_post_is_refused(client, project):
    task = open_task_of(project, "dana.kim")
    login(client, "viewer")
    page = client.get(f"/tasks/{task['task_id']}").text
    assert 'data-testid="read-only"' in page and "correct-form" not in page and 'action="/tasks/' not in page
    token = csrf_of(page)  # the logout form's token: a valid token of this session
    r = client.post(f"/tasks/{task['task_id']}/review", data={"decision": "accept", "csrf_token": token})
    assert r.status_code == 403 and "role viewer" in r.text
    assert project.task(task["task_id"])["status"] == "open"


def test_a_csm_cannot_review_another_owners_task(client, project):
    task = open_task_of(project, "dana.kim")
    login(client, "marco.rossi")
    page = client.get(f"/tasks/{task['task_id']}").text
    assert "correct-form" not in page
    r = client.post(f"/tasks/{task['task_id']}/review", data={"decision": "accept", "csrf_token": csrf_of(page)})
    assert r.status_code == 403 and "own accounts" in r.text
    assert project.task(task["task_id"])["status"] == "open"


def test_a_form_without_its_csrf_token_is_refused(client, project):
    task = open_task_of(project, "dana.kim")
    login(client, "dana.kim")
    r = client.post(f"/tasks/{task['task_id']}/review", data={"decision": "accept"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert project.task(task["task_id"])["status"] == "open"


def test_the_owner_corrects_with_reason_and_expiry_and_the_audit_shows_it(client, project):
    task = open_task_of(project, "dana.kim")
    login(client, "dana.kim")
    page = client.get(f"/tasks/{task['task_id']}").text
    assert "correct-form" in page and 'data-testid="evidence"' in page
    form = {"decision": "correct", "csrf_token": csrf_of(page), "score": "77", "tier": "", "reason_code": "other",
            "note": "customer confirmed the renewal", "expires": ""}
    r = client.post(f"/tasks/{task['task_id']}/review", data=form)
    assert r.status_code == 400 and "--expires" in r.text  # validated like the CLI
    r = client.post(f"/tasks/{task['task_id']}/review", data={**form, "expires": "2026-11-30"})
    assert r.status_code == 200 and 'data-testid="decided"' in r.text and "corrected by dana.kim" in r.text
    assert "override.create" in r.text and "task.correct" in r.text
    t = project.task(task["task_id"])
    assert t["status"] == "corrected" and t["decided_by"] == "dana.kim"
    entries = project.audit_page(10)["items"]
    assert {e["action"] for e in entries if e["actor"] == "dana.kim"} >= {"override.create", "task.correct"}


def test_only_an_admin_sees_and_uses_the_approve_button(client, project, ws):
    original = project.model_propose(None, "the demo model", "admin", backtest=False)["version"]
    project.model_approve(original, "admin")
    model = ws / "models" / "health.yaml"
    model.write_text(model.read_text().replace("relationship: 5}", "relationship: 7}", 1))
    project.reload_model()
    version = project.model_propose(None, "more weight on relationships", "manager", backtest=False)["version"]
    login(client, "manager")
    page = client.get("/models").text
    assert f"version-{version}" in page and f"Approve {version}" not in page and "Only an admin" in page
    r = client.post(f"/models/{version}/approve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403
    client.cookies.clear()
    login(client, "admin")
    page = client.get("/models").text
    assert f"Approve {version}" in page
    r = client.post(f"/models/{version}/approve", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 200 and f'data-testid="scoring-version">{version}' in r.text


def test_logout_ends_the_session(client):
    login(client, "viewer")
    page = client.get("/portfolio").text
    client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert client.get("/portfolio", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target, expected", [("/queue", "/queue"), ("//evil.example", "/"),
                                              ("/\\evil.example", "/"), ("https://evil.example", "/")])
def test_login_redirects_only_within_the_site(client, target, expected):
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "viewer", "password": "viewer-demo-pass", "csrf_token": token,
                                    "next": target}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == expected
