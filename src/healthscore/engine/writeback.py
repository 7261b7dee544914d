"""Write-back: snapshots and evidence as tables in the compute engine, for BI tools to join.

``healthscore score --write-back`` (or ``write_back: true`` in healthscore.yaml) writes every
snapshot it scores to ``health_snapshots`` and its evidence to ``health_evidence`` in the engine,
next to the customer's own tables. The store stays the system of record; these tables are a copy
shaped for SQL:

health_snapshots: account_id, as_of (DATE), model_version, score, tier, status, confidence,
    coverage, segment, primary_driver, smoothed_score, trend_note, review_required,
    reasons / components / flags (JSON text), written_at (UTC)
health_evidence: account_id, as_of (DATE), model_version, metric, component, value (numeric values),
    value_text (the value as text, e.g. the latest outcome kind), time_window, source, row_count,
    latest_at, score, weight, points

(``time_window`` and ``row_count`` are the snapshot's ``window`` and ``rows``: both are SQL keywords.)

Idempotent on (account_id, as_of, model_version): a snapshot written again replaces the earlier
row and its evidence, in one transaction (DuckDB, PostgreSQL), so a rescore or an owner's override
shows up and nothing is counted twice.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from healthscore.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa

SNAPSHOTS, EVIDENCE = "health_snapshots", "health_evidence"
_KEY = ("account_id", "as_of", "model_version")


def _frames(snapshots: list[dict]) -> tuple[pa.Table, pa.Table]:
    import datetime as dt

    import pyarrow as pa

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def num(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def ts(v):
        return None if v in (None, "") else dt.datetime.fromisoformat(str(v)).replace(tzinfo=None)

    snap_rows, ev_rows = [], []
    for s in snapshots:
        as_of = dt.date.fromisoformat(str(s["as_of"])[:10])
        snap_rows.append({
            "account_id": str(s["account_id"]), "as_of": as_of, "model_version": s["model_version"],
            "score": num(s.get("score")), "tier": s.get("tier"), "status": s.get("status"),
            "confidence": num(s.get("confidence")), "coverage": num(s.get("coverage")), "segment": s.get("segment"),
            "primary_driver": s.get("primary_driver"), "smoothed_score": num(s.get("smoothed_score")),
            "trend_note": s.get("trend_note"),
            "review_required": None if s.get("review_required") is None else bool(s.get("review_required")),
            "reasons": json.dumps(s.get("reasons") or [], default=str),
            "components": json.dumps(s.get("components") or [], default=str),
            "flags": json.dumps(s.get("flags") or [], default=str), "written_at": now,
        })
        for e in s.get("evidence") or []:
            value = e.get("value")
            ev_rows.append({
                "account_id": str(s["account_id"]), "as_of": as_of, "model_version": s["model_version"],
                "metric": e.get("metric"), "component": e.get("component"), "value": num(value),
                "value_text": None if value is None else str(value), "time_window": e.get("window"),
                "source": e.get("source"), "row_count": None if e.get("rows") is None else int(e["rows"]),
                "latest_at": ts(e.get("latest_at")), "score": num(e.get("score")), "weight": num(e.get("weight")),
                "points": num(e.get("points")),
            })
    s_schema = pa.schema([
        ("account_id", pa.string()), ("as_of", pa.date32()), ("model_version", pa.string()), ("score", pa.float64()),
        ("tier", pa.string()), ("status", pa.string()), ("confidence", pa.float64()), ("coverage", pa.float64()),
        ("segment", pa.string()), ("primary_driver", pa.string()), ("smoothed_score", pa.float64()),
        ("trend_note", pa.string()), ("review_required", pa.bool_()), ("reasons", pa.string()),
        ("components", pa.string()), ("flags", pa.string()), ("written_at", pa.timestamp("us")),
    ])
    e_schema = pa.schema([
        ("account_id", pa.string()), ("as_of", pa.date32()), ("model_version", pa.string()), ("metric", pa.string()),
        ("component", pa.string()), ("value", pa.float64()), ("value_text", pa.string()),
        ("time_window", pa.string()), ("source", pa.string()), ("row_count", pa.int64()),
        ("latest_at", pa.timestamp("us")), ("score", pa.float64()), ("weight", pa.float64()), ("points", pa.float64()),
    ])
    return pa.Table.from_pylist(snap_rows, schema=s_schema), pa.Table.from_pylist(ev_rows, schema=e_schema)


def write_back(con, snapshots: list[dict]) -> dict:
    """Write snapshot dicts (the `healthscore score --json` shape) to health_snapshots / health_evidence
    in the engine ``con``, replacing rows with the same (account_id, as_of, model_version)."""
    from healthscore.engine.adapters import adapter_for
    from healthscore.engine.adapters.sql import column, exp, table, template

    engine = adapter_for(con)
    if not engine.transactions:
        raise UserError(f"write-back needs a DuckDB or PostgreSQL engine (one transaction per batch); this engine is"
                        f" {getattr(con, 'name', '?')}: export with 'healthscore score --json' instead")
    snaps, evidence = _frames(snapshots)
    if snaps.num_rows == 0:
        return {"snapshots": 0, "evidence": 0}
    match = exp.and_(*(exp.EQ(this=column(k, "t"), expression=column(k, "s")) for k in _KEY))
    keys = [column(k) for k in _KEY]
    with engine.staged(snaps, "hs_wb_s") as stage_s, engine.staged(evidence, "hs_wb_e") as stage_e, \
            engine.transaction() as tx:
        for target, stage in ((SNAPSHOTS, stage_s), (EVIDENCE, stage_e)):
            tx.execute(engine.create_like(target, stage))
            written = exp.select(*keys).distinct().from_(stage_s).subquery("s")
            tx.execute(
                exp.delete(table(target, "t"), where=exp.Exists(this=exp.select("1").from_(written).where(match)))
            )
            tx.execute(template("INSERT INTO :t SELECT * FROM :s", engine.dialect, t=table(target), s=stage))
    return {"snapshots": snaps.num_rows, "evidence": evidence.num_rows}
