"""Cross-field checks of a health model (HealthModel.problems): columns exist in the data contract and
have the right type, filter values fit their columns, rules compare numbers with numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeGuard

from healthscore.contract import NUMERIC_TYPES, TABLES, TIMESTAMP
from healthscore.model.filters import AS_OF, ColumnRef, Filter
from healthscore.model.measures import MEASURES, TARGET_MEASURES
from healthscore.model.metrics import Aggregate, Metric
from healthscore.model.settings import RuleCondition
from healthscore.model.transforms import Linear, Log, Mapping


def dupes(names: list[str], loc: tuple, what: str, problems: list) -> None:
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append((loc, f"{what} name {n!r} is used more than once; names must be unique"))


def _check_column(table: str, column: str | None, loc: tuple, problems: list, *, numeric=False, timestamp=False):
    if column is None:
        return
    t = TABLES[table]
    col = t.column(column)
    if col is None:
        problems.append((loc, f"{column!r} is not a column of {table}; allowed: {', '.join(t.column_names)}"))
    elif numeric and col.type not in NUMERIC_TYPES:
        allowed = [c.name for c in t.columns if c.type in NUMERIC_TYPES]
        problems.append((loc, f"{table}.{column} is not numeric; numeric columns: {', '.join(allowed) or 'none'}"))
    elif timestamp and col.type != TIMESTAMP:
        problems.append((loc, f"{table}.{column} is not a timestamp; timestamps: {', '.join(t.time_columns)}"))


def check_filter(f: Filter, table: str, loc: tuple, problems: list) -> None:
    for col in sorted(f.columns()):
        _check_column(table, col, loc + (col,), problems)
    _check_filter_values(f, table, loc, problems)


def _family(ctype: str) -> str:
    return "number" if ctype in ("float", "int") else ctype


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


BOOLEAN_WORDS = ("true", "false", "yes", "no", "1", "0")


def _bad_filter_value(table: str, col, v: Any) -> str | None:
    """Why ``v`` cannot be compared with column ``col`` of ``table`` (None: it can). `score` compiles
    the value into the engine's SQL, where a wrong type is an error for every account."""
    if isinstance(v, ColumnRef):
        other = TABLES[table].column(v.column)
        if other is not None and _family(other.type) != _family(col.type):
            return (f"compares {col.name} ({col.type}) with column {v.column} ({other.type});"
                    " use a column of the same kind")
        return None
    if v == AS_OF:
        return None if col.type == TIMESTAMP else f"{AS_OF} is a date; {col.name} is not a timestamp"
    if col.type == TIMESTAMP:
        if isinstance(v, str):
            try:
                when = dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
            except ValueError:
                when = None
            if when is not None and 1900 <= when.year <= 2100:
                return None
        return (f"{v!r} is not a date for the timestamp column {col.name}; use an ISO date such as '2024-05-01'"
                f" (1900-2100), {AS_OF} or {{column: other_timestamp}}")
    if col.type in ("float", "int"):
        return None if _is_number(v) else f"{v!r} is not a number; {col.name} is numeric"
    if col.type == "bool":
        if isinstance(v, bool) or (isinstance(v, str) and v.strip().lower() in BOOLEAN_WORDS):
            return None
        return f"{v!r} is not true or false; {col.name} is a boolean"
    if not isinstance(v, str):
        return f"{v!r} is not text; {col.name} is a text column: quote the value ('{v}')"
    return None


def _check_filter_values(f: Filter, table: str, loc: tuple, problems: list) -> None:
    spec = TABLES.get(table)
    if spec is None:
        return
    for col_name, cond in f.conditions.items():
        col = spec.column(col_name)
        if col is None:
            continue  # reported by _check_column
        for op, raw in cond.ops():
            if op == "is_null":
                continue
            for v in raw if isinstance(raw, list) else [raw]:
                why = _bad_filter_value(table, col, v)
                if why:
                    problems.append((loc + (col_name, op), why))
                    break
    for i, sub in enumerate(f.any_of):
        _check_filter_values(sub, table, loc + ("any_of", i), problems)


def _categorical(metric: Metric) -> bool:
    """Whether a metric's raw value is text (latest of a text column, an accounts text attribute)."""
    if metric.measure == "latest" and metric.source in TABLES and metric.column:
        col = TABLES[metric.source].column(metric.column)
        return col is not None and col.type == "string"
    if metric.measure == "attribute" and metric.per:
        col = TABLES["accounts"].column(metric.per)
        return col is not None and col.type == "string"
    return False


