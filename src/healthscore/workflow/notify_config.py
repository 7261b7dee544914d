"""The `notifications:` section of healthscore.yaml (pydantic only: cheap to import).

Sinks deliver to the internal team only (a Slack-compatible webhook, an SMTP relay, or a dry run);
healthscore never contacts customers. Secrets are named by environment variable, never written here.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

SINK_KINDS = ("webhook", "smtp", "dry_run", "print")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Deliberately loose: one @, no spaces, a dot-free domain allowed (internal relays: cs@mailhub).
_ADDRESS = re.compile(r"[^@\s<>\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
_NAMED = re.compile(r"[^<>]*<([^<>]+)>")  # 'CS leads <cs@example.com>'


def check_address(value: str) -> str:
    """'cs@example.com' or 'CS leads <cs@example.com>'; anything else is a ValueError naming it."""
    named = _NAMED.fullmatch(value.strip())
    addr = named.group(1) if named else value.strip()
    if not _ADDRESS.fullmatch(addr):
        raise ValueError(f"{value!r} is not an email address; expected e.g. cs-leads@example.com")
    return value.strip()


Address = Annotated[str, AfterValidator(check_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Sink(_Strict):
    name: str = Field(pattern=_NAME, description="unique name, used to pick sinks and in delivery results")


class WebhookSink(_Sink):
    """A Slack-compatible incoming webhook: POST {"text", "blocks"} as JSON."""

    kind: Literal["webhook"]
    url: str | None = Field(None, description="http(s) URL; use url_env instead when the URL is a secret")
    url_env: str | None = Field(None, pattern=_ENV_NAME, description="environment variable holding the URL")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None):
        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{v!r} is not an http(s) URL; expected e.g. https://hooks.example.com/cs")
        return v

    @model_validator(mode="after")
    def _one_url(self):
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of 'url' or 'url_env' (the name of an environment variable holding it)")
        return self


class SmtpSink(_Sink):
    """An email through an SMTP relay; plain text, subject = the notification's title."""

    kind: Literal["smtp"]
    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    sender: Address
    to: list[Address] = Field(min_length=1, description="internal recipients")
    starttls: bool = False
    username: str | None = None
    password_env: str | None = Field(None, pattern=_ENV_NAME, description="environment variable holding the password")

    @model_validator(mode="after")
    def _login(self):
        if self.username is not None and self.password_env is None:
            raise ValueError("'username' needs 'password_env': the environment variable holding the password")
        return self


class DryRunSink(_Sink):
    """Renders without sending: 'dry_run' keeps the text in the result, 'print' also writes it to stdout."""

    kind: Literal["dry_run", "print"]


SinkConfig = Annotated[WebhookSink | SmtpSink | DryRunSink, Field(discriminator="kind")]


class NotificationsConfig(_Strict):
    sinks: list[SinkConfig] = Field(default_factory=list)
    retries: int = Field(3, ge=0, le=10, description="attempts after the first, on transient failures")
    backoff_seconds: float = Field(0.5, ge=0, le=60, description="wait before retry n is backoff * 2**(n-1)")
    timeout_seconds: float = Field(5, gt=0, le=300, description="per attempt: connect, send, read")

    @field_validator("sinks")
    @classmethod
    def _unique_names(cls, v: list):
        seen: set[str] = set()
        for sink in v:
            if sink.name in seen:
                raise ValueError(f"sink name {sink.name!r} is used twice; names must be unique")
            seen.add(sink.name)
        return v

    def sink_names(self) -> list[str]:
        return [s.name for s in self.sinks]
