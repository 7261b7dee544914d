"""Change attribution is exact: the parts add up to the score delta (property test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthscore.explain.attribution import attribute_change, snapshot_note, trend_note
from healthscore.explain.evidence import snapshot_dicts
from healthscore.model.load import LoadedModel, load_health_model, model_version
from healthscore.scoring.score import score_frame
from tests.scoring.test_score import random_frame

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = load_health_model(EXAMPLES / "seed-standard.yaml")


def reweighted(model: LoadedModel, factor: float) -> LoadedModel:
    data = model.ir.model_dump(by_alias=True)
    data["components"][0]["weight"] *= factor
    ir = type(model.ir).model_validate(data)
    return LoadedModel(ir=ir, version=model_version(ir), path=model.path, yaml_text="")


def snap(model, draws, seg, as_of):
    frame, plan = random_frame(model.ir, draws, 1, [seg], [400])
    frame["as_of"] = pd.Timestamp(as_of)
    return snapshot_dicts(score_frame(model.ir, model.version, plan, frame, set()))[0]


values = st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=500, allow_nan=False)), min_size=1,
                  max_size=30).map(lambda xs: [np.nan if x is None else x for x in xs])


@settings(max_examples=60, deadline=None)
@given(d0=values, d1=values, seg0=st.sampled_from([None, "smb", "enterprise"]),
       seg1=st.sampled_from([None, "smb", "enterprise"]), factor=st.sampled_from([1.0, 0.5, 3.0]))
def test_parts_add_up_to_the_delta(d0, d1, seg0, seg1, factor):
    old_model, new_model = SEED, reweighted(SEED, factor)
    before = snap(old_model, d0, seg0, "2026-01-01")
    rescored = snap(new_model, d0, seg0, "2026-01-01")
    after = snap(new_model, d1, seg1, "2026-02-01")
    change = attribute_change(before, after, rescored if factor != 1.0 else None)
    if before["score"] is None or after["score"] is None or (factor != 1.0 and rescored["score"] is None):
        assert change["delta"] is None and change["reason"]
        return
    parts = change["model_version_part"] + change["override_part"] + sum(m["points"] for m in change["metrics"])
    assert parts == pytest.approx(change["delta"], abs=0.01)
    for m in change["metrics"]:
        assert m["score_part"] + m["weight_part"] == pytest.approx(m["points"], abs=1e-3)
    if factor == 1.0:
        assert change["model_version_part"] == 0
    assert trend_note(change).endswith(".")


def test_trend_note_reads_like_a_sentence():
    change = {
        "from": {"as_of": "2026-01-01", "score": 72.0, "tier": "green"},
        "to": {"as_of": "2026-01-08", "score": 54.0, "tier": "yellow"},
        "delta": -18.0, "model_version_part": 0.0, "override_part": 0.0,
        "metrics": [
            {"metric": "login_frequency", "points": -9.6, "value_before": 12, "value_after": 3},
            {"metric": "csat_90d", "points": -5.1, "value_before": 4.3, "value_after": 3.1},
            {"metric": "nps", "points": 1.0, "value_before": 7, "value_after": 8},
        ],
    }
    assert trend_note(change) == ("Health fell 18.0 points in 7 days (72.0 -> 54.0, green -> yellow), mostly "
                                  "login frequency (-9.6 points: 12 -> 3) and csat 90d (-5.1: 4.3 -> 3.1).")


_SCORES = st.integers(0, 10_000).map(lambda c: c / 100)  # stored scores have two decimals


@settings(max_examples=300, deadline=None)
@given(_SCORES, _SCORES, st.sampled_from(["green", "yellow", "red"]))
def test_a_notes_change_is_the_difference_of_the_scores_it_shows(prev, score, tier):
    """73.37 -> 58.02 once read 'fell 15.4 points (73.4 -> 58.0)' beside a changes table saying -15.3."""
    import re
    from decimal import Decimal

    notes = [snapshot_note("scored", score, prev, 7, tier, tier, "nps", float("nan"), None, None),
             trend_note({"from": {"as_of": "2026-01-01", "score": prev, "tier": tier},
                         "to": {"as_of": "2026-01-08", "score": score, "tier": tier},
                         "delta": round(score - prev, 2), "model_version_part": 0.0, "metrics": []})]
    for note in notes:
        moved = re.match(r"Health (rose|fell) (\d+\.\d) points in 7 days \((\d+\.\d) -> (\d+\.\d)", note)
        if moved is None:
            assert re.match(rf"Health held steady over 7 days at {score:.1f}\b", note), note
            assert f"{prev:.1f}" == f"{score:.1f}"
            continue
        verb, change, before, after = moved.groups()
        assert Decimal(after) - Decimal(before) == (Decimal(change) if verb == "rose" else -Decimal(change)) != 0
        assert (before, after) == (f"{prev:.1f}", f"{score:.1f}")
