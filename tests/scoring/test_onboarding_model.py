"""The onboarding model: its own weights and tiers between scoring.onboarding_days and until_days."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest
import yaml

from healthscore.engine.compile import compute_frame
from healthscore.errors import UserError
from healthscore.explain.evidence import snapshot_dicts
from healthscore.model.ir import HealthModel
from healthscore.model.load import load_health_model, model_version
from healthscore.scoring.score import score_frame
from tests.fixtures import canonical_frame, load_into

AS_OF = dt.date(2026, 6, 1)
T0 = pd.Timestamp(AS_OF)


def model_dict(**over) -> dict:
    m = {
        "name": "onb", "defaults": {"missing": "exclude"}, "scoring": {"min_coverage": 0, "onboarding_days": 14},
        "segments": [{"name": "big", "priority": 1, "when": {"segment": "enterprise"}, "weights": {"support": 3}}],
        "components": [
            {"name": "usage", "weight": 1, "metrics": [{
                "name": "logins", "source": "usage_events", "measure": "count", "window": "30d",
                "transform": {"kind": "linear", "low": 0, "high": 10}}]},
            {"name": "support", "weight": 1, "metrics": [{
                "name": "tickets", "source": "tickets", "measure": "count", "window": "30d",
                "direction": "lower_is_better", "transform": {"kind": "linear", "low": 0, "high": 4}}]},
        ],
        "onboarding": {"until_days": 90, "weights": {"usage": 4, "support": 1}, "tiers": {"green": 90, "yellow": 20}},
    }
    m.update(over)
    return m


def run(ir: HealthModel) -> dict[str, dict]:
    con = ibis.duckdb.connect()
    ages = {"NEW": 5, "YOUNG": 40, "EDGE": 90, "OLD": 400, "BIGYOUNG": 30}
    accounts = [dict(account_id=a, segment="enterprise" if a.startswith("BIG") else "smb",
                     created_at=T0 - pd.Timedelta(days=d)) for a, d in ages.items()]
    usage = [dict(account_id=a, ts=T0 - pd.Timedelta(days=1, hours=k), event="login", user_id="u", quantity=1.0,
                  event_id=f"{a}{k}") for a in ages for k in range(8)]  # 8 logins: score 80
    tickets = [dict(ticket_id=f"{a}t{k}", account_id=a, opened_at=T0 - pd.Timedelta(days=2)) for a in ages
               for k in range(3)]  # 3 tickets: score 25
    load_into(con, {"accounts": canonical_frame("accounts", accounts),
                    "usage_events": canonical_frame("usage_events", usage),
                    "tickets": canonical_frame("tickets", tickets)})
    frame, plan, missing = compute_frame(con, ir, [AS_OF])
    return {s["account_id"]: s for s in snapshot_dicts(score_frame(ir, model_version(ir), plan, frame, missing))}


def test_young_accounts_use_the_onboarding_model():
    snaps = run(HealthModel.model_validate(model_dict()))
    assert snaps["NEW"]["status"] == "onboarding"  # younger than onboarding_days: not scored at all
    for aid in ("YOUNG", "BIGYOUNG"):  # the onboarding model wins over the segment
        s = snaps[aid]
        assert s["segment"] == "onboarding" and s["status"] == "scored"
        assert s["score"] == pytest.approx(0.8 * 80 + 0.2 * 25)  # usage 4 : support 1
        assert s["tier"] == "yellow"  # 69 < the onboarding model's green 90
        assert any(r.startswith("onboarding model applies: account is") and "until 90 days" in r for r in s["reasons"])
        assert sum(e["points"] for e in s["evidence"]) == pytest.approx(s["score"], abs=0.01)
    for aid, weight in (("EDGE", 0.5), ("OLD", 0.5)):  # from until_days on: the base model
        s = snaps[aid]
        assert s["segment"] is None and s["score"] == pytest.approx(weight * 80 + (1 - weight) * 25)
        assert s["tier"] == "yellow" and not any("onboarding model" in r for r in s["reasons"])


def test_onboarding_model_validation(tmp_path):
    bad = model_dict(onboarding={"until_days": 10, "weights": {"usgae": 2, "support.nope": 1}})
    bad["segments"].append({"name": "onboarding", "priority": 2, "when": {"segment": "x"}})
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(bad, sort_keys=False))
    with pytest.raises(UserError) as exc:
        load_health_model(p)
    msg = str(exc.value)
    assert "onboarding.until_days: 10 must be above scoring.onboarding_days (14)" in msg
    assert "onboarding.weights.usgae: no component 'usgae'" in msg
    assert "onboarding.weights.support.nope: component support has no metric 'nope'" in msg
    assert "segments[1].name: 'onboarding' names the onboarding model's snapshots" in msg
