"""Synthetic portfolio for the benchmarks: canonical Parquet files, fast and deterministic.

Vectorised numpy + pyarrow, no Python loop over rows. Every table draws from its own
``numpy.random.Generator`` seeded from ``SeedSequence(seed, spawn_key=(k,))``, so the same
parameters give the same files. Column names, order and types follow
``healthscore.contract.TABLES``; timestamps are naive (UTC) ``timestamp[us]``.

The data window is ``[END - DATA_DAYS, END)``: everything that happened lies strictly before
``END`` (planned dates such as ``renewal_date`` and ``due_at`` may lie after it). Usage events
are written in time order, as an append-only event log would be.

Only the tables the seed-standard model reads are generated: accounts, usage_events, tickets,
surveys, invoices, contacts, interactions, milestones, assessments, outcomes.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from healthscore.contract import BOOL, FLOAT, INT, STRING, TABLES, TIMESTAMP

GENERATOR_VERSION = 4  # 4: its own segment mix, plans and owners (nothing taken from the demo generator)
END = dt.datetime(2025, 7, 1)  # the data window ends here; the benchmark scores as of this date
DATA_DAYS = 400  # about 13 months of history
SEED = 20250701

US = 1_000_000
DAY_US = 86_400 * US
END_US = int(np.datetime64(END, "us").astype("int64"))
START_US = END_US - DATA_DAYS * DAY_US

SEGMENTS = np.array(["SMB", "mid-market", "enterprise"])
SEG_P = (0.55, 0.33, 0.12)
SEATS = ((2, 20), (10, 80), (50, 400))  # inclusive range per segment
PLANS = np.array(["basic", "team", "pro", "scale"])
OWNERS = np.array([f"csm{k:02d}" for k in range(1, 15)])
EVENTS = np.array(["login", "report_view", "dashboard_view", "export", "dashboard_edit", "api_call", "share",
                   "integration_sync"])
LOGIN_P = 0.35
TICKETS_PER_ACCOUNT = 11.6
SURVEYS_PER_ACCOUNT = 4.0
INTERACTIONS_PER_ACCOUNT = 6.0
CONTACTS_PER_ACCOUNT = 3.0
MILESTONES_PER_ACCOUNT = 4.0
ASSESSMENTS_PER_ACCOUNT = 8.0  # about one every 50 days: most accounts have one in the last 120 days
MILESTONE_NAMES = np.array(["kickoff", "integration", "admin training", "first dashboard", "adoption review",
                            "success plan", "executive review"])
EVENT_CHUNK = 1_000_000  # usage events are built and written per chunk of rows (= one row group)

_ARROW = {STRING: pa.string(), FLOAT: pa.float64(), INT: pa.int64(), BOOL: pa.bool_(), TIMESTAMP: pa.timestamp("us")}
GENERATED_TABLES = ("accounts", "usage_events", "tickets", "surveys", "invoices", "contacts", "interactions",
                    "milestones", "assessments", "outcomes")


def schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in TABLES[table].columns])


def _rng(seed: int, k: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))


def _ids(prefix: str, idx: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(idx, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), s, "")


def _ts(us: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """int64 microseconds -> timestamp[us] (null where mask is False), truncated to whole seconds."""
    us = (np.asarray(us, dtype="int64") // US) * US
    return pa.array(us, pa.timestamp("us"), mask=None if mask is None else ~mask)


def _table(name: str, cols: dict) -> pa.Table:
    sch = schema(name)
    n = len(next(iter(cols.values())))
    arrays = []
    for f in sch:
        v = cols.get(f.name)
        if v is None:
            arrays.append(pa.nulls(n, f.type))
        elif isinstance(v, (pa.Array, pa.ChunkedArray)):
            arrays.append(v.cast(f.type))
        else:
            arrays.append(pa.array(v, f.type))
    return pa.Table.from_arrays(arrays, schema=sch)


def _write(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=EVENT_CHUNK)


def _spread(rng, lo: np.ndarray, hi: np.ndarray, acct: np.ndarray) -> np.ndarray:
    """Uniform timestamps in [lo, hi) of each row's account."""
    span = (hi - lo)[acct].astype("float64")
    return lo[acct] + (rng.random(len(acct)) * span).astype("int64")


