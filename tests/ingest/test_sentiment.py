"""Text sentiment with VADER: real sentences, and the demo's comments carry the signal of their score."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from healthscore.demo.generate import _CSAT_COMMENTS, _NPS_COMMENTS, _TICKET_SUBJECTS
from healthscore.ingest.sentiment import add_derived, sentiment


def test_real_sentences():
    assert sentiment("terrible support, we are cancelling") < 0 < sentiment("love it, great team")
    assert sentiment("") is None and sentiment(None) is None
    assert -1 <= sentiment("the worst, awful, horrible, terrible product ever") < -0.8


def test_add_derived_scores_each_text_and_keeps_nulls():
    data = pa.table({"account_id": ["A", "B", "C"], "comment": ["love it, great team", None, "love it, great team"],
                     "comment_sentiment": pa.nulls(3, pa.float64())})
    out = add_derived("surveys", data).column("comment_sentiment").to_pylist()
    assert out[0] == out[2] == sentiment("love it, great team") and out[1] is None


def test_demo_comments_follow_their_score_band():
    bands = [np.mean([sentiment(c) for c in group]) for group in _NPS_COMMENTS]  # detractor, passive, promoter
    assert bands[0] < 0 < bands[1] < bands[2]
    assert max(sentiment(c) for c in _CSAT_COMMENTS[0]) < 0 < min(sentiment(c) for c in _CSAT_COMMENTS[1])
    assert max(sentiment(c) for c in _TICKET_SUBJECTS[1]) < 0 <= min(sentiment(c) for c in _TICKET_SUBJECTS[0])
