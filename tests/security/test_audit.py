"""The audit log cannot be quietly rewritten by someone who can write the store: an edit re-hashed to the
end of the chain lacks the key's MACs, cutting entries off the end contradicts the anchor file, and
removing or altering the anchor is reported. Data posted through the API is in the chain."""

from __future__ import annotations

import json
import sqlite3

import pytest

from healthscore.project import Project
from healthscore.store.workflow import GENESIS_HASH, audit_hash
from tests.security.conftest import run_cli
from tests.web.conftest import bearer


def anchor_of(ws):
    (path,) = (ws / ".healthscore").glob("audit_anchor-*.json")
    return path


def db(ws):
    return sqlite3.connect(ws / ".healthscore" / "store.db")


def verify(ws) -> dict:
    with Project(ws) as p:
        return p.audit_verify()


def rehash_from(ws, seq: int, mac=lambda h: None) -> None:
    """What an attacker with write access to the store can do: recompute the public chain after an edit."""
    con = db(ws)
    rows = con.execute("SELECT seq, at, actor, action, object_type, object_id, before, after, prev_hash, hash"
                       " FROM audit_log ORDER BY seq").fetchall()
    prev = GENESIS_HASH
    for r in rows:
        e = dict(zip(("seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "prev_hash",
                      "hash"), r))
        e["before"] = json.loads(e["before"]) if e["before"] else None
        e["after"] = json.loads(e["after"]) if e["after"] else None
        e["at"] = e["at"].replace(" ", "T")
        if e["seq"] >= seq:
            e["prev_hash"] = prev
            e["hash"] = audit_hash(e)
            con.execute("UPDATE audit_log SET prev_hash = ?, hash = ?, mac = ? WHERE seq = ?",
                        (e["prev_hash"], e["hash"], mac(e["hash"]), e["seq"]))
        prev = e["hash"]
    con.commit()


def test_an_intact_log_verifies_with_macs_and_anchor(ws):
    r = verify(ws)
    assert r["ok"] and r["keyed"] and r["keyed_from"] == 1 and r["anchored"] == r["entries"] > 0, r
    assert (ws / ".healthscore" / "audit_key").stat().st_mode & 0o777 == 0o600
    assert anchor_of(ws).stat().st_mode & 0o777 == 0o600
    with Project(ws) as p:
        assert all(e["mac"] for e in p.audit_log())


def test_cutting_entries_off_the_end_is_detected(ws):
    n = verify(ws)["entries"]
    con = db(ws)
    con.execute("DELETE FROM audit_log WHERE seq > ?", (n - 2,))
    con.commit()
    r = verify(ws)
    assert not r["ok"] and "were removed" in r["problem"] and r["first_bad_seq"] == n - 1
    proc = run_cli(ws, "audit", "verify")
    assert proc.returncode == 1 and "TAMPERED" in proc.stdout


def test_an_edit_rehashed_to_the_end_is_detected(ws):
    with Project(ws) as p:
        target = next(e for e in p.audit_log() if e["action"] == "user.add" and e["object_id"] == "viewer")
    con = db(ws)
    con.execute("UPDATE audit_log SET after = ? WHERE seq = ?", (json.dumps({"role": "admin"}), target["seq"]))
    con.commit()
    rehash_from(ws, target["seq"])
    r = verify(ws)
    assert not r["ok"] and r["first_bad_seq"] == target["seq"] and "without the audit key" in r["problem"]
    # MACs made with a key the attacker guessed do not help either
    import hashlib
    import hmac

    rehash_from(ws, target["seq"], mac=lambda h: hmac.new(b"guess" * 8, h.encode(), hashlib.sha256).hexdigest())
    assert not verify(ws)["ok"]


def test_truncating_and_rewriting_the_anchor_is_detected(ws):
    anchor = anchor_of(ws)
    a = json.loads(anchor.read_text())
    con = db(ws)
    con.execute("DELETE FROM audit_log WHERE seq = ?", (a["count"],))
    con.commit()
    a["count"] -= 1
    anchor.write_text(json.dumps(a))  # the MAC no longer matches
    r = verify(ws)
    assert not r["ok"] and "was altered" in r["problem"]
    anchor.unlink()
    r = verify(ws)
    assert not r["ok"] and "is missing" in r["problem"]


def test_api_posted_batches_are_in_the_chain(client, project):
    secret = project.token_create("manager", "ev", ["events:write"], "admin")[1]
    rows = [{"account_id": "A00001", "ts": "2026-10-30T10:00:00", "event": "login", "user_id": "u1"},
            {"account_id": "NOPE", "ts": "2026-10-30T10:00:00", "event": "login", "user_id": "u1"}]
    r = client.post("/api/v1/events?table=usage_events", json=rows, headers=bearer(secret))
    assert r.status_code == 200, r.text
    batches = [e for e in project.audit_log() if e["action"] == "ingest.batch"]
    assert batches[-1]["actor"] == "manager" and batches[-1]["after"]["source"] == "api:manager"
    assert batches[-1]["after"]["read"] == 2 and batches[-1]["after"]["table"] == "usage_events"
    assert project.audit_verify()["ok"]


def test_an_existing_store_is_sealed_from_its_head_on(ws):
    """A store written before the key existed (no MACs, no anchor) is anchored as it is on first open; later
    entries carry MACs, and a re-hashed edit of the old entries is still caught by the keyed ones."""
    con = db(ws)
    con.execute("UPDATE audit_log SET mac = NULL")
    con.commit()
    anchor_of(ws).unlink()
    (ws / ".healthscore" / "audit_key").unlink()
    n = verify(ws)["entries"]
    r = verify(ws)
    assert r["ok"] and r["keyed_from"] == n + 1 and r["anchored"] == n
    with Project(ws) as p:
        p.user_add("new.user", "viewer", "admin")
        assert p.audit_log()[-1]["mac"]
        assert p.audit_verify()["anchored"] == n + 1
    con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    con.commit()
    rehash_from(ws, 2)
    r = verify(ws)
    assert not r["ok"] and r["first_bad_seq"] == n + 1


def test_a_short_audit_key_is_refused(ws, monkeypatch):
    from healthscore.errors import UserError

    monkeypatch.setenv("HEALTHSCORE_AUDIT_KEY", "short")
    with pytest.raises(UserError, match="HEALTHSCORE_AUDIT_KEY"):
        verify(ws)