def _poisson_rows(rng, rate: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Account index per row: Poisson(rate) rows for each active account."""
    counts = np.where(active, rng.poisson(np.where(active, rate, 0.0)), 0)
    return np.repeat(np.arange(len(rate)), counts)


def generate(out: Path, n_accounts: int, n_events: int, seed: int = SEED, log=print) -> dict:
    """Write <table>.parquet for the generated tables into `out`; skip when cached. Returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    params = {"version": GENERATOR_VERSION, "accounts": n_accounts, "events": n_events, "seed": seed,
              "end": END.isoformat(), "data_days": DATA_DAYS}
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params and all((out / f"{t}.parquet").exists() for t in GENERATED_TABLES):
            log(f"data: cached in {out} ({n_accounts:,} accounts, {n_events:,} usage events)")
            return manifest
    for t in GENERATED_TABLES:
        (out / f"{t}.parquet").unlink(missing_ok=True)
    manifest_path.unlink(missing_ok=True)

    t0 = time.perf_counter()
    rows: dict[str, int] = {}
    width = max(6, len(str(n_accounts - 1)))
    n = n_accounts

    # ---- accounts ------------------------------------------------------------------------
    rng = _rng(seed, 0)
    acct_idx = np.arange(n)
    account_id = _ids("A", acct_idx, width)
    seg = rng.choice(3, n, p=SEG_P)
    lo_s = np.array([s[0] for s in SEATS])[seg]
    hi_s = np.array([s[1] for s in SEATS])[seg]
    seats = rng.integers(lo_s, hi_s + 1)
    arr = np.round(seats * rng.uniform(600.0, 1500.0, n), 2)
    plan = PLANS[np.minimum(seg + rng.integers(0, 2, n), 3)]
    owner = OWNERS[rng.integers(0, len(OWNERS), n)]
    old = rng.random(n) < 0.85
    created = np.where(
        old,
        END_US - rng.integers(DATA_DAYS * DAY_US, 6 * 365 * DAY_US, n),
        END_US - rng.integers(1 * DAY_US, DATA_DAYS * DAY_US, n),
    )
    created = (created // US) * US
    health = rng.beta(4.0, 2.0, n)  # hidden health in (0, 1): drives ratings, escalations, payments
    year = 365 * DAY_US
    k_last = (END_US - created) // year
    last_anniv = created + k_last * year
    has_outcome = (k_last >= 1) & (last_anniv >= START_US)
    u = rng.random(n)
    p_churn = 0.02 + 0.10 * (1 - health)
    kind_idx = np.where(u < p_churn, 3, np.where(u < p_churn + 0.04, 2, np.where(u < p_churn + 0.12, 1, 0)))
    kinds = np.array(["renewed", "expanded", "contracted", "churned"])
    churned = has_outcome & (kind_idx == 3)
    renewal = np.where(churned, last_anniv, created + (k_last + 1) * year)
    active_hi = np.where(churned, last_anniv, END_US)  # no activity after churn
    lo = np.maximum(created, START_US)
    parent = np.where(rng.random(n) < 0.02, rng.integers(0, n, n), -1)
    parent_id = pc.if_else(pa.array(parent >= 0), _ids("A", np.maximum(parent, 0), width), pa.scalar(None, pa.string()))
    accounts = _table("accounts", {
        "account_id": account_id,
        "name": _ids("Company ", acct_idx, width),
        "segment": SEGMENTS[seg],
        "owner": owner,
        "arr": arr,
        "plan": plan,
        "seats": seats,
        "created_at": _ts(created),
        "renewal_date": _ts(renewal),
        "parent_id": parent_id,
    })
    _write(accounts, out / "accounts.parquet")
    rows["accounts"] = n

    # ---- outcomes ------------------------------------------------------------------------
    oi = np.flatnonzero(has_outcome)
    ok = kind_idx[oi]
    frac = rng.uniform(0.1, 0.5, len(oi))
    arr_change = np.select([ok == 1, ok == 2, ok == 3], [arr[oi] * frac, -arr[oi] * frac / 2, -arr[oi]], 0.0)
    outcomes = _table("outcomes", {
        "account_id": account_id.take(pa.array(oi)),
        "ts": _ts(last_anniv[oi]),
        "kind": kinds[ok],
        "arr_change": np.round(arr_change, 2),
    })
    _write(outcomes, out / "outcomes.parquet")
    rows["outcomes"] = len(oi)
    log(f"data: accounts, outcomes ({time.perf_counter() - t0:.1f}s)")

    # ---- usage_events --------------------------------------------------------------------
    rng = _rng(seed, 1)
    use_hi = active_hi.copy()
    dormant = rng.random(n) < 0.04  # no product use in the last weeks or months
    use_hi = np.where(dormant, np.minimum(use_hi, END_US - rng.integers(20, 150, n) * DAY_US), use_hi)
    no_use = rng.random(n) < 0.02
    span = np.maximum(use_hi - lo, 0)
    weight = seats ** 0.7 * rng.lognormal(0.0, 0.8, n) * (span / (DATA_DAYS * DAY_US)) * (0.3 + health)
    weight = np.where(no_use | (span <= DAY_US), 0.0, weight)
    counts = rng.multinomial(n_events, weight / weight.sum())
    trend = np.exp(rng.normal(0.0, 0.35, n))  # < 1: usage growing towards the end, > 1: declining
    breadth = np.minimum(1 + rng.poisson(2.5, n), len(EVENTS) - 1)  # features an account uses
    users = np.maximum(1, np.round(seats * rng.uniform(0.2, 1.0, n))).astype("int64")
    ev_acct = np.repeat(np.arange(n, dtype="int32"), counts)
    ts = lo[ev_acct] + (rng.random(n_events) ** trend[ev_acct] * span[ev_acct]).astype("int64")
    ts = (ts // US) * US
    order = np.argsort(ts, kind="stable")
    ts, ev_acct = ts[order], ev_acct[order]
    del order
    events_arr = pa.array(EVENTS)
    sch = schema("usage_events")
    with pq.ParquetWriter(out / "usage_events.parquet", sch, compression="zstd") as w:
        for s in range(0, n_events, EVENT_CHUNK):
            a = ev_acct[s:s + EVENT_CHUNK]
            m = len(a)
            login = rng.random(m) < LOGIN_P
            feat = 1 + (rng.random(m) * breadth[a]).astype("int64")
            code = np.where(login, 0, feat)
            qty = np.ones(m)
            qty = np.where(code == 5, 1 + rng.poisson(20, m), qty)
            qty = np.where(code == 3, 1 + rng.poisson(2, m), qty)
            uidx = (rng.random(m) ** 1.5 * users[a]).astype("int64")
            acct_str = account_id.take(pa.array(a))
            user_id = pc.binary_join_element_wise(acct_str, pc.utf8_lpad(pc.cast(pa.array(uidx), pa.string()), 4, "0"),
                                                  "-u")
            w.write_table(_table("usage_events", {
                "account_id": acct_str,
                "ts": _ts(ts[s:s + m]),
                "event": events_arr.take(pa.array(code)),
                "user_id": user_id,
                "quantity": qty.astype("float64"),
                "event_id": _ids("e", np.arange(s, s + m), 9),
            }), row_group_size=EVENT_CHUNK)
    rows["usage_events"] = n_events
    del ts, ev_acct
    log(f"data: usage_events ({time.perf_counter() - t0:.1f}s)")

    # ---- tickets -------------------------------------------------------------------------
    rng = _rng(seed, 2)
    active = active_hi > lo
    active_share = (active_hi - lo) / (DATA_DAYS * DAY_US)
    rate = TICKETS_PER_ACCOUNT * (seats / seats.mean()) ** 0.5 * (1.6 - health) * active_share
    ta = _poisson_rows(rng, rate, active)
    m = len(ta)
    h = health[ta]
    opened = _spread(rng, lo, active_hi, ta)
    dur = (rng.lognormal(np.log(20.0), 1.2, m) * 3600 * US).astype("int64")
    closed = opened + dur
    closed_ok = (rng.random(m) > 0.03) & (closed < END_US)
    answered = closed_ok & (rng.random(m) < 0.45)
    csat = np.clip(np.round(rng.normal(2.2 + 2.6 * h, 1.0)), 1, 5)
    ces_answered = closed_ok & (rng.random(m) < 0.3)
    ces = np.clip(np.round(rng.normal(5.2 - 3.2 * h, 1.2)), 1, 7)
    sla_known = rng.random(m) > 0.05
    status = np.where(closed_ok, "closed", np.where(rng.random(m) < 0.5, "open", "pending"))
    tickets = _table("tickets", {
        "ticket_id": _ids("T", np.arange(m), 8),
        "account_id": account_id.take(pa.array(ta)),
        "opened_at": _ts(opened),
        "closed_at": _ts(closed, closed_ok),
        "priority": np.array(["low", "normal", "high", "urgent"])[rng.choice(4, m, p=(0.3, 0.45, 0.2, 0.05))],
        "status": status,
        "escalated": rng.random(m) < 0.12 - 0.1 * h,
        "reopened": rng.random(m) < 0.14 - 0.1 * h,
        "csat": pa.array(csat, pa.float64(), mask=~answered),
        "ces": pa.array(ces, pa.float64(), mask=~ces_answered),
        "sla_met": pa.array(rng.random(m) < 0.7 + 0.25 * h, pa.bool_(), mask=~sla_known),
    })
    _write(tickets, out / "tickets.parquet")
    rows["tickets"] = m

    # ---- surveys -------------------------------------------------------------------------
    rng = _rng(seed, 3)
    rate = SURVEYS_PER_ACCOUNT * (seats / seats.mean()) ** 0.3 * ((active_hi - lo) / (DATA_DAYS * DAY_US))
    sa = _poisson_rows(rng, rate, active)
    m = len(sa)
    h = health[sa]
    nps = rng.random(m) < 0.65
    score = np.where(nps, np.clip(np.round(rng.normal(2.5 + 7.0 * h, 2.0)), 0, 10),
                     np.clip(np.round(rng.normal(1.8 + 3.2 * h, 1.0)), 1, 5))
    acct_str = account_id.take(pa.array(sa))
    surveys = _table("surveys", {
        "account_id": acct_str,
        "ts": _ts(_spread(rng, lo, active_hi, sa)),
        "kind": np.where(nps, "nps", "csat"),
        "score": score,
        "comment": pa.array(np.where(rng.random(m) < 0.1, "see notes", ""), pa.string(),
                            mask=rng.random(m) >= 0.1),
        "respondent": pc.binary_join_element_wise(
            acct_str, pc.utf8_lpad(pc.cast(pa.array((rng.random(m) * users[sa]).astype("int64")), pa.string()), 4, "0"),
            "-u"),
    })
    _write(surveys, out / "surveys.parquet")
    rows["surveys"] = m
    log(f"data: tickets, surveys ({time.perf_counter() - t0:.1f}s)")

    # ---- invoices: monthly, from an anchor in the first month of the window ------------
    rng = _rng(seed, 4)
    months = DATA_DAYS // 30 + 1
    anchor = START_US + rng.integers(0, 30 * DAY_US, n)
    issued_m = anchor[:, None] + np.arange(months)[None, :] * 30 * DAY_US
    keep = (issued_m >= lo[:, None]) & (issued_m < active_hi[:, None])
    ia = np.nonzero(keep)[0]
    issued = issued_m[keep]
    m = len(ia)
    h = health[ia]
    due = issued + 30 * DAY_US
    u = rng.random(m)
    p_fail = 0.01 + 0.04 * (1 - h)
    p_late = 0.04 + 0.2 * (1 - h)
    failed = u < p_fail
    late = ~failed & (u < p_fail + p_late)
    paid = np.where(late, due + rng.integers(1 * DAY_US, 45 * DAY_US, m), issued + rng.integers(0, 29 * DAY_US, m))
    paid_ok = ~failed & (paid < END_US)
    refunded = paid_ok & (rng.random(m) < 0.003)
    inv_status = np.where(failed, "failed", np.where(refunded, "refunded", np.where(paid_ok, "paid", "open")))
    invoices = _table("invoices", {
        "invoice_id": _ids("I", np.arange(m), 9),
        "account_id": account_id.take(pa.array(ia)),
        "issued_at": _ts(issued),
        "due_at": _ts(due),
        "paid_at": _ts(paid, paid_ok),
        "amount": np.round(arr[ia] / 12.0, 2),
        "status": inv_status,
    })
    _write(invoices, out / "invoices.parquet")
    rows["invoices"] = m

    # ---- contacts ------------------------------------------------------------------------
    rng = _rng(seed, 5)
    ca = _poisson_rows(rng, np.full(n, CONTACTS_PER_ACCOUNT), np.ones(n, dtype=bool))
    m = len(ca)
    started = created[ca] + (rng.random(m) * 0.5 * (END_US - created[ca])).astype("int64")
    departed_ok = rng.random(m) < 0.15 + 0.2 * (1 - health[ca])
    departed = started + (rng.random(m) * (END_US - started)).astype("int64")
    engaged_hi = np.where(departed_ok, departed, END_US)
    engaged = started + (rng.random(m) * (engaged_hi - started)).astype("int64")
    contacts = _table("contacts", {
        "contact_id": _ids("C", np.arange(m), 8),
        "account_id": account_id.take(pa.array(ca)),
        "role": np.array(["champion", "sponsor", "admin", "user"])[rng.choice(4, m, p=(0.25, 0.2, 0.2, 0.35))],
        "started_at": _ts(started),
        "departed_at": _ts(departed, departed_ok),
        "last_engaged_at": _ts(engaged),
    })
    _write(contacts, out / "contacts.parquet")
    rows["contacts"] = m

    # ---- interactions --------------------------------------------------------------------
    rng = _rng(seed, 6)
    rate = INTERACTIONS_PER_ACCOUNT * (0.4 + health) * ((active_hi - lo) / (DATA_DAYS * DAY_US))
    xa = _poisson_rows(rng, rate, active)
    m = len(xa)
    interactions = _table("interactions", {
        "account_id": account_id.take(pa.array(xa)),
        "ts": _ts(_spread(rng, lo, active_hi, xa)),
        "kind": np.array(["meeting", "qbr", "email", "call"])[rng.choice(4, m, p=(0.3, 0.12, 0.38, 0.2))],
        "direction": np.where(rng.random(m) < 0.3 + 0.3 * health[xa], "inbound", "outbound"),
    })
    _write(interactions, out / "interactions.parquet")
    rows["interactions"] = m

    # ---- milestones: success-plan steps, some due after the end of the window -------------
    rng = _rng(seed, 7)
    ma = _poisson_rows(rng, np.full(n, MILESTONES_PER_ACCOUNT), active)
    m = len(ma)
    due = lo[ma] + (rng.random(m) * (END_US + 60 * DAY_US - lo[ma])).astype("int64")
    h = health[ma]
    u = rng.random(m)
    on_time = u < 0.45 + 0.4 * h
    late = ~on_time & (u < 0.75 + 0.2 * h)
    completed = np.where(on_time, due - rng.integers(0, 20 * DAY_US, m), due + rng.integers(1 * DAY_US, 60 * DAY_US, m))
    completed_ok = (on_time | late) & (completed < END_US)
    milestones = _table("milestones", {
        "account_id": account_id.take(pa.array(ma)),
        "name": MILESTONE_NAMES[rng.integers(0, len(MILESTONE_NAMES), m)],
        "due_at": _ts(due),
        "completed_at": _ts(completed, completed_ok),
    })
    _write(milestones, out / "milestones.parquet")
    rows["milestones"] = m

    # ---- assessments: the CSM's sentiment, a noisy function of health ---------------------
    rng = _rng(seed, 8)
    rate = ASSESSMENTS_PER_ACCOUNT * ((active_hi - lo) / (DATA_DAYS * DAY_US))
    aa = _poisson_rows(rng, rate, active)
    m = len(aa)
    mood = health[aa] + rng.normal(0.0, 0.15, m)
    assessments = _table("assessments", {
        "account_id": account_id.take(pa.array(aa)),
        "ts": _ts(_spread(rng, lo, active_hi, aa)),
        "sentiment": np.where(mood > 0.65, "green", np.where(mood > 0.4, "yellow", "red")),
        "author": owner[aa],
        "note": pa.nulls(m, pa.string()),
    })
    _write(assessments, out / "assessments.parquet")
    rows["assessments"] = m

    seconds = round(time.perf_counter() - t0, 1)
    manifest = {"params": params, "rows": rows, "generate_seconds": seconds,
                "bytes": {t: (out / f"{t}.parquet").stat().st_size for t in GENERATED_TABLES}}
    manifest_path.write_text(json.dumps(manifest, indent=2))
    log(f"data: all tables in {seconds}s -> {out}")
    return manifest
