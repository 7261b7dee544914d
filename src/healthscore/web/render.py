"""Server-rendered pages: a template with the acting user and the session's CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from healthscore.web.auth import csrf_token


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    ctx = {"request": request, "user": principal, "csrf_token": csrf_token(request), **context}
    return request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status_code,
                                                        headers=headers)
