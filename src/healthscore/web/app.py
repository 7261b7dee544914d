"""The FastAPI application: the REST API under /api/v1 (OpenAPI at /docs) and server-rendered pages.

Thin: every endpoint and page parses its input, asks the Project facade (the same one behind the CLI)
and renders. Logins are users of the workspace's store (argon2 password hashes); the session is a
signed, HttpOnly, SameSite=Lax cookie (Secure over https) with a CSRF synchroniser token; integrations
use API tokens (`Authorization: Bearer hs_...`, hashed at rest, scoped, revocable).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.exceptions import HTTPException as StarletteHTTPException

from healthscore.errors import InvalidInput, UserError
from healthscore.web.render import render

HERE = Path(__file__).parent
SESSION_COOKIE = "hs_session"
SESSION_MAX_AGE = 12 * 3600
log = logging.getLogger("healthscore.web")


def status_of(exc: UserError) -> int:
    """The HTTP status of a user error: its type says it (healthscore.errors), never its wording."""
    return exc.status_code


MIN_SECRET_BYTES = 32


def check_secret(key: str, where: str) -> str:
    """A session signing key of at least 32 bytes: an empty or short key lets anyone sign a session."""
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise InvalidInput(f"{where}: the session signing key is {len(key.encode())} bytes; use at least"
                        f" {MIN_SECRET_BYTES} random bytes (e.g. python -c 'import secrets;"
                        " print(secrets.token_urlsafe(48))')")
    return key


def session_secret(workspace: Path) -> str:
    """HEALTHSCORE_SECRET_KEY, else a key generated once into the workspace's .healthscore/ (mode 600,
    written to a temporary file, synced, then renamed: a crash never leaves an empty key behind)."""
    env = os.environ.get("HEALTHSCORE_SECRET_KEY")
    if env is not None:
        return check_secret(env, "HEALTHSCORE_SECRET_KEY")
    path = workspace / ".healthscore" / "secret_key"
    if path.is_file():
        return check_secret(path.read_text(encoding="utf-8").strip(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f"secret_key.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # atomic, and never replaces a key another worker wrote first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return check_secret(path.read_text(encoding="utf-8").strip(), str(path))


class Sessions:
    def __init__(self, secret: str):
        self.serializer = URLSafeTimedSerializer(secret, salt="healthscore-session")

    def load(self, request: Request) -> dict[str, Any]:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return {}
        try:
            data = self.serializer.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return {}
        return data if isinstance(data, dict) else {}

    def cookie(self, request: Request, data: dict[str, Any]) -> str:
        """The Set-Cookie value: signed, HttpOnly, SameSite=Lax, Secure over https."""
        from http.cookies import SimpleCookie

        c = SimpleCookie()
        c[SESSION_COOKIE] = self.serializer.dumps(data)
        m = c[SESSION_COOKIE]
        m["max-age"], m["path"], m["httponly"], m["samesite"] = SESSION_MAX_AGE, "/", True, "lax"
        if request.url.scheme == "https":
            m["secure"] = True
        return m.OutputString()


# No inline script or style, nothing from elsewhere, no framing, forms post only here.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
       " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class SessionMiddleware:
    """Pure ASGI (no extra task per request): loads the signed session cookie into request.state, writes
    it back when a handler changed it, adds security headers, and opens the request's memo (services/read_models.py)."""

    SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", b"same-origin"), (b"content-security-policy", CSP.encode()),
                        (b"cross-origin-opener-policy", b"same-origin")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.datastructures import MutableHeaders

        request = Request(scope)
        sessions: Sessions = scope["app"].state.sessions
        state = scope.setdefault("state", {})
        state["session"] = sessions.load(request)
        state["session_dirty"] = False

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in self.SECURITY_HEADERS:
                    if k.decode() not in headers:
                        headers.append(k.decode(), v.decode())
                if request.url.scheme == "https":
                    headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
                if not scope["path"].startswith("/static/"):
                    # pages and API answers are per user: no shared or back-button cache keeps them
                    headers["cache-control"] = "no-store"
                if state.get("session_dirty"):
                    headers.append("set-cookie", sessions.cookie(request, state["session"]))
            await send(message)

        memo = scope["app"].state.project.read_models.memo
        token = memo.start()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            memo.end(token)


def create_app(workspace_dir: Path | str = ".", *, secret_key: str | None = None) -> FastAPI:
    from healthscore.project import Project

    workspace = Path(workspace_dir)
    project = Project(workspace)
    # a missing or broken workspace fails now, with its message, not on the first request
    project.ws  # noqa: B018
    project.store  # noqa: B018
    app = FastAPI(title="healthscore", version="1",
                  description="Explainable customer health scores: portfolio, accounts, evidence, review tasks, "
                              "overrides, alerts, model governance, measurement and the audit log. Authenticate "
                              "with `Authorization: Bearer hs_...` (an API token) or a browser session.",
                  docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json")  # /docs: pages.py, vendored assets
    app.state.project = project
    app.state.sessions = Sessions(check_secret(secret_key, "secret_key") if secret_key is not None
                                  else session_secret(workspace))
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates.env.filters["tojson_attr"] = lambda v: json.dumps(v, default=str)
    # an id inside a URL path: percent-encoded, so '/', '?', '#' or '..' in an id stay part of the id
    app.state.templates.env.filters["seg"] = lambda v: quote(str(v), safe="")
    from healthscore.web.shape_svg import shape_svg

    app.state.templates.env.filters["shape_svg"] = shape_svg
    from healthscore.web.throttle import LoginThrottle

    app.state.login_throttle = LoginThrottle(lambda: project.store)
    app.state.write_lock = threading.RLock()

    app.add_middleware(SessionMiddleware)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        code = status_of(exc)
        if wants_json(request):
            headers = {"retry-after": str(exc.retry_after)} if hasattr(exc, "retry_after") else None
            return JSONResponse(exc.to_dict(), status_code=code, headers=headers)
        if code == 401:
            return RedirectResponse(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)
        return render(request, "error.html", {"status": code, "message": str(exc)}, status_code=code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems, fields = [], []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
            problems.append(f"{where or 'request'}: {e.get('msg')}")
            fields.append(where)
        message = "; ".join(problems) or "invalid request"
        if wants_json(request):  # the same body as every other error; the field when one field is at fault
            field = fields[0] if len(set(fields)) == 1 and fields[0] else None
            return JSONResponse(InvalidInput(message, field=field).to_dict(), status_code=400)
        return render(request, "error.html", {"status": 400, "message": message}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if wants_json(request) or exc.status_code == 405:
            return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
        return render(request, "error.html", {"status": exc.status_code, "message": str(exc.detail)},
                      status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": f"internal error ({type(exc).__name__}); see the server log"}, status_code=500)

    from healthscore.web.api import router as api_router
    from healthscore.web.pages import router as pages_router

    app.include_router(api_router, prefix="/api/v1")
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.on_event("shutdown")
    def _close() -> None:
        project.close()

    return app
