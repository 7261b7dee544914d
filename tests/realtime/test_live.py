"""Real-time rescoring: events in through the facade and through a real NATS JetStream server on
loopback; only the affected accounts are rescored, and alerts go through the same hygiene."""

from __future__ import annotations

import asyncio
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
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
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
            assert {e["metric"]: e["points"] for e in s["evidence"]} == {e["metric"]: e["points"] for e in b["evidence"]}
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
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        invoice = {"invoice_id": uuid.uuid4().hex, "account_id": account, "issued_at": (now - dt.timedelta(hours=2))
                   .isoformat(), "due_at": now.isoformat(), "amount": 1200.0, "status": "failed"}
        p.ingest_events("invoices", [invoice])
        alerts = [a for a in p.store.alerts(account_id=account) if a["rule"] == "payment_failure"]
        assert len(alerts) == 1 and alerts[0]["as_of"] == dt.datetime.now(dt.timezone.utc).date().isoformat()
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
                await js.publish(f"{prefix}.usage_events", "\n".join(json.dumps(r) for r in rows).encode(),
                                 headers={SENT_AT_HEADER: str(dt.datetime.now(dt.timezone.utc).timestamp())})
            await js.publish(f"{prefix}.usage_events", b"{not json")
            await nc.close()
            try:
                batches = []
                totals = await consume(p, NATS_URL, prefix, batch=100, wait_ms=200, idle_seconds=2,
                                       on_batch=batches.append, stream_name=st_name, durable=f"d-{st_name}")
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
