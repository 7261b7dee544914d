"""Exact change attribution between two snapshots of an account, and the trend note a CSM can paste.

delta = model_version_part + override_part + sum of metric contributions, exactly (to rounding):
- model_version_part: the earlier date's data scored by the later model, minus the earlier snapshot
  (zero when both used the same model version);
- override_part: manual overrides (none yet: reserved for the review workflow);
- each metric's contribution: its points after minus its points before, split into the part from
  its score changing (weight before x score change) and the part from its weight changing
  (coverage or segment moved weight between metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # numpy and pyarrow load in the functions: reads that need no notes never import them
    import numpy as np
    import pyarrow as pa


def _points(snap: dict) -> dict[str, dict]:
    """The rubric's evidence by metric: a hybrid model's learned rows add up to the learned score, not to the
    score whose change is attributed."""
    return {e["metric"]: e for e in snap["evidence"] if not str(e.get("source") or "").startswith("learned")}


def _computed(snap: dict) -> dict:
    """The snapshot as the model computed it (an override keeps the computed values beside it)."""
    return {**snap, **snap["computed"]} if snap.get("computed") else snap


def _override_gap(snap: dict) -> float:
    c = snap.get("computed")
    if not c or snap["score"] is None or c["score"] is None:
        return 0.0
    return snap["score"] - c["score"]


def attribute_change(before: dict, after: dict, rescored_before: dict | None = None) -> dict:
    """Attribute after["score"] - before["score"]. `rescored_before` is before's date under after's model.

    Overridden snapshots: the metric and model parts explain the computed scores, and the override
    part is the change in how far the shown score sits from the computed one.
    """
    override_part = round(_override_gap(after) - _override_gap(before), 4)
    shown_before, shown_after = before, after
    before, after = _computed(before), _computed(after)
    if rescored_before is not None:
        rescored_before = _computed(rescored_before)
    out = {
        "account_id": after["account_id"],
        "from": {"as_of": before["as_of"], "score": before["score"], "tier": before["tier"],
                 "status": before["status"], "model_version": before["model_version"]},
        "to": {"as_of": after["as_of"], "score": after["score"], "tier": after["tier"],
               "status": after["status"], "model_version": after["model_version"]},
        "delta": None, "model_version_part": 0.0, "override_part": 0.0, "metrics": [],
    }
    if before["score"] is None or after["score"] is None:
        out["reason"] = "no attribution: one of the snapshots has no score " \
                        f"({before['status']} -> {after['status']})"
        return out
    base = before
    if before["model_version"] != after["model_version"]:
        if rescored_before is None or rescored_before["score"] is None:
            out["reason"] = "no attribution: the model changed and the earlier date could not be re-scored"
            return out
        out["model_version_part"] = round(rescored_before["score"] - before["score"], 4)
        base = rescored_before
    p0, p1 = _points(base), _points(after)
    rows = []
    for metric in list(dict.fromkeys([*p1, *p0])):
        e0, e1 = p0.get(metric), p1.get(metric)
        w0, s0 = (e0 or {}).get("weight") or 0.0, (e0 or {}).get("score") or 0.0
        w1, s1 = (e1 or {}).get("weight") or 0.0, (e1 or {}).get("score") or 0.0
        pts0, pts1 = (e0 or {}).get("points") or 0.0, (e1 or {}).get("points") or 0.0
        contribution = pts1 - pts0
        score_part = w0 * (s1 - s0)
        rows.append({
            "metric": metric,
            "component": (e1 or e0 or {})["component"],
            "value_before": (e0 or {}).get("value"), "value_after": (e1 or {}).get("value"),
            "score_before": (e0 or {}).get("score"), "score_after": (e1 or {}).get("score"),
            "weight_before": w0, "weight_after": w1,
            "points": round(contribution, 4),
            "score_part": round(score_part, 4),
            "weight_part": round(contribution - score_part, 4),
        })
    rows.sort(key=lambda r: (-abs(r["points"]), r["metric"]))
    out["metrics"] = rows
    out["override_part"] = override_part
    out["delta"] = round(shown_after["score"] - shown_before["score"], 4)
    for side, snap in (("from", shown_before), ("to", shown_after)):
        out[side].update(score=snap["score"], tier=snap["tier"], status=snap["status"])
    return out


def _fmt(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, (int, float)):
        return f"{v:.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


def shown_change(before: float, after: float) -> tuple[str, str, float]:
    """(before, after, the change between them) as a reader sees them, to one decimal: the change is the
    difference of the two numbers shown, so "fell 15.4 points (73.4 -> 58.0)" always adds up (the change
    rounded on its own can differ by 0.1 from the shown scores', e.g. 73.37 -> 58.02 is -15.35)."""
    a, b = f"{before:.1f}", f"{after:.1f}"
    return a, b, round(float(b) - float(a), 1)


def _label(metric: str) -> str:
    return metric.replace("_", " ")


def trend_note(attribution: dict, top: int = 2) -> str:
    """A short deterministic sentence with numbers, e.g.
    'Health fell 18.0 points in 7 days (72.0 -> 54.0, green -> yellow), mostly login frequency
    (-9.6 points: 0.4 -> 0.1) and csat 90d (-5.1: 4.3 -> 3.1).'
    """
    a, b = attribution["from"], attribution["to"]
    import datetime as dt

    days = (dt.date.fromisoformat(b["as_of"]) - dt.date.fromisoformat(a["as_of"])).days
    if attribution["delta"] is None:
        return f"No comparable score over {days} days: {attribution.get('reason', '')}."
    delta = attribution["delta"]
    shown_before, shown_after, shown = shown_change(a["score"], b["score"])
    if shown == 0:
        head = f"Health held steady over {days} days at {shown_after}"
    else:
        verb = "rose" if shown > 0 else "fell"
        head = f"Health {verb} {abs(shown):.1f} points in {days} days ({shown_before} -> {shown_after}"
        head += f", {a['tier']} -> {b['tier']})" if a["tier"] != b["tier"] else f", {b['tier']})"
    movers = [m for m in attribution["metrics"] if abs(m["points"]) >= 0.05]
    # Name the metrics that moved the score in its direction first.
    same_way = [m for m in movers if (m["points"] > 0) == (delta > 0)] or movers
    parts = []
    for i, m in enumerate(same_way[:top]):
        unit = " points" if i == 0 else ""
        parts.append(f"{_label(m['metric'])} ({m['points']:+.1f}{unit}: {_fmt(m['value_before'])} -> "
                     f"{_fmt(m['value_after'])})")
    note = head
    if parts and shown != 0:
        note += ", mostly " + " and ".join(parts)
    if attribution["model_version_part"]:
        note += f"; {attribution['model_version_part']:+.1f} points from the model change"
    if attribution.get("override_part"):
        note += f"; {attribution['override_part']:+.1f} points from an owner override"
    return note + "."


def snapshot_note(status: str, score: float, prev: float, days: int | None, tier, prev_tier, driver,
                  smoothed: float, last_trusted: dict | None, movers: list | None) -> str:
    """The stored trend note of one snapshot, from its previous snapshot (any status): `prev` is its score
    (NaN when none or unscored), `days` how long ago it was (None when there is none). Plain values, so a
    backfill's hundreds of thousands of notes cost no pandas per row."""
    driver = driver.replace("_", " ") if isinstance(driver, str) else ""  # NaN when nothing costs points
    if status == "paused":
        lt = last_trusted
        return ("Paused: inputs are stale or conflicting; last trusted score "
                f"{lt['score']:.1f} ({lt['tier']}) on {lt['as_of']}." if lt else
                "Paused: inputs are stale or conflicting; no earlier trusted score.")
    if status == "onboarding":
        return "Onboarding: a neutral score until the account has enough history."
    if status != "scored":
        return "Not enough data to score: see the reasons."
    if prev != prev or days is None:  # NaN: no previous score
        return f"First score: {score:.1f} ({tier}), main driver {driver or 'none'}."
    shown_prev, shown_score, delta = shown_change(prev, score)
    if delta == 0:
        return f"Health held steady over {days} days at {shown_score} ({tier}); main driver {driver or 'none'}."
    verb = "rose" if delta > 0 else "fell"
    tiers = f"{prev_tier} -> {tier}" if prev_tier and prev_tier != tier else tier
    avg = f", {smoothed:.1f} on average" if smoothed == smoothed and f"{smoothed:.1f}" != shown_score else ""
    head = f"Health {verb} {abs(delta):.1f} points in {days} days ({shown_prev} -> {shown_score}{avg}, {tiers})"
    if movers:  # the previous snapshot's evidence was at hand: name the top contributions with numbers
        parts = [f"{_label(m)} ({pts:+.1f}{' points' if i == 0 else ''}: {_fmt(v0)} -> {_fmt(v1)})"
                 for i, (m, pts, v0, v1) in enumerate(movers)]
        return f"{head}, mostly {' and '.join(parts)}."
    return f"{head}; main driver {driver or 'none'}."


def _movers(snaps, evidence, top: int, earlier: list[EarlierPart] | None = None) -> list:
    """Per snapshot, the top metric contributions to its change since the previous snapshot, when that
    one is in the same batch (a backfill chunk) or in `earlier` (stored snapshots before the batch, with their
    evidence: `earlier_part`): [(metric, points, value before, value after)] or None.

    Vectorised over the batch: score_frame writes evidence as (snapshot row x metric) blocks in
    snapshot order, so points and values reshape to (snapshots, metrics) matrices.
    """
    import numpy as np
    import pandas as pd

    n = len(snaps)
    out: list[list[tuple] | None] = [None] * n
    in_order = batch_metrics(snaps, evidence)
    if in_order is None:  # not in score_frame's layout: fall back to the primary driver
        return out
    n_m = len(in_order)
    points = pd.to_numeric(evidence["points"], errors="coerce").to_numpy("float64").reshape(n, n_m)
    values = evidence["value"].to_numpy(dtype=object).reshape(n, n_m)
    metrics = np.asarray(in_order, dtype=object)
    keys = pd.MultiIndex.from_arrays([snaps["account_id"].to_numpy(dtype=object),
                                      pd.to_datetime(snaps["as_of"]).to_numpy("datetime64[ns]")])
    prev_keys = pd.MultiIndex.from_arrays([snaps["account_id"].to_numpy(dtype=object),
                                           pd.to_datetime(snaps["previous_as_of"]).to_numpy("datetime64[ns]")])
    prev = keys.get_indexer(prev_keys)  # -1: the previous snapshot is not in this batch
    stored = None
    if earlier and (prev < 0).any():  # stored snapshots before the batch: rows n.. of `points`
        e_keys, e_points, *stored = _joined(earlier)
        found = e_keys.get_indexer(prev_keys)
        prev = np.where((prev < 0) & (found >= 0), n + found, prev)
        points = np.vstack([points, e_points])
    rows = np.flatnonzero(prev >= 0)
    if not len(rows):
        return out
    change = points[rows] - points[prev[rows]]  # NaN unless both snapshots were scored
    sources = evidence["source"].iloc[:n_m].to_numpy(dtype=object)
    change[:, np.array([str(x).startswith("learned") for x in sources], dtype=bool)] = np.nan  # hybrid: not the score
    delta = np.nansum(change, axis=1)
    # Only contributions in the direction of the change, largest first.
    signed = np.where(np.sign(change) == np.sign(delta)[:, None], np.abs(change), 0.0)
    signed = np.where(np.isnan(signed) | (signed < 0.05), 0.0, signed)
    order = np.argsort(-signed, axis=1, kind="stable")[:, :top]
    # The top movers as plain lists, a row at a time (numpy scalar indexing would cost a backfill seconds).
    picked = (np.take_along_axis(signed, order, axis=1) > 0).tolist()
    names = metrics[order].tolist()
    moved = np.take_along_axis(change, order, axis=1).tolist()
    source_rows = prev[rows]
    before = np.empty(order.shape, dtype=object)
    inside = source_rows < n
    before[inside] = np.take_along_axis(values[source_rows[inside]], order[inside], axis=1)
    if stored is not None and not inside.all():  # values of the stored snapshots: only the movers' become objects
        e_num, e_text = stored
        e_rows, cols = source_rows[~inside] - n, order[~inside]
        num = np.take_along_axis(e_num[e_rows], cols, axis=1)
        text = np.take_along_axis(e_text[e_rows], cols, axis=1)
        shown = num.astype(object)
        shown[np.isnan(num)] = None
        has_text = pd.notna(text)
        shown[has_text] = text[has_text]
        before[~inside] = shown
    before = before.tolist()
    after = np.take_along_axis(values[rows], order, axis=1).tolist()
    for k, i in enumerate(rows.tolist()):
        top_k = [(names[k][j], moved[k][j], before[k][j], after[k][j]) for j in range(len(picked[k])) if picked[k][j]]
        if top_k:
            out[i] = top_k
    return out


def batch_metrics(snaps, evidence) -> list[str] | None:
    """The metrics of a scored batch's evidence in score_frame's order (every snapshot's block repeats it);
    None when the evidence is not in that layout."""
    import numpy as np

    n = len(snaps)
    if evidence is None or n == 0 or len(evidence) % n:
        return None
    n_m = len(evidence) // n
    # slices before conversion: an Arrow-backed text column of millions of rows costs ~0.5 s to turn into objects
    if not (np.asarray(evidence["account_id"].iloc[::n_m].to_numpy(dtype=object))
            == snaps["account_id"].to_numpy(dtype=object)).all():
        return None
    return [str(m) for m in evidence["metric"].iloc[:n_m].to_numpy(dtype=object)]


class EarlierPart(NamedTuple):
    """Stored snapshots (a row each) as trend notes compare with them: their evidence's points and values in the
    batch's metric order (a metric a snapshot lacks: NaN, None)."""

    account_id: np.ndarray
    as_of: np.ndarray  # datetime64[ns]
    points: np.ndarray  # (rows, metrics)
    num: np.ndarray  # numeric values
    text: np.ndarray  # text values (objects)


def earlier_part(metrics: list[str]):
    """A reducer of record batches (account_id, as_of, evidence: the history's list of structs) to EarlierParts.
    Arrow compute throughout: a 100,000-account date is 2.4 million entries, too many for Python objects."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = pa.array(metrics, pa.string())

    def reduce(batch: pa.RecordBatch) -> EarlierPart:
        n_e, n_m = batch.num_rows, len(metrics)
        points, num = np.full((n_e, n_m), np.nan), np.full((n_e, n_m), np.nan)
        text = np.full((n_e, n_m), None, dtype=object)
        lists = batch.column("evidence")
        entries = lists.flatten()
        row = np.asarray(pc.list_parent_indices(lists))
        col = pc.index_in(pc.cast(entries.field("metric"), pa.string()), value_set=wanted).fill_null(-1).to_numpy()
        keep = np.flatnonzero(col >= 0)
        at = (row[keep], col[keep])
        points[at] = entries.field("points").to_numpy(zero_copy_only=False).astype("float64")[keep]
        num[at] = entries.field("value_num").to_numpy(zero_copy_only=False).astype("float64")[keep]
        texts = entries.field("value_text")
        with_text = keep[np.asarray(texts.is_valid())[keep]]
        if len(with_text):
            text[row[with_text], col[with_text]] = texts.take(pa.array(with_text)).to_pylist()
        return EarlierPart(np.asarray(batch.column("account_id").to_numpy(zero_copy_only=False), dtype=object),
                           pd.to_datetime(batch.column("as_of").to_numpy(zero_copy_only=False)).to_numpy(
                               "datetime64[ns]"), points, num, text)

    return reduce


def _joined(parts: list[EarlierPart]) -> tuple:
    """(keys (account_id, as_of), points, numeric values, text values) of the parts, end to end."""
    import numpy as np
    import pandas as pd

    keys = pd.MultiIndex.from_arrays([np.concatenate([p.account_id for p in parts]),
                                      np.concatenate([p.as_of for p in parts])])
    return (keys, *(np.concatenate([getattr(p, f) for p in parts]) for f in ("points", "num", "text")))


def with_trend_notes(snaps, evidence=None, top: int = 2, earlier: list[EarlierPart] | None = None):
    """Add the stored trend note of every snapshot of a scored batch (after the history pass).

    With the batch's evidence, a change since a snapshot of the same batch, or of `earlier` (the stored
    snapshots before the batch that the batch's snapshots follow: `earlier_part`), names its top `top`
    metric contributions with numbers; otherwise the primary driver.
    """
    import numpy as np
    import pandas as pd

    def floats(name: str) -> list[float]:
        return pd.to_numeric(snaps[name], errors="coerce").to_numpy("float64").tolist()

    gap = (pd.to_datetime(snaps["as_of"]) - pd.to_datetime(snaps["previous_as_of"])) / pd.Timedelta(days=1)
    days = [None if d != d else int(d) for d in np.round(gap.to_numpy("float64")).tolist()]
    objects = [snaps[c].to_numpy(dtype=object).tolist()
               for c in ("status", "tier", "previous_tier", "primary_driver", "last_trusted")]
    status, tier, prev_tier, driver, trusted = objects
    snaps["trend_note"] = list(map(snapshot_note, status, floats("score"), floats("previous_score"), days, tier,
                                   prev_tier, driver, floats("smoothed_score"), trusted,
                                   _movers(snaps, evidence, top, earlier)))
    return snaps
