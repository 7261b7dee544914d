"""Success-plan tables of the demo: milestones, CSM assessments and usage goals."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from healthscore.demo.common import _S_ASSESSMENTS, _S_GOALS, _S_MILESTONES, DAY, _biz_secs, _f, _rng, _s, _table, _ts
from healthscore.demo.vocab import (
    _ASSESSMENT_NOTES,
    _GOAL_MILESTONES,
    _ONBOARDING_MILESTONES,
    _OWNER_BIAS,
    _OWNER_NAMES,
    _RENEWAL_MILESTONE,
    _SENTIMENTS,
)
from healthscore.demo.world import _World


def _milestones_table(w: _World) -> pa.Table:
    rng = _rng(w.seed, _S_MILESTONES)
    n, D = w.n, w.D
    horizon = D + 120  # success plans reach about four months past the end of the window
    # onboarding plan for accounts created shortly before or inside the window
    n_on = len(_ONBOARDING_MILESTONES)
    on_acc = np.repeat(np.arange(n), n_on)
    on_name = np.tile(np.arange(n_on), n)
    on_off = np.array([o for _, o in _ONBOARDING_MILESTONES])[on_name]
    on_day = w.created_day[on_acc] + on_off
    sel = w.created_day[on_acc] > -120
    on_acc, on_name, on_day = on_acc[sel], on_name[sel], on_day[sel]
    # ongoing goals
    k = rng.poisson(np.array([1.5, 3.0, 5.0])[w.seg] * horizon / 365.0)
    g_acc = np.repeat(np.arange(n), k)
    g_day = rng.integers(0, horizon, g_acc.size)
    g_name = n_on + rng.integers(0, len(_GOAL_MILESTONES), g_acc.size)
    # renewal readiness review 60 days before each renewal (mid-market and enterprise)
    K = w.ren_day.shape[1]
    r_acc = np.repeat(np.arange(n), K)
    r_day = w.ren_day.ravel() - 60
    sel = w.seg[r_acc] >= 1
    r_acc, r_day = r_acc[sel], r_day[sel]
    r_name = np.full(r_acc.size, n_on + len(_GOAL_MILESTONES))
    names = tuple(nm for nm, _ in _ONBOARDING_MILESTONES) + _GOAL_MILESTONES + (_RENEWAL_MILESTONE,)

    acc = np.concatenate([on_acc, g_acc, r_acc])
    day = np.concatenate([on_day, g_day, r_day])
    name = np.concatenate([on_name, g_name, r_name])
    due = w.start_s + day * DAY
    keep = (day >= 0) & (day < horizon) & (due > w.created_s[acc]) & (~w.churned[acc] | (due < w.churn_s[acc]))
    acc, day, name, due = acc[keep], day[keep], name[keep], due[keep]
    m = acc.size
    h = w.h_at(acc, day)
    done = rng.random(m) < 0.15 + 0.8 * h**1.2
    late = rng.normal(-5.0, 6.0, m) + rng.exponential(1.0 + 25.0 * (1.0 - h) ** 1.5, m)
    completed = due + (late * DAY).astype(np.int64) + _biz_secs(rng, m) - 12 * 3600
    completed = np.maximum(completed, w.created_s[acc] + 3600)
    not_done = ~done | (completed >= w.stop_s[acc])
    order = np.lexsort((name, day, acc))
    take = lambda x: x[order]  # noqa: E731
    return _table(
        "milestones",
        {
            "account_id": w.account_ids.take(pa.array(take(acc))),
            "name": _s(names, take(name)),
            "due_at": _ts(take(due)),
            "completed_at": _ts(take(completed), take(not_done)),
        },
    )


def _assessments_table(w: _World) -> pa.Table:
    rng = _rng(w.seed, _S_ASSESSMENTS)
    n = w.n
    cadence = np.array([60.0, 30.0, 30.0])[w.seg]
    nj = int(w.D // 30) + 2
    sched = (rng.uniform(0, 1, n) * cadence)[:, None] + cadence[:, None] * np.arange(nj)[None, :]
    day = np.round(sched + rng.normal(0, 3, sched.shape)).astype(np.int64)
    acc = np.repeat(np.arange(n), nj).reshape(n, nj)
    wd = w.weekday[np.clip(day, 0, w.D - 1)]
    day = day + np.where(wd >= 5, 7 - wd, 0)
    written = rng.random(sched.shape) < np.array([0.7, 0.9, 0.95])[w.seg][:, None]
    acc, day = acc[written], day[written]
    ts = w.start_s + day * DAY + _biz_secs(rng, acc.size)
    keep = (day >= 0) & (day < w.D) & w.alive(acc, ts) & (ts > w.created_s[acc] + 14 * DAY)
    acc, day, ts = acc[keep], day[keep], ts[keep]
    m = acc.size
    # CSMs see health with a lag, add their own optimism and noise
    seen = w.h_at(acc, day - 14) + np.array(_OWNER_BIAS)[w.owner[acc]] + 0.06 + rng.normal(0, 0.13, m)
    sentiment = np.where(seen >= 0.68, 0, np.where(seen >= 0.46, 1, 2))
    per = len(_ASSESSMENT_NOTES[0])
    note = sentiment * per + rng.integers(0, per, m)
    note_null = rng.random(m) < 0.15
    order = np.lexsort((ts, acc))
    texts = tuple(t for group in _ASSESSMENT_NOTES for t in group)
    notes = _s(texts, note[order], note_null[order])
    return _table(
        "assessments",
        {
            "account_id": w.account_ids.take(pa.array(acc[order])),
            "ts": _ts(ts[order]),
            "sentiment": _s(_SENTIMENTS, sentiment[order]),
            "author": _s(_OWNER_NAMES, w.owner[acc[order]]),
            "note": notes,
        },
    )


def _goals_table(w: _World) -> pa.Table:
    """A weekly-active-user goal for about a third of the accounts, some revised six months later."""
    rng = _rng(w.seed, _S_GOALS)
    n = w.n
    has = rng.random(n) < 0.35
    revise = rng.random(n) < 0.4
    share1, share2 = rng.uniform(0.4, 0.8, n), rng.uniform(0.4, 0.8, n)
    set1 = np.maximum(w.created_s, w.start_s) + 30 * DAY + _biz_secs(rng, n)
    set2 = set1 + 182 * DAY
    acc = np.concatenate([np.arange(n)[has], np.arange(n)[has & revise]])
    ts = np.concatenate([set1[has], set2[has & revise]])
    target = np.maximum(1.0, np.round(np.concatenate([(w.seats * share1)[has], (w.seats * share2)[has & revise]])))
    keep = (ts < w.end_s) & w.alive(acc, ts)
    acc, ts, target = acc[keep], ts[keep], target[keep]
    order = np.lexsort((ts, acc))
    return _table(
        "goals",
        {
            "account_id": w.account_ids.take(pa.array(acc[order])),
            "metric": _s(("weekly_active_users",), np.zeros(acc.size, np.int64)),
            "target": _f(target[order]),
            "ts": _ts(ts[order]),
        },
    )
