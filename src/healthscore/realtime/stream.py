"""Consume canonical rows from a NATS JetStream subject and rescore the affected accounts as they arrive.

Messages on `<prefix>.<table>` (e.g. `healthscore.events.usage_events`) carry one canonical row as a
JSON object, or several as a JSON array or NDJSON. Each micro-batch (up to `batch` messages or
`wait_ms` of waiting) is ingested like a file (validated, quarantined, idempotent on ids), the
affected accounts are rescored, and only then are the messages acknowledged: a crash redelivers
them, and re-ingesting them adds nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from healthscore.errors import InvalidInput, UserError

if TYPE_CHECKING:
    from healthscore.realtime.live import LiveService

STREAM = "HEALTHSCORE_EVENTS"
SENT_AT_HEADER = "Healthscore-Sent-At"  # optional: publish time (epoch seconds), for latency figures
DURABLE = "healthscore-live"
SWITCH_INTERVAL = 0.0005  # seconds: how often the consumer's threads take turns at the GIL


def parse_payload(data: bytes) -> list[dict]:
    """A JSON object, a JSON array of objects, or NDJSON lines; anything else is one bad row."""
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
        return value if isinstance(value, list) else [value]
    except json.JSONDecodeError:
        out = []
        for line in text.splitlines():
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    out.append({"_unparseable": line[:500]})
        return out


async def consume(live: LiveService, url: str = "nats://127.0.0.1:4222", prefix: str = "healthscore.events",
                  *, batch: int = 500, wait_ms: int = 100, max_batches: int | None = None,
                  idle_seconds: float | None = None, on_batch: Callable[[dict], None] | None = None,
                  stream_name: str = STREAM, durable: str = DURABLE,
                  engine_threads: int | None = None) -> dict[str, Any]:
    """Run the consumer until max_batches batches or idle_seconds without messages (None: forever).
    ``live``: the live service, with a rollup (``Project.stream`` builds it).

    engine_threads: DuckDB's threads for the consumer's queries. The consumer's stages keep about two
    cores busy, so by default DuckDB gets the rest (at least one): on two cores a batch's small query
    run on one thread costs a fifth less CPU than split over two that the stages also need."""
    import nats
    from nats.js.api import ConsumerConfig, StreamConfig

    from healthscore.realtime.live import utcnow

    try:
        async def quiet(_exc):  # the client would log a traceback per attempt; the message below says it once
            return None

        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=2, error_cb=quiet)
    except Exception as exc:  # noqa: BLE001 - any connection failure is the user's server or URL
        raise UserError(f"cannot connect to NATS at {url}: {exc}") from None
    js = nc.jetstream()
    try:
        await js.add_stream(StreamConfig(name=stream_name, subjects=[f"{prefix}.>"]))
    except Exception:  # noqa: BLE001 - it exists (possibly with other settings): use it if it holds our subjects
        subjects = list((await js.stream_info(stream_name)).config.subjects or [])
        if not any(covers(s, f"{prefix}.>") for s in subjects):
            await nc.close()
            raise UserError(f"the NATS stream {stream_name} exists with subjects {', '.join(subjects) or '(none)'},"
                            f" which do not hold {prefix}.<table>: give this consumer a stream of its own"
                            f" (--stream NAME) or the prefix the stream holds (--prefix)") from None
    sub = await js.pull_subscribe(f"{prefix}.>", durable=durable, stream=stream_name,
                                  config=ConsumerConfig(ack_wait=60, max_ack_pending=100_000))
    engine = live.deps.engine()
    threads_before = engine.set_threads(int(engine_threads or max(1, (os.cpu_count() or 1) - 2)))
    totals = {"batches": 0, "messages": 0, "rows": 0, "accepted": 0, "quarantined": 0, "rescored": 0}
    # Three stages, one thread each, so that batches overlap: the engine stage (ingest, the rollup
    # brought up to date: mostly engine work that releases the GIL), the live stage
    # (score, store live snapshots) and the review stage (alerts, tasks). Each stage takes batches in
    # order; a batch is acknowledged once its review is stored, so a crash redelivers it (and
    # re-ingesting adds nothing).
    loop = asyncio.get_running_loop()
    # A stage coming back from the engine (which runs without the GIL) waits for a thread holding the GIL to
    # give it up: every switch interval (5 ms by default), dozens of times a batch. Switch more often.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    stages = {name: ThreadPoolExecutor(1, thread_name_prefix=f"healthscore-{name}")
              for name in ("engine", "live", "review")}

    def timed(stage: str, fn: Callable, *args) -> Any:
        started_at = time.perf_counter()
        out = fn(*args)
        out.setdefault("stages_ms", {})[stage] = round((time.perf_counter() - started_at) * 1000, 1)
        return out

    async def complete(staged: dict, msgs: list, sent: list, fetched: dt.datetime) -> None:
        stored = await loop.run_in_executor(stages["live"], timed, "live", store_batch, live, staged)
        result = await loop.run_in_executor(stages["review"], timed, "review", review_batch, live, stored)
        result.pop("reports")  # TableReports: the counts above say it in JSON
        if result.get("stored_at"):
            stored_at = dt.datetime.fromisoformat(result["stored_at"])
            result["consumer_ms"] = round((stored_at - fetched).total_seconds() * 1000, 1)  # from fetched
            if sent:
                result["latencies_ms"] = [round((stored_at - t).total_seconds() * 1000, 1) for t in sent]
        for m in msgs:
            await m.ack()
        totals["batches"] += 1
        totals["messages"] += len(msgs)
        for k in ("rows", "accepted", "quarantined", "rescored"):
            totals[k] += result[k]
        if on_batch:
            on_batch(result)

    in_flight: list[asyncio.Future] = []  # batches past the engine stage, oldest first
    started = 0
    try:
        await loop.run_in_executor(stages["engine"], live.warm)  # the day's rollup, before the first batch
        idle_since = utcnow()
        while max_batches is None or started < max_batches:
            msgs = await _fetch(sub, batch, wait_ms / 1000)
            if not msgs:
                if idle_seconds is not None and (utcnow() - idle_since).total_seconds() >= idle_seconds:
                    break
                continue
            idle_since = fetched = utcnow()
            by_table: dict[str, list[dict]] = {}
            sent = []  # when each event was published, if the publisher said so (latency from event received)
            for m in msgs:
                table = m.subject[len(prefix) + 1:]
                by_table.setdefault(table, []).extend(parse_payload(m.data))
                stamp = (m.headers or {}).get(SENT_AT_HEADER)
                if stamp:
                    sent.append(dt.datetime.fromtimestamp(float(stamp), dt.UTC).replace(tzinfo=None))
            staged = await loop.run_in_executor(stages["engine"], timed, "engine", stage_batch, live,
                                                by_table, min(sent) if sent else fetched)
            started += 1
            for done in [f for f in in_flight if f.done()]:
                done.result()  # a finished batch's error stops the consumer here
                in_flight.remove(done)
            while len(in_flight) >= 2:  # at most two batches behind the engine stage
                await in_flight.pop(0)
            in_flight.append(asyncio.ensure_future(complete(staged, msgs, sent, fetched)))
        for f in in_flight:
            await f
        in_flight = []
    finally:
        try:
            if in_flight:
                await asyncio.wait(in_flight)  # let the batches in hand finish (and be acknowledged)
            for executor in stages.values():
                executor.shutdown()
            sys.setswitchinterval(switch_interval)
            engine.reset_threads(threads_before)
            await sub.unsubscribe()
        finally:
            await nc.close()
    return totals


def covers(pattern: str, subject: str) -> bool:
    """Whether a NATS subject filter (tokens, `*` for one token, `>` for the rest) matches every subject
    that `subject` (itself a filter) matches."""
    p, t = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(t) > i
        if i >= len(t) or t[i] == ">" and token != ">":
            return False
        if token != "*" and token != t[i]:
            return False
    return len(p) == len(t)


async def _fetch(sub, batch: int, timeout: float) -> list:
    """Up to `batch` messages: wait up to `timeout` for the first ones, then top up with what is already
    waiting (a fetch returns what reached the client, often a fraction of a backlog): behind, batches
    grow and the fixed cost of a batch (the model's query) is shared by more events."""
    from nats.errors import TimeoutError as NatsTimeout

    msgs: list = []
    wait = timeout
    while len(msgs) < batch:
        try:
            got = await sub.fetch(batch - len(msgs), timeout=wait)
        except (TimeoutError, NatsTimeout):  # nats-py raises either when nothing arrived in time
            break
        msgs += got
        if not got:
            break
        wait = 0.005
    return msgs


def process_batch(live: LiveService, by_table: dict[str, list[dict]], received: dt.datetime,
                  source: str = "nats") -> dict:
    """Ingest each table's rows, then rescore every account they touched, once."""
    return review_batch(live, store_batch(live, stage_batch(live, by_table, received, source)))


def stage_batch(live: LiveService, by_table: dict[str, list[dict]], received: dt.datetime,
                source: str = "nats") -> dict:
    """The engine stage of a batch: ingest each table's rows and read what rescoring the accounts they
    touched needs from the engine (LiveService.prepare). store_batch and review_batch complete it."""
    from healthscore.contract import TABLES

    accounts: set[str] = set()
    rows = accepted = quarantined = 0
    reports = []
    named = {str(r["account_id"]) for table_rows in by_table.values() for r in table_rows
             if isinstance(r, dict) and r.get("account_id")}
    if named - live.accounts().keys():
        live.forget_accounts()  # accounts added since they were read (e.g. by 'healthscore ingest'): read them again
    # accounts first: rows of the other tables are checked against them
    for table, table_rows in sorted(by_table.items(), key=lambda item: item[0] != "accounts"):
        if table not in TABLES:
            raise InvalidInput(f"subject table {table!r} is not a canonical table; use one of {', '.join(TABLES)}",
                               field="subject")
        table_rows, rejected = split_unusable(table, table_rows)
        if rejected:  # one bad message must not hold up the others: quarantine it with the reason
            quarantine_rows(live, table, rejected, source)
            rows, quarantined = rows + len(rejected), quarantined + len(rejected)
        if not table_rows:
            continue
        report = live.deps.ingest_rows(table, table_rows, source=source, keep_appended=live.rollup is not None,
                                       known_accounts=None if table == "accounts" else live.account_ids())
        reports.append(report)
        if table == "accounts":
            live.forget_accounts()  # new or changed accounts arrived with this batch
        rows, accepted, quarantined = rows + report.read, accepted + report.accepted, quarantined + report.quarantined
        accounts |= {str(r["account_id"]) for r in table_rows if isinstance(r, dict) and r.get("account_id")}
    known = [a for a in sorted(accounts) if a in live.accounts()]
    touched = {r.table for r in reports if r.accepted}  # the rollup re-reads only these tables' aggregates
    return {"rows": rows, "accepted": accepted, "quarantined": quarantined, "received_at": received,
            "tables": [r.table for r in reports], "reports": reports,
            "prepared": live.prepare(known, touched, {r.table: r.appended for r in reports}) if known else None}


def store_batch(live, staged: dict) -> dict:
    """Score the batch's accounts and store their live snapshots (LiveService.store_live)."""
    return {**staged, "scored": live.store_live(staged["prepared"], staged["received_at"])
            if staged["prepared"] is not None else {"accounts": 0, "latency_ms": None}}


def review_batch(live, stored: dict) -> dict:
    """Alerts and tasks from the stored live snapshots (LiveService.review); the batch's result."""
    scored = live.review(stored["prepared"], stored["scored"]) if stored["prepared"] is not None else stored["scored"]
    return {"rows": stored["rows"], "accepted": stored["accepted"], "quarantined": stored["quarantined"],
            "rescored": scored["accounts"], "latency_ms": scored.get("latency_ms"),
            "received_at": stored["received_at"].isoformat(), "stored_at": scored.get("stored_at"),
            "tables": stored["tables"], "reports": stored["reports"], "stages_ms": dict(stored.get("stages_ms", {}))}


def split_unusable(table: str, rows: list) -> tuple[list[dict], list[tuple[Any, str]]]:
    """Rows ingestion can judge, and (raw, reason) for those it cannot: not JSON, not an object, or with
    columns the contract does not know (which would refuse the whole batch)."""
    from healthscore.contract import TABLES

    allowed = set(TABLES[table].column_names)
    good, bad = [], []
    for r in rows:
        if not isinstance(r, dict):
            bad.append((r, "not a JSON object of canonical columns"))
        elif "_unparseable" in r:
            bad.append((r["_unparseable"], "not JSON: send one JSON object, a JSON array or NDJSON lines"))
        elif set(r) - allowed:
            bad.append((r, f"unknown column(s) {', '.join(sorted(set(r) - allowed))}; allowed: "
                           f"{', '.join(TABLES[table].column_names)}"))
        else:
            good.append(r)
    return good, bad


def quarantine_rows(live: LiveService, table: str, rejected: list[tuple[Any, str]], source: str) -> None:
    import pandas as pd

    store = live.deps.store
    batch = store.record_ingest_batch(table, source, len(rejected), 0, len(rejected))
    store.write_quarantine(batch, table, pd.DataFrame(
        {"file": source, "line": None, "column": None, "value": None, "reason": [reason for _, reason in rejected],
         "raw": [raw if isinstance(raw, dict) else {"message": str(raw)} for raw, _ in rejected]}))


def run(live: LiveService, url: str, prefix: str, **kw) -> dict[str, Any]:
    return asyncio.run(consume(live, url, prefix, **kw))
