"""Notification sinks against real servers on loopback: an HTTP receiver and an aiosmtpd SMTP server."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from healthscore.errors import UserError
from healthscore.workflow.notify import Notification, deliver, render_email, render_slack, render_text
from healthscore.workflow.notify_config import NotificationsConfig
from healthscore.workspace import load_workspace

LOOPBACK = "127.0.0.1"

NOTE = Notification(
    kind="alert",
    title="A00042 dropped to red",
    text="Score 58 -> 41 since 2026-10-01; main driver: login_frequency <halved> & tickets up.",
    account_id="A00042",
    owner="dana@example.com",
    url="http://127.0.0.1:8000/accounts/A00042",
    fields={"Score": 41.2, "Tier": "red"},
)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    # Loopback only: a proxy from the environment must not carry test requests elsewhere.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class Receiver:
    """A Slack-like webhook receiver: records each request, answers the scripted statuses in turn."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                reply = b"ok" if status < 300 else f"error {status}".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server.server_address[1]}/hooks/cs-secret-token"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def config(*sinks: dict, retries: int = 2, backoff: float = 0.01, timeout: float = 2) -> NotificationsConfig:
    return NotificationsConfig.model_validate(
        {"sinks": list(sinks), "retries": retries, "backoff_seconds": backoff, "timeout_seconds": timeout}
    )


# ---------------------------------------------------------------- webhook


def test_webhook_delivers_slack_payload():
    with Receiver([200]) as rx:
        [res] = deliver(config({"name": "cs-alerts", "kind": "webhook", "url": rx.url}), NOTE)
    assert res.ok and res.attempts == 1 and res.status == "200" and res.error is None
    assert (res.sink, res.kind) == ("cs-alerts", "webhook")
    assert res.started_at <= res.finished_at and res.started_at.tzinfo is not None
    [req] = rx.requests
    assert req["path"] == "/hooks/cs-secret-token"
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["json"] == render_slack(NOTE)
    blocks = req["json"]["blocks"]
    assert blocks[0]["text"]["type"] == "mrkdwn"
    # Slack control characters in user text are escaped.
    assert "&lt;halved&gt; &amp; tickets" in blocks[0]["text"]["text"]
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields == ["*Account*\nA00042", "*Owner*\ndana@example.com", "*Score*\n41.2", "*Tier*\nred"]
    assert "<http://127.0.0.1:8000/accounts/A00042|Open in healthscore>" in json.dumps(blocks)


def test_webhook_retries_5xx_then_succeeds():
    with Receiver([500, 500, 200]) as rx:
        [res] = deliver(config({"name": "cs", "kind": "webhook", "url": rx.url}, retries=3), NOTE)
    assert res.ok and res.attempts == 3 and res.status == "200" and res.error is None
    assert len(rx.requests) == 3


def test_webhook_retries_429():
    with Receiver([429, 200]) as rx:
        [res] = deliver(config({"name": "cs", "kind": "webhook", "url": rx.url}), NOTE)
    assert res.ok and res.attempts == 2 and len(rx.requests) == 2


def test_webhook_always_500_fails_after_retries_without_raising():
    with Receiver([500]) as rx:
        [res] = deliver(config({"name": "cs", "kind": "webhook", "url": rx.url}, retries=3), NOTE)
    assert not res.ok
    assert res.attempts == 4 and len(rx.requests) == 4  # the first attempt and 3 retries
    assert res.status == "500"
    assert "HTTP 500" in res.error and "error 500" in res.error and "after 4 attempts" in res.error
    assert "cs-secret-token" not in res.error  # the URL path is often the webhook's secret


def test_webhook_4xx_is_not_retried():
    with Receiver([400, 200]) as rx:
        [res] = deliver(config({"name": "cs", "kind": "webhook", "url": rx.url}, retries=3), NOTE)
    assert not res.ok and res.attempts == 1 and len(rx.requests) == 1
    assert res.status == "400" and "HTTP 400" in res.error


def test_connection_refused_fails_quickly_with_clear_error():
    port = free_port()  # bound then released: nothing listens there
    t0 = time.monotonic()
    [res] = deliver(config({"name": "cs", "kind": "webhook", "url": f"http://{LOOPBACK}:{port}/x"}, retries=2), NOTE)
    assert time.monotonic() - t0 < 2
    assert not res.ok and res.attempts == 3 and res.status is None
    assert f"cannot reach http://{LOOPBACK}:{port}" in res.error and "refused" in res.error.lower()


def test_timeout_is_retried_and_reported():
    # A socket that listens but never answers: the connection is accepted by the kernel, the read times out.
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen(8)
        url = f"http://{LOOPBACK}:{silent.getsockname()[1]}/x"
        [res] = deliver(config({"name": "cs", "kind": "webhook", "url": url}, retries=1, timeout=0.2), NOTE)
    assert not res.ok and res.attempts == 2
    assert "timed out" in res.error


