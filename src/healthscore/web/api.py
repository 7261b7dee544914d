"""The REST API, /api/v1: thin endpoints over the Project facade. Errors are JSON: {"error": message, "kind": ...,
"field": ...} (healthscore.errors), with the HTTP status of the error's type."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from healthscore.errors import AccessDenied, InvalidInput, NotFound, TooLarge
from healthscore.model.windows import WINDOW_PATTERN
from healthscore.web.auth import api_principal, project, require_scope
from healthscore.web.principal import Principal

router = APIRouter(tags=["healthscore"])


def _finite(v: Any) -> Any:
    if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def json_response(obj: Any) -> Response:
    """JSON straight from json.dumps (FastAPI's jsonable_encoder costs ten times more on a page of
    accounts); NaN and infinities become null, dates ISO text."""
    try:
        body = json.dumps(obj, default=str, allow_nan=False)
    except ValueError:
        body = json.dumps(_finite(obj), default=str, allow_nan=False)
    return Response(body, media_type="application/json")


def fast(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        return out if isinstance(out, Response) else json_response(out)

    return wrapper
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)
TaskId = Path(..., ge=1, le=2**31 - 1, description="review task id")
AccountId = Path(..., min_length=1, max_length=200, description="account id")
Limit = Query(50, ge=1, le=500, description="page size")
Offset = Query(0, ge=0, le=10**9, description="rows to skip")


def reader(request: Request, principal: Principal = Depends(api_principal)) -> Principal:
    require_scope(principal, "read")  # every role reads; the principal is an enabled user with a role
    return principal


def writer(request: Request, principal: Principal = Depends(api_principal)) -> Principal:
    require_scope(principal, "write")
    return principal


def _date(value: dt.date | None, name: str) -> dt.date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise InvalidInput(f"{name}={value} is out of range; use a date between {MIN_DATE} and {MAX_DATE}",
                           field=name)
    return value


def _text(value: str | None, name: str) -> str | None:
    if value is not None and ("\x00" in value or len(value) > 5000):
        raise InvalidInput(f"{name}: text with a NUL character or over 5000 characters is not allowed", field=name)
    return value


def _account(request: Request, account_id: str) -> str:
    _text(account_id, "account_id")
    project(request).read_models.account_owner(account_id)  # NotFound names the account
    return account_id


# ---- who am I, portfolio, accounts --------------------------------------------------------------


@router.get("/me", summary="The authenticated user, role and token scopes")
@fast
def me(principal: Principal = Depends(reader)):
    return {"username": principal.username, "role": principal.role, "via": principal.via,
            "scopes": list(principal.scopes) if principal.via == "token" else ["read", "write"]}


@router.get("/portfolio",
            summary="Tiers with ARR and trend, score distribution over time, transitions, at-risk accounts")
@fast
def portfolio(request: Request, segment: str | None = Query(None, max_length=200),
              owner: str | None = Query(None, max_length=200), top: int = Query(15, ge=1, le=200),
              _: Principal = Depends(reader)):
    return project(request).portfolio(segment=_text(segment, "segment"), owner=_text(owner, "owner"), top=top)


@router.get("/accounts", summary="Accounts at the latest stored as-of date, lowest score first, filtered and paged")
@fast
def accounts(request: Request, tier: Literal["green", "yellow", "red"] | None = None,
             segment: str | None = Query(None, max_length=200), owner: str | None = Query(None, max_length=200),
             status: Literal["scored", "paused", "insufficient_data", "onboarding", "overridden"] | None = None,
             q: str | None = Query(None, max_length=200, description="account id or name contains"),
             limit: int = Limit, offset: int = Offset, _: Principal = Depends(reader)):
    return project(request).accounts(tier=tier, segment=_text(segment, "segment"), owner=_text(owner, "owner"),
                                     status=status, q=_text(q, "q"), limit=limit, offset=offset)


@router.get("/accounts/{account_id}", summary="One account: latest snapshot with evidence, history, tasks, audit")
@fast
def account(request: Request, account_id: str = AccountId, _: Principal = Depends(reader)):
    return project(request).account(_account(request, account_id))


@router.get("/accounts/{account_id}/snapshots", summary="The account's stored snapshots (no evidence), oldest first")
@fast
def snapshots(request: Request, account_id: str = AccountId, date_from: dt.date | None = Query(None, alias="from"),
              date_to: dt.date | None = Query(None, alias="to"), _: Principal = Depends(reader)):
    p = project(request)
    _account(request, account_id)
    with p.engine_session():
        return p.history(account_id, _date(date_from, "from"), _date(date_to, "to"))


@router.get("/accounts/{account_id}/evidence", summary="The evidence of one stored snapshot (default: the latest)")
@fast
def evidence(request: Request, account_id: str = AccountId, as_of: dt.date | None = None,
             _: Principal = Depends(reader)):
    p = project(request)
    _account(request, account_id)
    if as_of is None:
        as_of_s = p.account(account_id)["as_of"]
        if as_of_s is None:
            raise NotFound(f"account {account_id!r} has no stored snapshot yet; run 'healthscore score'")
        as_of = dt.date.fromisoformat(as_of_s)
    return {"account_id": account_id, "as_of": as_of.isoformat(),
            "evidence": p.account_evidence(account_id, _date(as_of, "as_of"))}


@router.get("/accounts/{account_id}/explain",
            summary="Score the account now (or as of a date); with compare, the exact attribution of the change")
@fast
def explain(request: Request, account_id: str = AccountId, as_of: dt.date | None = None,
            compare: dt.date | None = None, _: Principal = Depends(reader)):
    p = project(request)
    _account(request, account_id)
    with p.engine_session():
        return p.explain(account_id, _date(as_of, "as_of"), _date(compare, "compare"))


@router.get("/changes", summary="Material changes between stored snapshots since a date")
@fast
def changes(request: Request, since: dt.date, until: dt.date | None = None, limit: int = Limit,
            offset: int = Offset, _: Principal = Depends(reader)):
    p = project(request)
    items = p.changes(_date(since, "since"), _date(until, "until"))
    return {"total": len(items), "limit": limit, "offset": offset,
            "next_offset": offset + limit if offset + limit < len(items) else None,
            "items": items[offset:offset + limit]}


# ---- the review workflow ------------------------------------------------------------------------


@router.get("/tasks", summary="Review tasks: open and backlog by rank, others newest first; total is the real count")
@fast
def tasks(request: Request, owner: str | None = Query(None, max_length=200),
          status: Literal["open", "backlog", "accepted", "corrected", "dismissed", "superseded", "closed",
                          "all"] = "open",
          account_id: str | None = Query(None, max_length=200), limit: int = Limit, offset: int = Offset,
          order: Literal["rank", "due", "newest", "decided"] | None = Query(
              None, description="default: rank for open and backlog, else newest"),
          priority: Literal["high", "normal"] | None = None,
          _: Principal = Depends(reader)):
    return project(request).tasks_page(_text(owner, "owner"), status, _text(account_id, "account_id"), limit, offset,
                                       order=order, priority=priority)


@router.get("/tasks/{task_id}", summary="One review task with its evidence, drafted next action and audit trail")
@fast
def task(request: Request, task_id: int = TaskId, _: Principal = Depends(reader)):
    p = project(request)
    return {**p.task(task_id), "audit": p.audit_page(100, object_type="task", object_id=str(task_id))["items"]}


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "correct", "dismiss"]
    score: float | None = Field(None, description="correct: the score to show (0..100)")
    tier: Literal["green", "yellow", "red"] | None = Field(None, description="correct: the tier to show")
    reason_code: str | None = Field(None, max_length=100, description="correct: one of workflow.override_reasons")
    note: str | None = Field(None, max_length=5000, description="correct: why; dismiss: the reason")
    expires: dt.date | None = Field(None, description="correct: when the override ends by itself")

    @field_validator("reason_code", "note")
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        if v is not None and "\x00" in v:
            raise ValueError("must not contain a NUL character")
        return v


@router.post("/tasks/{task_id}/review",
             summary="Decide on a task: accept, correct (an override that expires) or dismiss")
@fast
def review(request: Request, body: ReviewIn, task_id: int = TaskId, principal: Principal = Depends(writer)):
    p = project(request)
    t = p.task(task_id)
    p.authorize(principal.username, "review", t["account_id"])
    _date(body.expires, "expires")
    with request.app.state.write_lock:
        return p.review(task_id, body.decision, principal.username, score=body.score, tier=body.tier,
                        reason_code=body.reason_code, note=body.note, expires=body.expires)


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(..., min_length=1, max_length=5000)


@router.post("/tasks/{task_id}/followup", summary="Log the follow-up of an accepted or corrected task")
@fast
def followup(request: Request, body: FollowUpIn, task_id: int = TaskId, principal: Principal = Depends(writer)):
    p = project(request)
    t = p.task(task_id)
    p.authorize(principal.username, "review", t["account_id"])
    return p.follow_up(task_id, principal.username, _text(body.note, "note"))


@router.get("/overrides", summary="Owner overrides, newest first")
@fast
def overrides(request: Request, account_id: str | None = Query(None, max_length=200),
              active_on: dt.date | None = None, _: Principal = Depends(reader)):
    return project(request).overrides(_text(account_id, "account_id"), _date(active_on, "active_on"))


@router.get("/alerts", summary="Alerts with the snapshot and evidence they came from, newest first")
@fast
def alerts(request: Request, since: dt.date | None = None, owner: str | None = Query(None, max_length=200),
           status: Literal["sent", "digest", "capped"] | None = None,
           account_id: str | None = Query(None, max_length=200), limit: int = Limit, offset: int = Offset,
           _: Principal = Depends(reader)):
    return project(request).alerts_page(_date(since, "since"), _text(owner, "owner"), status,
                                        _text(account_id, "account_id"), limit, offset)


# ---- models, backtests, measurement, audit ------------------------------------------------------


@router.get("/models", summary="Model versions: recorded, proposed, active, retired")
@fast
def models(request: Request, _: Principal = Depends(reader)):
    return project(request).model_list()


@router.get("/models/{version}", summary="One model version with its diff against the active model")
@fast
def model(request: Request, version: str = Path(..., min_length=4, max_length=64, pattern=r"^[0-9a-f]+$"),
          _: Principal = Depends(reader)):
    return project(request).model_show(version)


@router.get("/models/{version}/backtest", summary="The backtest summary stored when the version was proposed")
@fast
def model_backtest(request: Request, version: str = Path(..., min_length=4, max_length=64, pattern=r"^[0-9a-f]+$"),
                   _: Principal = Depends(reader)):
    m = project(request).model_show(version)
    if not m.get("backtest"):
        raise NotFound(f"model version {m['version']} has no stored backtest: propose it with"
                       " 'healthscore model propose' (which runs one), or POST /api/v1/backtests")
    return {"version": m["version"], "backtest": m["backtest"]}


@router.post("/models/{version}/approve", summary="Make a proposed version the active model (admin only)")
@fast
def approve(request: Request, version: str = Path(..., min_length=4, max_length=64, pattern=r"^[0-9a-f]+$"),
            principal: Principal = Depends(writer)):
    p = project(request)
    p.authorize(principal.username, "model.approve")
    with request.app.state.write_lock:
        out = p.model_approve(version, principal.username)
        p.reload_model()
    return out


class BacktestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    date_from: dt.date = Field(..., alias="from")
    date_to: dt.date = Field(..., alias="to")
    every_days: int = Field(30, ge=7, le=365)
    horizon: str | None = Field(None, max_length=10, pattern=WINDOW_PATTERN)


@router.post("/backtests", summary="Run a small backtest of the active model (at most 12 as-of dates; nothing stored)")
@fast
def backtest(request: Request, body: BacktestIn, principal: Principal = Depends(writer)):
    p = project(request)
    p.authorize(principal.username, "backtest")
    a, b = _date(body.date_from, "from"), _date(body.date_to, "to")
    assert a is not None and b is not None  # required fields of the body
    if b < a:
        raise InvalidInput(f"to={b} is before from={a}", field="to")
    if (b - a).days // body.every_days + 1 > 12:
        raise InvalidInput(f"from..to every {body.every_days} days gives more than 12 as-of dates; the API runs"
                           " small backtests only (use 'healthscore backtest' for large ones)", field="every_days")
    with p.engine_session():
        r = p.backtest(a, b, body.every_days, horizon=body.horizon, n_boot=50)
    r.pop("metric_study", None)
    return r


@router.get("/reports/measurement", summary="Validation rate, false positives, missed risks, follow-through")
@fast
def measurement(request: Request, horizon_days: int = Query(90, ge=1, le=3650), _: Principal = Depends(reader)):
    p = project(request)
    with p.engine_session():  # the outcomes table is in the engine
        return p.measurement_report(horizon_days)


@router.get("/audit", summary="The audit log, newest first; page with before_seq")
@fast
def audit(request: Request, limit: int = Limit, before_seq: int | None = Query(None, ge=1, le=2**31 - 1),
          object_type: str | None = Query(None, max_length=50), object_id: str | None = Query(None, max_length=200),
          _: Principal = Depends(reader)):
    return project(request).audit_page(limit, before_seq, _text(object_type, "object_type"),
                                       _text(object_id, "object_id"))


@router.get("/audit/verify", summary="Recompute the audit log's hash chain")
@fast
def audit_verify(request: Request, _: Principal = Depends(reader)):
    return project(request).audit_verify()


# ---- events in ---------------------------------------------------------------------------------

_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def parse_rows(raw: bytes) -> list[dict[str, Any]]:
    """A JSON array of objects, one JSON object, or NDJSON (one object per line)."""
    text = raw.decode("utf-8", errors="strict") if raw else ""
    if not text.strip():
        raise InvalidInput("the body is empty: send a JSON array of rows or NDJSON (one JSON object per line)")
    try:
        data = json.loads(text)
        rows = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"body line {n}: not JSON ({exc.msg}); send NDJSON, one object per line") from None
    bad = [i for i, r in enumerate(rows, start=1) if not isinstance(r, dict)]
    if bad:
        raise InvalidInput(f"row {bad[0]} is not a JSON object; every row is an object of canonical columns")
    return rows


@router.post("/events", summary="Send canonical rows (NDJSON or a JSON array): validated, quarantined with reasons,"
             " idempotent on event ids", openapi_extra=_EVENTS_BODY)
async def events(request: Request, table: str = Query(..., max_length=50, description="a canonical table"),
                 principal: Principal = Depends(api_principal)):
    from starlette.concurrency import run_in_threadpool

    from healthscore.contract import TABLES

    require_scope(principal, "events:write")
    p = project(request)
    await run_in_threadpool(p.authorize, principal.username, "events")
    if table not in TABLES:
        raise InvalidInput(f"table={table!r} is not a canonical table; use one of {', '.join(sorted(TABLES))}",
                           field="table")
    raw = await read_body(request, max_event_bytes())
    try:
        rows = await run_in_threadpool(parse_rows, raw)  # a large batch parses off the event loop
    except UnicodeDecodeError:
        raise InvalidInput("the body is not UTF-8 text") from None

    def ingest():
        with p.engine_session(), request.app.state.write_lock:
            return p.ingest_events(table, rows, source=f"api:{principal.username}")

    result = await run_in_threadpool(ingest)
    return JSONResponse({**report_dict(result["reports"][0]), "rescored": result["rescored"],
                         "latency_ms": result["latency_ms"]})


def max_event_bytes() -> int:
    """The largest body POST /events reads (HEALTHSCORE_MAX_EVENT_BYTES, default 8 MiB): a bigger batch is
    refused before it is read, so one client cannot fill the server's memory or hold the others up."""
    import os

    value = os.environ.get("HEALTHSCORE_MAX_EVENT_BYTES", "")
    return int(value) if value.isdigit() and int(value) > 0 else 8 * 1024 * 1024


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {int(declared):,} bytes; send at most {limit:,} bytes per request (split"
                           " the rows into batches)")
    chunks, size = [], 0
    async for chunk in request.stream():  # chunked bodies declare no length: count as they arrive
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the body is over {limit:,} bytes; send at most {limit:,} bytes per request (split"
                               " the rows into batches)")
        chunks.append(chunk)
    return b"".join(chunks)


def report_dict(report: Any, show: int = 50) -> dict[str, Any]:
    q = getattr(report, "quarantine", None)
    shown = []
    if q is not None and len(q):
        head = q.head(show)
        shown = json.loads(head.to_json(orient="records", date_format="iso", default_handler=str))
    return {"table": report.table, "source": report.source, "read": int(report.read),
            "accepted": int(report.accepted), "quarantined": int(report.quarantined),
            "already_ingested": int(getattr(report, "already_ingested", 0)),
            "warnings": list(getattr(report, "warnings", []) or []), "quarantine": shown}


__all__ = ["router", "AccessDenied"]
