"""The review workflow's records in the store: tasks, overrides, alerts and their state, deliveries,
measurement events and live snapshots.

A mixin of `Store` (it uses `self.engine`; the audit log is in store/audit.py). Every human decision is
written in one transaction together with its audit entry and measurement event, so none of the three exists
without the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from healthscore.errors import Conflict, InvalidInput, NotFound
from healthscore.store import tables as t
from healthscore.store.audit import GENESIS_HASH as GENESIS_HASH  # the "as" re-exports: project.py, audit tests
from healthscore.store.audit import AuditRecords
from healthscore.store.audit import AuditSeal as AuditSeal
from healthscore.store.audit import audit_hash as audit_hash
from healthscore.store.common import column_in, iso, midnight, upsert, utcnow

DECISIONS = {"accept": "accepted", "correct": "corrected", "dismiss": "dismissed"}


def _task_dict(r) -> dict[str, Any]:
    return {
        "task_id": r.task_id, "account_id": r.account_id, "as_of": r.as_of.date().isoformat(),
        "model_version": r.model_version, "triggers": r.triggers, "priority": r.priority, "owner": r.owner,
        "queue": r.queue, "status": r.status, "created_at": iso(r.created_at), "due_at": r.due_at.date().isoformat(),
        "score": r.score, "tier": r.tier, "snapshot_status": r.snapshot_status, "explainable": r.explainable,
        "trend_note": r.trend_note, "evidence": r.evidence, "next_action": r.next_action,
        "decided_at": iso(r.decided_at), "decided_by": r.decided_by, "reason_code": r.reason_code, "note": r.note,
        "override_id": r.override_id, "follow_up_at": iso(r.follow_up_at), "follow_up_note": r.follow_up_note,
        **_triage_fields(r.next_action),
    }


def _triage_fields(next_action: dict | None) -> dict[str, Any]:
    """The weekly triage's rank and expected ARR at risk, kept in the task's next_action."""
    tri = (next_action or {}).get("triage") or {}
    return {"rank": tri.get("rank"), "expected_arr_at_risk": tri.get("expected_arr_at_risk"),
            "churn_probability": tri.get("churn_probability"), "capacity": tri.get("capacity")}


def _override_dict(r) -> dict[str, Any]:
    return {
        "override_id": r.override_id, "account_id": r.account_id, "task_id": r.task_id, "score": r.score,
        "tier": r.tier, "computed_score": r.computed_score, "computed_tier": r.computed_tier,
        "reason_code": r.reason_code, "note": r.note, "author": r.author, "created_at": iso(r.created_at),
        "starts_on": r.starts_on.date().isoformat(), "expires_on": r.expires_on.date().isoformat(),
        "revoked_at": iso(r.revoked_at),
    }


def _alert_dict(r) -> dict[str, Any]:
    return {
        "alert_id": r.alert_id, "account_id": r.account_id, "rule": r.rule, "severity": r.severity,
        "as_of": r.as_of.date().isoformat(), "model_version": r.model_version, "fired_at": iso(r.fired_at),
        "status": r.status, "owner": r.owner, "queue": r.queue, "note": r.note, "snapshot": r.snapshot,
        "evidence": r.evidence, "task_id": r.task_id,
    }


def _locked_task(conn: Connection, task_id: int):
    r = conn.execute(select(t.review_tasks).where(t.review_tasks.c.task_id == task_id).with_for_update()).first()
    if r is None:
        raise NotFound(f"no review task {task_id}; see 'healthscore tasks --status all'", object_id=str(task_id))
    return r


class WorkflowRecords(AuditRecords):
    # -- measurement events -------------------------------------------------------------------

    def _event(self, conn: Connection, kind: str, account_id: str | None = None, task_id: int | None = None,
               actor: str | None = None, **payload: Any) -> None:
        self._events(conn, [{"kind": kind, "account_id": account_id, "task_id": task_id, "actor": actor,
                             "payload": payload}])

    def _events(self, conn: Connection, events: list[dict[str, Any]]) -> None:
        """Measurement events ({kind, account_id, task_id, actor, payload}) in one statement."""
        if events:
            now = utcnow()
            conn.execute(insert(t.measurement_events), [
                {"at": now, "kind": e["kind"], "account_id": e.get("account_id"), "task_id": e.get("task_id"),
                 "actor": e.get("actor"), "payload": e["payload"]} for e in events])

    def record_event(self, kind: str, actor: str, payload: dict[str, Any], *, account_id: str | None = None,
                     task_id: int | None = None) -> dict[str, Any]:
        """A measurement event written by a person (e.g. kind `intervention`), with its audit entry, in one
        transaction: programme records that need no table of their own."""
        def work(conn: Connection) -> None:
            self._event(conn, kind, account_id, task_id, actor, **payload)
            self._audit(conn, actor, f"{kind}.log", kind, task_id if task_id is not None else account_id, None,
                        {"account_id": account_id, **payload})

        self._in_transaction(work)
        return self.measurement_events(kind)[-1]

    def measurement_events(self, kind: str | None = None) -> list[dict[str, Any]]:
        m = t.measurement_events.c
        stmt = select(t.measurement_events).order_by(m.event_id)
        if kind:
            stmt = stmt.where(m.kind == kind)
        with self.engine.connect() as conn:
            return [{"event_id": r.event_id, "at": r.at.isoformat(), "kind": r.kind, "account_id": r.account_id,
                     "task_id": r.task_id, "actor": r.actor, "payload": r.payload} for r in conn.execute(stmt)]

    # -- alerts -------------------------------------------------------------------------------

    def alert_states(self, account_ids: list[str] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """Alert state per (account, rule); with account_ids, only theirs (a real-time batch)."""
        stmt = select(t.alert_state)
        with self.engine.connect() as conn:
            if account_ids is not None:
                stmt = stmt.where(column_in(conn, t.alert_state.c.account_id, account_ids))
            return {(r.account_id, r.rule): {"active": r.active, "since": r.since,
                                             "last_fired_as_of": r.last_fired_as_of}
                    for r in conn.execute(stmt)}

    @contextmanager
    def transaction(self):
        """One transaction for several writes (``tx=`` of save_alerts, create_tasks,
        link_alerts_to_tasks): the weekly run's alerts, tasks and links commit together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    def _begin(self, conn: Connection | None):
        """The caller's transaction, or a new one."""
        return nullcontext(conn) if conn is not None else self.engine.begin()

    def save_alerts(self, states: dict[tuple[str, str], dict[str, Any]], alerts: list[dict[str, Any]],
                    tx: Connection | None = None) -> list[int]:
        """Replace the changed alert states and insert the new alerts (an alert already stored for the
        same account, rule and as-of date is skipped); returns the new alert ids, in order (None for a
        skipped one). A few statements whatever the number of alerts: a real-time batch raises hundreds."""
        now = utcnow()
        c = t.alerts.c
        with self._begin(tx) as conn:
            if states:
                upsert(conn, t.alert_state, ["account_id", "rule"], [
                    {"account_id": a, "rule": r, "active": s["active"], "since": s.get("since"),
                     "last_fired_as_of": s.get("last_fired_as_of"), "updated_at": now} for (a, r), s in states.items()])
            # alerts already stored for these accounts and as-of dates: one query per date, not one per alert
            accounts = sorted({a["account_id"] for a in alerts})
            stored = {(r.account_id, r.rule, r.as_of) for day in {midnight(a["as_of"]) for a in alerts}
                      for r in conn.execute(select(c.account_id, c.rule, c.as_of).where(
                          c.as_of == day, column_in(conn, c.account_id, accounts)))}
            new = [i for i, a in enumerate(alerts) if (a["account_id"], a["rule"], midnight(a["as_of"])) not in stored]
            ids: list[Any] = [None] * len(alerts)
            if new:
                rows = [{**alerts[i], "as_of": midnight(alerts[i]["as_of"]), "fired_at": now} for i in new]
                result = conn.execute(insert(t.alerts).returning(c.alert_id, sort_by_parameter_order=True), rows)
                for i, alert_id in zip(new, result.scalars().all()):
                    ids[i] = alert_id
                self._events(conn, [{"kind": "alert_fired", "account_id": alerts[i]["account_id"], "actor": "system",
                                     "payload": {"alert_id": ids[i], "rule": alerts[i]["rule"],
                                                 "status": alerts[i]["status"]}} for i in new])
        return ids

    def link_alerts_to_tasks(self, links: dict[int, int], tx: Connection | None = None) -> None:
        if not links:
            return
        with self._begin(tx) as conn:
            conn.execute(update(t.alerts).where(t.alerts.c.alert_id == bindparam("alert")).values(
                task_id=bindparam("task")), [{"alert": a, "task": k} for a, k in links.items()])

    def alerts(self, *, since: date | str | None = None, owner: str | None = None, status: str | None = None,
               account_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        c = t.alerts.c
        stmt = select(t.alerts).order_by(c.as_of.desc(), c.alert_id)
        if since is not None:
            stmt = stmt.where(c.as_of >= midnight(since))
        if owner:
            stmt = stmt.where(c.queue == owner)
        if status:
            stmt = stmt.where(c.status == status)
        if account_id:
            stmt = stmt.where(c.account_id == account_id)
        if limit:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [_alert_dict(r) for r in conn.execute(stmt)]

    def alerts_sent_on(self, day: datetime, queues: Iterable[str]) -> dict[str, int]:
        """Alerts already sent one by one to each queue today (the per-owner daily budget), in one query."""
        c = t.alerts.c
        start = datetime(day.year, day.month, day.day)
        out = dict.fromkeys(queues, 0)
        if not out:
            return out
        with self.engine.connect() as conn:
            for queue, n in conn.execute(select(c.queue, func.count()).where(
                    column_in(conn, c.queue, list(out)), c.status == "sent", c.fired_at >= start).group_by(c.queue)):
                out[queue] = n
        return out

    # -- tasks --------------------------------------------------------------------------------

    def create_tasks(self, tasks: list[dict[str, Any]], tx: Connection | None = None) -> dict[str, tuple[int, bool]]:
        """Insert tasks whose dedupe_key is new: {dedupe_key: (task_id, created)} for every task given.

        An existing task with the same key gets the new triggers appended (once each), so a second
        run in the same week adds no task but keeps every reason visible. Existing tasks are read in
        one query and new ones inserted in one statement.
        """
        out: dict[str, tuple[int, bool]] = {}
        now = utcnow()
        c = t.review_tasks.c
        with self._begin(tx) as conn:
            keys = [task["dedupe_key"] for task in tasks]
            existing = {r.dedupe_key: r for r in conn.execute(
                select(c.task_id, c.dedupe_key, c.triggers).where(column_in(conn, c.dedupe_key, keys)))} if keys else {}
            fresh: dict[str, dict[str, Any]] = {}
            grown: dict[int, list[dict[str, Any]]] = {}  # task id -> its triggers with the new ones
            for task in tasks:
                key = task["dedupe_key"]
                if key in fresh:  # the same key twice in one call: one task with both reasons
                    known = {(x["kind"], x["name"]) for x in fresh[key]["triggers"]}
                    fresh[key]["triggers"] += [x for x in task["triggers"] if (x["kind"], x["name"]) not in known]
                    continue
                old = existing.get(key)
                if old is None:
                    fresh[key] = {**task, "triggers": list(task["triggers"]), "as_of": midnight(task["as_of"]),
                                  "created_at": now, "status": task.get("status", "open"),
                                  "due_at": midnight(task["due_at"])}
                    continue
                triggers = grown.get(old.task_id, old.triggers)
                known = {(x["kind"], x["name"]) for x in triggers}
                extra = [x for x in task["triggers"] if (x["kind"], x["name"]) not in known]
                if extra:
                    grown[old.task_id] = triggers + extra
                out[key] = (old.task_id, False)
            if grown:  # existing tasks with new reasons: one statement
                conn.execute(update(t.review_tasks).where(c.task_id == bindparam("task")).values(
                    triggers=bindparam("new_triggers")), [{"task": k, "new_triggers": v} for k, v in grown.items()])
            if fresh:
                rows = list(fresh.values())
                result = conn.execute(insert(t.review_tasks).returning(c.task_id, sort_by_parameter_order=True), rows)
                task_ids = result.scalars().all()
                for row, task_id in zip(rows, task_ids):
                    out[row["dedupe_key"]] = (task_id, True)
                self._events(conn, [{"kind": "task_created", "account_id": row["account_id"], "task_id": task_id,
                                     "actor": "system", "payload": {
                                         "triggers": [x["kind"] for x in row["triggers"]], "tier": row.get("tier"),
                                         "material_change": any(x["kind"] == "material_change"
                                                                for x in row["triggers"])}}
                                    for row, task_id in zip(rows, task_ids) if row["status"] == "open"])
        return out

    def triage_updates(self, updates: dict[int, dict[str, Any]], superseded: dict[int, int | None],
                       closed: dict[int, Any] | None = None, tx: Connection | None = None) -> None:
        """The weekly triage's changes to earlier tasks, in one transaction: priority, rank and status of
        carried-over ones (open, or back to the backlog), and older ones closed as superseded by the
        account's new task (None: last week's backlog digest, replaced by this week's)."""
        closed = closed or {}
        if not updates and not superseded and not closed:
            return
        c = t.review_tasks.c
        now = utcnow()
        # one executemany per set of columns: a real-time batch re-ranks thousands of tasks, and one UPDATE
        # statement each cost it 0.9 s at 4,000 tasks
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for task_id, values in updates.items():
            groups.setdefault(tuple(sorted(values)), []).append(
                {"_task_id": task_id, **{f"_{k}": v for k, v in values.items()}})
        with self._begin(tx) as conn:
            for names, rows in groups.items():
                stmt = update(t.review_tasks).where(c.task_id == bindparam("_task_id")).values(
                    {k: bindparam(f"_{k}", type_=c[k].type) for k in names})
                conn.execute(stmt, rows)
            for task_id, new_id in superseded.items():
                note = f"superseded by task {new_id}" if new_id else "replaced by a newer weekly backlog"
                conn.execute(update(t.review_tasks).where(c.task_id == task_id).values(
                    status="superseded", decided_at=now, decided_by="system", reason_code="superseded",
                    note=note))
            for task_id, on in closed.items():
                conn.execute(update(t.review_tasks).where(c.task_id == task_id).values(
                    status="closed", decided_at=now, decided_by="system", reason_code="not_scored",
                    note=f"the account was not scored on {on} (churned or removed): nothing left to review"))
            self._events(conn, [{"kind": "task_superseded", "task_id": task_id, "actor": "system",
                                 "payload": {"superseded_by": new_id}} for task_id, new_id in superseded.items()
                                if new_id])

    def tasks(self, *, queue: str | None = None, status: str | None = None, account_id: str | None = None,
              limit: int | None = None) -> list[dict[str, Any]]:
        """Review tasks by due date."""
        c = t.review_tasks.c
        stmt = select(t.review_tasks).order_by(c.due_at, c.task_id)
        if queue:
            stmt = stmt.where(c.queue == queue)
        if status and status != "all":
            stmt = stmt.where(c.status == status)
        if account_id:
            stmt = stmt.where(c.account_id == account_id)
        if limit:
            stmt = stmt.limit(limit)
        with self.engine.connect() as conn:
            return [_task_dict(r) for r in conn.execute(stmt)]

    def triage_tasks(self, status: str, queues: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The tasks of a status (of these queues), by due date, with only what the triage reads and changes: a
        real-time batch's triage reads thousands of them, and whole tasks (their evidence about 7 KB of JSON
        each) cost it 0.1 ms a task."""
        c = t.review_tasks.c
        stmt = select(c.task_id, c.account_id, c.as_of, c.queue, c.status, c.priority, c.note, c.score, c.triggers,
                      c.next_action).where(c.status == status).order_by(c.due_at, c.task_id)
        with self.engine.connect() as conn:
            if queues is not None:
                queues = sorted(set(queues))
                if not queues:
                    return []
                stmt = stmt.where(column_in(conn, c.queue, queues))
            return [{"task_id": task_id, "account_id": account_id, "as_of": as_of.date().isoformat(), "queue": queue,
                     "status": status, "priority": priority, "note": note, "score": score, "triggers": triggers,
                     "next_action": next_action}
                    for task_id, account_id, as_of, queue, status, priority, note, score, triggers, next_action
                    in conn.execute(stmt)]

    def count_tasks(self, status: str, *, other_than_queues: Iterable[str] = ()) -> int:
        """How many tasks have this status, leaving out those of `other_than_queues` (a count, not the rows)."""
        c = t.review_tasks.c
        with self.engine.connect() as conn:
            stmt = select(func.count()).select_from(t.review_tasks).where(c.status == status)
            skip = sorted(set(other_than_queues))
            if skip:
                stmt = stmt.where(~column_in(conn, c.queue, skip))
            return int(conn.execute(stmt).scalar_one())

    def task(self, task_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.review_tasks).where(t.review_tasks.c.task_id == task_id)).first()
        if r is None:
            raise NotFound(f"no review task {task_id}; see 'healthscore tasks' for the open ones",
                               object_id=str(task_id))
        return _task_dict(r)

    def decide_task(self, task_id: int, decision: str, actor: str, *, reason_code: str | None = None,
                    note: str | None = None, override: dict[str, Any] | None = None) -> dict[str, Any]:
        """Accept, correct (with an override) or dismiss an open task: one transaction with its audit
        entry and measurement event."""
        c = t.review_tasks.c

        def work(conn: Connection) -> dict[str, Any]:
            r = _locked_task(conn, task_id)
            before = _task_dict(r)
            if r.status not in ("open", "backlog"):  # an owner may take a task from the backlog
                raise Conflict(f"task {task_id} was already {r.status} by {r.decided_by} at {r.decided_at:%Y-%m-%d}",
                               object_id=str(task_id))
            now = utcnow()
            override_id = None
            if override is not None:
                row = {**override, "account_id": r.account_id, "task_id": task_id, "author": actor, "created_at": now,
                       "computed_score": r.score, "computed_tier": r.tier,
                       "starts_on": midnight(override["starts_on"]), "expires_on": midnight(override["expires_on"])}
                override_id = conn.execute(insert(t.overrides).returning(t.overrides.c.override_id),
                                           row).scalar_one()
                self._audit(conn, actor, "override.create", "override", override_id, None,
                            {**override, "account_id": r.account_id, "computed_score": r.score,
                             "computed_tier": r.tier})
            values = {"status": DECISIONS[decision], "decided_at": now, "decided_by": actor,
                      "reason_code": reason_code, "note": note, "override_id": override_id}
            conn.execute(update(t.review_tasks).where(c.task_id == task_id).values(**values))
            after = {**before, **values, "decided_at": now.isoformat()}
            self._audit(conn, actor, f"task.{decision}", "task", task_id,
                        {k: before[k] for k in ("status", "score", "tier")},
                        {k: after[k] for k in ("status", "reason_code", "note", "override_id")})
            hours = (now - r.created_at).total_seconds() / 3600
            material = any(x["kind"] == "material_change" for x in r.triggers)
            self._event(conn, "task_decided", r.account_id, task_id, actor, decision=decision,
                        hours_to_decision=round(hours, 2), material_change=material, explainable=r.explainable,
                        reason_code=reason_code)
            return {**after, "override_id": override_id}

        return self._in_transaction(work)

    def follow_up(self, task_id: int, actor: str, note: str) -> dict[str, Any]:
        c = t.review_tasks.c

        def work(conn: Connection) -> None:
            r = _locked_task(conn, task_id)
            if r.status not in ("accepted", "corrected"):
                raise InvalidInput(f"task {task_id} is {r.status}: only an accepted or corrected task has a"
                                   " follow-up", object_id=str(task_id))
            now = utcnow()
            conn.execute(update(t.review_tasks).where(c.task_id == task_id)
                         .values(follow_up_at=now, follow_up_note=note))
            self._audit(conn, actor, "task.follow_up", "task", task_id, {"follow_up_note": r.follow_up_note},
                        {"follow_up_note": note})
            self._event(conn, "follow_up_done", r.account_id, task_id, actor, note=note)

        self._in_transaction(work)
        return self.task(task_id)

    # -- overrides ----------------------------------------------------------------------------

    def overrides(self, account_ids: list[str] | None = None, *, active_on: date | None = None) -> list[dict[str, Any]]:
        """Overrides, newest first; with active_on, only those in force on that as-of date."""
        o = t.overrides.c
        stmt = select(t.overrides).order_by(o.created_at.desc(), o.override_id.desc())
        if account_ids is not None:
            stmt = stmt.where(o.account_id.in_(list(account_ids)))
        if active_on is not None:
            day = midnight(active_on)
            stmt = stmt.where(o.starts_on <= day, o.expires_on > day, o.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_override_dict(r) for r in conn.execute(stmt)]

    # -- deliveries ---------------------------------------------------------------------------

    def record_deliveries(self, results: list[Any], title: str, recipient: str | None,
                          payload: dict[str, Any]) -> None:
        """Every delivery attempt's outcome, failed ones included: nothing is lost silently."""
        if not results:
            return
        rows = [{"at": getattr(r, "finished_at", None) or utcnow(), "sink": r.sink, "kind": r.kind, "ok": bool(r.ok),
                 "attempts": int(r.attempts), "status": None if r.status is None else str(r.status),
                 "error": r.error, "title": title, "recipient": recipient,
                 "payload": json.loads(json.dumps(payload, default=str))} for r in results]
        for row in rows:
            if isinstance(row["at"], datetime) and row["at"].tzinfo is not None:
                row["at"] = row["at"].replace(tzinfo=None)
        with self.engine.begin() as conn:
            conn.execute(insert(t.deliveries), rows)

    def deliveries(self, ok: bool | None = None) -> list[dict[str, Any]]:
        d = t.deliveries.c
        stmt = select(t.deliveries).order_by(d.delivery_id)
        if ok is not None:
            stmt = stmt.where(d.ok == ok)
        with self.engine.connect() as conn:
            return [{"delivery_id": r.delivery_id, "at": iso(r.at), "sink": r.sink, "kind": r.kind, "ok": r.ok,
                     "attempts": r.attempts, "status": r.status, "error": r.error, "title": r.title,
                     "recipient": r.recipient, "payload": r.payload} for r in conn.execute(stmt)]

    # -- live snapshots (real-time rescoring) ------------------------------------------------

    def write_live(self, snaps: list[dict[str, Any]], received_at: datetime) -> datetime:
        """Replace the live snapshot of each account (upsert); returns when they were stored."""
        now = utcnow()
        rows = [{"account_id": s["account_id"], "model_version": s["model_version"], "as_of": midnight(s["as_of"]),
                 "received_at": received_at, "scored_at": now, "score": s.get("score"), "tier": s.get("tier"),
                 "status": s["status"], "confidence": s.get("confidence") or 0.0,
                 "snapshot": s} for s in snaps]
        if not rows:
            return now
        with self.engine.begin() as conn:
            upsert(conn, t.live_snapshots, ["model_version", "account_id"], rows)
        return now

    def live_snapshots(self, account_ids: list[str] | None = None, model_version: str | None = None) -> list[dict]:
        c = t.live_snapshots.c
        stmt = select(t.live_snapshots).order_by(c.account_id)
        if account_ids is not None:
            stmt = stmt.where(c.account_id.in_(list(account_ids)))
        if model_version is not None:
            stmt = stmt.where(c.model_version == model_version)
        with self.engine.connect() as conn:
            return [{**r.snapshot, "received_at": iso(r.received_at), "scored_at": iso(r.scored_at),
                     "live": True} for r in conn.execute(stmt)]
