"""Benchmark: real-time rescoring latency, from an event published to NATS JetStream to the account's live
snapshot stored.

    .venv/bin/python benchmarks/stream_latency.py                         # 10,000 accounts, 1,000 events/s for 60 s
    .venv/bin/python benchmarks/stream_latency.py --accounts 500 --seconds 10 --no-save   # a quick check

1. A demo workspace (the demo generator, ending today) is built once under benchmarks/data/stream/ and its
   weekly review is run; each run works on a fresh copy of it (benchmarks/data/stream/run/).
2. `healthscore stream --json` runs in its own process (the DuckDB engine is single-writer).
3. This process publishes usage events (one canonical row per message, random accounts) at the
   target rate, each with the publish time in a header; the consumer reports, per batch, the
   latency of every event: live snapshot stored minus publish time (end to end: the time an event
   waits in the stream for the consumer counts), and the batch's time from fetched to stored (the
   consumer's own share, `consumer_*`).
4. Then a burst of --burst events as fast as possible: the consumer's drain rate is the sustained
   maximum (events per second it ingests and rescores).

Needs a NATS server with JetStream (default nats://127.0.0.1:4222). Results go to
benchmarks/results/stream_latency.json (unless --no-save).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "stream_latency.json"
BENCH_STREAM = "HEALTHSCORE_BENCH"  # a stream of its own: the default one keeps its subjects


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))], 1)


def workspace(accounts: int) -> Path:
    """A copy of the demo workspace as built, for this run: each run's batches add review tasks and live
    snapshots, so a run on the workspace earlier runs left behind triaged a bigger backlog than the one
    before it, and no two runs were comparable."""
    import shutil

    from healthscore.project import today
    from healthscore.scaffold import build_demo

    from healthscore.project import Project

    built = HERE / "data" / "stream" / f"demo-{accounts}-weekly-run-{today()}"
    if not (built / "healthscore.yaml").exists():
        t = time.perf_counter()
        build_demo(built, accounts=accounts, seed=7, end=today())
        # the portfolio as it stands in use: its weekly review has run, so the alert states and tasks are there
        # (without it, the first event of every account fires each alert whose condition holds, about one per
        # account, and its first batches triage hundreds of candidates each: a first-contact wave, not the
        # steady state the latency target is about)
        with Project(built) as p:
            p.run_weekly(notify=False)
        print(f"built the demo workspace ({accounts:,} accounts) and ran its weekly review in "
              f"{time.perf_counter() - t:.0f} s", flush=True)
    ws = HERE / "data" / "stream" / "run"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(built, ws)
    return ws


def batch_figures(records: list[dict]) -> dict:
    """How the consumer batched the events, and each stage's median time per batch."""
    if not records:
        return {"batches": 0}
    out = {"batches": len(records), "events_per_batch_p50": percentile([r["rows"] for r in records], 0.5)}
    for stage in ("engine", "live", "review"):
        out[f"{stage}_stage_p50_ms"] = percentile([r[stage] for r in records if stage in r], 0.5)
    return out


