"""Small sqlglot builders shared by the adapters and by the SQL that ingestion and write-back run.

Identifiers are always quoted and literals always escaped by sqlglot, so no caller builds SQL text by
hand; ``render`` turns an expression into the engine's dialect.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["alias", "column", "exp", "ident", "lit", "parse", "render", "table", "template"]


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def table(name: str, alias: str | None = None) -> exp.Table:
    t = exp.Table(this=ident(name))
    return t.as_(alias, quoted=False) if alias else t  # type: ignore[return-value]


def column(name: str, of: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=exp.to_identifier(of) if of else None)


def lit(value: Any) -> exp.Expr:
    """A constant: NULL, TRUE/FALSE, a number, a timestamp (``CAST('...' AS TIMESTAMP)``) or a string."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value))
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    return exp.Literal.string(str(value))


@functools.cache
def _parsed(sql: str, dialect: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read=dialect)  # an Expr: sqlglot 30 types statements loosely


def parse(sql: str, dialect: str) -> exp.Expr:
    """A constant statement or expression (no values spliced in) as an expression."""
    return _parsed(sql, dialect).copy()


def template(sql: str, dialect: str, **values: Any) -> exp.Expr:
    """A constant SQL template with ``:name`` placeholders replaced by expressions (identifiers and
    literals built above; plain Python values become literals), so that no value or name is ever
    spliced in as text. Templates are parsed once."""

    def substitute(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in values:
            value = values[node.name]
            return value.copy() if isinstance(value, exp.Expr) else lit(value)
        return node

    return _parsed(sql, dialect).transform(substitute)


def render(expr: exp.Expr | str, dialect: str) -> str:
    return expr if isinstance(expr, str) else expr.sql(dialect=dialect)


def alias(expr: exp.Expr, name: str) -> exp.Alias:
    return exp.Alias(this=expr, alias=ident(name))
