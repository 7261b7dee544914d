"""Server-rendered pages: portfolio, CSM workbench, manager queue, account, task, model. Forms carry a
CSRF synchroniser token; every action goes through the Project facade with the logged-in user as actor."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from healthscore.errors import AccessDenied, InvalidInput, TooManyAttempts
from healthscore.web.auth import check_csrf, page_principal, project
from healthscore.web.principal import Principal
from healthscore.web.render import render

router = APIRouter(include_in_schema=False)


def _can_review(request: Request, principal: Principal, account_id: str) -> bool:
    try:
        project(request).authorize(principal.username, "review", account_id)
        return True
    except AccessDenied:
        return False


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-01", field=name) from None
    if not dt.date(1900, 1, 1) <= d <= dt.date(2200, 12, 31):
        raise InvalidInput(f"{name} {value} is out of range", field=name)
    return d


def _safe_next(value: str | None) -> str:
    """Only a path on this site: no scheme, no host, no '//' or '/\\' (which browsers treat as a host)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value[:3]:
        return "/"
    return value


# ---- login -------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None):
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/")):
    check_csrf(request, csrf_token)
    throttle = request.app.state.login_throttle
    name, client = username.strip()[:200], request.client.host if request.client else "-"
    try:
        # before the password: a locked account stays locked, right password or not; counted as failed until
        # the password proves right
        attempt = throttle.attempt(name, client)
    except TooManyAttempts as exc:
        return render(request, "login.html", {"next": _safe_next(next), "error": str(exc)}, status_code=429,
                      headers={"retry-after": str(exc.retry_after)})
    user = project(request).login(name, password)
    if user is None:
        return render(request, "login.html", {"next": _safe_next(next), "error": "unknown user or wrong password"},
                      status_code=401)
    throttle.succeeded(name, attempt)
    # a fresh session (and CSRF token) on login: no session fixation; the epoch lets logout end it
    request.state.session = {"u": user["username"], "e": user["session_epoch"]}
    request.state.session_dirty = True
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")):
    check_csrf(request, csrf_token)
    if request.state.session.get("u"):  # every session of the user ends, here and in other browsers
        project(request).store.end_sessions(request.state.session["u"])
    request.state.session = {}
    request.state.session_dirty = True
    return RedirectResponse("/login", status_code=303)


# ---- pages -------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, principal: Principal = Depends(page_principal)):
    return RedirectResponse("/workbench" if principal.role == "csm" else "/portfolio", status_code=303)


@router.get("/portfolio", response_class=HTMLResponse)
def portfolio(request: Request, segment: str | None = Query(None, max_length=200),
              owner: str | None = Query(None, max_length=200), principal: Principal = Depends(page_principal)):
    data = project(request).portfolio(segment=segment or None, owner=owner or None)
    return render(request, "portfolio.html", {"p": data, "page": "portfolio"})


@router.get("/accounts", response_class=HTMLResponse)
def accounts(request: Request, tier: str | None = None, segment: str | None = None, owner: str | None = None,
             status: str | None = None, q: str | None = None, offset: int = Query(0, ge=0, le=10**9),
             principal: Principal = Depends(page_principal)):
    data = project(request).accounts(tier=tier or None, segment=segment or None, owner=owner or None,
                                     status=status or None, q=q or None, limit=100, offset=offset)
    args = {k: v for k, v in {"tier": tier, "segment": segment, "owner": owner, "status": status, "q": q}.items() if v}
    return render(request, "accounts.html", {"a": data, "args": args, "page": "accounts"})


@router.get("/workbench", response_class=HTMLResponse)
def workbench(request: Request, user: str | None = Query(None, max_length=200),
              offset: int = Query(0, ge=0, le=1_000_000), limit: int = Query(50, ge=1, le=500),
              principal: Principal = Depends(page_principal)):
    who = user or principal.username
    data = project(request).workbench(who, limit=limit, offset=offset)
    return render(request, "workbench.html", {"w": data, "page": "workbench",
                                              "can_pick": principal.role in ("manager", "admin")})


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, owner: str | None = Query(None, max_length=200), status: str = Query("open", max_length=20),
          priority: str | None = Query(None, max_length=20), offset: int = Query(0, ge=0, le=1_000_000),
          limit: int = Query(50, ge=1, le=500), order: str | None = Query(None, max_length=20),
          principal: Principal = Depends(page_principal)):
    qd = project(request).manager_queue(owner=owner or None, status=status or "open", priority=priority or None,
                                        limit=limit, offset=offset, order=order or None)
    return render(request, "queue.html", {"qd": qd, "page": "queue"})


