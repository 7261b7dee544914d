"""The workflow's records on SQLite and PostgreSQL: task dedupe, decisions with overrides, the audit chain."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from healthscore.errors import UserError

D = dt.date(2026, 11, 2)


def task(account: str, key: str, triggers=None) -> dict:
    return {"dedupe_key": key, "account_id": account, "as_of": D, "model_version": "v1",
            "triggers": triggers or [{"kind": "alert", "name": "dropped_to_red", "note": "red"}],
            "priority": "high", "owner": "dana", "queue": "dana", "due_at": D + dt.timedelta(days=3), "score": 35.0,
            "tier": "red", "snapshot_status": "scored", "explainable": True, "trend_note": "fell",
            "evidence": [{"metric": "m", "points": 35.0}], "next_action": {"action": "call", "draft": True}}


def test_tasks_are_deduped_and_keep_every_trigger(store):
    first = store.create_tasks([task("A1", "A1:2026-W45"), task("A2", "A2:2026-W45")])
    assert [new for _, new in first.values()] == [True, True]
    again = store.create_tasks([task("A1", "A1:2026-W45", [{"kind": "material_change", "name": "material_change",
                                                             "note": "moved"}])])
    assert again["A1:2026-W45"] == (first["A1:2026-W45"][0], False)
    stored = store.task(first["A1:2026-W45"][0])
    assert [x["kind"] for x in stored["triggers"]] == ["alert", "material_change"]
    assert len(store.tasks(status="all")) == 2
    assert [e["kind"] for e in store.measurement_events()] == ["task_created", "task_created"]


def test_the_triage_reads_the_tasks_of_some_queues_and_counts_the_others(store):
    """What a real-time batch's triage reads: its owners' tasks of a status (by due date, what it changes
    decoded), and a count of the other owners' open tasks; the queue names are data, not SQL."""
    queues = ["dana", "lee", "o'brien; DROP TABLE review_tasks", "<b>é</b>"]
    rows = []
    for i, queue in enumerate(queues * 3):
        row = task(f"A{i}", f"A{i}:2026-W45")
        row.update(queue=queue, status="backlog" if i % 3 == 0 else "open", due_at=D + dt.timedelta(days=12 - i),
                   next_action={"triage": {"rank": i, "rank_value": 10.0 * i}})
        rows.append(row)
    store.create_tasks(rows)
    some = store.triage_tasks("open", queues[2:])
    assert [t["account_id"] for t in some] == sorted(
        (r["account_id"] for r in rows if r["queue"] in queues[2:] and r["status"] == "open"),
        key=lambda a: -int(a[1:]))  # by due date: the later rows are due first
    assert {t["queue"] for t in some} == set(queues[2:])
    assert some[0]["next_action"]["triage"]["rank"] == int(some[0]["account_id"][1:])
    assert some[0]["as_of"] == D.isoformat() and some[0]["triggers"][0]["name"] == "dropped_to_red"
    assert store.triage_tasks("open", []) == []
    assert len(store.triage_tasks("backlog")) == sum(r["status"] == "backlog" for r in rows)
    assert store.count_tasks("open", other_than_queues=queues[2:]) == sum(
        r["status"] == "open" and r["queue"] not in queues[2:] for r in rows)
    assert store.count_tasks("open") == len(store.tasks(status="open"))


def test_a_correction_stores_the_override_beside_the_computed_score(store):
    task_id = store.create_tasks([task("A1", "k")])["k"][0]
    result = store.decide_task(task_id, "correct", "dana", reason_code="data_error", note="feed broken",
                               override={"score": 70.0, "tier": "green", "reason_code": "data_error",
                                         "note": "feed broken", "starts_on": D, "expires_on": D + dt.timedelta(days=7)})
    (o,) = store.overrides(["A1"])
    assert o["override_id"] == result["override_id"]
    assert (o["score"], o["computed_score"], o["computed_tier"]) == (70.0, 35.0, "red")
    assert store.overrides(["A1"], active_on=D + dt.timedelta(days=6))
    assert not store.overrides(["A1"], active_on=D + dt.timedelta(days=7))  # expired by itself
    assert store.task(task_id)["status"] == "corrected"
    with pytest.raises(UserError, match="already corrected"):
        store.decide_task(task_id, "accept", "lee")
    actions = [e["action"] for e in store.audit_entries()]
    assert actions == ["override.create", "task.correct"]
    (event,) = store.measurement_events("task_decided")
    assert event["payload"]["decision"] == "correct" and event["payload"]["hours_to_decision"] >= 0


def test_the_audit_chain_detects_edits_and_deletions(store):
    for i in range(5):
        store.audit("dana", "model.approve", "model_version", f"v{i}", None, {"note": i})
    assert store.verify_audit() == {**store.verify_audit(), "ok": True, "entries": 5}
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET after = :a WHERE seq = 3"), {"a": '{"note": 99}'})
    bad = store.verify_audit()
    assert (bad["ok"], bad["first_bad_seq"]) == (False, 3) and "changed" in bad["problem"]
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET after = :a WHERE seq = 3"), {"a": '{"note": 2}'})
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 4"))
    bad = store.verify_audit()
    assert (bad["ok"], bad["first_bad_seq"]) == (False, 5) and "missing" in bad["problem"]


