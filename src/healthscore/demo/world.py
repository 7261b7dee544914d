"""The demo's hidden world: accounts, their weekly hidden health and their renewal outcomes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from healthscore.demo.common import (
    _S_ACCOUNTS,
    _S_HEALTH,
    _S_OUTCOMES,
    DAY,
    _add_months,
    _biz_secs,
    _digits,
    _fixed_strings,
    _lerp,
    _rng,
    _sigmoid,
)
from healthscore.demo.vocab import (
    _ARR_RANGE,
    _NAME_CORE,
    _NAME_PREFIX,
    _NAME_SUFFIX,
    _OWNERS,
    _PLAN_P,
    _REGIONS,
    _SEAT_PRICE,
    _SEG_P,
)


class _World:
    """Accounts, their hidden health and their renewal outcomes; shared by every table."""

    def __init__(self, n: int, seed: int, start: dt.date, end: dt.date):
        self.n, self.seed = n, seed
        self.start_D = np.datetime64(start, "D")
        self.end_D = np.datetime64(end, "D")
        self.D = int((self.end_D - self.start_D).astype(np.int64))
        self.W = -(-self.D // 7)
        self.start_s = int(self.start_D.astype(np.int64)) * DAY
        self.end_s = self.start_s + self.D * DAY
        self._calendar()
        self._accounts()
        self._health()
        self._outcomes()

    # -- calendar: per-day weekday/holiday factors, month starts
    def _calendar(self) -> None:
        days = self.start_D + np.arange(self.D)
        di = days.astype(np.int64)
        self.weekday = (di + 3) % 7  # 0 = Monday
        m = days.astype("M8[M]")
        month = m.astype(np.int64) % 12 + 1
        dom = (days - m.astype("M8[D]")).astype(np.int64) + 1
        dow = np.array([1.0, 1.05, 1.05, 1.0, 0.85, 0.15, 0.1])[self.weekday]
        hol = np.ones(self.D)
        hol[((month == 12) & (dom >= 22)) | ((month == 1) & (dom <= 1))] = 0.3
        hol[(month == 8) & (dom >= 10) & (dom <= 16)] = 0.55  # summer holiday week
        hol[(month == 7) & (dom == 4)] = 0.5
        hol[(month == 11) & (self.weekday == 3) & (dom >= 22) & (dom <= 28)] = 0.4  # Thanksgiving
        hol[(month == 11) & (self.weekday == 4) & (dom >= 23) & (dom <= 29)] = 0.5
        self.season = dow * hol
        # per-week day weights (for weekly-rate tables): business days, fewer on holidays
        busy = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.08, 0.05])[self.weekday] * np.where(hol < 1, hol, 1.0)
        self.day_weight = np.zeros(self.W * 7)
        self.day_weight[: self.D] = busy
        self.day_cum = np.cumsum(self.day_weight)
        # calendar months of the window: month_start[j] = day index of month j start
        n_months = (int(self.end_D.astype("M8[M]").astype(np.int64))
                    - int(self.start_D.astype("M8[M]").astype(np.int64)) + 1)
        ms = (self.start_D.astype("M8[M]") + np.arange(n_months + 1)).astype("M8[D]")
        self.month_start = np.clip((ms - self.start_D).astype(np.int64), 0, self.D)
        self.first_full_month = 0 if ms[0] == self.start_D else 1

    # -- accounts
    def _accounts(self) -> None:
        n, rng, D = self.n, _rng(self.seed, _S_ACCOUNTS), self.D
        self.seg = rng.choice(3, size=n, p=_SEG_P).astype(np.int64)
        lo = np.array([r[0] for r in _ARR_RANGE])[self.seg]
        hi = np.array([r[1] for r in _ARR_RANGE])[self.seg]
        arr = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        step = np.array([100.0, 500.0, 1000.0])[self.seg]
        self.arr = np.clip(np.round(arr / step) * step, lo, hi)  # current ARR
        plo = np.array([p[0] for p in _SEAT_PRICE])[self.seg]
        phi = np.array([p[1] for p in _SEAT_PRICE])[self.seg]
        self.seats = np.maximum(3, np.round(self.arr / rng.uniform(plo, phi))).astype(np.int64)
        cum = np.cumsum(np.array(_PLAN_P), axis=1)[self.seg]
        self.plan = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), 3)
        team_size = np.array([len(t) for t in _OWNERS])
        team_base = np.concatenate([[0], np.cumsum(team_size)[:-1]])
        self.owner = team_base[self.seg] + (rng.random(n) * team_size[self.seg]).astype(np.int64)

        # creation: ~8% inside the window, a handful in the last 14 days, the rest before
        n_onb = min(n, max(3, round(0.004 * n)))
        n_win = min(n, max(round(0.08 * n), n_onb))
        perm = rng.permutation(n)
        cday = -rng.integers(14, int(4.5 * 365), n)  # days relative to window start
        win = perm[n_onb:n_win]
        cday[win] = rng.integers(0, max(1, D - 14), win.size)
        onb = perm[:n_onb]
        cday[onb] = D - 1 - rng.integers(0, min(14, D), onb.size)
        self.created_day = cday
        self.created_s = self.start_s + cday * DAY + _biz_secs(rng, n)

        # annual renewals on the anniversary of creation: ren_day[:, k-1] = anniversary k
        created_D = self.start_D + cday.astype("m8[D]")
        max_years = int(-cday.min() // 365) + (D // 365) + 3
        self.ren_day = np.stack(
            [(_add_months(created_D, 12 * k) - self.start_D).astype(np.int64)
             for k in range(1, max_years + 1)],
            axis=1,
        )

        # names: unique combinations of word lists
        n_comb = len(_NAME_PREFIX) * len(_NAME_CORE) * len(_NAME_SUFFIX)
        picks = np.concatenate(
            [rng.permutation(n_comb) for _ in range(-(-n // n_comb))]
        )[:n]
        cycle = np.arange(n) // n_comb
        p_i, rest = np.divmod(picks, len(_NAME_CORE) * len(_NAME_SUFFIX))
        c_i, s_i = np.divmod(rest, len(_NAME_SUFFIX))
        roman = ("", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X")
        names = [
            f"{_NAME_PREFIX[a]}{_NAME_CORE[b]} {_NAME_SUFFIX[c]}" + (roman[k] if k < 10 else f" {k + 1}")
            for a, b, c, k in zip(p_i.tolist(), c_i.tolist(), s_i.tolist(), cycle.tolist())
        ]
        # a few enterprise subsidiaries: "<parent name> <region>"
        parent = np.full(n, -1, np.int64)
        ent = np.flatnonzero(self.seg == 2)
        k = len(ent) // 10 if len(ent) >= 4 else 0
        if k:
            parents = rng.choice(ent, size=k, replace=False)
            others = np.setdiff1d(np.flatnonzero(self.seg >= 1), parents)
            k = min(k, len(others))
            subs = rng.choice(others, size=k, replace=False)
            regions = rng.integers(0, len(_REGIONS), k)
            for p, s, r in zip(parents[:k].tolist(), subs.tolist(), regions.tolist()):
                parent[s] = p
                names[s] = f"{names[p]} {_REGIONS[r]}"
        self.parent = parent
        self.names = names
        width = max(5, len(str(n)))
        self.account_bytes = np.concatenate(
            [np.full((n, 1), ord("A"), np.uint8), _digits(np.arange(1, n + 1), width)], axis=1
        )
        self.account_ids = _fixed_strings(self.account_bytes)
        self.user_width = max(4, len(str(int(self.seats.max()))))

    # -- hidden health: weekly, logit random walk with mean reversion plus episodes
    def _health(self) -> None:
        n, W, rng = self.n, self.W, _rng(self.seed, _S_HEALTH)
        mu = rng.normal(1.25, 0.85, n) + np.array([-0.2, 0.0, 0.3])[self.seg]
        rho, sigma = 0.92, 0.22
        x = np.empty((n, W))
        x[:, 0] = mu + rng.normal(0, sigma / math.sqrt(1 - rho * rho), n)
        eps = rng.normal(0, sigma, (n, W))
        for w in range(1, W):
            x[:, w] = mu + rho * (x[:, w - 1] - mu) + eps[:, w]
        weeks = np.arange(W)[None, :]

        def ramp(s, length):
            return np.clip((weeks - s[:, None]) / length[:, None], 0.0, 1.0)

        off = np.zeros((n, W))
        # declines before a renewal (inside the window or up to ~4 months after it)
        for k in range(self.ren_day.shape[1]):
            rd = self.ren_day[:, k]
            elig = (rd >= 21) & (rd < self.D + 120)
            hit = elig & (rng.random(n) < 0.24)
            rw = rd / 7.0
            s = rw - rng.uniform(5, 22, n)
            length = rng.uniform(3, 10, n)
            mag = rng.uniform(1.0, 3.2, n)
            after = np.exp(-np.clip(weeks - rw[:, None], 0, None) / 6.0)  # recovery after renewal
            off -= np.where(hit[:, None], mag[:, None] * ramp(s, length) * after, 0.0)
        # late decliners: drift down in the last months of the window
        late = rng.random(n) < 0.08
        s = W - rng.uniform(4, 17, n)
        off -= np.where(late[:, None], rng.uniform(1.0, 2.5, n)[:, None] * ramp(s, rng.uniform(3, 8, n)), 0.0)
        # recoveries
        up = rng.random(n) < 0.10
        s = rng.uniform(0, W, n)
        off += np.where(up[:, None], rng.uniform(0.5, 1.5, n)[:, None] * ramp(s, rng.uniform(4, 12, n)), 0.0)
        self.h = _sigmoid(x + off).astype(np.float32)
        self.h_cum = np.concatenate([np.zeros((n, 1)), np.cumsum(self.h, axis=1, dtype=np.float64)], axis=1)

    def h_at(self, acc: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Hidden health of accounts at day indices (clamped to the window)."""
        w = np.clip(np.asarray(day) // 7, 0, self.W - 1)
        return self.h[acc, w].astype(np.float64)

    def h_before(self, acc: np.ndarray, day: np.ndarray, weeks: int = 8) -> np.ndarray:
        """Mean hidden health over the `weeks` weeks before day."""
        w1 = np.clip(np.asarray(day) // 7, 1, self.W)
        w0 = np.maximum(w1 - weeks, 0)
        return (self.h_cum[acc, w1] - self.h_cum[acc, w0]) / (w1 - w0)

    # -- renewal outcomes inside the window; churn ends an account
    def _outcomes(self) -> None:
        n, D, rng = self.n, self.D, _rng(self.seed, _S_OUTCOMES)
        self.churn_day = np.full(n, D, np.int64)  # activity only on days < churn_day
        idx = np.arange(n)
        slots = []  # (live, kind, multiplier) per anniversary slot
        for k in range(self.ren_day.shape[1]):
            rd = self.ren_day[:, k]
            live = (rd >= 0) & (rd < D) & (self.churn_day == D)
            hr = self.h_before(idx, rd)
            u1, u2, u3 = rng.random(n), rng.random(n), rng.random(n)
            # health drives churn, but some healthy-looking accounts leave anyway (acquisitions,
            # budget cuts) and some struggling ones stay
            p_churn = 0.025 + _sigmoid(-2.2 + 6.5 * (0.5 - hr))
            p_contract = _sigmoid(-2.4 + 7.0 * (0.55 - hr))
            p_expand = _sigmoid(-1.8 + 7.0 * (hr - 0.72))
            kind = np.where(u1 < p_churn, 1, np.where(u2 < p_contract, 2, np.where(u2 > 1 - p_expand, 3, 0)))
            mult = np.select([kind == 2, kind == 3], [1.0 - _lerp(u3, 0.1, 0.4), 1.0 + _lerp(u3, 0.08, 0.5)], 1.0)
            churned = live & (kind == 1)
            self.churn_day[churned] = rd[churned]
            slots.append((live, kind, mult))
        # ARR levels backwards from the current ARR (sampled inside the segment's range), so
        # that every change is a round amount and the levels add up exactly
        step = np.array([100.0, 500.0, 1000.0])[self.seg]
        level = self.arr.copy()
        after: list[np.ndarray] = [level] * len(slots)
        changes: list[np.ndarray] = [np.zeros(n)] * len(slots)
        for k in range(len(slots) - 1, -1, -1):
            live, kind, mult = slots[k]
            after[k] = level
            moved = live & ((kind == 2) | (kind == 3))
            before = np.where(moved, np.maximum(step, np.round(level / mult / step) * step), level)
            changes[k] = np.where(live & (kind == 1), -level, level - before)
            level = before
        self.arr0 = level  # ARR at the start of the window
        self.arr_steps = [  # (day the level starts, level) per slot
            (np.where(live & (kind != 1), self.ren_day[:, k], D + 1), after[k])
            for k, (live, kind, _m) in enumerate(slots)
        ]
        rows = [np.flatnonzero(live) for live, _k, _m in slots]
        self.out_acc = np.concatenate(rows)
        self.out_day = np.concatenate([self.ren_day[r, k] for k, r in enumerate(rows)])
        self.out_kind = np.concatenate([slots[k][1][r] for k, r in enumerate(rows)])
        self.out_chg = np.concatenate([changes[k][r] for k, r in enumerate(rows)])
        self.churned = self.churn_day < D
        self.churn_s = self.start_s + self.churn_day * DAY  # = end_s for live accounts
        self.stop_s = np.minimum(self.churn_s, self.end_s)
        # renewal date: next anniversary at/after end for live accounts, the lost one for churners
        nxt = np.where(self.ren_day >= D, self.ren_day, np.iinfo(np.int64).max).min(axis=1)
        self.renewal_day = np.where(self.churned, self.churn_day, nxt)

    def arr_at(self, acc: np.ndarray, day: np.ndarray) -> np.ndarray:
        out = self.arr0[acc].copy()
        for rd, arr_after in self.arr_steps:
            hit = rd[acc] <= day
            out[hit] = arr_after[acc][hit]
        return out

    def alive(self, acc: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """True where a timestamp lies after creation and before churn and the window end."""
        return (ts > self.created_s[acc]) & (ts < self.stop_s[acc])

    def weekly_events(self, rng: np.random.Generator, rate: np.ndarray):
        """Poisson events from an (accounts x weeks) rate: (account, day, seconds) of those alive."""
        counts = rng.poisson(rate)
        cell = np.repeat(np.arange(counts.size, dtype=np.int64), counts.ravel())
        acc, week = np.divmod(cell, self.W)
        # the day inside the week, weighted by the day weights: search the running total
        base = self.day_cum[week * 7] - self.day_weight[week * 7]
        total = self.day_cum[week * 7 + 6] - base
        day = np.searchsorted(self.day_cum, base + rng.random(cell.size) * total, side="right")
        sec = _biz_secs(rng, cell.size)
        ts = self.start_s + day * DAY + sec
        keep = (day < self.D) & self.alive(acc, ts)
        return acc[keep], day[keep], ts[keep]
