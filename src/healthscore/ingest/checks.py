"""The validation SQL of one canonical table: typed values, the first failed check per row, the
accepted rows in canonical types and the reasons of quarantined rows."""

from __future__ import annotations

import functools
import typing
from typing import TYPE_CHECKING, Any

from healthscore.contract import BOOL, FLOAT, INT, STRING, TIMESTAMP, Column, Table
from healthscore.engine.adapters.sql import alias, column, exp, lit, template
from healthscore.ingest.report import BAD, POS, TEXT

if TYPE_CHECKING:
    import pyarrow as pa

# Every statement here runs on DuckDB (the local validator, or a DuckDB engine streaming files).
DIALECT = "duckdb"

SQL_TYPES = {STRING: "VARCHAR", FLOAT: "DOUBLE", INT: "BIGINT", BOOL: "BOOLEAN", TIMESTAMP: "TIMESTAMP"}
_TS_HINT = "use ISO 8601, e.g. 2024-05-01 or 2024-05-01T09:30:00Z"

# Error codes: check * 1000 + the column's position in the contract.
E_LINE, E_REQUIRED, E_PARSE, E_NEGATIVE, E_ALLOWED, E_DUPLICATE, E_ACCOUNT, E_RANGE = range(8)


def arrow_kind(t: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_date(t):
        return "timestamp"
    return "other"


# ISO 8601 text that DuckDB's TIMESTAMPTZ cast reads exactly: a date, an optional time and an
# optional 'Z' or offset of at most 14:00 (no space before it, no zone name).
_TS_PLAIN = (
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
    r"(Z|z|[+-]((0[0-9]|1[0-3])(:?[0-5][0-9])?|14(:?00)?))?"
)
# Anything else that starts like a date: (the date and time, what follows: '', 'Z', an offset or
# a zone name such as 'Asia/Tokyo'), the year may have up to 6 digits (then the range check says so).
_TS_SPLIT = r"^([0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?) *(.*)$"
_TS_OFFSET = r"[+-][0-9]{2}(:?[0-9]{2})?"


def sql(text: str, **values: Any) -> exp.Expr:
    """A DuckDB SQL template with ``$name`` placeholders filled with expressions or constants."""
    return template(text, DIALECT, **values)


def select(text: str, **values: Any) -> exp.Select:
    """``sql`` for a template that is a SELECT (to build on with sqlglot's query methods)."""
    return typing.cast(exp.Select, sql(text, **values))


def cast(expr: exp.Expr, type_: str) -> exp.Expr:
    return exp.cast(expr, exp.DataType.build(type_, dialect=DIALECT))


def typed_list(values: list, type_: str) -> exp.Expr:
    """A list of constants, typed: ``[...]::VARCHAR[]``."""
    return cast(exp.Array(expressions=[lit(v) for v in values]), f"{type_}[]")


@functools.cache
def _zone_names() -> exp.Expr:
    """DuckDB's time zone names as a list constant (a subquery would make the plan a join, which
    does not keep the rows' order when the streaming path writes them)."""
    from healthscore.engine.adapters.duckdb import zone_names

    # Rendered once by sqlglot and kept as one node: six hundred literals copied into every timestamp
    # check made building a plan take a tenth of a second.
    return exp.Var(this=typed_list(list(zone_names()), "VARCHAR").sql(dialect=DIALECT))


def timestamp_sql(t: exp.Expr) -> exp.Expr:
    """Text -> naive UTC timestamp (NULL when it is not one), row by row.

    Plain ISO text goes through DuckDB's TIMESTAMPTZ cast with the session zone UTC (naive values
    are UTC, offsets are applied; epoch_us -> make_timestamp gives the naive UTC value, much
    faster than a cast). A zone name must never reach that cast: DuckDB 1.5 keeps the zone of one
    such value for the rows after it ('... Asia/Tokyo' moved every later naive value by 9 hours).
    So the rest is split into date-time and suffix and converted here: an offset (at most 14:00,
    minutes < 60), 'Z', or a zone name DuckDB knows (pg_timezone_names), each row with its own.
    The first character must be a digit: no 'epoch', 'infinity' or BC dates."""
    base = sql("regexp_extract($t, $re, 1)", t=t, re=_TS_SPLIT)
    zone = sql("regexp_extract($t, $re, 2)", t=t, re=_TS_SPLIT)
    local = sql("TRY_CAST($b AS TIMESTAMP)", b=base)
    digits = sql("replace(substr($z, 2), ':', '')", z=zone)
    minutes = sql("(CAST(left($d, 2) AS INTEGER) * 60"
                  " + CASE WHEN length($d) = 4 THEN CAST(right($d, 2) AS INTEGER) ELSE 0 END)", d=digits)
    sign = sql("CASE WHEN left($z, 1) = '-' THEN -1 ELSE 1 END", z=zone)
    known = sql("list_contains($names, $z)", names=_zone_names(), z=zone)
    return sql(
        "CASE WHEN ascii($t) NOT BETWEEN 48 AND 57 THEN NULL"
        " WHEN regexp_full_match($t, $plain) THEN make_timestamp(epoch_us(TRY_CAST($t AS TIMESTAMPTZ)))"
        " WHEN $zone IN ('', 'Z', 'z') THEN $local"
        " WHEN regexp_full_match($zone, $offset) THEN"
        " CASE WHEN right($digits, 2) < '60' AND $minutes <= 840 THEN $local - to_minutes($sign * $minutes) END"
        # the zone is only used where known: timezone() raises on an unknown name
        " WHEN $known THEN make_timestamp(epoch_us(timezone(CASE WHEN $known THEN $zone ELSE 'UTC' END, $local)))"
        " END",
        t=t, plain=_TS_PLAIN, zone=zone, local=local, offset=_TS_OFFSET, digits=digits, minutes=minutes,
        sign=sign, known=known,
    )


def range_sql(col: Column, p: exp.Expr, kind: exp.Expr | None) -> exp.Expr | None:
    """The condition under which the typed value ``p`` is outside its column's domain (None: no
    domain); ``kind``: the typed value of the column ``range_when`` depends on, if present."""
    from healthscore.contract import NUMBER_LIMIT, TIMESTAMP_MAX, TIMESTAMP_MIN

    if col.derived_from is not None:  # replaced at ingestion anyway
        return None
    if col.type == TIMESTAMP:
        return sql("($p < CAST($lo AS TIMESTAMP) OR $p >= CAST($hi AS TIMESTAMP) + INTERVAL 1 DAY)",
                   p=p, lo=TIMESTAMP_MIN, hi=TIMESTAMP_MAX)
    if col.type not in (FLOAT, INT):
        return None
    out = [sql("abs($p) > $limit", p=p, limit=NUMBER_LIMIT)]
    if col.min_value is not None:
        out.append(sql("$p < $v", p=p, v=col.min_value))
    if col.max_value is not None:
        out.append(sql("$p > $v", p=p, v=col.max_value))
    if kind is not None:
        for _other, value, lo, hi in col.range_when:
            out.append(sql("($kind = $value AND NOT ($p BETWEEN $lo AND $hi))",
                           kind=kind, value=value, p=p, lo=lo, hi=hi))
    return exp.paren(exp.or_(*out))


def range_reason_sql(col: Column, kind: exp.Expr | None) -> exp.Expr:
    """What a column's domain is (the end of a range reason), ``kind`` as above."""
    from healthscore.contract import NUMBER_LIMIT, TIMESTAMP_MAX, TIMESTAMP_MIN

    def num(x: float) -> str:
        return f"{x:g}"

    if col.type == TIMESTAMP:
        return lit(f" is outside the plausible date range {TIMESTAMP_MIN} to {TIMESTAMP_MAX}")
    general = f" is out of range; numbers must be finite and at most {num(NUMBER_LIMIT)} in size"
    lo = col.min_value if col.min_value is not None else None
    hi = col.max_value if col.max_value is not None else None
    base = general
    if lo is not None or hi is not None:
        base = (
            f" is out of range; must be between {num(lo if lo is not None else -NUMBER_LIMIT)}"
            f" and {num(hi if hi is not None else NUMBER_LIMIT)}"
        )
    if kind is None or not col.range_when:
        return lit(base)
    case = exp.Case(this=kind)
    for other, value, lo_, hi_ in col.range_when:
        case = _when(
            case, lit(value), lit(f" is out of range for {other} {value}; must be between {num(lo_)} and {num(hi_)}")
        )
    # a value within the kind's scale can still be over the general limit (pulse, or no kind)
    return case.else_(lit(base))


def _when(case: exp.Case, condition: exp.Expr, then: exp.Expr) -> exp.Case:
    """One more WHEN of a CASE, built in place (the builder's default copies the whole CASE each time)."""
    return case.when(condition, then, copy=False)


def _name(name: str) -> exp.Column:
    """An internal column, by its generated name (__hs_t0 ...)."""
    return column(name)


def concat(*parts: exp.Expr) -> exp.Expr:
    """``a || b || ...`` (NULL when any part is)."""
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part, safe=False)
    return out


