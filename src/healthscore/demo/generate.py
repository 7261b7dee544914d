"""A realistic, deterministic demo portfolio of a B2B SaaS company.

`generate_portfolio` writes one file per canonical table (see `healthscore.contract.TABLES`)
into a directory: `accounts.csv` always as CSV, every other table as `<table>.parquet` (or
`<table>.csv` with ``fmt="csv"``).

Everything is derived from a hidden, weekly health state ``h`` in [0, 1] per account: a mean
reverting random walk in logit space with decline episodes (many of them in the months before a
renewal, some in the last months of the window) and a few recoveries. Usage, support tickets,
surveys, payments, stakeholder departures, CSM meetings, success-plan milestones and CSM
sentiment are all noisy functions of ``h``; renewal outcomes are drawn from ``h`` in the eight
weeks before each renewal. So churn is predictable from the signals, but not perfectly.

Conventions of the generated data:

- Timestamps are naive UTC (``timestamp[us]`` in Parquet, ``YYYY-MM-DD HH:MM:SS`` in CSV).
- The data window is ``[end - months, end)``. Everything that *happened* (events, tickets,
  closures, payments, departures, completions, outcomes) lies strictly before ``end``. Planned
  dates may lie after it: ``accounts.renewal_date`` (the next renewal of a live account),
  ``invoices.due_at`` and ``milestones.due_at`` (some success-plan milestones are due in the
  future).
- Churn happens at a renewal date (``outcomes.ts``, midnight). A churned account produces no
  activity at or after that instant; its ``renewal_date`` is the renewal it did not renew and its
  ``arr`` is the ARR it had when it left (the churn outcome's ``arr_change`` is ``-arr``).
- ``accounts.arr`` is the ARR after all outcomes inside the window.
- ``tickets.ces`` is on a 1-7 agreement scale ("the company made it easy"): higher is better.
- ``usage_events.user_id`` and ``surveys.respondent`` share one user space (``A00001-u0003``).
- ``goals``: about a third of the accounts agree a weekly-active-user goal
  (``metric: weekly_active_users``, 40-80% of seats) 30 days after the later of creation and
  the window start; some revise it half a year later.
- ``signals`` holds one precomputed metric, ``seat_utilization``: distinct active users of a
  calendar month divided by seats, stamped at 06:00 on the first day of the next month.

Determinism: every table draws from its own ``numpy.random.Generator(PCG64)`` seeded from
``SeedSequence(seed, spawn_key=(table, ...))``; nothing depends on the clock, hash seeds or
dict/set ordering, so the same arguments give byte-identical files.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from healthscore.contract import BOOL, FLOAT, INT, STRING, TABLES, TIMESTAMP

__all__ = ["generate_portfolio"]

DAY = 86_400
_US = 1_000_000
_CHUNK_ACCOUNTS = 2_500  # usage events are generated and written per chunk of accounts

# ----------------------------------------------------------------------------- vocabulary

SEGMENTS = ("SMB", "mid-market", "enterprise")
_SEG_P = (0.6, 0.3, 0.1)
_ARR_RANGE = ((5_000.0, 30_000.0), (30_000.0, 150_000.0), (150_000.0, 1_200_000.0))
_SEAT_PRICE = ((500.0, 1_000.0), (800.0, 1_500.0), (1_000.0, 2_500.0))  # ARR per seat
_PLANS = ("Starter", "Growth", "Business", "Enterprise")
# (plan index, probability) per segment
_PLAN_P = (
    (0.6, 0.4, 0.0, 0.0),
    (0.0, 0.35, 0.65, 0.0),
    (0.0, 0.0, 0.2, 0.8),
)
# CSMs: a pooled SMB team, mid-market CSMs and enterprise CSMs (12 in all).
_OWNERS = (
    ("dana.kim", "marco.rossi", "priya.shah", "tom.becker", "lena.novak"),
    ("sam.okafor", "julia.berg", "alex.moreno", "mei.tanaka"),
    ("chris.walsh", "nora.haddad", "ben.carter"),
)
_OWNER_NAMES = tuple(name for team in _OWNERS for name in team)
# How rosy each CSM's sentiment is, added to the (lagged) hidden health.
_OWNER_BIAS = (0.02, 0.10, -0.03, 0.05, 0.0, 0.08, -0.02, 0.12, 0.03, 0.04, -0.04, 0.07)

_NAME_PREFIX = (
    "North", "South", "East", "West", "Blue", "Red", "Green", "Silver", "Golden", "Iron",
    "Stone", "Bright", "Clear", "Swift", "True", "Prime", "High", "Deep", "Far", "New",
    "Wild", "Open", "Grand", "Cedar", "Maple", "Pine", "Oak", "Birch", "Willow", "Aspen",
    "River", "Lake", "Harbor", "Summit", "Valley", "Meadow", "Canyon", "Coral", "Amber", "Crystal",
    "Copper", "Cobalt", "Crimson", "Indigo", "Violet", "Polar", "Solar", "Lunar", "Sky", "Cloud",
    "Storm", "Rain", "Snow", "Frost", "Sun", "Moon", "Fox", "Bear", "Wolf", "Hawk",
    "Eagle", "Falcon", "Raven", "Lion",
)
_NAME_CORE = (
    "field", "stone", "bridge", "wave", "point", "line", "path", "works", "forge", "light",
    "gate", "port", "view", "side", "mark", "wood", "brook", "crest", "haven", "wind",
    "peak", "bay", "dale", "ford", "vale", "shore", "spring", "rock", "well", "land",
    "way", "mill", "glen", "hill", "moor", "fall", "water", "grove", "front", "track",
)
_NAME_SUFFIX = (
    "Labs", "Systems", "Analytics", "Logistics", "Health", "Foods", "Group", "Partners",
    "Software", "Capital", "Media", "Energy", "Robotics", "Retail", "Insurance", "Bank",
    "Consulting", "Networks", "Security", "Studios", "Manufacturing", "Pharma", "Travel",
    "Education", "Legal", "Realty", "Freight", "Telecom", "Biotech", "Industries", "Foundry",
    "Outfitters", "Dynamics", "Holdings", "Clinics", "Motors", "Apparel", "Marine", "Aerospace",
    "Hospitality",
)
_REGIONS = ("EMEA", "APAC", "UK", "DACH", "Canada", "LATAM", "Nordics", "France", "Japan", "ANZ")

_EVENTS = (
    "login", "report_view", "dashboard_edit", "export", "api_call", "integration_sync",
    "admin_settings", "invite_user", "alert_create",
)
_EV_API, _EV_SYNC, _EV_ALERT, _EV_REPORT = 4, 5, 8, 1
# Event mix of a thriving and of a struggling account (mixed per event by h).
_EV_P_HIGH = np.array([0.22, 0.28, 0.11, 0.04, 0.14, 0.08, 0.03, 0.03, 0.07])
_EV_P_LOW = np.array([0.42, 0.28, 0.04, 0.12, 0.06, 0.04, 0.03, 0.005, 0.005])

_TICKET_SUBJECTS = (
    ("How do I export a report to CSV?", "Question about user permissions", "Please add a new admin",
     "Request: change our billing contact", "How to set up the Slack integration?"),
    ("Dashboards broken again, this is unacceptable", "Urgent: sync failing, very frustrated",
     "Still no answer, very disappointed", "Data missing after the update, angry users",
     "Export keeps crashing, awful experience"),
)

# Comments carry the sentiment of their score band (surveys.comment_sentiment picks it up).
_NPS_COMMENTS = (
    (  # detractors 0-6
        "Too expensive for what we actually use, frankly disappointing.",
        "Support is slow and useless, we are frustrated.",
        "Hard to get the team to adopt it, a frustrating rollout.",
        "Frequent sync errors with our CRM, really annoying.",
        "Dashboards are slow and often time out. Terrible.",
        "We are unhappy and evaluating alternatives.",
        "Missing features we were promised. Very disappointed.",
        "Not sure we are getting value anymore; a poor experience.",
    ),
    (  # passives 7-8
        "Good overall, a few features are still missing.",
        "Does the job, but the UI could be simpler.",
        "Reporting is solid; exports are slow at times.",
        "Fine for our needs, pricing is a bit high.",
        "Useful, but onboarding new users takes effort.",
        "Decent product, would like more API options.",
    ),
    (  # promoters 9-10
        "Love the dashboards, the whole team uses them daily.",
        "Support is fast and genuinely helpful.",
        "Saves us hours every week on reporting, great value.",
        "The integrations just work, love it.",
        "Great product, and our CSM is excellent.",
        "Easy to roll out to new teams.",
        "Reliable and keeps getting better.",
        "Exactly what we needed for our weekly reviews, excellent.",
    ),
)
_CSAT_COMMENTS = (
    ("Took too long to load, frustrating.", "Confusing settings page.", "Export failed twice.",
     "Could not find the report I needed, annoying."),
    ("Quick and easy.", "Found what I needed, thanks!", "Works well.", "Nice new filters."),
)
_ASSESSMENT_NOTES = (
    (  # green
        "Strong adoption, exec sponsor engaged.",
        "QBR went well; expansion conversation started.",
        "Champion very positive, usage growing.",
        "Healthy account, no open risks.",
        "Rolled out to a second team.",
        "Renewal expected without issues.",
    ),
    (  # yellow
        "Usage flat; need to re-engage admins.",
        "Champion busy, slow to respond.",
        "Some frustration with recent support tickets.",
        "Budget review coming, value story needed.",
        "Adoption limited to one team.",
        "Waiting on integration fix before wider rollout.",
    ),
    (  # red
        "Champion left; no clear replacement.",
        "Exec sponsor questioning value.",
        "Usage dropped sharply this month.",
        "Escalated support issues unresolved.",
        "Customer mentioned evaluating competitors.",
        "Invoice overdue and no reply to outreach.",
    ),
)
_SENTIMENTS = ("green", "yellow", "red")
_ONBOARDING_MILESTONES = (
    ("Kickoff call", 5),
    ("SSO configured", 21),
    ("Data source connected", 30),
    ("Admin training complete", 40),
    ("First dashboard published", 45),
    ("50% seat activation", 90),
)
_GOAL_MILESTONES = (
    "Executive business review held",
    "Expand to a second department",
    "API integration live",
    "Automated weekly report set up",
    "Admin certification complete",
    "Reach 70% seat activation",
    "Migrate legacy dashboards",
    "SSO and SCIM rollout",
    "Alerting configured for key metrics",
    "Success plan refresh",
    "Data warehouse sync live",
    "Champion training session",
)
_RENEWAL_MILESTONE = "Renewal readiness review"
_ROLES = ("champion", "sponsor", "admin", "user")
_PRIORITIES = ("low", "normal", "high", "urgent")
_TICKET_STATUS = ("open", "solved", "closed")
_INVOICE_STATUS = ("paid", "open", "failed", "refunded")
_OUTCOME_KINDS = ("renewed", "churned", "contracted", "expanded")
_INTERACTION_KINDS = ("meeting", "qbr", "email", "call")
_DIRECTIONS = ("inbound", "outbound")

# Random streams, one per table (spawn_key[0]); never reorder.
_S_ACCOUNTS, _S_HEALTH, _S_OUTCOMES, _S_USAGE, _S_TICKETS, _S_SURVEYS = 0, 1, 2, 3, 4, 5
_S_INVOICES, _S_CONTACTS, _S_INTERACTIONS, _S_MILESTONES, _S_ASSESSMENTS = 6, 7, 8, 9, 10
_S_GOALS, _S_SUBSCRIPTIONS, _S_CHANGES = 11, 12, 13


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _shift_months(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _add_months(days: np.ndarray, k) -> np.ndarray:
    """datetime64[D] + k calendar months (day clamped to the month's length), vectorised."""
    m = days.astype("M8[M]")
    dom = (days - m.astype("M8[D]")).astype(np.int64)
    nm = m + np.asarray(k, dtype=np.int64).astype("m8[M]")
    mlen = ((nm + np.timedelta64(1, "M")).astype("M8[D]") - nm.astype("M8[D]")).astype(np.int64)
    return nm.astype("M8[D]") + np.minimum(dom, mlen - 1).astype("m8[D]")


def _biz_secs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds of the day (UTC), mostly in US/EU business hours."""
    s = rng.normal(15.0 * 3600, 3.2 * 3600, n)
    flat = rng.random(n) < 0.08
    s[flat] = rng.uniform(0, DAY, int(flat.sum()))
    return np.clip(s, 0, DAY - 1).astype(np.int64)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) uint8 matrix."""
    v = np.array(values, dtype=np.int64)
    out = np.empty((v.size, width), np.uint8)
    for j in range(width - 1, -1, -1):
        v, r = np.divmod(v, 10)
        out[:, j] = r + 48
    return out


def _fixed_strings(*parts: bytes | np.ndarray) -> pa.Array:
    """A string array from fixed-width parts: byte constants and (n, k) uint8 matrices."""
    n = next(p.shape[0] for p in parts if isinstance(p, np.ndarray))
    width = sum(len(p) if isinstance(p, bytes) else p.shape[1] for p in parts)
    buf = np.empty((n, width), np.uint8)
    col = 0
    for p in parts:
        k = len(p) if isinstance(p, bytes) else p.shape[1]
        buf[:, col : col + k] = np.frombuffer(p, np.uint8) if isinstance(p, bytes) else p
        col += k
    offsets = np.arange(n + 1, dtype=np.int64) * width
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf)])
    big = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    return big.cast(pa.string())


