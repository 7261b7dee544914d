"""The account tables of the demo: accounts, subscriptions, owner changes and renewal outcomes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from healthscore.demo.common import (
    _S_CHANGES,
    _S_SUBSCRIPTIONS,
    DAY,
    _biz_secs,
    _digits,
    _f,
    _fixed_strings,
    _rng,
    _s,
    _table,
    _ts,
)
from healthscore.demo.vocab import _OUTCOME_KINDS, _OWNER_NAMES, _OWNERS, _PLANS, SEGMENTS
from healthscore.demo.world import _World


def _accounts_table(w: _World) -> pa.Table:
    parent_ids = w.account_ids.take(pa.array(np.maximum(w.parent, 0)))
    parent_ids = pc.if_else(pa.array(w.parent < 0), pa.scalar(None, pa.string()), parent_ids)
    return _table(
        "accounts",
        {
            "account_id": w.account_ids,
            "name": pa.array(w.names, pa.string()),
            "segment": _s(SEGMENTS, w.seg),
            "owner": _s(_OWNER_NAMES, w.owner),
            "arr": _f(w.arr),
            "plan": _s(_PLANS, w.plan),
            "seats": pa.array(w.seats, pa.int64()),
            "created_at": _ts(w.created_s),
            "renewal_date": _ts(w.start_s + w.renewal_day * DAY),
            "parent_id": parent_ids,
        },
    )


def _subscriptions_table(w: _World) -> pa.Table:
    """One annual term per account and year, from creation: term k runs from anniversary k-1 (creation
    for the first) to anniversary k, at the ARR of that year. A churned account's last term ends at the
    renewal it did not renew; a live account's current term ends at its next renewal (after the window)."""
    rng = _rng(w.seed, _S_SUBSCRIPTIONS)
    D = w.D
    accs, starts, ends, arrs, kinds = [], [], [], [], []
    for k in range(w.ren_day.shape[1]):
        start_day = w.created_day if k == 0 else w.ren_day[:, k - 1]
        end_day = w.ren_day[:, k]
        acc = np.flatnonzero((start_day < D) & (start_day < w.churn_day))
        accs.append(acc)
        starts.append(np.where(k == 0, w.created_s[acc], w.start_s + start_day[acc] * DAY))
        ends.append(w.start_s + end_day[acc] * DAY)
        arrs.append(w.arr_at(acc, start_day[acc]))
        # 0 ended (renewed), 1 canceled (the account churned at its end), 2 active
        kinds.append(np.select([end_day[acc] >= D, end_day[acc] == w.churn_day[acc]], [2, 1], 0))
    acc, start, end = np.concatenate(accs), np.concatenate(starts), np.concatenate(ends)
    arr, kind = np.concatenate(arrs), np.concatenate(kinds)
    order = np.lexsort((start, acc))
    acc, start, end, arr, kind = acc[order], start[order], end[order], arr[order], kind[order]
    # seats follow ARR at the account's own price per seat, with a little noise between terms
    price = w.arr / np.maximum(w.seats, 1)
    seats = np.maximum(3, np.round(arr / price[acc] * rng.uniform(0.95, 1.05, acc.size))).astype(np.int64)
    first = np.r_[True, acc[1:] != acc[:-1]]
    idx = np.arange(acc.size)
    term = idx - np.maximum.accumulate(np.where(first, idx, 0)) + 1
    return _table(
        "subscriptions",
        {
            "account_id": w.account_ids.take(pa.array(acc)),
            "subscription_id": _fixed_strings(w.account_bytes[acc], b"-S", _digits(term, 2)),
            "starts_at": _ts(start),
            "ends_at": _ts(end),
            "arr": _f(arr),
            "seats": pa.array(seats, pa.int64()),
            "plan": _s(_PLANS, w.plan[acc]),
            "status": _s(("ended", "canceled", "active"), kind),
        },
    )


def _account_changes_table(w: _World) -> pa.Table:
    """Owner history: every account's first owner from its creation, and about one in eight handed to
    another CSM of its team inside the window (the accounts table shows only today's owner)."""
    rng = _rng(w.seed, _S_CHANGES)
    n = w.n
    team_size = np.array([len(t) for t in _OWNERS])
    team_base = np.concatenate([[0], np.cumsum(team_size)[:-1]])
    size = team_size[w.seg]
    moved = (rng.random(n) < 0.125) & (size > 1)
    shift = 1 + (rng.random(n) * np.maximum(size - 1, 1)).astype(np.int64)
    lo = np.maximum(w.created_day + 30, 0)
    day = np.where(lo < w.D - 7, lo + (rng.random(n) * np.maximum(w.D - 7 - lo, 1)).astype(np.int64), w.D - 7)
    moved &= (day > w.created_day) & (w.start_s + day * DAY < w.stop_s)
    first = np.where(moved, team_base[w.seg] + (w.owner - team_base[w.seg] + shift) % np.maximum(size, 1), w.owner)
    acc = np.concatenate([np.arange(n), np.flatnonzero(moved)])
    ts = np.concatenate([w.created_s, (w.start_s + day * DAY + _biz_secs(rng, n))[moved]])
    owner = np.concatenate([first, w.owner[moved]])
    order = np.lexsort((ts, acc))
    return _table(
        "account_changes",
        {
            "account_id": w.account_ids.take(pa.array(acc[order])),
            "ts": _ts(ts[order]),
            "field": pa.array(["owner"] * acc.size, pa.string()),
            "value": _s(_OWNER_NAMES, owner[order]),
        },
    )


def _outcomes_table(w: _World) -> pa.Table:
    order = np.lexsort((w.out_acc, w.out_day))
    acc = w.out_acc[order]
    return _table(
        "outcomes",
        {
            "account_id": w.account_ids.take(pa.array(acc)),
            "ts": _ts(w.start_s + w.out_day[order] * DAY),
            "kind": _s(_OUTCOME_KINDS, w.out_kind[order]),
            "arr_change": _f(w.out_chg[order]),
        },
    )
