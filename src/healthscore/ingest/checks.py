"""The validation SQL of one canonical table: typed values, the first failed check per row, the
accepted rows in canonical types and the reasons of quarantined rows."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from healthscore.contract import BOOL, FLOAT, INT, STRING, TIMESTAMP, Column, Table
from healthscore.ingest.report import BAD, POS, TEXT

if TYPE_CHECKING:
    import pyarrow as pa



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


@functools.cache
def _zone_names() -> str:
    """DuckDB's time zone names as a list constant (a subquery would make the plan a join, which
    does not keep the rows' order when the streaming path writes them)."""
    from healthscore.engine.adapters.duckdb import zone_names

    return "[" + ", ".join(sql_lit(n) for n in zone_names()) + "]::VARCHAR[]"


def timestamp_sql(t: str) -> str:
    """Text -> naive UTC timestamp (NULL when it is not one), row by row.

    Plain ISO text goes through DuckDB's TIMESTAMPTZ cast with the session zone UTC (naive values
    are UTC, offsets are applied; epoch_us -> make_timestamp gives the naive UTC value, much
    faster than a cast). A zone name must never reach that cast: DuckDB 1.5 keeps the zone of one
    such value for the rows after it ('... Asia/Tokyo' moved every later naive value by 9 hours).
    So the rest is split into date-time and suffix and converted here: an offset (at most 14:00,
    minutes < 60), 'Z', or a zone name DuckDB knows (pg_timezone_names), each row with its own.
    The first character must be a digit: no 'epoch', 'infinity' or BC dates."""
    base = f"regexp_extract({t}, {sql_lit(_TS_SPLIT)}, 1)"
    zone = f"regexp_extract({t}, {sql_lit(_TS_SPLIT)}, 2)"
    local = f"TRY_CAST({base} AS TIMESTAMP)"
    digits = f"replace(substr({zone}, 2), ':', '')"
    minutes = (f"(CAST(left({digits}, 2) AS INTEGER) * 60"
               f" + CASE WHEN length({digits}) = 4 THEN CAST(right({digits}, 2) AS INTEGER) ELSE 0 END)")
    sign = f"CASE WHEN left({zone}, 1) = '-' THEN -1 ELSE 1 END"
    known = f"list_contains({_zone_names()}, {zone})"
    return (
        f"CASE WHEN ascii({t}) NOT BETWEEN 48 AND 57 THEN NULL"
        f" WHEN regexp_full_match({t}, {sql_lit(_TS_PLAIN)}) THEN make_timestamp(epoch_us(TRY_CAST({t} AS TIMESTAMPTZ)))"
        f" WHEN {zone} IN ('', 'Z', 'z') THEN {local}"
        f" WHEN regexp_full_match({zone}, {sql_lit(_TS_OFFSET)}) THEN"
        f" CASE WHEN right({digits}, 2) < '60' AND {minutes} <= 840 THEN {local} - to_minutes({sign} * {minutes}) END"
        # the zone is only used where known: timezone() raises on an unknown name
        f" WHEN {known} THEN make_timestamp(epoch_us(timezone(CASE WHEN {known} THEN {zone} ELSE 'UTC' END, {local})))"
        " END"
    )


def range_sql(col: Column, p: str, kind: str | None) -> str | None:
    """The condition under which the typed value ``p`` is outside its column's domain (None: no
    domain); ``kind``: the typed value of the column ``range_when`` depends on, if present."""
    from healthscore.contract import NUMBER_LIMIT, TIMESTAMP_MAX, TIMESTAMP_MIN

    if col.derived_from is not None:  # replaced at ingestion anyway
        return None
    if col.type == TIMESTAMP:
        return f"({p} < TIMESTAMP {sql_lit(TIMESTAMP_MIN)} OR {p} >= TIMESTAMP {sql_lit(TIMESTAMP_MAX)} + INTERVAL 1 DAY)"
    if col.type not in (FLOAT, INT):
        return None
    out = [f"abs({p}) > {NUMBER_LIMIT!r}"]
    if col.min_value is not None:
        out.append(f"{p} < {col.min_value!r}")
    if col.max_value is not None:
        out.append(f"{p} > {col.max_value!r}")
    if kind is not None:
        for _other, value, lo, hi in col.range_when:
            out.append(f"({kind} = {sql_lit(value)} AND NOT ({p} BETWEEN {lo!r} AND {hi!r}))")
    return "(" + " OR ".join(out) + ")"


