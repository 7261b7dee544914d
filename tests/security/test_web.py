"""Attacks on the web app (OWASP ASVS level 2): forged session keys, password guessing, sessions that
outlive logout, oversized bodies, missing security headers. Each is refused."""

from __future__ import annotations

import re

import pytest

from healthscore.errors import UserError
from tests.security.conftest import PASSWORDS, SECRET
from tests.web.conftest import bearer, csrf_of


def login(client, username: str, password: str | None = None):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password or PASSWORDS[username],
                                       "csrf_token": token, "next": "/"}, follow_redirects=False)


# ---- session keys -------------------------------------------------------------------------------


def test_empty_or_short_session_keys_are_refused(ws, monkeypatch):
    from healthscore.web.app import create_app

    for key in ("", "short", "x" * 31):
        with pytest.raises(UserError, match="at least 32"):
            create_app(ws, secret_key=key)
    monkeypatch.setenv("HEALTHSCORE_SECRET_KEY", "")
    with pytest.raises(UserError, match="HEALTHSCORE_SECRET_KEY.*at least 32"):
        create_app(ws)
    monkeypatch.delenv("HEALTHSCORE_SECRET_KEY")
    key_file = ws / ".healthscore" / "secret_key"
    key_file.write_text("")
    with pytest.raises(UserError, match="secret_key.*at least 32"):
        create_app(ws)
    key_file.unlink()
    create_app(ws)  # generated: long, owner-only
    assert len(key_file.read_text().strip()) >= 32 and key_file.stat().st_mode & 0o777 == 0o600


