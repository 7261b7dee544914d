"""Support and billing tables of the demo: tickets, surveys (NPS and CSAT) and invoices."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from healthscore.demo.common import (
    _S_INVOICES,
    _S_SURVEYS,
    _S_TICKETS,
    DAY,
    _add_months,
    _b,
    _biz_secs,
    _digits,
    _f,
    _fixed_strings,
    _ids,
    _rng,
    _s,
    _table,
    _ts,
)
from healthscore.demo.usage import _Usage
from healthscore.demo.vocab import (
    _CSAT_COMMENTS,
    _INVOICE_STATUS,
    _NPS_COMMENTS,
    _PRIORITIES,
    _TICKET_STATUS,
    _TICKET_SUBJECTS,
)
from healthscore.demo.world import _World


def _tickets_table(w: _World) -> pa.Table:
    rng = _rng(w.seed, _S_TICKETS)
    base = np.array([0.07, 0.22, 0.6])[w.seg]
    week_start = np.arange(w.W) * 7
    young = (week_start[None, :] - w.created_day[:, None]) < 60
    rate = base[:, None] * (0.45 + 2.6 * (1.0 - w.h) ** 1.5) * np.where(young, 2.0, 1.0)
    acc, day, opened = w.weekly_events(rng, rate)
    n = acc.size
    h = w.h_at(acc, day)
    bad = 1.0 - h
    p = np.stack([0.30 - 0.12 * bad, 0.0 * h, 0.13 + 0.14 * bad, 0.03 + 0.10 * bad], axis=1)
    p[:, 1] = 1.0 - p.sum(axis=1)
    prio = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1).clip(0, 3)
    escalated = rng.random(n) < 0.02 + 0.15 * bad**1.5 + np.array([0.0, 0.01, 0.06, 0.15])[prio]
    reopened = rng.random(n) < 0.03 + 0.10 * bad
    hours = (np.array([72.0, 30.0, 12.0, 5.0])[prio] * rng.lognormal(0.0, 0.9, n)
             * (1.0 + 0.8 * bad) * np.where(reopened, 1.6, 1.0) * np.where(escalated, 1.5, 1.0))
    closed = opened + np.maximum(600, (hours * 3600).astype(np.int64))
    # tickets still open when an account churns are closed out just before it leaves
    cut = w.churned[acc] & (closed >= w.churn_s[acc])
    wrap_up = w.churn_s[acc][cut] - rng.integers(3600, 8 * 3600, int(cut.sum()))
    closed[cut] = np.minimum(np.maximum(opened[cut] + 60, wrap_up), w.churn_s[acc][cut] - 1)
    open_ = closed >= w.end_s
    status = np.where(open_, 0, np.where(closed >= w.end_s - 4 * DAY, 1, 2))
    sla_met = rng.random(n) < (0.93 - 0.3 * bad**1.5 - np.array([0.0, 0.0, 0.05, 0.12])[prio]
                               - 0.2 * escalated)
    csat = np.clip(np.round(rng.normal(1.6 + 3.3 * h - 0.6 * escalated - 0.4 * reopened - 0.3 * ~sla_met, 0.8)), 1, 5)
    csat_null = open_ | (rng.random(n) >= 0.3 + 0.15 * h)
    ces = np.clip(np.round(rng.normal(2.5 + 4.0 * h - 0.8 * escalated - 0.5 * reopened, 1.1)), 1, 7)
    ces_null = open_ | (rng.random(n) >= 0.22)
    # subjects: upset ones from escalated tickets and unhealthy accounts (subject_sentiment picks it up)
    upset = escalated | (rng.random(n) > 0.35 + h)
    k = len(_TICKET_SUBJECTS[0])
    subject = upset * k + rng.integers(0, k, n)
    order = np.lexsort((acc, opened))
    take = lambda x: x[order]  # noqa: E731
    return _table(
        "tickets",
        {
            "ticket_id": _ids("T", 1, n, max(7, len(str(n)))),
            "account_id": w.account_ids.take(pa.array(take(acc))),
            "opened_at": _ts(take(opened)),
            "closed_at": _ts(take(closed), take(open_)),
            "priority": _s(_PRIORITIES, take(prio)),
            "status": _s(_TICKET_STATUS, take(status)),
            "escalated": _b(take(escalated)),
            "reopened": _b(take(reopened)),
            "csat": _f(take(csat), take(csat_null)),
            "ces": _f(take(ces), take(ces_null)),
            "sla_met": _b(take(sla_met)),
            "subject": _s(_TICKET_SUBJECTS[0] + _TICKET_SUBJECTS[1], take(subject)),
            "subject_sentiment": pa.nulls(n, pa.float64()),  # derived at ingestion
        },
    )


def _surveys_table(w: _World, usage: _Usage) -> pa.Table:
    rng = _rng(w.seed, _S_SURVEYS)
    n = w.n
    # quarterly NPS waves with an account-specific phase; respondents reply within days
    n_waves = w.D // 91 + 2
    wave = rng.integers(0, 91, n)[:, None] + 91 * np.arange(n_waves)[None, :] - 91
    wave_h = w.h_at(np.repeat(np.arange(n), n_waves).reshape(n, n_waves), np.clip(wave, 0, w.D - 1))
    mean = np.maximum(0.4, 0.3 * np.sqrt(w.seats))[:, None] * (0.55 + 0.45 * wave_h)
    k = rng.poisson(mean)
    cell = np.repeat(np.arange(k.size), k.ravel())
    acc, wi = np.divmod(cell, n_waves)
    day = wave.ravel()[cell] + rng.exponential(2.5, cell.size).astype(np.int64)
    nps_ts = w.start_s + day * DAY + _biz_secs(rng, cell.size)
    keep = (day >= 0) & (day < w.D) & w.alive(acc, nps_ts)
    acc, day, nps_ts = acc[keep], day[keep], nps_ts[keep]
    h = w.h_at(acc, day)
    score = np.clip(np.round(rng.normal(1.2 + 9.2 * h, 1.7)), 0, 10)
    band = np.where(score <= 6, 0, np.where(score <= 8, 1, 2))
    sizes = np.array([len(c) for c in _NPS_COMMENTS])
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    comment = first[band] + (rng.random(acc.size) * sizes[band]).astype(np.int64)
    no_comment = rng.random(acc.size) >= 0.5
    nps = (acc, nps_ts, np.zeros(acc.size, np.int64), score, comment, no_comment, day, h)

    # monthly in-app CSAT pulse
    rate = (0.13 * np.sqrt(w.seats))[:, None] * (0.5 + 0.5 * w.h) * (7 / 30.0)
    acc2, day2, ts2 = w.weekly_events(rng, rate)
    h2 = w.h_at(acc2, day2)
    score2 = np.clip(np.round(rng.normal(1.7 + 3.3 * h2, 0.8)), 1, 5)
    good = (score2 >= 4).astype(np.int64)
    n_nps = int(sizes.sum())
    comment2 = n_nps + good * len(_CSAT_COMMENTS[0]) + rng.integers(0, len(_CSAT_COMMENTS[0]), acc2.size)
    no_comment2 = rng.random(acc2.size) >= 0.15
    csat = (acc2, ts2, np.ones(acc2.size, np.int64), score2, comment2, no_comment2, day2, h2)

    acc, ts, kind, score, comment, null, day, h = (np.concatenate([x, y]) for x, y in zip(nps, csat))
    pool = usage.active_users(acc, day, h)
    uidx = np.minimum((pool * rng.random(acc.size) ** 1.3).astype(np.int64), pool.astype(np.int64) - 1).clip(0)
    order = np.lexsort((kind, ts, acc))
    texts = tuple(c for group in _NPS_COMMENTS + _CSAT_COMMENTS for c in group)
    acc_mat = w.account_bytes[acc[order]]
    return _table(
        "surveys",
        {
            "account_id": _fixed_strings(acc_mat),
            "ts": _ts(ts[order]),
            "kind": _s(("nps", "csat"), kind[order]),
            "score": _f(score[order]),
            "comment": _s(texts, comment[order], null[order]),
            "respondent": _fixed_strings(acc_mat, b"-u", _digits(uidx[order] + 1, w.user_width)),
            "comment_sentiment": pa.nulls(acc.size, pa.float64()),  # derived at ingestion
        },
    )


def _invoices_table(w: _World) -> pa.Table:
    rng = _rng(w.seed, _S_INVOICES)
    n = w.n
    monthly = (w.seg == 0) | ((w.seg == 1) & (rng.random(n) < 0.3))
    created_D = w.start_D + w.created_day.astype("m8[D]")
    months_since = (w.start_D.astype("M8[M]") - created_D.astype("M8[M]")).astype(np.int64)
    first = np.maximum(0, months_since - 1)
    n_months = int((w.end_D.astype("M8[M]") - w.start_D.astype("M8[M]")).astype(np.int64)) + 3
    # monthly billing on the creation day of month
    mk = first[:, None] + np.arange(n_months)[None, :]
    m_day = (_add_months(np.repeat(created_D, n_months).reshape(n, n_months), mk) - w.start_D).astype(np.int64)
    m_acc = np.repeat(np.arange(n), n_months).reshape(n, n_months)
    m_ok = monthly[:, None] & np.ones_like(mk, bool)
    # annual billing at creation and at every anniversary
    K = w.ren_day.shape[1]
    a_day = np.concatenate([w.created_day[:, None], w.ren_day], axis=1)
    a_acc = np.repeat(np.arange(n), K + 1).reshape(n, K + 1)
    a_ok = ~monthly[:, None] & np.ones_like(a_day, bool)
    acc = np.concatenate([m_acc[m_ok], a_acc[a_ok]])
    day = np.concatenate([m_day[m_ok], a_day[a_ok]])
    is_monthly = np.concatenate([np.ones(int(m_ok.sum()), bool), np.zeros(int(a_ok.sum()), bool)])
    sec = 6 * 3600 + rng.integers(0, 3600, acc.size)
    issued = w.start_s + day * DAY + sec
    first_bill = day == w.created_day[acc]
    issued = np.where(first_bill, w.created_s[acc] + 300 + rng.integers(0, 3600, acc.size), issued)
    keep = (day >= 0) & (issued < w.end_s) & (issued >= w.start_s) & w.alive(acc, issued)
    acc, day, issued, is_monthly = acc[keep], day[keep], issued[keep], is_monthly[keep]
    m = acc.size
    arr = w.arr_at(acc, day)
    amount = np.round(np.where(is_monthly, arr / 12.0, arr), 2)
    due = issued + 30 * DAY
    h = w.h_at(acc, day)
    bad = 1.0 - h
    # card payments for monthly plans (same day, may fail); bank transfers for annual ones
    delay = np.where(
        is_monthly,
        rng.exponential(0.3, m),
        np.clip(rng.normal(20.0, 7.0, m), 1.0, None),
    )
    late = rng.random(m) < 0.04 + 0.45 * bad**2
    delay = np.where(late, np.where(is_monthly, 5.0, 30.0) + rng.exponential(10.0 + 40.0 * bad, m), delay)
    paid = issued + (delay * DAY).astype(np.int64) + rng.integers(0, 3600, m)
    failed = is_monthly & (rng.random(m) < 0.01 + 0.12 * bad**2)
    never = rng.random(m) < 0.005 + 0.2 * bad**3
    unpaid = failed | never | (paid >= w.stop_s[acc])
    refunded = ~unpaid & (rng.random(m) < 0.004)
    status = np.where(failed, 2, np.where(unpaid, 1, np.where(refunded, 3, 0)))
    order = np.lexsort((acc, issued))
    take = lambda x: x[order]  # noqa: E731
    return _table(
        "invoices",
        {
            "invoice_id": _ids("INV-", 1, m, max(7, len(str(m)))),
            "account_id": w.account_ids.take(pa.array(take(acc))),
            "issued_at": _ts(take(issued)),
            "due_at": _ts(take(due)),
            "paid_at": _ts(take(paid), take(unpaid)),
            "amount": _f(take(amount)),
            "status": _s(_INVOICE_STATUS, take(status)),
        },
    )
