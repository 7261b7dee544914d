"""The measure registry (model/measures.py) agrees with itself and with the types the model validates."""

from typing import get_args

import pytest

from healthscore.model.measures import EVENT_MEASURES, MEASURES, ChangeOf, EventMeasure
from healthscore.model.windows import check_window, end_of_data, parse_days, window_days


def test_event_measures_are_the_registry_entries_that_aggregate_event_rows():
    own_rows = {m.name for m in MEASURES.values() if m.aggregate is not None}
    assert set(get_args(EventMeasure)) == own_rows == set(EVENT_MEASURES)
    assert set(get_args(ChangeOf)) <= own_rows


def test_every_event_aggregate_says_how_its_value_is_read_and_merged():
    for m in MEASURES.values():
        if m.aggregate is None:
            assert m.reads != "events" or m.name == "change"
            assert m.merge is None
        if m.merge == "unite" or m.numeric_column:
            assert m.needs_column and callable(m.aggregate)
        if m.merge == "shared":
            assert m.aggregate in ("rows", "latest")


@pytest.mark.parametrize(("text", "days"), [("30d", 30), ("12w", 84), ("0d", 0), ("all", None), ("30", None),
                                            ("d", None), ("3m", None)])
def test_one_window_grammar(text, days):
    assert parse_days(text) == days


def test_window_days_and_check_window():
    assert window_days(None) is None and window_days("all") is None and window_days("2w") == 14
    assert check_window("all") == "all"
    for bad in ("0d", "30", "100000d"):
        with pytest.raises(ValueError):
            check_window(bad)


def test_end_of_data_is_the_newest_happened_row_at_most_now():
    assert end_of_data({}, 10) == 10
    assert end_of_data({"usage_events": 3, "tickets": 5, "milestones": 9}, 10) == 5  # milestones are planned
    assert end_of_data({"outcomes": 12}, 10) == 10