@router.get("/decisions", response_class=HTMLResponse)
def decisions(request: Request, offset: int = Query(0, ge=0, le=1_000_000),
              principal: Principal = Depends(page_principal)):
    p = project(request)
    return render(request, "decisions.html", {"d": p.decisions(limit=50, offset=offset),
                                              "m": p.measurement_report(), "page": "decisions"})


TASK_CSV_COLUMNS = ("rank", "task_id", "queue", "account_id", "name", "arr", "renewal_date", "score",
                    "smoothed_score", "tier", "snapshot_status", "expected_arr_at_risk", "priority", "status",
                    "due_at", "why", "routed", "driver_text", "next_action")


def _tasks_csv(rows: list[dict], filename: str):
    """A task list as CSV (every row that matches, not one page)."""
    import csv
    import io

    from fastapi.responses import Response

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(TASK_CSV_COLUMNS)
    for r in rows:
        vals = [r["next_action"]["action"] if c == "next_action" else r.get(c) for c in TASK_CSV_COLUMNS]
        # a cell starting with = + - @ is a formula in a spreadsheet: quote it as text
        w.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in vals])
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/queue.csv")
def queue_csv(request: Request, owner: str | None = Query(None, max_length=200),
              status: str = Query("open", max_length=20),
              priority: str | None = Query(None, max_length=20), order: str | None = Query(None, max_length=20),
              principal: Principal = Depends(page_principal)):
    args = dict(owner=owner or None, status=status or "open", priority=priority or None, order=order or None)
    qd = project(request).manager_queue(**args, limit=500, offset=0)
    rows = list(qd["tasks"])
    while qd["tasks_page"]["next_offset"] is not None:
        qd = project(request).manager_queue(**args, limit=500, offset=qd["tasks_page"]["next_offset"])
        rows += qd["tasks"]
    return _tasks_csv(rows, "review-tasks.csv")


@router.get("/workbench.csv")
def workbench_csv(request: Request, user: str | None = Query(None, max_length=200),
                  principal: Principal = Depends(page_principal)):
    w = project(request).workbench(user or principal.username, limit=500)
    return _tasks_csv(w["tasks"] + w["backlog"], "workbench.csv")


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account(request: Request, account_id: str = Path(..., max_length=200),
            principal: Principal = Depends(page_principal)):
    data = project(request).account(account_id)
    prev = [h for h in data["history"] if data["as_of"] and h["as_of"] < data["as_of"]]
    compare = next((h["as_of"] for h in reversed(prev) if h["as_of"] <= _minus(data["as_of"], 7)), None)
    return render(request, "account.html", {"a": data, "page": "account", "compare": compare,
                                            "can_review": _can_review(request, principal, account_id),
                                            "tiers": project(request).model.ir.tiers})


def _minus(iso: str, days: int) -> str:
    return (dt.date.fromisoformat(iso) - dt.timedelta(days=days)).isoformat()


@router.get("/accounts/{account_id}/change", response_class=HTMLResponse)
def account_change(request: Request, account_id: str = Path(..., max_length=200), compare: str = Query(...),
                   as_of: str | None = None, principal: Principal = Depends(page_principal)):
    """The exact attribution of the change since `compare` (a fragment the account page loads)."""
    p = project(request)
    p.read_models.account_owner(account_id)  # NotFound names the account
    with p.engine_session():
        ex = p.explain(account_id, _date(as_of, "as_of"), _date(compare, "compare"))
    return render(request, "_change.html", {"ex": ex})


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task(request: Request, task_id: int = Path(..., ge=1, le=2**31 - 1),
         principal: Principal = Depends(page_principal)):
    p = project(request)
    t = p.task(task_id)
    audit = p.audit_page(100, object_type="task", object_id=str(task_id))["items"]
    if t["override_id"]:
        audit += p.audit_page(20, object_type="override", object_id=str(t["override_id"]))["items"]
    audit.sort(key=lambda e: -e["seq"])
    wf = p.model.ir.workflow
    as_of = dt.date.fromisoformat(t["as_of"])
    return render(request, "task.html", {
        "t": t, "audit": audit, "page": "task", "can_review": _can_review(request, principal, t["account_id"]),
        "reasons": wf.override_reasons, "max_expires": (as_of + dt.timedelta(days=wf.max_override_days)).isoformat(),
        "min_expires": (as_of + dt.timedelta(days=1)).isoformat(),
        "default_expires": (as_of + dt.timedelta(days=min(30, wf.max_override_days))).isoformat()})