class Plan:
    """The SQL (and Arrow) steps for one canonical table, given the schema of the data read."""

    def __init__(self, table: Table, schema: pa.Schema, mapping: dict[str, str]):
        self.table = table
        self.schema = schema
        self.present = [c.name for c in table.columns if c.name in schema.names]
        reverse = {v: k for k, v in mapping.items()}
        self.label = {c: (f"{c} (source column {reverse[c]!r})" if reverse.get(c, c) != c else c) for c in self.present}

    def index(self, col: str) -> int:
        return self.table.column_names.index(col)

    def p_name(self, col: str) -> str:
        return f"__hs_p{self.index(col)}"

    def p(self, col: str) -> exp.Column:
        """The typed value of a column."""
        return _name(self.p_name(col))

    def _cols(self) -> list[Column]:
        return [c for c in self.table.columns if c.name in self.present]

    def _kind(self, col: Column, typed: bool = True) -> exp.Expr | None:
        """The value of the column ``col.range_when`` depends on (typed, or as written in the
        quarantined rows ``s``), when the source has it."""
        other = col.range_when[0][0] if col.range_when else None
        if other is None or other not in self.present:
            return None
        return self.p(other) if typed else sql("TRIM(CAST($v AS VARCHAR))", v=column(other, "s"))

    def _signature(self) -> tuple:
        return (
            self.table.name,
            tuple((c, arrow_kind(self.schema.field(c).type)) for c in self.present),
            tuple(self.label.items()),
        )

    def check_text(self, view: str) -> str:
        """``check_sql`` over the view ``view``, rendered once per table and source types (a live consumer
        validates a small batch every few hundred milliseconds)."""
        return _rendered(self, "check", view)

    def reason_text(self, view: str, raw_names: list[str]) -> str:
        """The quarantine query over the view ``view`` (see ``quarantine.quarantine_from_rows``), cached too."""
        return _rendered(self, "reasons", view, tuple(raw_names))

    # Step 1: typed values and the first problem of checks 0-4, one row per source row.
    def check_sql(self, src: exp.Expr, carry: list[str] | None = None) -> exp.Select:
        """``src``: a table or subquery; ``carry``: further columns of ``src`` passed through as they are
        (the streaming path carries the source's values for the quarantined rows)."""
        # Stage a: the value (as text unless the source type is used directly); stage b: spaces
        # trimmed, '' -> NULL; stage c: null flag and typed value; stage d: the error code.
        a: list[exp.Expr] = []
        b: list[exp.Expr] = []
        c: list[exp.Expr] = []
        for col in self._cols():
            i = self.index(col.name)
            q = column(col.name)
            kind = arrow_kind(self.schema.field(col.name).type)
            direct = self._direct(col, kind)
            t = _name(f"__hs_t{i}")
            if direct:
                a.append(alias(q, f"__hs_t{i}"))
                b.append(t)
            else:
                a.append(alias(q if kind == "string" else cast(q, "VARCHAR"), f"__hs_t{i}"))
                b.append(
                    alias(
                        sql(
                            "CASE WHEN $t = '' THEN NULL WHEN prefix($t, ' ') OR suffix($t, ' ')"
                            " THEN NULLIF(TRIM($t), '') ELSE $t END",
                            t=t,
                        ),
                        f"__hs_t{i}",
                    )
                )
            null, typed = self._parse(col, kind, direct, t)
            c.append(alias(null, f"__hs_n{i}"))
            c.append(alias(typed, f"__hs_p{i}"))

        case = exp.Case().when(sql("$b IS NOT NULL", b=column(BAD)), lit(E_LINE * 1000))
        cols = self._cols()
        for col in cols:
            if col.required:
                case = _when(
                    case, _name(f"__hs_n{self.index(col.name)}"), lit(E_REQUIRED * 1000 + self.index(col.name))
                )
        for col in cols:
            if col.type != STRING:
                p = self.p(col.name)
                bad = sql("($p IS NULL OR NOT isfinite($p))" if col.type == FLOAT else "$p IS NULL", p=p)
                case = _when(
                    case,
                    sql("(NOT $n AND $bad)", n=_name(f"__hs_n{self.index(col.name)}"), bad=bad),
                    lit(E_PARSE * 1000 + self.index(col.name)),
                )
        for col in cols:
            if col.non_negative and col.type in (FLOAT, INT):
                case = _when(case, sql("$p < 0", p=self.p(col.name)), lit(E_NEGATIVE * 1000 + self.index(col.name)))
        for col in cols:
            if col.allowed:
                case = _when(
                    case,
                    self.p(col.name).isin(*(lit(x) for x in col.allowed)).not_(),
                    lit(E_ALLOWED * 1000 + self.index(col.name)),
                )
        for col in cols:
            rng = range_sql(col, self.p(col.name), self._kind(col))
            if rng is not None:
                case = _when(case, rng, lit(E_RANGE * 1000 + self.index(col.name)))
        carried = [column(n) for n in carry or []]
        kept = [column(n) for n in carry or [] if n != BAD]  # BAD is there until the last stage
        front = [column(POS), column(BAD)]
        stage_a = exp.select(*front, *a, *kept).from_(src)
        stage_b = exp.select(*front, *b, *kept).from_(stage_a.subquery())
        stage_c = exp.select(*front, *c, *kept).from_(stage_b.subquery())
        return exp.select(
            column(POS), alias(cast(case, "INTEGER"), "__hs_err"), *(self.p(name) for name in self.present), *carried
        ).from_(stage_c.subquery())

    @staticmethod
    def _direct(col: Column, kind: str) -> bool:
        """Whether the source type is used as it is (typed Parquet/engine columns), not via text."""
        return (
            (col.type == FLOAT and kind in ("float", "int"))
            or (col.type == INT and kind == "int")
            or (col.type == BOOL and kind == "bool")
            or (col.type == TIMESTAMP and kind in ("timestamp", "timestamptz"))
        )

    @staticmethod
    def _parse(col: Column, kind: str, direct: bool, t: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
        """(is-null expression, typed value expression) over the (trimmed) value ``t``."""
        null = sql("($t IS NULL)", t=t)
        if direct:
            if col.type == FLOAT:  # NaN in a typed column means missing (the pandas convention)
                v = cast(t, "DOUBLE")
                return sql("($t IS NULL OR isnan($v))", t=t, v=v), sql("CASE WHEN NOT isnan($v) THEN $v END", v=v)
            if col.type == INT:
                return null, sql("TRY_CAST($t AS BIGINT)", t=t)
            if col.type == TIMESTAMP and kind == "timestamptz":
                return null, sql("make_timestamp(epoch_us(CAST($t AS TIMESTAMPTZ)))", t=t)  # naive UTC
            if col.type == TIMESTAMP:
                return null, cast(t, "TIMESTAMP")
            return null, t
        if col.type == STRING:
            return null, t
        if col.type == FLOAT:
            return null, sql("CASE WHEN NOT contains($t, '_') THEN TRY_CAST($t AS DOUBLE) END", t=t)
        if col.type == INT:
            return null, sql(
                "CASE WHEN NOT contains($t, '_') AND TRY_CAST($t AS DOUBLE) = trunc(TRY_CAST($t AS DOUBLE))"
                " THEN TRY_CAST($t AS BIGINT) END",
                t=t,
            )
        if col.type == BOOL:
            return null, sql(
                "CASE WHEN lower($t) IN ('true', '1', 'yes') THEN TRUE"
                " WHEN lower($t) IN ('false', '0', 'no') THEN FALSE END",
                t=t,
            )
        if col.type == TIMESTAMP:
            return null, timestamp_sql(t)
        raise AssertionError(col.type)

    # Step 2: the accepted rows as the canonical table: contract order, canonical types.
    def output(self, checked: pa.Table) -> pa.Table:
        import pyarrow as pa
        import pyarrow.compute as pc

        types = {
            STRING: pa.string(),
            FLOAT: pa.float64(),
            INT: pa.int64(),
            BOOL: pa.bool_(),
            TIMESTAMP: pa.timestamp("us"),
        }
        n = checked.num_rows
        arrays = []
        for col in self.table.columns:
            typ = types[col.type]
            arr = checked.column(self.p_name(col.name)).cast(typ) if col.name in self.present else pa.nulls(n, typ)
            if col.default is not None:
                arr = pc.fill_null(arr, pa.scalar(col.default, typ))
            arrays.append(arr)
        return pa.table(arrays, names=self.table.column_names)

    def output_sql(self) -> list[exp.Expr]:
        """Step 2 in SQL (the streaming path): select expressions over the checked rows."""
        out: list[exp.Expr] = []
        for col in self.table.columns:
            typ = SQL_TYPES[col.type]
            expr = cast(self.p(col.name) if col.name in self.present else exp.null(), typ)
            if col.default is not None:
                expr = exp.func("coalesce", expr, cast(lit(col.default), typ))
            out.append(alias(expr, col.name))
        return out

    # Step 3: why each quarantined row was quarantined.
    def reason_sql(self, raw_names: list[str]) -> tuple[exp.Expr, exp.Expr, exp.Expr]:
        """(column, value, reason) expressions over quarantined rows ``s``."""
        err = column("__hs_err", "s")
        col_case = exp.Case(this=err).when(lit(0), lit(""))
        val_case = exp.Case(this=err).when(lit(0), column(TEXT, "s"))
        reason_case = exp.Case(this=err).when(lit(0), column(BAD, "s"))
        all_empty = (
            exp.and_(*(sql("(coalesce(TRIM(CAST($v AS VARCHAR)), '') = '')", v=column(n, "s")) for n in raw_names))
            if raw_names
            else exp.true()
        )
        for col in self._cols():
            i = self.index(col.name)
            raw = cast(column(col.name, "s"), "VARCHAR")
            trimmed = sql("TRIM($v)", v=raw)
            label = lit(self.label[col.name])
            quoted = concat(lit("'"), raw, lit("'"))
            checks = [E_REQUIRED, E_PARSE, E_NEGATIVE, E_ALLOWED, E_RANGE]
            checks += [E_DUPLICATE] if col.name == self.table.id_column else []
            checks += [E_ACCOUNT] if col.name == "account_id" and self.table.references_accounts else []
            for check in checks:
                col_case = _when(col_case, lit(check * 1000 + i), lit(col.name))
                val_case = _when(val_case, lit(check * 1000 + i), raw)
            if col.required:
                missing = (
                    exp.Case()
                    .when(all_empty, lit(f"empty row: no values ({col.name} is required)"))
                    .else_(concat(label, lit(": missing; it is required")))
                )
                reason_case = _when(reason_case, lit(E_REQUIRED * 1000 + i), missing)
            what = {
                STRING: "",
                FLOAT: " is not a number",
                INT: " is not a whole number",
                BOOL: " is not true/false (use true, false, yes, no, 1 or 0)",
                TIMESTAMP: f" is not a date/time ({_TS_HINT})",
            }[col.type]
            reason_case = _when(reason_case, lit(E_PARSE * 1000 + i), concat(label, lit(": "), quoted, lit(what)))
            reason_case = _when(
                reason_case,
                lit(E_NEGATIVE * 1000 + i),
                concat(label, lit(": "), trimmed, lit(" is negative; must be >= 0")),
            )
            if col.type in (FLOAT, INT, TIMESTAMP):
                reason = range_reason_sql(col, self._kind(col, typed=False))
                reason_case = _when(reason_case, lit(E_RANGE * 1000 + i), concat(label, lit(": "), quoted, reason))
            if col.allowed:
                allowed = lit(" is not one of " + ", ".join(col.allowed))
                reason_case = _when(reason_case, lit(E_ALLOWED * 1000 + i), concat(label, lit(": "), quoted, allowed))
            if E_DUPLICATE in checks:
                first_file = sql("coalesce($f || ' ', '')", f=column("__hs_first_file", "s"))
                reason_case = _when(
                    reason_case,
                    lit(E_DUPLICATE * 1000 + i),
                    concat(
                        lit("duplicate "),
                        lit(col.name),
                        lit(" "),
                        trimmed,
                        lit(" (first seen at "),
                        first_file,
                        column("__hs_word", "s"),
                        lit(" "),
                        cast(column("__hs_first_line", "s"), "VARCHAR"),
                        lit(")"),
                    ),
                )
            if E_ACCOUNT in checks:
                reason_case = _when(
                    reason_case, lit(E_ACCOUNT * 1000 + i), concat(label, lit(": "), quoted, lit(" is not in accounts"))
                )
        return col_case, val_case, reason_case


_RENDERED: dict[tuple, str] = {}


def _rendered(plan: Plan, what: str, view: str, raw_names: tuple[str, ...] = ()) -> str:
    key = (plan._signature(), what, view, raw_names)
    text = _RENDERED.get(key)
    if text is None:
        from healthscore.engine.adapters.sql import table

        query = plan.check_sql(table(view)) if what == "check" else quarantine_query(plan, table(view), list(raw_names))
        text = _RENDERED[key] = query.sql(dialect=DIALECT)
        if len(_RENDERED) > 256:  # a long-running consumer sees a handful of shapes; never grow without bound
            _RENDERED.pop(next(iter(_RENDERED)))
    return text


def quarantine_query(plan: Plan, view: exp.Table, raw_names: list[str]) -> exp.Select:
    """file, line, column, value, reason and the raw values as text of the quarantined rows ``s``."""
    column_, value, reason = plan.reason_sql(raw_names)
    raws = [alias(cast(column(n, "s"), "VARCHAR"), f"__hs_r{i}") for i, n in enumerate(raw_names)]
    query = select(
        'SELECT s.__hs_file AS file, s.__hs_line AS line, $column AS "column", $value AS value,'
        " $reason AS reason, s.__hs_text AS __hs_text FROM $view AS s ORDER BY s.__hs_fid, s.__hs_line",
        column=column_,
        value=value,
        reason=reason,
        view=view,
    )
    return query.select(*raws, copy=False)


def list_lit(values: pa.Array) -> exp.Expr:
    """A SQL list of constants (strings or integers), typed."""
    import pyarrow as pa

    return typed_list(values.to_pylist(), "BIGINT" if pa.types.is_integer(values.type) else "VARCHAR")
