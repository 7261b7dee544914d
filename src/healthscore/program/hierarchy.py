"""Account hierarchies: a parent account's health rolled up from its children (accounts.parent_id).

`hierarchy: {rollup: arr_weighted}` averages the children's scores weighted by ARR (children without
ARR weigh as much as the smallest ARR, or 1 when none has one); `rollup: minimum` takes the weakest
child. The parent's evidence names every child with its weight and points; the points add up to the
rolled-up score. Only scored children count; the others are listed with their status.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from healthscore.errors import InvalidInput

if TYPE_CHECKING:
    from healthscore.services.parts import Parts


def rollup(children: list[dict[str, Any]], method: str) -> dict[str, Any]:
    """children: [{account_id, score, arr, ...}] of scored children -> {score, evidence}."""
    kids = [c for c in children if c.get("score") is not None]
    if not kids:
        return {"score": None, "evidence": []}
    if method == "minimum":
        low = min(kids, key=lambda c: (c["score"], c["account_id"]))
        ev = [{"child": c["account_id"], "score": c["score"], "arr": c.get("arr"),
               "weight": 1.0 if c is low else 0.0, "points": round(c["score"], 4) if c is low else 0.0}
              for c in kids]
        return {"score": round(low["score"], 2), "evidence": ev}
    arrs = [c.get("arr") for c in kids]
    known = [a for a in arrs if a is not None and not math.isnan(a) and a > 0]
    floor = min(known) if known else 1.0
    w = [a if a is not None and not math.isnan(a) and a > 0 else floor for a in arrs]
    total = sum(w)
    ev = [{"child": c["account_id"], "score": c["score"], "arr": c.get("arr"), "weight": round(wi / total, 6),
           "points": round(wi / total * c["score"], 4)} for c, wi in zip(kids, w)]
    score = sum(wi / total * c["score"] for c, wi in zip(kids, w))
    return {"score": round(score, 2), "evidence": ev}


def hierarchy_report(project: Parts, as_of: dt.date, account_id: str | None = None) -> list[dict[str, Any]]:
    import pandas as pd

    from healthscore.workflow.alerts import tiers_for

    ir = project.model.ir
    method = ir.hierarchy.rollup if ir.hierarchy else "arr_weighted"
    t = project.con.table("accounts")
    if "parent_id" not in t.columns:
        raise InvalidInput("the accounts table has no parent_id column: map one under sources.accounts.columns")
    acc = t.select(*[c for c in ("account_id", "name", "parent_id", "arr") if c in t.columns]).execute()
    acc = acc[acc["parent_id"].notna()]
    if account_id is not None:
        acc = acc[acc["parent_id"] == account_id]
        if acc.empty:
            raise InvalidInput(f"account {account_id!r} has no children (no account names it as parent_id)",
                               object_id=account_id)
    if acc.empty:
        return []
    ids = sorted(set(acc["account_id"]) | set(acc["parent_id"]))
    snaps = {s["account_id"]: s for s in project.score(as_of, account_ids=ids, store=False).snapshots}
    out = []
    for parent, group in acc.groupby("parent_id", sort=True):
        children, others = [], []
        for r in group.itertuples():
            s = snaps.get(r.account_id)
            arr = None if "arr" not in group or pd.isna(r.arr) else float(r.arr)
            if s is not None and s["status"] in ("scored", "overridden") and s["score"] is not None:
                children.append({"account_id": r.account_id, "score": float(s["score"]), "arr": arr,
                                 "tier": s["tier"]})
            else:
                others.append({"child": r.account_id, "status": s["status"] if s else "no snapshot",
                               "reasons": (s or {}).get("reasons", [])[:2]})
        rolled = rollup(children, method)
        own = snaps.get(parent)
        tiers = tiers_for(ir, (own or {}).get("segment"))
        out.append({
            "account_id": parent, "as_of": as_of.isoformat(), "rollup": method, "score": rolled["score"],
            "tier": tiers.tier(rolled["score"]), "children": len(group), "children_scored": len(children),
            "evidence": rolled["evidence"], "not_scored": others,
            "own_score": (own or {}).get("score"), "own_status": (own or {}).get("status"),
            "reasons": [f"rolled up ({method}) from {len(children)} scored of {len(group)} children: "
                        + ", ".join(c["account_id"] for c in children)] if children else
                       [f"no scored child of {len(group)}"],
        })
    return out