def test_webhook_url_from_environment(monkeypatch):
    cfg = config({"name": "cs", "kind": "webhook", "url_env": "HS_TEST_WEBHOOK"})
    monkeypatch.delenv("HS_TEST_WEBHOOK", raising=False)
    [missing] = deliver(cfg, NOTE)
    assert not missing.ok and "HS_TEST_WEBHOOK" in missing.error and "not set" in missing.error
    with Receiver([200]) as rx:
        monkeypatch.setenv("HS_TEST_WEBHOOK", rx.url)
        [res] = deliver(cfg, NOTE)
    assert res.ok and len(rx.requests) == 1


# ---------------------------------------------------------------- smtp


class Inbox:
    def __init__(self, data_replies: list[str] | None = None):
        self.envelopes = []
        self.data_replies = list(data_replies or [])

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            reply = self.data_replies.pop(0)
            if not reply.startswith("250"):
                return reply
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued as TEST123"


@pytest.fixture
def smtp_server():
    """Start an aiosmtpd server on loopback; yields a function (inbox, **controller kwargs) -> port."""
    from aiosmtpd.controller import Controller

    started = []

    def start(inbox: Inbox, **kwargs) -> int:
        port = free_port()
        ctl = Controller(inbox, hostname=LOOPBACK, port=port, **kwargs)
        ctl.start()
        started.append(ctl)
        return port

    yield start
    for ctl in started:
        ctl.stop()


def smtp_sink(port: int, **extra) -> dict:
    return {"name": "cs-email", "kind": "smtp", "host": LOOPBACK, "port": port, "sender": "healthscore@example.com",
            "to": ["cs-leads@example.com", "Dana <dana@example.com>"], **extra}


