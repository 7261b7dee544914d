"""Real-time rescoring: events in through the facade and through a real NATS JetStream server on
loopback; only the affected accounts are rescored, and alerts go through the same hygiene."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import uuid
from pathlib import Path

import pytest

from healthscore.project import Project, today
from healthscore.scaffold import build_demo

pytestmark = pytest.mark.slow  # a demo and property tests over event batches

NATS_URL = os.environ.get("HEALTHSCORE_TEST_NATS_URL", "nats://127.0.0.1:4222")


def nats_up() -> bool:
    host, port = NATS_URL.rsplit("//", 1)[-1].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("rt") / "demo"
    build_demo(ws, accounts=120, seed=3, end=today())
    return ws


@pytest.fixture
def ws(base, tmp_path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(base, dest)
    return dest


def scored_accounts(p: Project, n: int) -> list[str]:
    """Accounts that are scored today (not churned, not onboarding)."""
    snaps = p.score(as_of=today(), store=False).snapshots
    return [s["account_id"] for s in snaps if s["status"] == "scored"][:n]


def usage(account: str, n: int = 3, event: str = "login") -> list[dict]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return [{"account_id": account, "ts": (now - dt.timedelta(minutes=i)).isoformat(), "event": event,
             "user_id": f"{account}-u{i}", "quantity": 1, "event_id": uuid.uuid4().hex} for i in range(n)]


def test_live_scores_match_a_batch_score_of_the_same_accounts(ws):
    with Project(ws) as p:
        ids = p.con.table("accounts").account_id.execute().tolist()[:25]
        live = p.live.rescore(ids)
        batch = {s["account_id"]: s for s in p.score(as_of=today() + dt.timedelta(days=1), account_ids=ids,
                                                     store=False).snapshots}
        assert live["accounts"] == len(batch) > 0
        for s in live["snapshots"]:
            b = batch[s["account_id"]]
            assert (s["score"], s["status"]) == (b["score"], b["status"])
            assert {e["metric"]: e["points"] for e in s["evidence"]} == {
                e["metric"]: e["points"] for e in b["evidence"]
            }
        stored = {s["account_id"]: s for s in p.live_snapshots(ids)}
        assert set(stored) == {s["account_id"] for s in live["snapshots"]}
        assert all(s["live"] and s["scored_at"] for s in stored.values())


def test_events_rescore_only_the_accounts_they_touch_and_are_idempotent(ws):
    with Project(ws) as p:
        account = scored_accounts(p, 1)[0]
        rows = usage(account, 5)
        first = p.ingest_events("usage_events", rows)
        assert first["rows"] == 5 and first["accepted"] == 5 and first["rescored"] == 1
        assert [s["account_id"] for s in p.live_snapshots()] == [account]
        again = p.ingest_events("usage_events", rows)  # the same events again: nothing new
        assert again["accepted"] + again["quarantined"] == 5
        n = p.con.table("usage_events").filter(lambda t: t.event_id.isin([r["event_id"] for r in rows])).count()
        assert n.execute() == 5
        bad = p.ingest_events("usage_events", [{"account_id": account, "ts": "not a date", "event": "login"}])
        assert bad["quarantined"] == 1


def test_a_failed_payment_event_raises_one_alert_through_the_hygiene(ws):
    with Project(ws) as p:
        account = scored_accounts(p, 2)[1]
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        invoice = {
            "invoice_id": uuid.uuid4().hex,
            "account_id": account,
            "issued_at": (now - dt.timedelta(hours=2)).isoformat(),
            "due_at": now.isoformat(),
            "amount": 1200.0,
            "status": "failed",
        }
        p.ingest_events("invoices", [invoice])
        alerts = [a for a in p.store.alerts(account_id=account) if a["rule"] == "payment_failure"]
        assert len(alerts) == 1 and alerts[0]["as_of"] == dt.datetime.now(dt.UTC).date().isoformat()
        second = dict(invoice, invoice_id=uuid.uuid4().hex)
        p.ingest_events("invoices", [second])  # still failing: the rule is active, no second alert
        assert len([a for a in p.store.alerts(account_id=account) if a["rule"] == "payment_failure"]) == 1


@pytest.mark.skipif(not nats_up(), reason=f"no NATS server at {NATS_URL} (set HEALTHSCORE_TEST_NATS_URL)")
def test_events_published_to_nats_are_ingested_and_rescored(ws):
    import nats

    from healthscore.realtime.stream import SENT_AT_HEADER, consume

    prefix = f"hs-test-{uuid.uuid4().hex[:8]}"
    with Project(ws) as p:
        accounts = scored_accounts(p, 3)

        async def scenario():
            nc = await nats.connect(NATS_URL)
            js = nc.jetstream()
            from nats.js.api import StreamConfig

            st_name = f"HS_{uuid.uuid4().hex[:8]}"
            await js.add_stream(StreamConfig(name=st_name, subjects=[f"{prefix}.>"]))
            for a in accounts:
                rows = usage(a, 4)
                await js.publish(
                    f"{prefix}.usage_events",
                    "\n".join(json.dumps(r) for r in rows).encode(),
                    headers={SENT_AT_HEADER: str(dt.datetime.now(dt.UTC).timestamp())},
                )
            await js.publish(f"{prefix}.usage_events", b"{not json")
            await nc.close()
            try:
                batches = []
                totals = await consume(
                    p._live_service(rollup=True),
                    NATS_URL,
                    prefix,
                    batch=100,
                    wait_ms=200,
                    idle_seconds=2,
                    on_batch=batches.append,
                    stream_name=st_name,
                    durable=f"d-{st_name}",
                )
            finally:
                nc2 = await nats.connect(NATS_URL)
                await nc2.jetstream().delete_stream(st_name)
                await nc2.close()
            return totals, batches

        totals, batches = asyncio.run(scenario())
        assert totals["messages"] == 4 and totals["rows"] == 13
        assert totals["accepted"] == 12 and totals["quarantined"] == 1
        assert {s["account_id"] for s in p.live_snapshots()} == set(accounts)
        lat = [x for b in batches for x in b.get("latencies_ms", [])]
        assert len(lat) == 3 and all(0 <= x < 60_000 for x in lat)


async def _publish(prefix: str, stream: str, payloads: list[tuple[str, list[dict]]]) -> None:
    import nats
    from nats.js.api import StreamConfig

    from healthscore.realtime.stream import SENT_AT_HEADER

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    with contextlib.suppress(Exception):  # already there
        await js.add_stream(StreamConfig(name=stream, subjects=[f"{prefix}.>"]))
    for table, rows in payloads:
        await js.publish(
            f"{prefix}.{table}",
            json.dumps(rows).encode(),
            headers={SENT_AT_HEADER: str(dt.datetime.now(dt.UTC).timestamp())},
        )
    await nc.close()


async def _drop(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    await nc.jetstream().delete_stream(stream)
    await nc.close()


@pytest.mark.parametrize(
    "pattern, subject, held",
    [
        ("healthscore.events.>", "healthscore.events.>", True),
        (">", "healthscore.events.>", True),
        ("healthscore.>", "healthscore.events.>", True),
        ("healthscore.*.>", "healthscore.events.>", True),
        ("bench.events.>", "healthscore.events.>", False),
        ("healthscore.events.*", "healthscore.events.>", False),
        ("healthscore.events", "healthscore.events.>", False),
        ("healthscore.events.>", "healthscore.>", False),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
    ],
)
def test_a_stream_holds_the_consumers_subjects_only_if_its_filter_covers_them(pattern, subject, held):
    from healthscore.realtime.stream import covers

    assert covers(pattern, subject) is held


@pytest.mark.skipif(not nats_up(), reason=f"no NATS server at {NATS_URL} (set HEALTHSCORE_TEST_NATS_URL)")
def test_a_stream_of_that_name_with_other_subjects_is_a_clear_error(ws):
    """A consumer would otherwise wait forever on a stream that never receives its subjects."""
    import nats
    from nats.js.api import StreamConfig

    from healthscore.errors import UserError
    from healthscore.realtime.stream import consume

    stream = f"HSO_{uuid.uuid4().hex[:8]}"

    async def scenario():
        nc = await nats.connect(NATS_URL)
        await nc.jetstream().add_stream(StreamConfig(name=stream, subjects=[f"other-{stream}.>"]))
        await nc.close()
        try:
            with Project(ws) as p, pytest.raises(UserError, match=f"{stream} exists with subjects other-{stream}"):
                await consume(
                    p._live_service(rollup=True), NATS_URL, f"hs-{stream}", idle_seconds=1, stream_name=stream
                )
        finally:
            await _drop(stream)

    asyncio.run(scenario())


@pytest.mark.skipif(not nats_up(), reason=f"no NATS server at {NATS_URL} (set HEALTHSCORE_TEST_NATS_URL)")
def test_pipelined_batches_finish_in_order_and_are_all_acknowledged(ws):
    """Batches overlap in the consumer's stages, yet each is reported once, in order, and acknowledged:
    a second consumer on the same durable gets nothing again."""
    from healthscore.realtime.stream import consume

    prefix, stream = f"hs-pipe-{uuid.uuid4().hex[:8]}", f"HSP_{uuid.uuid4().hex[:8]}"
    with Project(ws) as p:
        accounts = scored_accounts(p, 8)

        async def scenario():
            await _publish(prefix, stream, [("usage_events", usage(a, 2)) for a in accounts])
            try:
                batches = []
                kw = dict(batch=2, wait_ms=200, idle_seconds=2, stream_name=stream, durable="pipe")
                first = await consume(p._live_service(rollup=True), NATS_URL, prefix, on_batch=batches.append, **kw)
                again = await consume(p._live_service(rollup=True), NATS_URL, prefix, **kw)
            finally:
                await _drop(stream)
            return first, again, batches

        first, again, batches = asyncio.run(scenario())
        assert first["messages"] == 8 and first["batches"] == len(batches) >= 4  # at most 2 messages a batch
        assert first["accepted"] == 16 and first["rescored"] == 8
        stored = [dt.datetime.fromisoformat(b["stored_at"]) for b in batches]
        assert stored == sorted(stored)  # reported in the order they were fetched
        assert all(b["consumer_ms"] >= 0 and len(b["latencies_ms"]) == 2 for b in batches)
        assert again["messages"] == 0  # every message was acknowledged
        assert {s["account_id"] for s in p.live_snapshots()} == set(accounts)


@pytest.mark.skipif(not nats_up(), reason=f"no NATS server at {NATS_URL} (set HEALTHSCORE_TEST_NATS_URL)")
def test_a_batch_that_fails_stops_the_consumer_after_the_batches_before_it_are_stored(ws):
    from healthscore.errors import UserError
    from healthscore.realtime.stream import consume

    prefix, stream = f"hs-fail-{uuid.uuid4().hex[:8]}", f"HSF_{uuid.uuid4().hex[:8]}"
    with Project(ws) as p:
        accounts = scored_accounts(p, 2)

        async def scenario():
            await _publish(
                prefix,
                stream,
                [
                    ("usage_events", usage(accounts[0])),
                    ("usage_events", usage(accounts[1])),
                    ("not_a_table", [{"account_id": accounts[0]}]),
                ],
            )
            try:
                with pytest.raises(UserError, match="not_a_table"):
                    await consume(
                        p._live_service(rollup=True),
                        NATS_URL,
                        prefix,
                        batch=1,
                        wait_ms=200,
                        idle_seconds=2,
                        stream_name=stream,
                        durable="fail",
                    )
            finally:
                await _drop(stream)

        asyncio.run(scenario())
        assert {s["account_id"] for s in p.live_snapshots()} == set(accounts)


def test_live_snapshots_are_plain_json_and_keep_the_evidence_sum(ws):
    """Snapshots are built a column at a time and stored without a conversion pass: every value must
    already be plain JSON, and the evidence still adds up to the score."""
    with Project(ws) as p:
        ids = scored_accounts(p, 5)
        snaps = p.live.rescore(ids)["snapshots"]
        assert json.loads(json.dumps(snaps)) == snaps  # no default=: dates, numpy values or NaN would fail
        for s in snaps:
            if s["status"] == "scored":
                assert abs(sum(e["points"] or 0.0 for e in s["evidence"]) - s["score"]) <= 0.01
        stored = {s["account_id"]: s for s in p.live_snapshots(ids)}
        assert {a: stored[a]["evidence"] for a in ids} == {s["account_id"]: s["evidence"] for s in snaps}


def _ticket(account: str) -> dict:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return {
        "ticket_id": uuid.uuid4().hex,
        "account_id": account,
        "opened_at": (now - dt.timedelta(hours=3)).isoformat(),
        "closed_at": (now - dt.timedelta(hours=1)).isoformat(),
        "priority": "high",
        "escalated": True,
        "reopened": False,
        "csat": 1.0,
    }


def _invoice(account: str) -> dict:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return {
        "invoice_id": uuid.uuid4().hex,
        "account_id": account,
        "issued_at": (now - dt.timedelta(hours=2)).isoformat(),
        "due_at": (now - dt.timedelta(hours=1)).isoformat(),
        "amount": 900.0,
        "status": "failed",
    }


def _same_as_scoring_from_scratch(p: Project, snaps: list[dict]) -> None:
    ids = [s["account_id"] for s in snaps]
    fresh = {
        s["account_id"]: s
        for s in p.score(as_of=today() + dt.timedelta(days=1), account_ids=ids, store=False).snapshots
    }
    assert len(fresh) == len(snaps) > 0
    for s in snaps:
        f = fresh[s["account_id"]]
        assert (s["score"], s["status"]) == (f["score"], f["status"])
        assert {e["metric"]: (e["value"], e["points"]) for e in s["evidence"]} == {
            e["metric"]: (e["value"], e["points"]) for e in f["evidence"]
        }


def _event(account: str, ts: dt.datetime, event: str = "login", user: str = "u1", quantity: float = 1.0) -> dict:
    return {
        "account_id": account,
        "ts": ts.isoformat(),
        "event": event,
        "user_id": f"{account}-{user}",
        "quantity": quantity,
        "event_id": uuid.uuid4().hex,
    }


def test_the_rollup_updates_from_new_rows_yet_scores_like_a_fresh_query(ws):
    """A consumer's scorer keeps every source's per-account aggregates for the day. Counts, sums, latest
    times and distinct counts are brought up to date from a batch's new rows alone, tables with other
    aggregates (means: tickets) are read again for the batch's accounts; either way each live snapshot
    equals scoring the account from scratch, after batches of every kind over the same accounts."""
    from healthscore.realtime.stream import process_batch

    with Project(ws) as p:
        a, b, c = scored_accounts(p, 3)
        live = p._live_service(rollup=True)
        live.warm()
        assert {a, b, c} <= live.rollup.ids
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        late = _event(b, now - dt.timedelta(days=45), event="report", user="late")  # the usage trend's prior window
        batches = [
            ("usage_events", usage(a, 4) + usage(b, 2)),  # users a-u0.. a-u3: some seen before, some new
            ("tickets", [_ticket(a), _ticket(c)]),  # a mean (csat): read again
            (
                "usage_events",
                [
                    _event(a, now, user="new-1"),
                    _event(a, now, user="new-1", event="export"),
                    _event(c, now, event="dashboard", user="u0", quantity=7.5),
                    late,
                    _event(c, now + dt.timedelta(days=3), user="future"),
                ],
            ),  # after the live date
            ("invoices", [_invoice(b), _invoice(a)]),
            ("usage_events", [late, _event(c, now - dt.timedelta(hours=1), event="report", user="u9")]),  # late: again
        ]
        for table, rows in batches:
            result = process_batch(live, {table: rows}, dt.datetime.now(dt.UTC).replace(tzinfo=None))
            assert result["accepted"] == len(rows)
        assert live.reads["merged:usage_events"] > 0 and live.reads["read:tickets"] > 0
        assert "read:usage_events" not in live.reads and live.reads["full"] == 0
        live_now = {s["account_id"]: s for s in p.live_snapshots([a, b, c])}
        _same_as_scoring_from_scratch(p, list(live_now.values()))
        # and a scorer without a rollup, reading every source and the stored history per batch, agrees on
        # every metric of every account, and on what the stored history decides (smoothing, published tier)
        plain = p.live.rescore([a, b, c])["snapshots"]
        keys = ("evidence", "smoothed_score", "tier", "last_trusted", "trend_note")
        assert {s["account_id"]: [s[k] for k in keys] for s in plain} == {
            a_: [v[k] for k in keys] for a_, v in live_now.items()
        }
        assert any(v["smoothed_score"] != v["score"] for v in live_now.values())  # the history counted


def test_a_rollup_reads_accounts_it_does_not_hold_in_full(ws):
    """Accounts the rollup has not seen (no warm-up) are read from every source, then held."""
    from healthscore.realtime.stream import process_batch

    with Project(ws) as p:
        a, b = scored_accounts(p, 2)
        live = p._live_service(rollup=True)
        live._portfolio_size = 0  # noqa: SLF001 - stands in for a portfolio too large to warm up
        live.rollup.clear()
        live._compiled(today() + dt.timedelta(days=1))  # noqa: SLF001
        live._portfolio_size = 10**9  # noqa: SLF001
        process_batch(live, {"tickets": [_ticket(a)]}, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        assert live.rollup.ids == {a}
        process_batch(live, {"usage_events": usage(a, 2) + usage(b, 2)}, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        assert live.rollup.ids == {a, b}
        _same_as_scoring_from_scratch(p, p.live_snapshots([a, b]))


_EVENT = __import__("hypothesis").strategies.tuples(
    __import__("hypothesis").strategies.integers(0, 2),  # which account
    __import__("hypothesis").strategies.integers(-100, 3),  # days from now: old, in a prior window, today, future
    __import__("hypothesis").strategies.sampled_from(["login", "report", "export", "dashboard"]),
    __import__("hypothesis").strategies.integers(0, 30),  # which user: some seen before, some new
    __import__("hypothesis").strategies.sampled_from([1.0, 2.5, 10.0]),
)


@pytest.fixture(scope="module")
def property_ws(base, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("rt-prop") / "ws"
    shutil.copytree(base, dest)
    return dest


def test_any_sequence_of_event_batches_scores_like_a_fresh_query(property_ws):
    """The rollup's invariant: whatever usage events arrive, in whatever batches, every live snapshot equals
    scoring its account from scratch."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from healthscore.realtime.stream import process_batch

    with Project(property_ws) as p:
        accounts = scored_accounts(p, 3)
        live = p._live_service(rollup=True)

        @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.lists(st.lists(_EVENT, min_size=1, max_size=6), min_size=1, max_size=3))
        def check(batches):
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
            for batch in batches:
                rows = [
                    _event(accounts[i], now + dt.timedelta(days=d), event=e, user=f"p{u}", quantity=q)
                    for i, d, e, u, q in batch
                ]
                process_batch(live, {"usage_events": rows}, now)
            touched = sorted({accounts[i] for batch in batches for i, *_ in batch})
            _same_as_scoring_from_scratch(p, p.live_snapshots(touched))

        check()
        assert live.reads["merged:usage_events"] > 0


def test_a_batch_that_fills_the_rollup_counts_its_own_rows_once(ws):
    """The rollup is read when it is empty (a new day, another model version): after the batch's rows were
    added, so they are in it already and must not be merged in again."""
    from healthscore.realtime.stream import process_batch

    with Project(ws) as p:
        a, b = scored_accounts(p, 2)
        live = p._live_service(rollup=True)  # not warmed: the first batch fills it
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        rows = [_event(a, now - dt.timedelta(days=3), event="export", user="first"), _event(b, now, user="first")]
        process_batch(live, {"usage_events": rows}, now)
        assert {a, b} <= live.rollup.ids
        _same_as_scoring_from_scratch(p, p.live_snapshots([a, b]))
