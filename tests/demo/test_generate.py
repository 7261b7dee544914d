"""The demo portfolio generator: contract conformance, determinism and realism of the signal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from healthscore.contract import BOOL, FLOAT, INT, STRING, TABLES, TIMESTAMP
from healthscore.demo.generate import generate_portfolio

END = dt.date(2026, 11, 1)
END_TS = pd.Timestamp(END)
START_TS = pd.Timestamp(2025, 5, 1)  # 18 months before END
# planned dates may lie after `end`; everything else happened before it
PLANNED = {("accounts", "renewal_date"), ("invoices", "due_at"), ("milestones", "due_at"), ("subscriptions", "ends_at")}
ARROW = {STRING: pa.string(), FLOAT: pa.float64(), INT: pa.int64(), BOOL: pa.bool_(),
         TIMESTAMP: pa.timestamp("us")}


def _path(d: Path, table: str) -> Path:
    for ext in (".parquet", ".csv"):
        if (d / f"{table}{ext}").exists():
            return d / f"{table}{ext}"
    raise FileNotFoundError(f"{table} not in {d}")


def read(d: Path, table: str) -> pa.Table:
    path = _path(d, table)
    if path.suffix == ".parquet":
        return pq.read_table(path)
    types = {c.name: ARROW[c.type] for c in TABLES[table].columns}
    opts = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=opts)


def frame(d: Path, table: str) -> pd.DataFrame:
    return read(d, table).to_pandas()


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    d = tmp_path_factory.mktemp("portfolio")
    counts = generate_portfolio(d, accounts=200, seed=11)
    return d, counts


def test_deterministic_byte_identical(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ca = generate_portfolio(a, accounts=60, seed=5)
    cb = generate_portfolio(b, accounts=60, seed=5)
    assert ca == cb
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    generate_portfolio(c, accounts=60, seed=6)
    assert (a / "accounts.csv").read_bytes() != (c / "accounts.csv").read_bytes()


def test_deterministic_across_usage_chunks(tmp_path, monkeypatch):
    import healthscore.demo.generate as gen

    monkeypatch.setattr(gen, "_CHUNK_ACCOUNTS", 25)  # 3 chunks through the writer thread
    calls = []
    ca = generate_portfolio(tmp_path / "a", accounts=60, seed=5, progress=lambda *a: calls.append(a))
    cb = generate_portfolio(tmp_path / "b", accounts=60, seed=5)
    assert ca == cb
    assert sum(1 for c in calls if c[0] == "usage_events") == 3
    for name in sorted(p.name for p in (tmp_path / "a").iterdir()):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    u = frame(tmp_path / "a", "usage_events")
    assert u.event_id.is_unique and u.account_id.is_monotonic_increasing
    assert u.event_id.iloc[-1] == f"E{len(u):010d}"


def test_every_table_with_canonical_columns_and_types(portfolio):
    d, counts = portfolio
    assert (d / "accounts.csv").exists()
    required = [t for t in TABLES if t not in ("signals", "account_ids")]  # optional; account_ids: crosswalk=True
    assert set(required) <= set(counts) <= set(TABLES)
    assert list(counts) == [t for t in TABLES if t in counts]  # canonical order
    written = sorted(p.name for p in d.iterdir())
    expected = sorted("accounts.csv" if t == "accounts" else f"{t}.parquet" for t in counts)
    assert written == expected
    for table in counts:
        if table == "accounts":
            header = (d / "accounts.csv").read_text().splitlines()[0]
            assert header.replace('"', "").split(",") == TABLES[table].column_names
            continue
        schema = pq.read_schema(d / f"{table}.parquet")
        assert schema.names == TABLES[table].column_names, table
        for col in TABLES[table].columns:
            typ = schema.field(col.name).type
            if col.type == TIMESTAMP:
                assert pa.types.is_timestamp(typ) and typ.tz is None, (table, col.name, typ)
            elif col.type == STRING:
                assert pa.types.is_string(typ) or pa.types.is_large_string(typ), (table, col.name, typ)
            elif col.type == FLOAT:
                assert pa.types.is_floating(typ), (table, col.name, typ)
            elif col.type == BOOL:
                assert pa.types.is_boolean(typ), (table, col.name, typ)
            elif col.type == INT:
                assert pa.types.is_integer(typ), (table, col.name, typ)


def test_counts_match_files_and_tables_are_not_empty(portfolio):
    d, counts = portfolio
    for table, n in counts.items():
        assert read(d, table).num_rows == n, table
        assert n > 0, table
    assert counts["accounts"] == 200
    assert counts["usage_events"] > 50 * counts["accounts"]


def test_values_respect_the_contract(portfolio):
    d, counts = portfolio
    for table in counts:
        t = read(d, table)
        for col in TABLES[table].columns:
            values = t.column(col.name)
            if col.required:
                assert values.null_count == 0, (table, col.name)
            if col.allowed:
                seen = set(values.drop_null().unique().to_pylist())
                assert seen <= set(col.allowed), (table, col.name, seen)
            if col.non_negative:
                assert (values.to_numpy(zero_copy_only=False) >= 0)[~pd.isna(values.to_pandas())].all()
    t = frame(d, "tickets")
    assert t.csat.dropna().between(1, 5).all() and t.csat.isna().any()
    assert t.ces.dropna().between(1, 7).all()
    assert set(t.priority) == {"low", "normal", "high", "urgent"}
    assert (t.closed_at.dropna() >= t.opened_at[t.closed_at.notna()]).all()
    assert (t.status == "open").eq(t.closed_at.isna()).all()
    assert (t.status == "open").any() and {"solved", "closed"} <= set(t.status)
    s = frame(d, "surveys")
    assert s[s.kind == "nps"].score.between(0, 10).all()
    assert s[s.kind == "csat"].score.between(1, 5).all()
    assert s.comment.notna().any()
    nps = s[(s.kind == "nps") & s.comment.notna()]
    promoters, detractors = set(nps.comment[nps.score >= 9]), set(nps.comment[nps.score <= 6])
    assert promoters and detractors and not promoters & detractors
    i = frame(d, "invoices")
    assert ((i.due_at - i.issued_at) == pd.Timedelta(days=30)).all()
    assert i.paid_at.isna().eq(i.status.isin(["open", "failed"])).all()
    assert {"paid", "open"} <= set(i.status)


def test_ids_unique_and_references_valid(portfolio):
    d, _ = portfolio
    a = frame(d, "accounts")
    assert a.account_id.is_unique and a.name.is_unique
    assert a.account_id.iloc[0] == "A00001"
    for table, col in [("usage_events", "event_id"), ("tickets", "ticket_id"),
                       ("invoices", "invoice_id"), ("contacts", "contact_id")]:
        assert frame(d, table)[col].is_unique, table
    ids = set(a.account_id)
    for table in TABLES:
        if TABLES[table].references_accounts and _exists(d, table):
            assert set(read(d, table).column("account_id").unique().to_pylist()) <= ids, table
    parents = a.parent_id.dropna()
    assert len(parents) >= 1
    assert set(parents) <= ids and not set(parents) & set(a.account_id[a.parent_id.notna()])
    assert (a.set_index("account_id").loc[list(parents), "segment"] == "enterprise").all()


def _exists(d: Path, table: str) -> bool:
    return (d / f"{table}.parquet").exists() or (d / f"{table}.csv").exists()


def test_all_timestamps_before_end(portfolio):
    d, counts = portfolio
    for table in counts:
        t = read(d, table)
        for col in TABLES[table].time_columns:
            if (table, col) in PLANNED:
                continue
            values = t.column(col).drop_null().to_pandas()
            assert (values < END_TS).all(), (table, col, values.max())
    # activity tables hold the window only
    for table in ("usage_events", "tickets", "surveys", "interactions", "assessments", "outcomes"):
        col = TABLES[table].time_column
        assert (frame(d, table)[col] >= START_TS).all(), table


def test_planned_dates(portfolio):
    d, _ = portfolio
    a = frame(d, "accounts")
    o = frame(d, "outcomes")
    churned = set(o.account_id[o.kind == "churned"])
    live = a[~a.account_id.isin(churned)]
    assert (live.renewal_date >= END_TS).all()
    assert (live.renewal_date < END_TS + pd.Timedelta(days=367)).all()
    assert (live.renewal_date < END_TS + pd.Timedelta(days=90)).sum() >= 0.1 * len(live)
    m = frame(d, "milestones")
    future = m[m.due_at >= END_TS]
    assert len(future) > 0 and future.completed_at.isna().mean() > 0.5


def test_accounts_look_like_a_b2b_portfolio(portfolio):
    d, _ = portfolio
    a = frame(d, "accounts")
    share = a.segment.value_counts(normalize=True)
    assert 0.45 < share["SMB"] < 0.75 and 0.15 < share["mid-market"] < 0.45
    assert share["enterprise"] > 0.03
    ranges = {"SMB": (5e3, 30e3), "mid-market": (30e3, 150e3), "enterprise": (150e3, 1.2e6)}
    for seg, (lo, hi) in ranges.items():
        arr = a.arr[a.segment == seg]
        assert arr.between(lo, hi).all(), seg
    assert a.seats[a.segment == "enterprise"].median() > a.seats[a.segment == "SMB"].median()
    assert 6 <= a.owner.nunique() <= 12
    assert (a.created_at < START_TS).mean() > 0.8


def test_onboarding_accounts_exist(portfolio):
    d, _ = portfolio
    a = frame(d, "accounts")
    recent = a[a.created_at >= END_TS - pd.Timedelta(days=14)]
    assert len(recent) >= 3
    created_in_window = (a.created_at >= START_TS).mean()
    assert 0.04 < created_in_window < 0.14
    # no activity before an account exists
    created = a.set_index("account_id").created_at
    u = frame(d, "usage_events")
    assert (u.ts > u.account_id.map(created)).all()


def test_no_activity_after_churn(portfolio):
    d, counts = portfolio
    o = frame(d, "outcomes")
    churn = o[o.kind == "churned"].set_index("account_id").ts
    assert len(churn) > 0
    assert o.account_id[o.kind == "churned"].is_unique
    later = o.account_id.map(churn)
    assert not (o.ts > later).any()  # no outcome after a churn
    for table in counts:
        if table in ("accounts", "outcomes"):
            continue
        t = frame(d, table)
        cutoff = t.account_id.map(churn)
        for col in TABLES[table].time_columns:
            if (table, col) in PLANNED:
                continue
            bad = t[col].notna() & cutoff.notna() & (t[col] >= cutoff)
            assert not bad.any(), (table, col, int(bad.sum()))
    # churned accounts keep the renewal they did not renew
    a = frame(d, "accounts").set_index("account_id")
    assert (a.loc[churn.index, "renewal_date"] == churn).all()


def test_subscription_history_tells_every_renewal_point_in_time(portfolio):
    """Every renewal and churn at R ends a subscription term at R, so a snapshot as of R - 30 days sees a
    renewal 30 days ahead for churners and survivors alike (today's accounts row shows a survivor's
    next renewal, R + 1 year: read into the past it would separate churners perfectly)."""
    d, _ = portfolio
    s = frame(d, "subscriptions")
    o = frame(d, "outcomes")
    a = frame(d, "accounts").set_index("account_id")
    assert s.subscription_id.is_unique and set(s.account_id) == set(a.index)
    ends = set(zip(s.account_id, s.ends_at))
    assert all((aid, ts) in ends for aid, ts in zip(o.account_id, o.ts))
    # terms follow each other without gaps or overlaps, from the account's creation
    for aid, terms in s.sort_values("starts_at").groupby("account_id"):
        assert terms.starts_at.iloc[0] == a.loc[aid, "created_at"]
        assert (terms.starts_at.iloc[1:].to_numpy() == terms.ends_at.iloc[:-1].to_numpy()).all(), aid
    # a churned account's last term ends at its churn; nothing starts at or after it
    churn = o[o.kind == "churned"].set_index("account_id").ts
    last = s.groupby("account_id").ends_at.max()
    assert (last.loc[churn.index] == churn).all()
    assert (s.status[s.account_id.isin(churn.index) & s.ends_at.isin(churn)] == "canceled").all()
    live = a.index.difference(churn.index)
    assert (last.loc[live] == a.loc[live, "renewal_date"]).all()
    # today's ARR is the current term's; the owner history ends at today's owner
    current = s[s.status == "active"].set_index("account_id")
    assert (current.arr == a.loc[current.index, "arr"]).all()
    ch = frame(d, "account_changes").sort_values("ts").groupby("account_id").value.last()
    assert (ch == a.loc[ch.index, "owner"]).all() and len(ch) == len(a)


def test_churners_used_the_product_less_before_churn(portfolio):
    d, _ = portfolio
    a = frame(d, "accounts").set_index("account_id")
    o = frame(d, "outcomes")
    o = o[(o.kind.isin(["churned", "renewed"])) & (o.ts >= START_TS + pd.Timedelta(days=60))]
    u = frame(d, "usage_events")[["account_id", "ts"]]
    j = o.merge(u, on="account_id", suffixes=("", "_ev"))
    j = j[(j.ts_ev >= j.ts - pd.Timedelta(days=60)) & (j.ts_ev < j.ts)]
    renewals = pd.MultiIndex.from_frame(o[["account_id", "ts"]])
    per = j.groupby(["account_id", "ts"]).size().reindex(renewals, fill_value=0)
    o = o.assign(per_seat=per.to_numpy() / o.account_id.map(a.seats).to_numpy())
    by_kind = o.groupby("kind").per_seat.mean()
    assert (o.kind == "churned").sum() >= 5
    assert by_kind["churned"] < 0.75 * by_kind["renewed"], by_kind


@pytest.fixture(scope="module")
def larger(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("larger")
    generate_portfolio(d, accounts=1000, seed=2)
    return d


def test_outcomes_are_driven_by_health_with_noise(larger):
    o = frame(larger, "outcomes")
    a = frame(larger, "accounts")
    share = o.kind.value_counts(normalize=True)
    assert 0.06 < share["churned"] < 0.2, share  # annual logo churn about 10-15%
    assert set(o.kind) == {"renewed", "churned", "contracted", "expanded"}
    arr = a.set_index("account_id").arr
    ch = o[o.kind == "churned"]
    assert (ch.arr_change == -ch.account_id.map(arr)).all()
    assert (o[o.kind == "expanded"].arr_change > 0).all()
    assert (o[o.kind == "contracted"].arr_change < 0).all()
    assert (o[o.kind == "renewed"].arr_change == 0).all()
    # CSM sentiment before churn is worse than before renewal, but not perfectly so
    s = frame(larger, "assessments")
    red = s.assign(red=s.sentiment == "red").groupby("account_id").red.mean()
    churned = set(ch.account_id)
    churn_red = red[red.index.isin(churned)].mean()
    other_red = red[~red.index.isin(churned)].mean()
    assert churn_red > 1.5 * other_red
    assert (s.sentiment == "green").mean() > 0.4


def test_support_and_billing_reflect_health(larger):
    o = frame(larger, "outcomes")
    churned = set(o.account_id[o.kind == "churned"])
    t = frame(larger, "tickets")
    a = frame(larger, "accounts").set_index("account_id")
    t["churned"] = t.account_id.isin(churned)
    assert t.groupby("churned").csat.mean()[True] < t.groupby("churned").csat.mean()[False]
    i = frame(larger, "invoices")
    i["late"] = i.paid_at.isna() | (i.paid_at > i.due_at)
    i["churned"] = i.account_id.isin(churned)
    late = i.groupby("churned").late.mean()
    assert late[True] > late[False]
    # monthly billing for SMB, annual for enterprise
    i["segment"] = i.account_id.map(a.segment)
    per_acct = i.groupby(["segment", "account_id"]).size().groupby("segment").median()
    assert per_acct["SMB"] > 3 * per_acct["enterprise"]
    c = frame(larger, "contacts")
    assert {"champion", "sponsor", "admin", "user"} == set(c.role)
    # champions leave struggling accounts: a departure in the 180 days before churn or renewal
    champ = c[(c.role == "champion") & c.departed_at.notna()][["account_id", "departed_at"]]
    o = o[o.ts >= o.ts.min() + pd.Timedelta(days=180)]
    j = o[o.kind.isin(["churned", "renewed"])].merge(champ, on="account_id", how="left")
    j["left"] = (j.departed_at < j.ts) & (j.departed_at >= j.ts - pd.Timedelta(days=180))
    left = j.groupby(["kind", "account_id", "ts"]).left.any().groupby("kind").mean()
    assert left["churned"] > 1.2 * left["renewed"], left
    assert (c.last_engaged_at.dropna() >= c.started_at[c.last_engaged_at.notna()]).all()
    gone = c.departed_at.notna()
    assert (c.departed_at[gone] > c.started_at[gone]).all()
    x = frame(larger, "interactions")
    assert {"qbr", "email", "meeting", "call"} <= set(x.kind)


def test_weekly_seasonality(portfolio):
    d, _ = portfolio
    u = frame(d, "usage_events")
    dow = u.ts.dt.day_of_week.value_counts()
    assert dow[[5, 6]].mean() < 0.4 * dow[[0, 1, 2, 3, 4]].mean()
    days = u.ts.dt.normalize().value_counts()
    xmas = days[(days.index.month == 12) & (days.index.day.isin([23, 24, 29, 30]))]
    weekday_mean = days[days.index.day_of_week < 5].mean()
    assert xmas.mean() < 0.6 * weekday_mean


def test_usage_details(portfolio):
    d, _ = portfolio
    u = frame(d, "usage_events")
    assert {"login", "report_view", "export", "dashboard_edit", "api_call"} <= set(u.event)
    assert (u.quantity[u.event != "api_call"] == 1).all()
    assert (u.quantity[u.event == "api_call"] > 1).any()
    assert (u.user_id.str.slice(0, 8) == u.account_id + "-u").all()
    a = frame(d, "accounts").set_index("account_id")
    users = u.groupby("account_id").user_id.nunique()
    assert (users <= users.index.map(a.seats)).all()
    # ordered by account and time
    assert u.account_id.is_monotonic_increasing
    same = u.account_id.eq(u.account_id.shift())
    assert (u.ts.diff()[same] >= pd.Timedelta(0)).all()


def test_csv_format(tmp_path):
    counts = generate_portfolio(tmp_path, accounts=60, seed=5, fmt="csv", months=6)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.csv" for t in counts)
    for table, n in counts.items():
        t = read(tmp_path, table)  # parses with the contract's types
        assert t.num_rows == n
        assert t.column_names == TABLES[table].column_names
    line = (tmp_path / "tickets.csv").read_text().splitlines()[1]
    assert "20" in line and ".000000" not in line  # whole-second timestamps


def test_progress_reports_every_step(tmp_path):
    calls = []
    counts = generate_portfolio(tmp_path, accounts=30, progress=lambda *a: calls.append(a), months=3)
    assert calls
    done = [c[1] for c in calls]
    assert done == list(range(1, len(calls) + 1))
    assert all(c[2] == calls[0][2] for c in calls) and calls[-1][1] == calls[-1][2]
    assert {c[0] for c in calls} == set(counts)


def test_small_and_odd_arguments(tmp_path):
    counts = generate_portfolio(tmp_path / "one", accounts=1, months=1, end=dt.date(2024, 3, 1))
    assert counts["accounts"] == 1
    end = pd.Timestamp(2024, 3, 1)
    for table in counts:
        for col in TABLES[table].time_columns:
            if (table, col) not in PLANNED:
                vals = read(tmp_path / "one", table).column(col).drop_null().to_pandas()
                assert (vals < end).all()


@pytest.mark.parametrize(
    "kwargs",
    [{"accounts": 0}, {"months": 0}, {"fmt": "xlsx"}, {"seed": -1}, {"end": "2026-01-01"}],
)
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_portfolio(tmp_path, **kwargs)


def test_crosswalk_bills_stripe_customer_ids_that_account_ids_maps_back(tmp_path):
    plain = generate_portfolio(tmp_path / "plain", accounts=40, seed=5, months=6)
    counts = generate_portfolio(tmp_path / "xw", accounts=40, seed=5, months=6, crosswalk=True)
    assert counts == {**plain, "account_ids": 40} and list(counts) == [t for t in TABLES if t in counts]
    xwalk = pacsv.read_csv(tmp_path / "xw" / "account_ids.csv").to_pylist()
    assert {r["system"] for r in xwalk} == {"stripe"} and len({r["external_id"] for r in xwalk}) == 40
    assert all(r["external_id"].startswith("cus_") and len(r["external_id"]) == 18 for r in xwalk)
    to_account = {r["external_id"]: r["account_id"] for r in xwalk}
    billed = pq.read_table(tmp_path / "xw" / "invoices.parquet")
    plain_billed = pq.read_table(tmp_path / "plain" / "invoices.parquet")
    assert billed.column_names == ["invoice_id", "customer", *plain_billed.column_names[2:]]
    assert [to_account[c] for c in billed.column("customer").to_pylist()] == \
        plain_billed.column("account_id").to_pylist()  # the same invoices, through the crosswalk
    for name in plain:  # every other file is byte for byte the same
        if name != "invoices":
            path = "accounts.csv" if name == "accounts" else f"{name}.parquet"
            assert (tmp_path / "xw" / path).read_bytes() == (tmp_path / "plain" / path).read_bytes(), name