def range_reason_sql(col: Column, kind: str | None) -> str:
    """SQL text for what a column's domain is (the end of a range reason), ``kind`` as above."""
    from healthscore.contract import NUMBER_LIMIT, TIMESTAMP_MAX, TIMESTAMP_MIN

    def num(x: float) -> str:
        return f"{x:g}"

    if col.type == TIMESTAMP:
        return sql_lit(f" is outside the plausible date range {TIMESTAMP_MIN} to {TIMESTAMP_MAX}")
    general = f" is out of range; numbers must be finite and at most {num(NUMBER_LIMIT)} in size"
    lo = col.min_value if col.min_value is not None else None
    hi = col.max_value if col.max_value is not None else None
    base = general
    if lo is not None or hi is not None:
        base = f" is out of range; must be between {num(lo if lo is not None else -NUMBER_LIMIT)} and {num(hi if hi is not None else NUMBER_LIMIT)}"
    if kind is None or not col.range_when:
        return sql_lit(base)
    whens = " ".join(
        f"WHEN {sql_lit(value)} THEN {sql_lit(f' is out of range for {other} {value}; must be between {num(lo_)} and {num(hi_)}')}"
        for other, value, lo_, hi_ in col.range_when
    )
    # a value within the kind's scale can still be over the general limit (pulse, or no kind)
    return f"CASE {kind} {whens} ELSE {sql_lit(base)} END"


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

    def p(self, col: str) -> str:
        """The typed value of a column."""
        return f"__hs_p{self.index(col)}"

    def _cols(self) -> list[Column]:
        return [c for c in self.table.columns if c.name in self.present]

    def _kind(self, col: Column, typed: bool = True) -> str | None:
        """The value of the column ``col.range_when`` depends on (typed, or as written in the
        quarantined rows ``s``), when the source has it."""
        other = col.range_when[0][0] if col.range_when else None
        if other is None or other not in self.present:
            return None
        return self.p(other) if typed else f"TRIM(CAST(s.{sql_ident(other)} AS VARCHAR))"

    # Step 1: typed values and the first problem of checks 0-4, one row per source row.
    def check_sql(self, src: str, carry: list[str] | None = None) -> str:
        """``carry``: further columns of ``src`` passed through as they are (the streaming path
        carries the source's values for the quarantined rows)."""
        # Stage a: the value (as text unless the source type is used directly); stage b: spaces
        # trimmed, '' -> NULL; stage c: null flag and typed value; stage d: the error code.
        a, b, c = [], [], []
        for col in self._cols():
            i = self.index(col.name)
            q = sql_ident(col.name)
            kind = arrow_kind(self.schema.field(col.name).type)
            direct = self._direct(col, kind)
            if direct:
                a.append(f"{q} AS __hs_t{i}")
                b.append(f"__hs_t{i}")
            else:
                a.append(f"{q if kind == 'string' else f'CAST({q} AS VARCHAR)'} AS __hs_t{i}")
                t = f"__hs_t{i}"
                b.append(
                    f"CASE WHEN {t} = '' THEN NULL WHEN prefix({t}, ' ') OR suffix({t}, ' ')"
                    f" THEN NULLIF(TRIM({t}), '') ELSE {t} END AS __hs_t{i}"
                )
            null, typed = self._parse(col, kind, direct, f"__hs_t{i}")
            c.append(f"{null} AS __hs_n{i}")
            c.append(f"{typed} AS __hs_p{i}")

        conds = [(f"{BAD} IS NOT NULL", E_LINE * 1000)]
        cols = self._cols()
        for col in cols:
            if col.required:
                conds.append((f"__hs_n{self.index(col.name)}", E_REQUIRED * 1000 + self.index(col.name)))
        for col in cols:
            if col.type != STRING:
                p = self.p(col.name)
                bad = f"({p} IS NULL OR NOT isfinite({p}))" if col.type == FLOAT else f"{p} IS NULL"
                conds.append((f"(NOT __hs_n{self.index(col.name)} AND {bad})", E_PARSE * 1000 + self.index(col.name)))
        for col in cols:
            if col.non_negative and col.type in (FLOAT, INT):
                conds.append((f"{self.p(col.name)} < 0", E_NEGATIVE * 1000 + self.index(col.name)))
        for col in cols:
            if col.allowed:
                allowed = ", ".join(sql_lit(x) for x in col.allowed)
                conds.append((f"{self.p(col.name)} NOT IN ({allowed})", E_ALLOWED * 1000 + self.index(col.name)))
        for col in cols:
            rng = range_sql(col, self.p(col.name), self._kind(col))
            if rng is not None:
                conds.append((rng, E_RANGE * 1000 + self.index(col.name)))
        case = "CASE " + " ".join(f"WHEN {cond} THEN {code}" for cond, code in conds) + " END"
        ps = "".join(f", {self.p(name)}" for name in self.present)

        def sel(items):
            return "".join(f", {x}" for x in items)

        k = sel(sql_ident(n) for n in carry or [] if n != BAD)  # BAD is there until the last stage
        return f"""
            SELECT {POS}, CAST({case} AS INTEGER) AS __hs_err {ps} {sel(sql_ident(n) for n in carry or [])}
            FROM (SELECT {POS}, {BAD} {sel(c)} {k}
                  FROM (SELECT {POS}, {BAD} {sel(b)} {k}
                        FROM (SELECT {POS}, {BAD} {sel(a)} {k} FROM {src})))
        """

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
    def _parse(col: Column, kind: str, direct: bool, t: str) -> tuple[str, str]:
        """(is-null expression, typed value expression) over the (trimmed) value ``t``."""
        if direct:
            if col.type == FLOAT:  # NaN in a typed column means missing (the pandas convention)
                v = f"CAST({t} AS DOUBLE)"
                return f"({t} IS NULL OR isnan({v}))", f"CASE WHEN NOT isnan({v}) THEN {v} END"
            if col.type == INT:
                return f"({t} IS NULL)", f"TRY_CAST({t} AS BIGINT)"
            if col.type == TIMESTAMP and kind == "timestamptz":
                return f"({t} IS NULL)", f"make_timestamp(epoch_us(CAST({t} AS TIMESTAMPTZ)))"  # naive UTC
            if col.type == TIMESTAMP:
                return f"({t} IS NULL)", f"CAST({t} AS TIMESTAMP)"
            return f"({t} IS NULL)", t
        null = f"({t} IS NULL)"
        if col.type == STRING:
            return null, t
        if col.type == FLOAT:
            return null, f"CASE WHEN NOT contains({t}, '_') THEN TRY_CAST({t} AS DOUBLE) END"
        if col.type == INT:
            d = f"TRY_CAST({t} AS DOUBLE)"
            return null, f"CASE WHEN NOT contains({t}, '_') AND {d} = trunc({d}) THEN TRY_CAST({t} AS BIGINT) END"
        if col.type == BOOL:
            low = f"lower({t})"
            return null, f"CASE WHEN {low} IN ('true', '1', 'yes') THEN TRUE WHEN {low} IN ('false', '0', 'no') THEN FALSE END"
        if col.type == TIMESTAMP:
            return null, timestamp_sql(t)
        raise AssertionError(col.type)

    # Step 2: the accepted rows as the canonical table: contract order, canonical types.
    def output(self, checked: pa.Table) -> pa.Table:
        import pyarrow as pa
        import pyarrow.compute as pc

        types = {STRING: pa.string(), FLOAT: pa.float64(), INT: pa.int64(), BOOL: pa.bool_(), TIMESTAMP: pa.timestamp("us")}
        n = checked.num_rows
        arrays = []
        for col in self.table.columns:
            typ = types[col.type]
            arr = checked.column(self.p(col.name)).cast(typ) if col.name in self.present else pa.nulls(n, typ)
            if col.default is not None:
                arr = pc.fill_null(arr, pa.scalar(col.default, typ))
            arrays.append(arr)
        return pa.table(arrays, names=self.table.column_names)

    def output_sql(self) -> str:
        """Step 2 in SQL (the streaming path): select expressions over the checked rows."""
        out = []
        for col in self.table.columns:
            typ = SQL_TYPES[col.type]
            expr = f"CAST({self.p(col.name)} AS {typ})" if col.name in self.present else f"CAST(NULL AS {typ})"
            if col.default is not None:
                expr = f"coalesce({expr}, CAST({sql_lit(col.default)} AS {typ}))"
            out.append(f"{expr} AS {sql_ident(col.name)}")
        return ", ".join(out)

    # Step 3: why each quarantined row was quarantined.
    def reason_sql(self, raw_names: list[str]) -> tuple[str, str, str]:
        """SQL (column, value, reason) expressions over quarantined rows ``s``."""
        col_cases = ["WHEN 0 THEN ''"]
        val_cases = [f"WHEN 0 THEN s.{TEXT}"]
        reason_cases = [f"WHEN 0 THEN s.{BAD}"]
        all_empty = " AND ".join(f"coalesce(TRIM(CAST(s.{sql_ident(n)} AS VARCHAR)), '') = ''" for n in raw_names) or "TRUE"
        for col in self._cols():
            i = self.index(col.name)
            raw = f"CAST(s.{sql_ident(col.name)} AS VARCHAR)"
            trimmed = f"TRIM({raw})"
            label = sql_lit(self.label[col.name])
            quoted = f"'''' || {raw} || ''''"
            checks = [E_REQUIRED, E_PARSE, E_NEGATIVE, E_ALLOWED, E_RANGE]
            checks += [E_DUPLICATE] if col.name == self.table.id_column else []
            checks += [E_ACCOUNT] if col.name == "account_id" and self.table.references_accounts else []
            for check in checks:
                col_cases.append(f"WHEN {check * 1000 + i} THEN {sql_lit(col.name)}")
                val_cases.append(f"WHEN {check * 1000 + i} THEN {raw}")
            if col.required:
                empty_row = sql_lit(f"empty row: no values ({col.name} is required)")
                reason_cases.append(
                    f"WHEN {E_REQUIRED * 1000 + i} THEN CASE WHEN {all_empty} THEN {empty_row}"
                    f" ELSE {label} || ': missing; it is required' END"
                )
            what = {
                STRING: "",
                FLOAT: " is not a number",
                INT: " is not a whole number",
                BOOL: " is not true/false (use true, false, yes, no, 1 or 0)",
                TIMESTAMP: f" is not a date/time ({_TS_HINT})",
            }[col.type]
            reason_cases.append(f"WHEN {E_PARSE * 1000 + i} THEN {label} || ': ' || {quoted} || {sql_lit(what)}")
            reason_cases.append(f"WHEN {E_NEGATIVE * 1000 + i} THEN {label} || ': ' || {trimmed} || ' is negative; must be >= 0'")
            if col.type in (FLOAT, INT, TIMESTAMP):
                reason_cases.append(
                    f"WHEN {E_RANGE * 1000 + i} THEN {label} || ': ' || {quoted} || {range_reason_sql(col, self._kind(col, typed=False))}"
                )
            if col.allowed:
                allowed = sql_lit(" is not one of " + ", ".join(col.allowed))
                reason_cases.append(f"WHEN {E_ALLOWED * 1000 + i} THEN {label} || ': ' || {quoted} || {allowed}")
            if E_DUPLICATE in checks:
                reason_cases.append(
                    f"WHEN {E_DUPLICATE * 1000 + i} THEN 'duplicate ' || {sql_lit(col.name)} || ' ' || {trimmed}"
                    " || ' (first seen at ' || coalesce(s.__hs_first_file || ' ', '') || s.__hs_word"
                    " || ' ' || CAST(s.__hs_first_line AS VARCHAR) || ')'"
                )
            if E_ACCOUNT in checks:
                reason_cases.append(f"WHEN {E_ACCOUNT * 1000 + i} THEN {label} || ': ' || {quoted} || ' is not in accounts'")

        def case(items):
            return "CASE s.__hs_err " + " ".join(items) + " END"

        return case(col_cases), case(val_cases), case(reason_cases)


def list_lit(values: pa.Array) -> str:
    """A SQL list of constants (strings or integers), typed."""
    import pyarrow as pa

    typ = "BIGINT" if pa.types.is_integer(values.type) else "VARCHAR"
    return "[" + ", ".join(sql_lit(v) for v in values.to_pylist()) + f"]::{typ}[]"


def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_lit(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