def test_a_cookie_signed_with_an_empty_key_is_no_session(ws):
    from fastapi.testclient import TestClient
    from itsdangerous import URLSafeTimedSerializer

    from healthscore.web.app import SESSION_COOKIE, create_app

    forged = URLSafeTimedSerializer("", salt="healthscore-session").dumps({"u": "admin", "e": 0})
    with TestClient(create_app(ws)) as c:
        c.cookies.set(SESSION_COOKIE, forged)
        r = c.get("/portfolio", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert c.get("/api/v1/me").status_code == 401


# ---- password guessing --------------------------------------------------------------------------


def test_wrong_passwords_lock_the_user_even_for_the_right_one(client):
    for _ in range(5):
        assert login(client, "admin", "not the password at all").status_code == 401
    r = login(client, "admin")  # the right password, after five wrong ones
    assert r.status_code == 429 and "too many failed logins for this user" in r.text
    assert int(r.headers["retry-after"]) > 0
    assert client.get("/portfolio", follow_redirects=False).status_code == 303  # not logged in


def test_unknown_users_are_locked_out_alike(client):
    for _ in range(5):
        r = login(client, "no.such.user", "not the password at all")
        assert r.status_code == 401 and "unknown user or wrong password" in r.text
    assert login(client, "no.such.user", "x").status_code == 429


def test_a_client_trying_many_users_is_locked_out(client):
    for i in range(20):
        assert login(client, f"guess{i}", "not the password at all").status_code == 401
    r = login(client, "viewer")  # a user it never tried, with the right password
    assert r.status_code == 429 and "this client" in r.text


def test_worker_processes_count_the_same_failed_logins(ws, client):
    """`serve --workers 2`: each worker has its own app; the failures are the store's, so two workers allow
    no more guesses than one."""
    from fastapi.testclient import TestClient

    from healthscore.web.app import create_app

    with TestClient(create_app(ws, secret_key=SECRET)) as other:
        for c in (client, other, client, other, client):
            assert login(c, "admin", "not the password at all").status_code == 401
        for c in (client, other):
            assert login(c, "admin").status_code == 429


def test_a_locked_user_logs_in_once_the_window_moves_on_and_success_clears_only_the_user(ws):
    from datetime import datetime, timedelta

    from healthscore.errors import TooManyAttempts
    from healthscore.project import Project
    from healthscore.web.throttle import Limit, LoginThrottle

    now = [datetime(2026, 12, 4, 9, 0)]
    with Project(ws) as project:
        throttle = LoginThrottle(lambda: project.store, per_user=Limit(3, timedelta(minutes=10)),
                                 per_client=Limit(2, timedelta(minutes=10)), clock=lambda: now[0])
        for minute, client in ((0, "10.0.0.1"), (1, "10.0.0.1"), (2, "10.0.0.2")):  # three wrong passwords
            now[0] = datetime(2026, 12, 4, 9, minute)
            throttle.attempt("Dana.Kim ", client)  # counted as failed: no success follows
        now[0] = datetime(2026, 12, 4, 9, 3)
        with pytest.raises(TooManyAttempts, match="this user") as locked:
            throttle.attempt("dana.kim", "10.0.0.3")
        assert locked.value.retry_after == 7 * 60  # 09:00's failure leaves the window at 09:10
        with pytest.raises(TooManyAttempts, match="this client"):
            throttle.attempt("someone.else", "10.0.0.1")  # the client's failures of 09:00 and 09:01
        assert len(project.store.login_failures("user", "dana.kim", now[0] - timedelta(hours=1))) == 3  # refusals
        now[0] = datetime(2026, 12, 4, 9, 10, 1)                                                   # do not count
        right = throttle.attempt("dana.kim", "10.0.0.3")  # two failures left in the window
        throttle.succeeded("DANA.KIM", right)
        assert project.store.login_failures("user", "dana.kim", now[0] - timedelta(hours=1)) == []
        assert project.store.login_failures("client", "10.0.0.3", now[0] - timedelta(hours=1)) == []
        assert len(project.store.login_failures("client", "10.0.0.1", now[0] - timedelta(hours=1))) == 1  # kept
        throttle.attempt("dana.kim", "10.0.0.4")
        throttle.attempt("dana.kim", "10.0.0.5")
        throttle.attempt("dana.kim", "10.0.0.6")  # the success cleared the user's earlier failures
        with pytest.raises(TooManyAttempts, match="this user"):
            throttle.attempt("dana.kim", "10.0.0.7")


def test_an_unknown_user_costs_one_password_verification_like_a_known_one(project, monkeypatch):
    """The constant-time path: the same argon2 work whether the user exists or not (counted, not timed)."""
    from healthscore import security

    calls = []
    real = security._hasher()
    security.dummy_hash()  # made once per process (lru_cache) with the real hasher, whichever test came first

    class Spy:
        def verify(self, h, p):
            calls.append(h)
            return real.verify(h, p)

    monkeypatch.setattr(security, "_hasher", lambda: Spy())
    assert project.login("no.such.user", "a wrong password") is None
    assert project.login("admin", "a wrong password") is None
    assert len(calls) == 2 and calls[0] == security.dummy_hash() and calls[1] != calls[0]


# ---- sessions end -------------------------------------------------------------------------------


def test_logout_ends_the_session_everywhere(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as a, TestClient(app) as b:
        assert login(a, "dana.kim").status_code == 303
        b.cookies.update(a.cookies)  # the same session cookie, copied (stolen) before logout
        assert b.get("/workbench").status_code == 200
        csrf = csrf_of(a.get("/workbench").text)
        a.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert b.get("/workbench", follow_redirects=False).status_code == 303
        assert b.get("/api/v1/me").status_code == 401


def test_a_password_change_ends_the_users_sessions(client, project):
    assert login(client, "dana.kim").status_code == 303
    assert client.get("/api/v1/me").status_code == 200
    project.user_set("dana.kim", "dana.kim", password="a brand new passphrase for dana",
                     old_password=PASSWORDS["dana.kim"])
    assert client.get("/api/v1/me").status_code == 401


def test_common_passwords_are_refused(project):
    for weak in ("password", "passwordpassword", "123456789012", "admin-admin-admin"):
        with pytest.raises(UserError, match="password"):
            project.user_set("viewer", "admin", password=weak)


# ---- bodies, headers, encoding ------------------------------------------------------------------


def test_an_oversized_events_body_is_413_before_it_is_read(client, project, monkeypatch):
    monkeypatch.setenv("HEALTHSCORE_MAX_EVENT_BYTES", "1000")
    secret = project.token_create("manager", "ev", ["events:write"], "admin")[1]
    big = b'[' + b','.join([b'{"account_id": "A00001", "ts": "2026-10-01T00:00:00", "event": "x"}'] * 100) + b']'
    r = client.post("/api/v1/events?table=usage_events", content=big, headers=bearer(secret))
    assert r.status_code == 413 and "at most 1,000 bytes" in r.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 100):
            yield big[i:i + 100]

    r = client.post("/api/v1/events?table=usage_events", content=chunks(), headers=bearer(secret))
    assert r.status_code == 413


@pytest.mark.parametrize("day", ["1900-01-01", "2026-10-05"])
def test_a_backtest_of_one_date_is_no_server_error(client, project, day):
    secret = project.token_create("admin", "bt", ["read", "write"], "admin")[1]
    r = client.post("/api/v1/backtests", json={"from": day, "to": day}, headers=bearer(secret))
    assert r.status_code < 500, r.text


def test_pages_carry_a_strict_csp_and_no_inline_script(client):
    login(client, "admin")
    for path in ("/portfolio", "/accounts", "/queue", "/models", "/login"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        inline = [m for m in re.findall(r"<script([^>]*)>", r.text) if "src=" not in m and "application/json" not in m]
        assert not inline, (path, inline)
        assert " on" not in " ".join(re.findall(r"<[a-z]+ [^>]*\bon[a-z]+=", r.text))
        assert r.headers["cache-control"] == "no-store"
    assert client.get("/api/v1/me").headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in client.get("/login").headers


def test_hsts_behind_https(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as c:
        assert "max-age=" in c.get("/login").headers["strict-transport-security"]


def test_account_ids_are_encoded_in_links(client, project):
    from urllib.parse import quote

    login(client, "admin")
    task = project.tasks()[0]
    html = client.get(f"/tasks/{task['task_id']}").text
    assert f'href="/accounts/{quote(task["account_id"], safe="")}"' in html
