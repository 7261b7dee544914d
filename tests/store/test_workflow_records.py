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