def _ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    return _fixed_strings(prefix.encode(), _digits(np.arange(start, start + n), width))


def _lerp(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return lo + (hi - lo) * u


# ----------------------------------------------------------------------------- arrow output

_ARROW = {
    STRING: pa.string(),
    FLOAT: pa.float64(),
    INT: pa.int64(),
    BOOL: pa.bool_(),
    TIMESTAMP: pa.timestamp("us"),
}


def _schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in TABLES[table].columns])


def _ts(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    micros = (np.asarray(seconds, dtype=np.int64) * _US).view("M8[us]")
    return pa.array(micros, mask=null)  # numpy datetime64 converts without a per-value path


def _f(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), pa.float64(), mask=null)


def _b(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_())


def _s(options: tuple[str, ...], idx: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    indices = pa.array(np.asarray(idx, dtype=np.int32))
    out = pa.DictionaryArray.from_arrays(indices, pa.array(list(options), pa.string())).cast(pa.string())
    if null is not None and null.any():
        out = pc.if_else(pa.array(null), pa.scalar(None, pa.string()), out)
    return out


def _table(name: str, cols: dict[str, pa.Array]) -> pa.Table:
    schema = _schema(name)
    if sorted(cols) != sorted(schema.names):
        raise AssertionError(f"{name}: columns {sorted(cols)} != {sorted(schema.names)}")
    return pa.Table.from_arrays([cols[n] for n in schema.names], schema=schema)


class _Sink:
    """One output file, written through a temporary name and renamed when complete."""

    def __init__(self, path: Path, schema: pa.Schema, dictionary: bool | list[str] = True):
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")
        self.rows = 0
        self.csv = path.suffix == ".csv"
        if self.csv:
            # whole seconds print as 'YYYY-MM-DD HH:MM:SS'
            self.schema = pa.schema(
                [pa.field(f.name, pa.timestamp("s")) if pa.types.is_timestamp(f.type) else f
                 for f in schema]
            )
            self.writer = pacsv.CSVWriter(str(self.tmp), self.schema)
        else:
            self.schema = schema
            self.writer = pq.ParquetWriter(
                str(self.tmp), schema, compression="zstd", use_dictionary=dictionary
            )

    def write(self, table: pa.Table) -> None:
        if self.csv:
            table = table.cast(self.schema)
        self.writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> int:
        self.writer.close()
        os.replace(self.tmp, self.path)
        return self.rows

    def abort(self) -> None:
        try:
            self.writer.close()
        finally:
            if self.tmp.exists():
                self.tmp.unlink()


# ----------------------------------------------------------------------------- the world


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


# ----------------------------------------------------------------------------- tables


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
    for kind, direction, rate in streams:
        acc, _day, ts = w.weekly_events(rng, rate)
        accs.append(acc)
        tss.append(ts)
        kinds.append(np.full(acc.size, kind))
        dirs.append(np.full(acc.size, direction))
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


# ----------------------------------------------------------------------------- entry point


def generate_portfolio(
    out_dir: Path,
    *,
    accounts: int = 2000,
    seed: int = 7,
    months: int = 18,
    end: dt.date = dt.date(2026, 11, 1),
    fmt: str = "parquet",
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Write a demo portfolio into `out_dir`; return {table: rows} in canonical table order.

    `accounts.csv` is always CSV; the other tables are `<table>.parquet` (fmt="parquet") or
    `<table>.csv` (fmt="csv"). The data covers `months` calendar months ending at `end`
    (exclusive). `progress(step, done, total)` is called after each unit of work (each table,
    and each chunk of usage events). Same arguments give byte-identical files.
    """
    if isinstance(end, dt.datetime):
        end = end.date()
    if not isinstance(end, dt.date):
        raise ValueError(f"end must be a date, got {end!r}")
    if isinstance(accounts, bool) or not isinstance(accounts, int) or accounts < 1:
        raise ValueError(f"accounts must be a positive integer, got {accounts!r}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = ".parquet" if fmt == "parquet" else ".csv"
    chunks = [(lo, min(lo + _CHUNK_ACCOUNTS, accounts)) for lo in range(0, accounts, _CHUNK_ACCOUNTS)]
    total = 13 + len(chunks)
    done = 0
    counts: dict[str, int] = {}

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(name, done, total)

    def write(name: str, table: pa.Table, suffix: str = ext) -> None:
        sink = _Sink(out / f"{name}{suffix}", table.schema)
        try:
            sink.write(table)
        except BaseException:
            sink.abort()
            raise
        counts[name] = sink.close()
        step(name)

    start = _shift_months(end, -months)
    world = _World(accounts, seed, start, end)
    write("accounts", _accounts_table(world), ".csv")
    write("subscriptions", _subscriptions_table(world))
    write("account_changes", _account_changes_table(world))
    write("outcomes", _outcomes_table(world))

    # usage events: chunks of accounts; a writer thread compresses chunk i while chunk i+1 is
    # generated (both release the GIL), and writes stay in order, so output is deterministic
    usage = _Usage(world)
    sink = _Sink(out / f"usage_events{ext}", _schema("usage_events"), ["account_id", "event", "user_id"])
    try:
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            for ci, (lo, hi) in enumerate(chunks):
                table = usage.chunk(ci, lo, hi)
                if pending is not None:
                    pending.result()
                    step("usage_events")
                pending = writer.submit(sink.write, table)
                del table
            if pending is not None:
                pending.result()
                step("usage_events")
    except BaseException:
        sink.abort()
        raise
    counts["usage_events"] = sink.close()
    write("signals", usage.signals_table())
    write("tickets", _tickets_table(world))
    write("surveys", _surveys_table(world, usage))
    write("invoices", _invoices_table(world))
    write("contacts", _contacts_table(world))
    write("interactions", _interactions_table(world))
    write("milestones", _milestones_table(world))
    write("assessments", _assessments_table(world))
    write("goals", _goals_table(world))
    return {name: counts[name] for name in TABLES if name in counts}