@router.post("/tasks/{task_id}/review")
def review(request: Request, task_id: int = Path(..., ge=1, le=2**31 - 1), decision: str = Form(...),
           csrf_token: str = Form(""), score: str = Form(""), tier: str = Form(""), reason_code: str = Form(""),
           note: str = Form(""), expires: str = Form(""), principal: Principal = Depends(page_principal)):
    check_csrf(request, csrf_token)
    p = project(request)
    t = p.task(task_id)
    p.authorize(principal.username, "review", t["account_id"])
    try:
        score_v = float(score) if score.strip() else None
    except ValueError:
        raise InvalidInput(f"score {score!r} is not a number; use 0..100", field="score") from None
    with request.app.state.write_lock:
        p.review(task_id, decision, principal.username, score=score_v, tier=tier or None,
                 reason_code=reason_code or None, note=note.strip() or None, expires=_date(expires, "expires"))
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.post("/tasks/{task_id}/followup")
def followup(request: Request, task_id: int = Path(..., ge=1, le=2**31 - 1), csrf_token: str = Form(""),
             note: str = Form(""), principal: Principal = Depends(page_principal)):
    check_csrf(request, csrf_token)
    p = project(request)
    t = p.task(task_id)
    p.authorize(principal.username, "review", t["account_id"])
    p.follow_up(task_id, principal.username, note.strip())
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


@router.get("/models", response_class=HTMLResponse)
def models(request: Request, show: str | None = Query(None, max_length=64),
           principal: Principal = Depends(page_principal)):
    p = project(request)
    versions = p.model_list()
    shown = [p.model_show(v["version"]) for v in versions if v["status"] == "proposed" or v["version"] == show]
    active = next((v for v in versions if v["status"] == "active"), None)
    return render(request, "models.html", {"versions": versions, "shown": shown, "active": active,
                                           "scoring": p.model.version, "notice": p.model_notice,
                                           "is_admin": principal.role == "admin", "page": "models",
                                           "ir": p.model.ir})


@router.post("/models/{version}/approve")
def approve(request: Request, version: str = Path(..., max_length=64), csrf_token: str = Form(""),
            principal: Principal = Depends(page_principal)):
    check_csrf(request, csrf_token)
    p = project(request)
    p.authorize(principal.username, "model.approve")
    with request.app.state.write_lock:
        p.model_approve(version, principal.username)
        p.reload_model()
    return RedirectResponse("/models", status_code=303)


def link(path: str, **args) -> str:
    q = "&".join(f"{k}={quote(str(v))}" for k, v in args.items() if v)
    return f"{path}?{q}" if q else path


# ---- the API reference: Swagger UI from the swagger-ui-bundle package's files, no CDN ------------------

SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
                 "favicon-32x32.png": "image/png"}


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    """Swagger UI from vendored files (no CDN); its one inline script is allowed by a per-response nonce
    (the pages themselves have no inline script)."""
    import secrets

    from fastapi.openapi.docs import get_swagger_ui_html

    nonce = secrets.token_urlsafe(16)
    page = get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="healthscore API",
                               swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs/assets/swagger-ui.css",
                               swagger_favicon_url="/docs/assets/favicon-32x32.png")
    html = bytes(page.body).decode()
    html = html.replace("<script>", f'<script nonce="{nonce}">')
    csp = (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:;"
           " connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    return HTMLResponse(html, headers={"content-security-policy": csp})


@router.get("/docs/assets/{name}")
def api_docs_asset(name: str = Path(..., max_length=64)):
    from pathlib import Path as FsPath

    from fastapi.responses import FileResponse, Response
    from swagger_ui_bundle import swagger_ui_path

    if name not in SWAGGER_FILES:  # a fixed list: no path from the request reaches the file system
        return Response(status_code=404)
    return FileResponse(FsPath(swagger_ui_path) / name, media_type=SWAGGER_FILES[name],
                        headers={"Cache-Control": "public, max-age=86400"})
