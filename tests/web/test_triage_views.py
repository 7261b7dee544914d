"""Issue 15 views: a paused snapshot stays visible at its last trusted tier, and lists say how much they show."""

from __future__ import annotations

import json
import sqlite3

from healthscore import views
from healthscore.project import Project


def _pause(ws, account_id: str, last: dict, reason: str) -> None:
    """Turn the account's latest stored snapshot into a paused one that remembers `last`."""
    db = sqlite3.connect(ws / ".healthscore" / "store.db")
    as_of = db.execute("SELECT max(as_of) FROM snapshots WHERE account_id = ?", (account_id,)).fetchone()[0]
    db.execute("UPDATE snapshots SET status = 'paused', score = NULL, tier = NULL, smoothed_score = NULL,"
               " last_trusted = ?, reasons = ? WHERE account_id = ? AND as_of = ?",
               (json.dumps(last), json.dumps([reason]), account_id, as_of))
    db.commit()
    db.close()


def test_paused_at_risk_accounts_count_in_arr_at_risk(ws):
    with Project(ws) as p:
        before = views.portfolio(p)
        frame = views.latest(p)["frame"]
        red = frame[(frame["tier"] == "red") & (frame["arr"] > 0)].iloc[0]
        green = frame[(frame["tier"] == "green") & (frame["arr"] > 0)].iloc[0]
    _pause(ws, red["account_id"], {"as_of": "2026-10-01", "score": 31.0, "tier": "red"},
           "conflict csm_green_usage_collapsed: the CSM says green while usage fell")
    _pause(ws, green["account_id"], {"as_of": "2026-10-01", "score": 88.0, "tier": "green"},
           "tickets stale: newest row 40 days old (limit 30d)")
    with Project(ws) as p:  # a fresh project: nothing cached
        after = views.portfolio(p)
        rows = {r["account_id"]: r for r in views.accounts(p, status="paused", limit=500)["items"]}
    # the red account paused: still in ARR at risk, shown as paused (at risk) with its last trusted score
    assert after["arr_at_risk"] == before["arr_at_risk"]
    assert after["paused_at_risk"] == {"accounts": 1, "arr": round(float(red["arr"]), 2)}
    r = rows[red["account_id"]]
    assert r["display_tier"] == "paused (at risk)" and r["risk_tier"] == "red" and r["risk_score"] == 31.0
    assert rows[green["account_id"]]["display_tier"] == "paused"
    reasons = {x["reason"]: x for x in after["paused_by_reason"]}
    assert reasons["conflict: csm_green_usage_collapsed"] == {"reason": "conflict: csm_green_usage_collapsed",
                                                              "accounts": 1, "at_risk": 1}
    assert reasons["stale: tickets"]["accounts"] == 1 and reasons["stale: tickets"]["at_risk"] == 0