def test_concurrent_writers_extend_one_chain(store):
    def write(who: str) -> None:
        for i in range(10):
            store.audit(who, "task.accept", "task", i)

    threads = [threading.Thread(target=write, args=(w,)) for w in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = store.audit_entries()
    assert len(entries) == 30  # nothing lost ...
    assert store.verify_audit()["ok"]  # ... and one unbroken chain


def alert(account: str, rule: str, status: str = "sent", queue: str = "dana") -> dict:
    return {"account_id": account, "rule": rule, "severity": "high", "as_of": D, "model_version": "v1",
            "status": status, "owner": queue, "queue": queue, "note": f"{rule} fired",
            "snapshot": {"score": 35.0, "tier": "red"}, "evidence": [{"metric": "m", "points": 35.0}]}


def test_many_alerts_are_stored_in_order_with_their_events_and_an_alert_already_stored_is_skipped(store):
    states = {(f"A{i}", "dropped_to_red"): {"active": True, "since": dt.datetime(2026, 11, 2),
                                            "last_fired_as_of": dt.datetime(2026, 11, 2)} for i in range(300)}
    ids = store.save_alerts(states, [alert(f"A{i}", "dropped_to_red") for i in range(300)])
    assert len(ids) == 300 and all(isinstance(i, int) for i in ids) and ids == sorted(ids)
    stored = {a["alert_id"]: a["account_id"] for a in store.alerts()}
    assert [stored[i] for i in ids] == [f"A{i}" for i in range(300)]  # each id is its own alert's
    assert len(store.alert_states([f"A{i}" for i in range(300)])) == 300
    # the same (account, rule, as-of) again: skipped (None); a new one beside it is stored
    again = store.save_alerts({("A0", "dropped_to_red"): {"active": False}}, [alert("A0", "dropped_to_red"),
                                                                            alert("B1", "csat_below_3")])
    assert again[0] is None and isinstance(again[1], int)
    assert store.alert_states(["A0"])[("A0", "dropped_to_red")]["active"] is False  # the state was replaced
    assert sum(e["kind"] == "alert_fired" for e in store.measurement_events()) == 301


def test_alerts_link_to_tasks_in_one_call(store):
    ids = store.save_alerts({}, [alert("A1", "dropped_to_red"), alert("A2", "dropped_to_red")])
    tasks = store.create_tasks([task("A1", "A1:2026-W45"), task("A2", "A2:2026-W45")])
    store.link_alerts_to_tasks({ids[0]: tasks["A1:2026-W45"][0], ids[1]: tasks["A2:2026-W45"][0]})
    linked = {a["account_id"]: a["task_id"] for a in store.alerts()}
    assert linked == {"A1": tasks["A1:2026-W45"][0], "A2": tasks["A2:2026-W45"][0]}


def test_the_same_task_key_twice_in_one_call_is_one_task_with_both_reasons(store):
    out = store.create_tasks([task("A1", "A1:2026-W45"),
                              task("A1", "A1:2026-W45", [{"kind": "review_rule", "name": "renewal", "note": "r"}])])
    assert list(out) == ["A1:2026-W45"] and out["A1:2026-W45"][1] is True
    assert [x["kind"] for x in store.task(out["A1:2026-W45"][0])["triggers"]] == ["alert", "review_rule"]


def test_the_daily_budget_counts_sent_alerts_per_queue(store):
    store.save_alerts({}, [alert("A1", "r1"), alert("A2", "r1"), alert("A3", "r1", status="digest"),
                           alert("A4", "r1", queue="lee")])
    today = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert store.alerts_sent_on(today, {"dana", "lee", "nobody"}) == {"dana": 2, "lee": 1, "nobody": 0}
    assert store.alerts_sent_on(today + dt.timedelta(days=1), {"dana"}) == {"dana": 0}


def test_an_existing_task_named_twice_in_one_call_keeps_both_new_reasons(store):
    first = store.create_tasks([task("A1", "A1:2026-W45")])
    store.create_tasks([task("A1", "A1:2026-W45", [{"kind": "review_rule", "name": "renewal", "note": "r"}]),
                        task("A1", "A1:2026-W45", [{"kind": "material_change", "name": "material_change",
                                                    "note": "m"}])])
    kinds = [x["kind"] for x in store.task(first["A1:2026-W45"][0])["triggers"]]
    assert kinds == ["alert", "review_rule", "material_change"]


def test_concurrent_login_attempts_get_no_more_guesses_than_the_limit(store):
    """The web login throttle (web/throttle.py) counts an attempt before its password is checked, one attempt at
    a time in the store: twenty at once for one user, from threads released together, get five guesses between
    them on either database (a check before counting let all twenty through)."""
    import threading

    from healthscore.errors import TooManyAttempts
    from healthscore.web.throttle import LoginThrottle

    throttle = LoginThrottle(lambda: store)
    start, passed, refused = threading.Barrier(20), [], []

    def guess(i: int) -> None:
        start.wait()
        try:
            passed.append(throttle.attempt("admin", f"10.1.0.{i}"))
        except TooManyAttempts:
            refused.append(i)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert (len(passed), len(refused)) == (LoginThrottle.PER_USER.attempts, 20 - LoginThrottle.PER_USER.attempts)