class Consumer:
    """`healthscore stream --json` in a subprocess; collects per-event latencies and event counts."""

    def __init__(self, ws: Path, url: str, prefix: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "healthscore", "stream", "-w", str(ws), "--nats", url, "--prefix", prefix,
             "--stream", BENCH_STREAM, "--json", "--batch", "1000", "--wait-ms", "50"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.latencies: list[float] = []
        self.consumer: list[float] = []  # per event: its batch's time from fetched to stored
        self.rows = 0
        self.batches = 0
        self.records: list[dict] = []  # per batch: events and each stage's time
        self.last_batch_at = 0.0
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.latencies.extend(r.get("latencies_ms") or [])
            if r.get("consumer_ms") is not None:
                self.consumer.extend([r["consumer_ms"]] * len(r.get("latencies_ms") or []))
            self.rows += r.get("rows", 0)
            self.batches += 1
            self.records.append({"rows": r.get("rows", 0), "consumer_ms": r.get("consumer_ms"),
                                 "max_latency_ms": max(r.get("latencies_ms") or [0]), **(r.get("stages_ms") or {})})
            self.last_batch_at = time.monotonic()

    def wait_for(self, rows: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.rows >= rows:
                return True
            if self.proc.poll() is not None:
                raise SystemExit(f"the consumer stopped: {self.proc.stderr.read()[-2000:]}")
            time.sleep(0.05)
        return False

    def cpu_seconds(self) -> float:
        """The consumer process's CPU time so far (user + system, all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def publish(url: str, prefix: str, accounts: list[str], rate: float | None, count: int) -> float:
    """Publish `count` usage events at `rate` per second (None: as fast as possible); returns seconds taken."""
    import nats

    from healthscore.realtime.stream import SENT_AT_HEADER

    nc = await nats.connect(url)
    rng = random.Random(1)
    start = time.perf_counter()
    tick = 0.01
    per_tick = max(1, int((rate or 0) * tick)) if rate else 200
    sent = 0
    while sent < count:
        for _ in range(min(per_tick, count - sent)):
            a = rng.choice(accounts)
            now = dt.datetime.now(dt.timezone.utc)
            row = {"account_id": a, "ts": now.replace(tzinfo=None).isoformat(timespec="seconds"), "event": "login",
                   "user_id": f"{a}-u{rng.randrange(20)}", "quantity": 1, "event_id": uuid.uuid4().hex}
            await nc.publish(f"{prefix}.usage_events", json.dumps(row).encode(),
                             headers={SENT_AT_HEADER: repr(now.timestamp())})
            sent += 1
        if rate:
            target = start + sent / rate
            await asyncio.sleep(max(0.0, target - time.perf_counter()))
        else:
            await nc.flush()
    await nc.flush()
    await nc.drain()
    return time.perf_counter() - start


async def ensure_stream(url: str, prefix: str) -> None:
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(url)
    js = nc.jetstream()
    try:
        await js.delete_stream(BENCH_STREAM)
    except Exception:  # noqa: BLE001 - not there yet
        pass
    await js.add_stream(StreamConfig(name=BENCH_STREAM, subjects=[f"{prefix}.>"]))
    await nc.drain()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=1000.0, help="events per second")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--burst", type=int, default=30_000, help="events published as fast as possible afterwards")
    ap.add_argument("--nats", default=os.environ.get("HEALTHSCORE_NATS_URL", "nats://127.0.0.1:4222"))
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--dump-batches", type=Path, help="write each steady-phase batch (events, stage times) as JSON lines")
    args = ap.parse_args()

    from healthscore.project import Project

    ws = workspace(args.accounts)
    with Project(ws) as p:
        accounts = p.con.table("accounts").account_id.execute().tolist()
    prefix = "bench.events"
    asyncio.run(ensure_stream(args.nats, prefix))
    consumer = Consumer(ws, args.nats, prefix)
    try:
        # warm-up: the first batch compiles the day's query
        asyncio.run(publish(args.nats, prefix, accounts, None, 50))
        if not consumer.wait_for(50, 120):
            raise SystemExit("the consumer did not process the warm-up events in 120 s")
        consumer.latencies.clear()
        consumer.consumer.clear()
        consumer.records.clear()
        steady = int(args.rate * args.seconds)
        base = consumer.rows
        cpu0 = consumer.cpu_seconds()
        took = asyncio.run(publish(args.nats, prefix, accounts, args.rate, steady))
        consumer.wait_for(base + steady, 300)
        cpu = consumer.cpu_seconds() - cpu0
        lat, own = list(consumer.latencies), list(consumer.consumer)
        steady_result = {"rate_target": args.rate, "events": steady, "publish_seconds": round(took, 1),
                         "achieved_rate": round(steady / took, 1), "events_measured": len(lat),
                         "p50_ms": percentile(lat, 0.5), "p95_ms": percentile(lat, 0.95),
                         "p99_ms": percentile(lat, 0.99), "max_ms": max(lat) if lat else None,
                         "consumer_p50_ms": percentile(own, 0.5), "consumer_p99_ms": percentile(own, 0.99),
                         "consumer_cpu_ms_per_event": round(cpu * 1000 / steady, 3),
                         **batch_figures(consumer.records)}
        print(json.dumps({"steady": steady_result}), flush=True)
        if args.dump_batches:
            args.dump_batches.write_text("".join(json.dumps(r) + "\n" for r in consumer.records))

        base = consumer.rows
        t0 = time.perf_counter()
        asyncio.run(publish(args.nats, prefix, accounts, None, args.burst))
        consumer.wait_for(base + args.burst, 600)
        drained = time.perf_counter() - t0
        burst_result = {"events": args.burst, "drain_seconds": round(drained, 1),
                        "sustained_max_rate": round(args.burst / drained, 1)}
        print(json.dumps({"burst": burst_result}), flush=True)
    finally:
        consumer.stop()
    result = {"date": dt.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "accounts": args.accounts, "engine": "duckdb", "store": "sqlite", "steady": steady_result,
              "burst": burst_result}
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
