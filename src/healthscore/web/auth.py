"""Who is asking: a browser session (signed cookie) or an API token; CSRF synchroniser tokens."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from healthscore.errors import AccessDenied, Unauthenticated
from healthscore.web.principal import Principal

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer hs_...`")


def project(request: Request):
    return request.app.state.project


def csrf_token(request: Request) -> str:
    session = getattr(request.state, "session", None)
    if session is None:
        return ""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
        request.state.session_dirty = True
    return token


def check_csrf(request: Request, given: str | None) -> None:
    expected = request.state.session.get("csrf")
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise AccessDenied("the form's CSRF token is missing or does not match this session: reload the page and"
                           " try again")


def session_principal(request: Request) -> Principal | None:
    username = request.state.session.get("u")
    if not username:
        return None
    user = project(request).store.user(username)
    if user is None or user["disabled_at"] or request.state.session.get("e") != user["session_epoch"]:
        return None  # logout, a new password or role ended the sessions of this epoch
    return Principal(username, user["role"], "session")


def api_principal(request: Request,
                  credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """A token's user (with its scopes) or the browser session's user; 401 otherwise.

    A session may write only with the X-CSRF-Token header of its page (a token needs none: a browser
    never sends it by itself)."""
    principal: Principal | None
    if credentials is not None:
        found = project(request).api_token_user(credentials.credentials)
        if found is None:
            raise Unauthenticated("the API token is unknown, revoked, or its user is disabled")
        token, user = found
        principal = Principal(user["username"], user["role"], "token", tuple(token["scopes"]))
    else:
        principal = session_principal(request)
        if principal is None:
            raise Unauthenticated("authenticate with 'Authorization: Bearer hs_...' (an API token) or log in")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf(request, request.headers.get("x-csrf-token"))
    request.state.principal = principal
    return principal


def page_principal(request: Request) -> Principal:
    principal = session_principal(request)
    if principal is None:
        raise Unauthenticated("log in first")
    request.state.principal = principal
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    from healthscore import authz

    authz.require_scope(principal.scopes if principal.via == "token" else None, scope)