def test_smtp_delivers_plain_text_email(smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    note = Notification(kind="task", title="Review A00042: Müller GmbH\nturned red", text="Please review the score drop.",
                        account_id="A00042", fields={"Score": 41.2})
    [res] = deliver(config(smtp_sink(port)), note)
    assert res.ok and res.attempts == 1 and res.error is None, res.error
    assert res.status.startswith("250") and "TEST123" in res.status
    [env] = inbox.envelopes
    assert env.mail_from == "healthscore@example.com"
    assert env.rcpt_tos == ["cs-leads@example.com", "dana@example.com"]
    msg = message_from_bytes(env.original_content, policy=policy.default)
    assert msg["Subject"] == "Review A00042: Müller GmbH turned red"
    assert msg["From"] == "healthscore@example.com"
    assert msg.get_content_type() == "text/plain"
    body = msg.get_content().replace("\r\n", "\n")
    assert body == render_text(note)
    assert "Please review the score drop." in body and "Account: A00042" in body and "Score:   41.2" in body


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # plain AUTH is fine on loopback
def test_smtp_login_with_password_from_environment(smtp_server, monkeypatch):
    from aiosmtpd.smtp import AuthResult

    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    inbox = Inbox()
    port = smtp_server(inbox, authenticator=authenticator, auth_require_tls=False, auth_required=True)
    cfg = config(smtp_sink(port, username="hs", password_env="HS_TEST_SMTP_PASSWORD"))

    monkeypatch.setenv("HS_TEST_SMTP_PASSWORD", "wrong")
    [bad] = deliver(cfg, NOTE)
    assert not bad.ok and bad.attempts == 1 and "535" in bad.error  # authentication failure: not retried
    monkeypatch.setenv("HS_TEST_SMTP_PASSWORD", "s3cret")
    [good] = deliver(cfg, NOTE)
    assert good.ok, good.error
    assert seen[-1] == (b"hs", b"s3cret") and len(inbox.envelopes) == 1


def test_smtp_temporary_failure_is_retried_permanent_is_not(smtp_server):
    inbox = Inbox(data_replies=["451 4.3.0 try again later"])
    port = smtp_server(inbox)
    [res] = deliver(config(smtp_sink(port), retries=2), NOTE)
    assert res.ok and res.attempts == 2 and len(inbox.envelopes) == 1

    inbox = Inbox(data_replies=["554 5.7.1 rejected"])
    port = smtp_server(inbox)
    [res] = deliver(config(smtp_sink(port), retries=2), NOTE)
    assert not res.ok and res.attempts == 1 and res.status.startswith("554") and "rejected" in res.error
    assert inbox.envelopes == []


class PickyInbox(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("dana@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_smtp_some_recipients_refused_is_reported_not_retried(smtp_server):
    inbox = PickyInbox()
    port = smtp_server(inbox)
    [res] = deliver(config(smtp_sink(port), retries=2), NOTE)
    assert not res.ok and res.attempts == 1 and res.status.startswith("250")
    assert "refused for Dana <dana@example.com> (550)" in res.error and "delivered to the other" in res.error
    [env] = inbox.envelopes
    assert env.rcpt_tos == ["cs-leads@example.com"]


def test_smtp_connection_refused():
    port = free_port()
    [res] = deliver(config(smtp_sink(port), retries=1), NOTE)
    assert not res.ok and res.attempts == 2 and "refused" in res.error.lower()


# ---------------------------------------------------------------- several sinks, dry run


def test_every_sink_or_a_named_subset(smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    out = io.StringIO()
    with Receiver([500]) as rx:
        cfg = config({"name": "hook", "kind": "webhook", "url": rx.url}, smtp_sink(port),
                     {"name": "console", "kind": "print"}, {"name": "quiet", "kind": "dry_run"}, retries=1)
        results = deliver(cfg, NOTE, out=out)
        assert [(r.sink, r.ok) for r in results] == [("hook", False), ("cs-email", True), ("console", True), ("quiet", True)]
        only = deliver(cfg, NOTE, sinks=["quiet"], out=out)
        assert [r.sink for r in only] == ["quiet"] and len(rx.requests) == 2
        with pytest.raises(UserError, match="no sink named 'nope'; configured: hook, cs-email, console, quiet"):
            deliver(cfg, NOTE, sinks=["nope"])
    printed = out.getvalue()
    assert printed.count("A00042 dropped to red") == 1 and "[print:console]" in printed  # dry_run prints nothing
    assert results[3].rendered.startswith("[dry_run:quiet] A00042 dropped to red")
    assert deliver(None, NOTE) == []


def test_render_email_is_plain_text_with_title_as_subject():
    msg = render_email(NOTE, sender="healthscore@example.com", to=["cs@example.com"])
    assert msg["Subject"] == NOTE.title and msg["To"] == "cs@example.com"
    assert not msg.is_multipart() and msg.get_content_type() == "text/plain"
    assert "internal notification" in msg.get_content()


# ---------------------------------------------------------------- configuration


def write_workspace(tmp_path, notifications_yaml: str):
    (tmp_path / "healthscore.yaml").write_text("notifications:\n" + notifications_yaml)
    return tmp_path


def config_error(tmp_path, notifications_yaml: str) -> str:
    with pytest.raises(UserError) as exc:
        load_workspace(write_workspace(tmp_path, notifications_yaml))
    return str(exc.value)


def test_valid_config_from_yaml(tmp_path):
    ws = load_workspace(write_workspace(tmp_path, """\
  sinks:
    - {name: cs-alerts, kind: webhook, url: "http://127.0.0.1:8099/hooks/cs"}
    - {name: cs-email, kind: smtp, host: 127.0.0.1, port: 8025, sender: healthscore@example.com,
       to: [cs-leads@example.com], starttls: false, username: null, password_env: SMTP_PASSWORD}
    - {name: demo, kind: print}
  retries: 3
  backoff_seconds: 0.5
  timeout_seconds: 5
"""))
    n = ws.config.notifications
    assert n.sink_names() == ["cs-alerts", "cs-email", "demo"] and n.retries == 3
    assert load_workspace(write_workspace(tmp_path, "  sinks: []\n")).config.notifications.sinks == []


def test_bad_kind_names_key_and_allowed_values(tmp_path):
    msg = config_error(tmp_path, "  sinks:\n    - {name: a, kind: slack, url: 'http://127.0.0.1/x'}\n")
    assert "healthscore.yaml:3: notifications.sinks[0]" in msg
    assert "'slack'" in msg and "'kind'" in msg and "'webhook', 'smtp', 'dry_run', 'print'" in msg


def test_missing_url_names_key(tmp_path):
    msg = config_error(tmp_path, "  sinks:\n    - {name: a, kind: webhook}\n")
    assert "notifications.sinks[0]: " in msg and "'url' or 'url_env'" in msg
    msg = config_error(tmp_path, "  sinks:\n    - {name: a, kind: webhook, url: 'ftp://x/y'}\n")
    assert "notifications.sinks[0].url:" in msg and "'ftp://x/y' is not an http(s) URL" in msg


def test_bad_email_address_names_key(tmp_path):
    msg = config_error(tmp_path, """\
  sinks:
    - {name: m, kind: smtp, host: 127.0.0.1, sender: healthscore, to: [ok@example.com, "bad @example.com"]}
""")
    assert "notifications.sinks[0].sender:" in msg and "'healthscore' is not an email address" in msg
    assert "notifications.sinks[0].to[1]:" in msg and "'bad @example.com' is not an email address" in msg
    assert "to[0]" not in msg


def test_other_config_errors(tmp_path):
    msg = config_error(tmp_path, """\
  sinks:
    - {name: a, kind: print, password: hunter2}
    - {name: m, kind: smtp, host: h, sender: a@b.c, to: []}
    - {name: n, kind: smtp, host: h, sender: a@b.c, to: [a@b.c], username: hs}
  retries: -1
""")
    assert "notifications.sinks[0].password: unknown key" in msg  # no secrets in the YAML
    assert "notifications.sinks[1].to:" in msg
    assert "'username' needs 'password_env'" in msg
    assert "notifications.retries:" in msg and "(got -1)" in msg


def test_duplicate_sink_names(tmp_path):
    msg = config_error(tmp_path, "  sinks:\n    - {name: a, kind: print}\n    - {name: a, kind: dry_run}\n")
    assert "notifications.sinks: Value error, sink name 'a' is used twice" in msg


def test_workspace_import_stays_light():
    # The CLI imports the workspace on every command; the delivery stack must not come with it.
    code = ("import sys, healthscore.workspace; "
            "print(sorted(m for m in ('httpx', 'tenacity', 'smtplib', 'healthscore.workflow.notify') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
