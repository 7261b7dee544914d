"""Relationship tables of the demo: contacts (with departures) and CSM interactions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from healthscore.demo.common import _S_CONTACTS, _S_INTERACTIONS, DAY, _biz_secs, _ids, _rng, _s, _table, _ts
from healthscore.demo.vocab import _DIRECTIONS, _INTERACTION_KINDS, _ROLES
from healthscore.demo.world import _World


def _first_week_reaching(cum: np.ndarray, acc: np.ndarray, target: np.ndarray) -> np.ndarray:
    """First column w with cum[acc, w] >= target for row-wise non-decreasing cum (W if none)."""
    n, W = cum.shape
    big = float(cum[:, -1].max()) + 1.0
    flat = (cum + (np.arange(n) * big)[:, None]).ravel()
    pos = np.searchsorted(flat, acc * big + np.minimum(target, big - 0.5), side="left")
    return np.minimum(pos - acc * W, W)


def _contacts_table(w: _World) -> pa.Table:
    rng = _rng(w.seed, _S_CONTACTS)
    n = w.n
    seg = w.seg
    n_sponsor = np.where(seg > 0, 1, (rng.random(n) < 0.5).astype(np.int64))
    n_admin = 1 + np.where(seg == 2, rng.integers(0, 2, n), 0)
    n_user = np.array([1, 2, 4])[seg] + (rng.random(n) * np.array([2, 4, 7])[seg]).astype(np.int64)
    counts = np.stack([np.ones(n, np.int64), n_sponsor, n_admin, n_user], axis=1)
    cell = np.repeat(np.arange(n * 4), counts.ravel())
    acc, role = np.divmod(cell, 4)
    m = acc.size
    span = (w.stop_s[acc] - w.created_s[acc]).astype(np.float64)
    later = (role == 3) & (rng.random(m) < 0.3)
    offset = np.where(later, rng.uniform(0.1, 0.95, m) * span,
                      np.minimum(rng.exponential(20.0, m) * DAY, 0.5 * span))
    started = w.created_s[acc] + np.maximum(60, offset.astype(np.int64))
    started = np.minimum(started, w.stop_s[acc] - 60)

    # departures: weekly hazard rising with low health (champions and sponsors most)
    bad2 = (1.0 - w.h.astype(np.float64)) ** 2
    cum_key = np.cumsum(0.15 + 9.0 * bad2, axis=1)  # champion / sponsor
    cum_other = np.cumsum(0.6 + 2.0 * bad2, axis=1)

    def depart(acc, role, started):
        k = acc.size
        base = np.array([0.0035, 0.003, 0.002, 0.003])[role]
        start_week = np.minimum(np.maximum(0, (started - w.start_s) // DAY) // 7, w.W - 1)
        key_role = role <= 1
        e = rng.exponential(1.0, k) / base
        prev = np.maximum(start_week - 1, 0)
        prior = np.where(start_week > 0, np.where(key_role, cum_key[acc, prev], cum_other[acc, prev]), 0.0)
        wk = np.where(
            key_role,
            _first_week_reaching(cum_key, acc, prior + e),
            _first_week_reaching(cum_other, acc, prior + e),
        )
        dep = w.start_s + (wk * 7 + rng.integers(0, 7, k)) * DAY + _biz_secs(rng, k)
        return dep, (wk < w.W) & (dep > started + DAY) & (dep < w.stop_s[acc])

    dep, departed = depart(acc, role, started)
    # a departed champion is usually replaced after a few weeks (and the new one may leave too)
    rep_src = np.flatnonzero(departed & (role == 0) & (rng.random(m) < 0.75))
    rep_start = dep[rep_src] + (rng.uniform(14, 70, rep_src.size) * DAY).astype(np.int64)
    ok = rep_start < w.stop_s[acc[rep_src]]
    rep_acc, rep_start = acc[rep_src[ok]], rep_start[ok]
    rep_role = np.zeros(rep_acc.size, np.int64)
    rep_dep, rep_departed = depart(rep_acc, rep_role, rep_start)
    acc = np.concatenate([acc, rep_acc])
    role = np.concatenate([role, rep_role])
    started = np.concatenate([started, rep_start])
    dep = np.concatenate([dep, rep_dep])
    departed = np.concatenate([departed, rep_departed])
    m = acc.size

    # last engagement: recent for engaged contacts at healthy accounts
    ref = np.where(departed, dep, w.stop_s[acc])
    h_ref = w.h_at(acc, (ref - w.start_s) // DAY - 1)
    mean_gap = np.array([6.0, 25.0, 10.0, 15.0])[role] + np.array([40.0, 60.0, 30.0, 45.0])[role] * (1 - h_ref) ** 2
    gap = (np.maximum(0.02, rng.exponential(mean_gap)) * DAY).astype(np.int64)
    last = np.maximum(ref - gap, started + 3600)
    last = np.minimum(last, ref - 1)
    never = rng.random(m) < 0.03
    order = np.lexsort((role, started, acc))
    take = lambda x: x[order]  # noqa: E731
    return _table(
        "contacts",
        {
            "contact_id": _ids("C", 1, m, max(6, len(str(m)))),
            "account_id": w.account_ids.take(pa.array(take(acc))),
            "role": _s(_ROLES, take(role)),
            "started_at": _ts(take(started)),
            "departed_at": _ts(take(dep), take(~departed)),
            "last_engaged_at": _ts(take(last), take(never)),
        },
    )


def _interactions_table(w: _World) -> pa.Table:
    rng = _rng(w.seed, _S_INTERACTIONS)
    seg = w.seg
    h = w.h.astype(np.float64)
    bad = 1.0 - h
    by_seg = lambda *v: np.array(v)[seg][:, None]  # noqa: E731
    streams = [  # (kind, direction, weekly rate)
        (2, 1, by_seg(0.3, 0.9, 1.8) * (1.0 + 0.5 * bad)),  # CSM emails, more when at risk
        (2, 0, by_seg(0.2, 0.7, 1.5) * (0.1 + 1.0 * h**1.5)),  # replies dwindle with low h
        (3, 1, by_seg(0.04, 0.12, 0.25) * (1.0 + 0.8 * bad)),
        (3, 0, by_seg(0.02, 0.06, 0.12) * (0.3 + 0.7 * h)),
        (0, 1, by_seg(0.02, 0.1, 0.25) * (0.5 + 0.6 * h)),
        (0, 0, by_seg(0.01, 0.05, 0.15) * (0.3 + 0.8 * h)),
    ]
    accs, tss, kinds, dirs = [], [], [], []
    for stream_kind, stream_direction, rate in streams:
        acc, _day, ts = w.weekly_events(rng, rate)
        accs.append(acc)
        tss.append(ts)
        kinds.append(np.full(acc.size, stream_kind))
        dirs.append(np.full(acc.size, stream_direction))
    # QBRs: roughly quarterly for mid-market and enterprise, skipped when the account struggles
    n = w.n
    nq = w.D // 91 + 2
    sched = rng.integers(0, 91, n)[:, None] + 91 * np.arange(nq)[None, :] - 45
    qacc = np.repeat(np.arange(n), nq).reshape(n, nq)
    day = sched + np.round(rng.normal(0, 5, sched.shape)).astype(np.int64)
    wd = w.weekday[np.clip(day, 0, w.D - 1)]
    day = day + np.where(wd >= 5, 7 - wd, 0)  # move weekend dates to Monday
    hq = w.h_at(qacc, np.clip(day, 0, w.D - 1))
    held = rng.random(sched.shape) < np.array([0.08, 0.8, 0.95])[seg][:, None] * (0.15 + 0.85 * hq**1.2)
    q_acc, q_day = qacc[held], day[held]
    q_ts = w.start_s + q_day * DAY + _biz_secs(rng, q_acc.size)
    ok = (q_day >= 0) & (q_day < w.D) & w.alive(q_acc, q_ts)
    accs.append(q_acc[ok])
    tss.append(q_ts[ok])
    kinds.append(np.full(int(ok.sum()), 1))
    dirs.append(np.full(int(ok.sum()), 1))
    acc, ts, kind, direction = (np.concatenate(x) for x in (accs, tss, kinds, dirs))
    # by account, time, kind, direction (equal keys are equal rows, so any sort is deterministic)
    order = np.argsort(((acc * (w.D * DAY + 1) + (ts - w.start_s)) * 4 + kind) * 2 + direction)
    return _table(
        "interactions",
        {
            "account_id": w.account_ids.take(pa.array(acc[order])),
            "ts": _ts(ts[order]),
            "kind": _s(_INTERACTION_KINDS, kind[order]),
            "direction": _s(_DIRECTIONS, direction[order]),
        },
    )
