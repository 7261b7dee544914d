"""Usage events per chunk of accounts and the monthly seat utilization signal of the demo."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from healthscore.demo.common import _S_USAGE, DAY, _biz_secs, _digits, _f, _fixed_strings, _ids, _rng, _s, _table, _ts
from healthscore.demo.vocab import _EV_ALERT, _EV_API, _EV_P_HIGH, _EV_P_LOW, _EV_REPORT, _EV_SYNC, _EVENTS
from healthscore.demo.world import _World


class _Usage:
    """Usage events per chunk of accounts, plus the monthly seat utilization signal."""

    RATE = 0.085  # events per active user per (weighted) day at full engagement

    def __init__(self, w: _World):
        self.w = w
        rng = _rng(w.seed, _S_USAGE)
        # feature adoption: API/integrations and alerting are not used by every account
        seg = w.seg
        self.uses_api = rng.random(w.n) < np.array([0.35, 0.65, 0.85])[seg]
        self.uses_alerts = rng.random(w.n) < np.array([0.5, 0.7, 0.8])[seg]
        # how much of the product an account needs, whatever its health (product fit)
        self.propensity = rng.lognormal(0.0, 0.35, w.n)
        self.next_id = 1
        self.sig_acc: list[np.ndarray] = []
        self.sig_month: list[np.ndarray] = []
        self.sig_val: list[np.ndarray] = []
        # one search table for both event mixes: struggling in [0, 1), healthy in [1, 2)
        low = np.cumsum(_EV_P_LOW) / _EV_P_LOW.sum()
        high = np.cumsum(_EV_P_HIGH) / _EV_P_HIGH.sum()
        low[-1], high[-1] = 1.0, 1.0
        self.ev_cum = np.concatenate([low, 1.0 + high])

    def active_users(self, acc: np.ndarray, day: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Size of an account's active user pool on a day (float, >= 1)."""
        w = self.w
        age = day - w.created_day[acc]
        ramp = np.clip(0.2 + 0.8 * age / 60.0, 0.2, 1.0)
        share = np.minimum(0.95, (0.12 + 0.7 * h**1.3) * np.sqrt(self.propensity[acc]))
        return np.maximum(1.0, w.seats[acc] * share * ramp)

    def chunk(self, ci: int, lo: int, hi: int) -> pa.Table:
        w, D, A = self.w, self.w.D, hi - lo
        rng = _rng(w.seed, _S_USAGE, 1, ci)
        acc = np.arange(lo, hi)
        days = np.arange(D)
        # daily health: linear between weekly values
        wi = days // 7
        f = (days % 7) / 7.0
        hw = w.h[lo:hi].astype(np.float64)
        h_d = hw[:, wi] * (1 - f) + hw[:, np.minimum(wi + 1, w.W - 1)] * f
        users = self.active_users(acc[:, None], days[None, :], h_d)
        alive = (days[None, :] > w.created_day[acc, None]) & (days[None, :] < w.churn_day[acc, None])
        winding_down = (w.churn_day[acc, None] - days[None, :]) <= 30
        lam = (self.RATE * users * (0.45 + 0.55 * h_d) * np.sqrt(self.propensity[acc, None])
               * w.season[None, :] * alive * np.where(winding_down, 0.85, 1.0))
        counts = rng.poisson(lam)
        # events ordered by account, day, time of day
        key = np.repeat(np.arange(A * D, dtype=np.int64) * DAY, counts.ravel())
        n = key.size
        key += _biz_secs(rng, n)
        key.sort()
        cell, sec = np.divmod(key, DAY)
        del key
        a_loc, day = np.divmod(cell, D)
        a = a_loc + lo
        # event types: a per-event mix of the healthy and the struggling profile
        u = rng.random(n) + (rng.random(n) < h_d.ravel()[cell])
        ev = np.searchsorted(self.ev_cum, u, side="right")
        k = len(_EVENTS)
        ev = np.where(ev >= k, ev - k, ev)
        no_api = ~self.uses_api[a] & ((ev == _EV_API) | (ev == _EV_SYNC))
        no_alert = ~self.uses_alerts[a] & (ev == _EV_ALERT)
        ev[no_api | no_alert] = _EV_REPORT
        qty = np.ones(n)
        api = np.flatnonzero(ev == _EV_API)
        qty[api] = np.maximum(1.0, np.round(rng.lognormal(np.log(20.0), 1.0, api.size)))
        # users: heavy users first (skewed index into the active pool)
        pool = users.ravel()[cell]
        uidx = np.minimum((pool * rng.random(n) ** 1.7).astype(np.int64), pool.astype(np.int64) - 1)
        np.maximum(uidx, 0, out=uidx)
        ts = w.start_s + day * DAY + sec
        acc_mat = w.account_bytes[a]
        table = _table(
            "usage_events",
            {
                "account_id": _fixed_strings(acc_mat),
                "ts": _ts(ts),
                "event": _s(_EVENTS, ev),
                "user_id": _fixed_strings(acc_mat, b"-u", _digits(uidx + 1, w.user_width)),
                "quantity": _f(qty),
                "event_id": _ids("E", self.next_id, n, 10),
            },
        )
        self.next_id += n
        self._signal(lo, A, a_loc, day, uidx)
        return table

    def _signal(self, lo: int, A: int, a_loc, day, uidx) -> None:
        w = self.w
        M = len(w.month_start) - 1
        month = np.searchsorted(w.month_start, day, side="right") - 1
        big = int(w.seats.max()) + 1
        key = (a_loc * M + month) * big + uidx
        key.sort()
        first = np.ones(key.size, bool)
        first[1:] = key[1:] != key[:-1]
        distinct = np.bincount(key[first] // big, minlength=A * M).reshape(A, M)
        acc = np.arange(lo, lo + A)
        val = distinct / w.seats[acc, None]
        self.sig_acc.append(np.repeat(acc, M))
        self.sig_month.append(np.tile(np.arange(M), A))
        self.sig_val.append(val.ravel())

    def signals_table(self) -> pa.Table:
        w = self.w
        acc = np.concatenate(self.sig_acc)
        month = np.concatenate(self.sig_month)
        val = np.concatenate(self.sig_val)
        ts = w.start_s + w.month_start[month + 1] * DAY + 6 * 3600
        month_begin = w.start_s + w.month_start[month] * DAY
        # only for months the account lived through the end of, computed after creation
        keep = (w.month_start[month + 1] < w.D) & (ts < w.stop_s[acc]) & (w.created_s[acc] < month_begin + 20 * DAY)
        keep &= (ts > w.created_s[acc]) & (month >= w.first_full_month)
        acc, ts, val = acc[keep], ts[keep], val[keep]
        return _table(
            "signals",
            {
                "account_id": w.account_ids.take(pa.array(acc)),
                "ts": _ts(ts),
                "name": pa.array(["seat_utilization"] * acc.size, pa.string()),
                "value": _f(np.round(val, 4)),
            },
        )
