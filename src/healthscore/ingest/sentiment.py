"""Sentiment of free text (survey comments, ticket subjects) as a derived canonical column.

VADER (the `vaderSentiment` package, which ships its lexicon) gives a compound score in -1..1
for short, informal English such as "terrible support, we are cancelling". It is computed once
per distinct text at ingestion, so a metric is simply `measure: mean, column: comment_sentiment`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from healthscore.contract import TABLES

if TYPE_CHECKING:
    import pyarrow as pa


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(text: str | None) -> float | None:
    """VADER compound score of a text (-1 very negative .. 1 very positive); None for no text."""
    if text is None or not str(text).strip():
        return None
    return float(_analyzer().polarity_scores(str(text))["compound"])


def derived_columns(table: str) -> list[tuple[str, str]]:
    """(derived column, the text column it comes from) of a canonical table."""
    return [(c.name, c.derived_from) for c in TABLES[table].columns if c.derived_from]


def add_derived(table: str, data: pa.Table) -> pa.Table:
    """Fill a canonical table's derived sentiment columns from their text columns.

    Texts repeat (templates, canned replies), so each distinct text is scored once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for out, src in derived_columns(table):
        texts = data.column(src)
        distinct = pc.unique(texts).to_pylist()
        scores = pa.array([sentiment(t) for t in distinct], pa.float64())
        values = pc.take(scores, pc.index_in(texts, value_set=pa.array(distinct, texts.type)))
        data = data.set_column(data.schema.get_field_index(out), out, values)
    return data
