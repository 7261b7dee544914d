"""Per-account explanation of a hybrid model's learned component: for each learned term, the account's value,
its points, and where it sits on its shape (the bin it falls in, and every bin of the shape).

Built from the snapshot's own evidence rows (source `learned` / `learned interaction`, whose points add up to
the learned score) and the model's `hybrid.learned` block, so a stored snapshot is explained the same way as a
fresh one. Pure: no engine, no store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthscore.model.ir import HealthModel


def _bin_of(mins: list[float], value: float) -> int:
    """The highest bin whose min is at or below the value; -1 below the first (it scores `below`)."""
    i = -1
    for k, m in enumerate(mins):
        if value >= m:
            i = k
    return i


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def explain_learned(snapshot: dict, model: HealthModel) -> dict | None:
    """{name, score, tier, tier_rule, rubric_tier, terms: [...]} for a hybrid snapshot (None otherwise).

    A term: {metric, evidence_metric, kind (shape | map | interaction), value, score, weight (its share of the
    learned score), points, missing (no value: it scored its missing score)}, and where the value sits:
    shape: `bins` [{min, max, score}] (max: the next bin's min, None for the last), `bin` (the index; -1 below
    the first bin; None without a value), `below` (the score below the first bin); map: `bins` [{category,
    score}] and `bin`; interaction: the two metrics' `edges` and the `cell` [row, column]."""
    hy = model.hybrid
    if hy is None:
        return None
    lc = hy.learned
    summary = next((c for c in snapshot.get("components") or [] if isinstance(c, dict) and c.get("part") == "learned"),
                   None)
    rows = {e["metric"]: e for e in snapshot.get("evidence") or [] if str(e.get("source") or "").startswith("learned")}
    terms: list[dict] = []
    for term in lc.metrics:
        e = rows.get(f"{lc.name}.{term.metric}") or {}
        value = e.get("value")
        out: dict[str, Any] = {"metric": term.metric, "evidence_metric": f"{lc.name}.{term.metric}",
                               "kind": term.transform.kind, "value": value, "score": e.get("score"),
                               "weight": e.get("weight"), "points": e.get("points"), "missing_score": term.missing}
        t = term.transform
        if t.kind == "shape":
            mins = [b.min for b in t.bins]
            out["bins"] = [{"min": b.min, "max": mins[i + 1] if i + 1 < len(mins) else None, "score": b.score}
                           for i, b in enumerate(t.bins)]
            out["below"] = t.bins[0].score if t.below is None else t.below
            out["monotone"] = t.monotone
            num = _num(value)
            out["bin"] = None if num is None else _bin_of(mins, num)
            out["missing"] = num is None
        else:
            cats = list(t.values)
            out["bins"] = [{"category": c, "score": s} for c, s in t.values.items()]
            out["bin"] = cats.index(str(value)) if value is not None and str(value) in cats else None
            out["missing"] = out["bin"] is None
        terms.append(out)
    for x in lc.interactions:
        e = rows.get(f"{lc.name}.{x.name}") or {}
        value = e.get("value")
        cell = None
        if isinstance(value, str) and " x " in value:
            va, vb = (_num(p) for p in value.split(" x ", 1))
            if va is not None and vb is not None:
                cell = [max(_bin_of(x.edges[0], va), 0), max(_bin_of(x.edges[1], vb), 0)]
        terms.append({"metric": " x ".join(x.metrics), "evidence_metric": f"{lc.name}.{x.name}",
                      "kind": "interaction", "value": value, "score": e.get("score"), "weight": e.get("weight"),
                      "points": e.get("points"), "missing_score": x.missing_score, "missing": cell is None,
                      "metrics": list(x.metrics), "edges": [list(x.edges[0]), list(x.edges[1])],
                      "scores": [list(r) for r in x.scores], "cell": cell})
    terms.sort(key=lambda t: -(t["weight"] or 0.0))
    rubric_tier = None
    if snapshot.get("score") is not None and snapshot.get("status") == "scored":
        tiers = next((s.tiers for s in model.segments if s.name == snapshot.get("segment") and s.tiers), model.tiers)
        rubric_tier = tiers.tier(snapshot["score"])
    return {"name": lc.name, "score": (summary or {}).get("score"), "tier": (summary or {}).get("tier"),
            "tier_rule": hy.tier_rule, "rubric_tier": rubric_tier,
            "tiers": None if lc.tiers is None else {"green": lc.tiers.green, "yellow": lc.tiers.yellow},
            "terms": terms}
