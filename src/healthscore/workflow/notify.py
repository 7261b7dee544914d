"""Deliver notifications to the internal team: Slack-compatible webhooks, email over SMTP, dry runs.

healthscore never contacts customers: sinks are configured by the team in healthscore.yaml and point
at its own channels and mailboxes. `deliver` never raises for a failed delivery; it returns one
DeliveryResult per sink so that the caller can record failures instead of losing them.
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from healthscore.errors import UserError
from healthscore.workflow.notify_config import DryRunSink, NotificationsConfig, SmtpSink, WebhookSink

MAX_BACKOFF_SECONDS = 60.0  # cap on one wait, however many retries are configured
SLACK_TEXT_LIMIT = 3000  # Slack rejects a section text longer than this
SLACK_FIELD_LIMIT = 2000
SLACK_FIELDS_PER_SECTION = 10


@dataclass(frozen=True)
class Notification:
    """What the workflow wants the team to know; rendered per sink."""

    kind: str  # alert, task, digest ...
    title: str
    text: str
    account_id: str | None = None
    owner: str | None = None
    url: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def facts(self) -> list[tuple[str, str]]:
        """Account, owner and the extra fields as (label, value) pairs, in a stable order."""
        out = []
        if self.account_id:
            out.append(("Account", self.account_id))
        if self.owner:
            out.append(("Owner", self.owner))
        out.extend((str(k), "" if v is None else str(v)) for k, v in self.fields.items())
        return out


@dataclass
class DeliveryResult:
    sink: str
    kind: str
    ok: bool
    attempts: int
    status: str | None  # HTTP status ("200") or the SMTP reply to DATA ("250 2.0.0 Ok: queued as ...")
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime
    rendered: str | None = None  # the text a dry_run/print sink rendered

    def as_dict(self) -> dict[str, Any]:
        return {
            "sink": self.sink, "kind": self.kind, "ok": self.ok, "attempts": self.attempts,
            "status": self.status, "error": self.error,
            "started_at": self.started_at.isoformat(), "finished_at": self.finished_at.isoformat(),
        }


# ---------------------------------------------------------------- rendering

def _slack_escape(s: str) -> str:
    # Slack treats &, < and > as control characters in mrkdwn.
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_slack(n: Notification) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook payload: fallback `text` plus mrkdwn `blocks`."""
    head = f"*{_slack_escape(n.title)}*\n{_slack_escape(n.text)}"
    blocks: list[dict[str, Any]] = [{"type": "section",
                                     "text": {"type": "mrkdwn", "text": _cut(head, SLACK_TEXT_LIMIT)}}]
    facts = [
        {"type": "mrkdwn", "text": _cut(f"*{_slack_escape(k)}*\n{_slack_escape(v)}", SLACK_FIELD_LIMIT)}
        for k, v in n.facts()
    ]
    for i in range(0, len(facts), SLACK_FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": facts[i : i + SLACK_FIELDS_PER_SECTION]})
    if n.url:
        link = n.url.replace("|", "%7C").replace(">", "%3E")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|Open in healthscore>"}})
    footer = f"healthscore {_slack_escape(n.kind)} · internal"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return {"text": _cut(f"{n.title}: {n.text}", SLACK_TEXT_LIMIT), "blocks": blocks}


def render_text(n: Notification) -> str:
    """The plain-text body used for email and for dry runs."""
    lines = [n.text.rstrip(), ""]
    width = max((len(k) for k, _ in n.facts()), default=0)
    lines += [f"{k + ':':<{width + 1}} {v}" for k, v in n.facts()]
    if n.url:
        lines += ["", n.url]
    lines += ["", f"-- healthscore {n.kind} (internal notification)"]
    return "\n".join(lines).strip("\n") + "\n"


def render_email(n: Notification, *, sender: str, to: Iterable[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = " ".join(n.title.split())  # one line: a newline in a header is refused
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="healthscore")
    body = render_text(n)
    # 8bit bodies need the server's 8BITMIME; quoted-printable works everywhere.
    msg.set_content(body, cte=None if body.isascii() else "quoted-printable")
    return msg


# ---------------------------------------------------------------- delivery

class _Failed(Exception):
    """One failed attempt: `transient` ones are retried, the others end the delivery."""

    def __init__(self, message: str, *, transient: bool, status: str | None = None):
        super().__init__(message)
        self.transient = transient
        self.status = status


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _env(var: str, key: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise _Failed(f"environment variable {var} (from {key}) is not set", transient=False)
    return value


def _where(url: str) -> str:
    # Scheme, host and port only: the path of a webhook URL is often its secret.
    p = urlsplit(url)
    return f"{p.scheme}://{p.hostname}" + (f":{p.port}" if p.port else "")


def _send_webhook(sink: WebhookSink, n: Notification, client) -> str:
    import httpx

    url = sink.url or _env(sink.url_env, f"sinks[{sink.name}].url_env")  # type: ignore[arg-type]
    if urlsplit(url).scheme not in ("http", "https"):
        raise _Failed(f"{sink.url_env} does not hold an http(s) URL", transient=False)
    try:
        resp = client.post(url, json=render_slack(n))
    except httpx.TimeoutException as exc:
        raise _Failed(f"timed out talking to {_where(url)} ({type(exc).__name__})", transient=True) from None
    except httpx.TransportError as exc:
        raise _Failed(f"cannot reach {_where(url)}: {exc or type(exc).__name__}", transient=True) from None
    status = str(resp.status_code)
    if 200 <= resp.status_code < 300:
        return status
    body = " ".join(resp.text.split())[:200]
    transient = resp.status_code >= 500 or resp.status_code == 429
    raise _Failed(f"HTTP {status} from {_where(url)}: {body or resp.reason_phrase}", transient=transient, status=status)


def _smtp_failure(exc: Exception) -> _Failed:
    """Classify an smtplib/socket error: 4xx replies and network errors are worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{r}: {c} {m.decode(errors='replace') if isinstance(m, bytes) else m}"
                           for r, (c, m) in exc.recipients.items())
        return _Failed(f"all recipients refused: {detail}", transient=all(400 <= c < 500 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        status = f"{exc.smtp_code} {msg}"
        return _Failed(f"SMTP {type(exc).__name__}: {status}", transient=400 <= exc.smtp_code < 500, status=status)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _Failed(f"SMTP server disconnected: {exc}", transient=True)
    if isinstance(exc, (smtplib.SMTPException, ssl.SSLError)):  # e.g. STARTTLS not offered, bad certificate
        return _Failed(f"SMTP {type(exc).__name__}: {exc}", transient=False)
    if isinstance(exc, TimeoutError):
        return _Failed(f"timed out: {exc or 'no answer'}", transient=True)
    return _Failed(f"{type(exc).__name__}: {exc}", transient=True)  # refused, reset, unreachable ...


def _send_smtp(sink: SmtpSink, n: Notification, timeout: float) -> str:
    password = _env(sink.password_env, f"sinks[{sink.name}].password_env") if sink.username else None  # type: ignore[arg-type]
    msg = render_email(n, sender=sink.sender, to=sink.to)
    try:
        with smtplib.SMTP(sink.host, sink.port, timeout=timeout) as smtp:
            if sink.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if sink.username:
                smtp.login(sink.username, password)  # type: ignore[arg-type]
            # mail/rcpt/data by hand (not sendmail) to keep the server's reply to DATA, e.g. its queue id.
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(parseaddr(sink.sender)[1])
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sink.sender)
            refused = {}
            for rcpt in sink.to:
                code, reply = smtp.rcpt(parseaddr(rcpt)[1])
                if code not in (250, 251):
                    refused[rcpt] = (code, reply)
            if len(refused) == len(sink.to):
                smtp.rset()
                raise smtplib.SMTPRecipientsRefused(refused)
            code, reply = smtp.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
    except (OSError, smtplib.SMTPException) as exc:  # SMTPException is an OSError; both named for clarity
        raise _smtp_failure(exc) from None
    status = f"{code} {reply.decode(errors='replace')}"
    if refused:
        # Not retried: the others already have it. Reported as a failure so that someone looks.
        who = ", ".join(f"{r} ({c})" for r, (c, _) in refused.items())
        raise _Failed(f"refused for {who}; delivered to the other recipients", transient=False, status=status)
    return status


def _deliver_one(sink, n: Notification, config: NotificationsConfig, out) -> DeliveryResult:
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    started = _now()
    if isinstance(sink, DryRunSink):
        text = f"[{sink.kind}:{sink.name}] {n.title}\n{render_text(n)}"
        if sink.kind == "print":
            print(text, file=out or sys.stdout, flush=True)
        return DeliveryResult(sink.name, sink.kind, True, 1, None, None, started, _now(), rendered=text)

    attempts = 0
    client = None

    def attempt() -> str:
        nonlocal attempts
        attempts += 1
        if isinstance(sink, WebhookSink):
            return _send_webhook(sink, n, client)
        return _send_smtp(sink, n, config.timeout_seconds)

    retrying = Retrying(
        stop=stop_after_attempt(config.retries + 1),
        wait=wait_exponential(multiplier=config.backoff_seconds, min=0, max=MAX_BACKOFF_SECONDS),
        retry=retry_if_exception(lambda e: isinstance(e, _Failed) and e.transient),
        reraise=True,
    )
    try:
        if isinstance(sink, WebhookSink):
            import httpx

            client = httpx.Client(timeout=config.timeout_seconds, follow_redirects=False)
        status = retrying(attempt)
        return DeliveryResult(sink.name, sink.kind, True, attempts, status, None, started, _now())
    except _Failed as exc:
        error = str(exc) + (f" (after {attempts} attempts)" if attempts > 1 else "")
        return DeliveryResult(sink.name, sink.kind, False, attempts, exc.status, error, started, _now())
    except Exception as exc:  # a bug or an odd library error must still be recorded, not raised
        return DeliveryResult(sink.name, sink.kind, False, attempts, None, f"{type(exc).__name__}: {exc}", started,
                              _now())
    finally:
        if client is not None:
            client.close()


def deliver(
    config: NotificationsConfig | None,
    notification: Notification,
    *,
    sinks: Iterable[str] | None = None,
    out=None,
) -> list[DeliveryResult]:
    """Send `notification` to every configured sink, or to the named `sinks`, one result per sink.

    A failed delivery is a result with ok=False and its error, never an exception. Naming a sink
    that is not configured is a UserError, raised before anything is sent. `out` is where print
    sinks write (default stdout).
    """
    if config is None:
        config = NotificationsConfig()
    chosen = config.sinks
    if sinks is not None:
        wanted = list(sinks)
        unknown = [s for s in wanted if s not in config.sink_names()]
        if unknown:
            allowed = ", ".join(config.sink_names()) or "none configured"
            raise UserError(f"notifications.sinks: no sink named {', '.join(map(repr, unknown))};"
                            f" configured: {allowed}")
        chosen = [s for s in config.sinks if s.name in wanted]
    return [_deliver_one(s, notification, config, out) for s in chosen]
