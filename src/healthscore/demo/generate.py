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

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from healthscore.contract import TABLES
from healthscore.demo.accounts import _account_changes_table, _accounts_table, _outcomes_table, _subscriptions_table
from healthscore.demo.common import _schema, _shift_months, _Sink
from healthscore.demo.relationships import _contacts_table, _interactions_table
from healthscore.demo.success import _assessments_table, _goals_table, _milestones_table
from healthscore.demo.support import _invoices_table, _surveys_table, _tickets_table
from healthscore.demo.usage import _Usage
from healthscore.demo.vocab import _CSAT_COMMENTS as _CSAT_COMMENTS  # re-exported for the sentiment tests
from healthscore.demo.vocab import _NPS_COMMENTS as _NPS_COMMENTS
from healthscore.demo.vocab import _TICKET_SUBJECTS as _TICKET_SUBJECTS
from healthscore.demo.world import _World

__all__ = ["generate_portfolio"]

_CHUNK_ACCOUNTS = 2_500  # usage events are generated and written per chunk of accounts


def generate_portfolio(
    out_dir: Path,
    *,
    accounts: int = 2000,
    seed: int = 7,
    months: int = 18,
    end: dt.date = dt.date(2026, 11, 1),
    fmt: str = "parquet",
    progress: Callable[[str, int, int], None] | None = None,
    crosswalk: bool = False,
) -> dict[str, int]:
    """Write a demo portfolio into `out_dir`; return {table: rows} in canonical table order.

    `accounts.csv` is always CSV; the other tables are `<table>.parquet` (fmt="parquet") or
    `<table>.csv` (fmt="csv"). The data covers `months` calendar months ending at `end`
    (exclusive). `progress(step, done, total)` is called after each unit of work (each table,
    and each chunk of usage events). Same arguments give byte-identical files.

    With ``crosswalk``, billing carries Stripe customer ids as a Stripe export would: `invoices` has a
    `customer` column (cus_...) instead of `account_id`, and `account_ids.csv` (system stripe,
    external_id, account_id) maps them back (the demo workspace reads invoices through it with
    ``resolve_ids``). The ids are derived from the account ids, so no other value changes.
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
    total = 13 + len(chunks) + int(crosswalk)
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
    invoices = _invoices_table(world)
    if crosswalk:
        ids = world.account_ids.to_pylist()
        customers = [_stripe_customer(seed, a) for a in ids]
        write("account_ids", pa.table({"system": pa.array(["stripe"] * len(ids), pa.string()),
                                       "external_id": pa.array(customers, pa.string()),
                                       "account_id": pa.array(ids, pa.string())}), ".csv")
        by_account = dict(zip(ids, customers))
        invoices = invoices.set_column(
            invoices.schema.get_field_index("account_id"), "customer",
            pa.array([by_account[a] for a in invoices.column("account_id").to_pylist()], pa.string()))
    write("invoices", invoices)
    write("contacts", _contacts_table(world))
    write("interactions", _interactions_table(world))
    write("milestones", _milestones_table(world))
    write("assessments", _assessments_table(world))
    write("goals", _goals_table(world))
    return {name: counts[name] for name in TABLES if name in counts}


def _stripe_customer(seed: int, account_id: str) -> str:
    """A Stripe-shaped customer id (cus_ + 14 letters and digits), fixed by the seed and the account."""
    import hashlib

    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    n = int.from_bytes(hashlib.sha256(f"{seed}:{account_id}".encode()).digest()[:12], "big")
    chars = []
    for _ in range(14):
        n, r = divmod(n, len(alphabet))
        chars.append(alphabet[r])
    return "cus_" + "".join(chars)