def check_rule_condition(cond: RuleCondition, metrics: dict, loc: tuple, problems: list) -> None:
    """Values a rule or alert compares a metric with: numbers, except for text metrics' eq/ne/in
    (scoring and alerting compare them as float, which a text value crashed)."""
    metric = metrics.get(cond.metric)
    if metric is None:
        return  # reported elsewhere
    for side, c in (("value", cond.value), ("score", cond.score)):
        if c is None:
            continue
        text = side == "value" and _categorical(metric)
        for op, raw in c.ops():
            if op == "is_null" or (text and op in ("eq", "ne", "in", "not_in")):
                continue
            bad = next((v for v in (raw if isinstance(raw, list) else [raw]) if not _is_number(v)), None)
            if bad is not None:
                what = "the score (0..100)" if side == "score" else f"metric {metric.name}'s value"
                problems.append((loc + (side, op), f"{bad!r} is not a number; {what} is compared as a number"))


def _check_source(source: str | None, loc: tuple, problems: list) -> TypeGuard[str]:
    if source not in TABLES or source == "accounts":
        allowed = [t for t in TABLES if t != "accounts"]
        problems.append((loc + ("source",), f"{source!r} is not an event table; allowed: {', '.join(allowed)}"
                         " (for accounts columns use measure: attribute or days_until with per:)"))
        return False
    return True


def _check_aggregate(agg: Aggregate, loc: tuple, problems: list) -> None:
    if not _check_source(agg.source, loc, problems):
        return
    _check_column(agg.source, agg.column, loc + ("column",), problems, numeric=MEASURES[agg.measure].numeric_column)
    _check_column(agg.source, agg.time_column, loc + ("time_column",), problems, timestamp=True)
    check_filter(agg.filter, agg.source, loc + ("filter",), problems)
    if MEASURES[agg.measure].needs_column and agg.column is None:
        problems.append((loc + ("column",), f"measure {agg.measure} needs a column"))


def check_metric(metric: Metric, loc: tuple, problems: list) -> None:
    m = metric.measure
    spec = MEASURES[m]
    if spec.reads == "events":
        if _check_source(metric.source, loc, problems):
            rows = MEASURES.get(metric.row_measure or "")
            numeric = rows is not None and rows.numeric_column
            _check_column(metric.source, metric.column, loc + ("column",), problems, numeric=numeric)
            _check_column(metric.source, metric.time_column, loc + ("time_column",), problems, timestamp=True)
            check_filter(metric.filter, metric.source, loc + ("filter",), problems)
    elif spec.reads == "accounts":
        for key in ("source", "column", "time_column", "window"):
            if getattr(metric, key) is not None:
                problems.append((loc + (key,), f"not used by measure {m} (it reads accounts.{metric.per})"))
    if metric.numerator is not None:
        _check_aggregate(metric.numerator, loc + ("numerator",), problems)
    if metric.denominator is not None:
        _check_aggregate(metric.denominator, loc + ("denominator",), problems)
    if metric.per is not None:
        _check_column("accounts", metric.per, loc + ("per",), problems,
                      numeric=spec.per == "numeric" and not isinstance(metric.transform, Mapping),
                      timestamp=spec.per == "timestamp")
    if metric.target is not None:
        tg = metric.target
        if not spec.targetable or isinstance(metric.transform, Mapping):
            problems.append((loc + ("target",), f"a target needs a numeric value; measure {m}"
                             f"{' with kind: map' if isinstance(metric.transform, Mapping) else ''} has none"
                             f" (targets work with: {', '.join(TARGET_MEASURES)})"))
        _check_column("accounts", tg.column, loc + ("target", "column"), problems, numeric=True)
    t = metric.transform
    tloc = loc + ("transform",)
    if isinstance(t, (Linear, Log)) and t.low == t.high:
        problems.append((tloc, f"low and high must differ (both {t.low})"))
    if isinstance(t, Log) and min(t.low, t.high) < 0:
        problems.append((tloc, "log needs low and high >= 0"))
    col = TABLES[metric.source].column(metric.column or "") if metric.source in TABLES else None
    if m == "latest" and col is not None and col.type not in NUMERIC_TYPES and not isinstance(t, Mapping):
        problems.append((tloc, f"{metric.source}.{metric.column} holds text; use kind: map with values"))
