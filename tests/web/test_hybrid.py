"""A hybrid model (the rubric plus a learned risk component) explained per account: `explain` (text and JSON),
the API's account endpoint and the account page (an inline SVG of each shape with the account's bin marked)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.web.conftest import END, SECRET, bearer, login

SHAPE = {"kind": "shape", "bins": [{"min": 0, "score": 0}, {"min": 2, "score": 40}, {"min": 6, "score": 100},
                                   {"min": 20, "score": 70}]}
HYBRID = {"tier_rule": "both", "learned": {
    "tiers": {"green": 60, "yellow": 40},
    "metrics": [
        {"metric": "login_frequency", "transform": SHAPE, "weight": 1.5, "missing": 10},
        {"metric": "team_activation", "transform": {"kind": "shape", "bins": [
            {"min": 0, "score": 0}, {"min": 0.3, "score": 55}, {"min": 0.7, "score": 100}]}, "weight": 2.0},
        {"metric": "csm_assessment", "transform": {"kind": "map", "values": {"green": 100, "yellow": 45, "red": 0}},
         "weight": 0.8, "missing": 30}],
    "interactions": [{"name": "logins x activation", "metrics": ["login_frequency", "team_activation"],
                      "edges": [[0, 5], [0, 0.5]], "scores": [[0, 50], [60, 100]], "missing_score": 40,
                      "weight": 0.5}]}}


@pytest.fixture
def hybrid_ws(ws):
    """The demo workspace with a hybrid model, scored (and stored) at the demo's last date."""
    from healthscore.project import Project

    with Project(ws) as p:
        path = p.model.path
    data = yaml.safe_load(path.read_text())
    data["hybrid"] = HYBRID
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with Project(ws) as p:
        p.score(END)
    return ws


def _account(ws) -> str:
    from healthscore.project import Project

    with Project(ws) as p:
        rows = [s for s in p.score(END, store=False).snapshots if s["status"] == "scored"]
    return rows[0]["account_id"]


def _check_learned(snap: dict) -> None:
    part = snap["learned"]
    assert part["name"] == "learned_risk" and part["tier_rule"] == "both"
    rubric = [e for e in snap["evidence"] if not e["source"].startswith("learned")]
    learned = [e for e in snap["evidence"] if e["source"].startswith("learned")]
    assert sum(e["points"] for e in rubric) == pytest.approx(snap["score"], abs=0.01)
    assert sum(t["points"] for t in part["terms"]) == pytest.approx(part["score"], abs=0.01)
    assert sum(e["points"] for e in learned) == pytest.approx(part["score"], abs=0.01)
    order = ["red", "yellow", "green"]  # both: never better than the learned tier (the rubric's is smoothed)
    assert order.index(snap["tier"]) <= order.index(part["tier"])
    assert part["tier"] == ("green" if part["score"] >= 60 else "yellow" if part["score"] >= 40 else "red")
    terms = {t["metric"]: t for t in part["terms"]}
    assert set(terms) == {"login_frequency", "team_activation", "csm_assessment",
                          "login_frequency x team_activation"}
    logins = terms["login_frequency"]
    assert logins["kind"] == "shape" and [b["min"] for b in logins["bins"]] == [0, 2, 6, 20]
    assert logins["bins"][-1]["max"] is None and logins["bins"][0]["max"] == 2
    if logins["value"] is not None:  # the bin is the highest min at or below the value, and gives its score
        b = logins["bin"]
        assert logins["bins"][b]["min"] <= logins["value"]
        assert b == 3 or logins["value"] < logins["bins"][b + 1]["min"]
        assert logins["score"] == logins["bins"][b]["score"]
    assert terms["csm_assessment"]["kind"] == "map"
    assert terms["login_frequency x team_activation"]["kind"] == "interaction"


def test_explain_shows_the_learned_terms_and_where_each_value_sits(hybrid_ws):
    from tests.cli.runner import ok

    acc = _account(hybrid_ws)
    snap = json.loads(ok("explain", acc, "-w", str(hybrid_ws), "--json").stdout)
    _check_learned(snap)
    text = ok("explain", acc, "-w", str(hybrid_ws)).stdout
    assert "Learned risk learned_risk" in text and "tier rule both" in text and "bin " in text


def test_the_api_and_the_account_page_explain_the_learned_part(hybrid_ws):
    from fastapi.testclient import TestClient

    from healthscore.web.app import create_app

    acc = _account(hybrid_ws)
    app = create_app(hybrid_ws, secret_key=SECRET)
    with TestClient(app) as client:
        token = app.state.project.token_create("viewer", "ro", ["read"], "admin")[1]
        one = client.get(f"/api/v1/accounts/{acc}", headers=bearer(token)).json()
        _check_learned(one["snapshot"])
        login(client, "viewer")
        r = client.get(f"/accounts/{acc}")
        assert r.status_code == 200
        html = r.text
        assert 'data-testid="learned"' in html and html.count('<svg class="shape"') == 4
        assert "tier rule <strong>both</strong>" in html
        assert "script-src 'self'" in r.headers["content-security-policy"]


def test_the_shape_plot_escapes_text_and_marks_the_bin():
    from healthscore.web.shape_svg import shape_svg

    term = {"metric": "m<script>", "kind": "shape", "value": "<b>1</b>", "score": 40.0, "bin": 1, "below": 0,
            "bins": [{"min": 0, "max": 2, "score": 0}, {"min": 2, "max": None, "score": 40}]}
    svg = str(shape_svg(term))
    assert "<script>" not in svg and "<b>" not in svg and "m&lt;script&gt;" in svg
    assert svg.count('data-testid="shape-mark"') == 1 and "bin 2 of 2 (2 and above)" in svg
    assert 'style=' not in svg
    none = str(shape_svg({**term, "value": None, "bin": None}))
    assert 'data-testid="shape-mark"' not in none and "no value" in none
