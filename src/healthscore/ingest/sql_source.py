"""Sources that are a SQL query (``sql:`` in healthscore.yaml): joins, constants, unions and aggregates
over the workspace's files and the canonical tables ingested before.

The query is written in DuckDB's dialect and always runs in a local, in-memory DuckDB (whatever the
engine is): it reads files with DuckDB's readers (``read_csv('data/usage.csv')``, paths relative to
the workspace, ``${VAR}`` expanded) and canonical tables by name (``subscriptions``), which are copied
from the engine first. So the query needs no transpiling, and it can read no directory it does not
name: the connection is locked to the directories of the files it reads. Its result is one part,
validated and quarantined exactly like a file (row = the result's 1-based row number).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from healthscore.contract import TABLES
from healthscore.engine.adapters.sql import exp
from healthscore.errors import InvalidInput

if TYPE_CHECKING:
    from healthscore.engine.adapters.base import EngineAdapter
    from healthscore.ingest.report import Part
    from healthscore.workspace import Workspace

DIALECT = "duckdb"
# DuckDB's table functions that read files: their path arguments are resolved against the workspace.
FILE_READERS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
    "read_json_objects", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects",
})
# Table functions that read nothing: allowed as they are. Any other (query, query_table, ...) is refused.
PURE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})


def source_name(name: str) -> str:
    """How a sql source is named in reports, watermarks and the quarantine's ``file``."""
    return f"sources.{name}.sql"


def parse_query(text: str) -> exp.Query:
    """The query as a sqlglot expression; ValueError (what is wrong) unless it is one SELECT or WITH
    query whose table functions read files or nothing, and whose tables are canonical ones or its
    own CTEs."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(text, read=DIALECT) if s is not None]
    except (ParseError, TokenError) as exc:
        raise ValueError(f"not valid SQL: {_first_line(str(exc))}") from None
    if len(statements) != 1:
        raise ValueError(f"give one SELECT query, not {len(statements)} statements")
    query = statements[0]
    if not isinstance(query, exp.Query) or any(isinstance(n, (exp.Command, exp.Into)) for n in query.walk()):
        raise ValueError(
            f"only a SELECT (or WITH ... SELECT) query is allowed, not {query.key.upper()}:"
            " a source reads data, it never creates, changes, attaches, copies, installs or loads anything"
        )
    ctes = {c.alias_or_name for c in query.find_all(exp.CTE)}
    for t in query.find_all(exp.Table):
        fn = _table_function(t)
        if fn is not None:
            if fn not in FILE_READERS | PURE_TABLE_FUNCTIONS:
                raise ValueError(f"table function {fn}() is not allowed; read files with read_csv, read_parquet"
                                 " or read_json")
            positional = [a for a in [t.this.args.get("this"), *t.this.expressions] if a is not None]
            if fn in FILE_READERS and (not _path_literals(t.this) or any(
                not _is_path_literal(a) and not isinstance(a, (exp.EQ, exp.PropertyEQ)) for a in positional
            )):
                raise ValueError(f"{fn}() takes the file's path as a string, e.g. {fn}('data/file.csv'):"
                                 f" {t.this.sql(DIALECT)}")
        elif t.name not in ctes and (t.db or t.name not in TABLES):
            raise ValueError(
                f"{t.sql(DIALECT)!r} is neither a canonical table nor a WITH name of the query; read a file"
                " with read_csv('path') (or read_parquet, read_json), or name a canonical table"
                f" ({', '.join(TABLES)})"
            )
    return query


def referenced_tables(query: exp.Query) -> set[str]:
    """The canonical tables the query reads (they are ingested before it)."""
    ctes = {c.alias_or_name for c in query.find_all(exp.CTE)}
    return {t.name for t in query.find_all(exp.Table) if _table_function(t) is None and t.name not in ctes}


def after_dependencies(order: list[str], sources: dict) -> list[str]:
    """``order`` with each sql source moved after the tables its query reads that run in this ingest."""
    deps = {}
    for name in order:
        text = sources[name].sql
        deps[name] = (referenced_tables(parse_query(text)) & set(order)) - {name} if text is not None else set()
    done: list[str] = []
    pending = list(order)
    while pending:
        ready = next((n for n in pending if deps[n] <= set(done)), None)
        if ready is None:  # a cycle: the query reads the engine's table as it was before this ingest
            ready = pending[0]
        done.append(ready)
        pending.remove(ready)
    return done


def sql_parts(ws: Workspace, engine: EngineAdapter, name: str, src, say, warnings: list[str]) -> list[Part]:
    """Run the source's query and return its result as one part with canonical column names."""
    import numpy as np

    from healthscore.engine.adapters.duckdb import LocalDuckDB, engine_error
    from healthscore.ingest.columns import make_part, warn_ignored
    from healthscore.ingest.read import check_reserved, decode_dictionaries, no_duplicate_names, with_internal

    where = source_name(name)
    try:
        query = parse_query(src.sql)
    except ValueError as exc:
        raise InvalidInput(f"{ws.config_path}: {where}: {exc}", field=where) from None
    query, directories = _resolve_paths(ws, query, where)
    tables = referenced_tables(query)
    missing = sorted(t for t in tables if t not in engine.list_tables())
    if missing:
        raise InvalidInput(
            f"{ws.config_path}: {where}: the query reads {', '.join(missing)}, which is not in the engine;"
            f" add sources.{missing[0]} to healthscore.yaml and ingest it",
            field=where,
        )
    say(f"{name}: running {where}")
    con = LocalDuckDB()
    try:
        with _registered_tables(con, engine, tables):
            lock_down(con, directories)
            try:
                data = con.fetch_arrow(query)
            except engine_error() as exc:
                raise InvalidInput(
                    f"{ws.config_path}: {where}: the query failed: {_first_line(str(exc))}", field=where
                ) from None
    finally:
        con.close()
    no_duplicate_names(where, data.column_names)
    check_reserved(where, data.column_names)
    data = with_internal(decode_dictionaries(data))
    ignored: dict = {}
    part = make_part(where, "row", data, np.arange(1, data.num_rows + 1, dtype=np.int64), name, src, ignored)
    warn_ignored(name, ignored, warnings)
    return [part]


def _registered_tables(con, engine: EngineAdapter, tables: set[str]):
    from contextlib import ExitStack

    stack = ExitStack()
    for t in sorted(tables):
        stack.enter_context(con.registered(engine.table(t).to_pyarrow(), t, unique=False))
    return stack


def lock_down(con, directories: list[str]) -> None:
    """Let the query read only the directories it names: no other file, no network, no extension, and
    no setting can be changed back."""
    dirs = exp.Array(expressions=[exp.Literal.string(d) for d in directories])
    for setting, value in (("allowed_directories", dirs), ("enable_external_access", exp.false()),
                           ("autoinstall_known_extensions", exp.false()), ("lock_configuration", exp.true())):
        con.fetchall(exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.var(setting), expression=value))]))


def _resolve_paths(ws: Workspace, query: exp.Query, where: str) -> tuple[exp.Query, list[str]]:
    """The query with every file reader's path made absolute (``${VAR}`` expanded, relative to the
    workspace); and the directories those paths are in."""
    query = query.copy()
    directories = {str(ws.root)}
    for t in query.find_all(exp.Table):
        if _table_function(t) not in FILE_READERS:
            continue
        for node in _path_literals(t.this):
            expanded = os.path.expandvars(node.this)
            unset = re.search(r"\$\{?\w+\}?", expanded)
            if unset:
                raise InvalidInput(
                    f"{ws.config_path}: {where}: the environment variable {unset.group(0)} in {node.this!r} is not set",
                    field=where,
                )
            path = Path(expanded)
            path = path if path.is_absolute() else ws.root / path
            node.replace(exp.Literal.string(str(path)))
            directories.add(str(_static_prefix(path)))
    return query, sorted(directories)


def _static_prefix(path: Path) -> Path:
    """The directory of a path or glob, up to its first wildcard."""
    parts = path.parts
    for i, part in enumerate(parts):
        if any(ch in part for ch in "*?["):
            return Path(*parts[:i])
    return path.parent


def _path_literals(fn: exp.Expr) -> list[exp.Literal]:
    """The string literals of a reader's positional arguments (a path or a list of paths), not those
    of its named options (``header = true``)."""
    out = []
    for arg in [fn.args.get("this"), *fn.expressions]:
        if isinstance(arg, exp.Array):
            out += [e for e in arg.expressions if isinstance(e, exp.Literal) and e.is_string]
        elif isinstance(arg, exp.Literal) and arg.is_string:
            out.append(arg)
    return out


def _is_path_literal(arg: exp.Expr) -> bool:
    return (isinstance(arg, exp.Literal) and arg.is_string) or (
        isinstance(arg, exp.Array) and all(isinstance(e, exp.Literal) and e.is_string for e in arg.expressions)
    )


def _table_function(t: exp.Table) -> str | None:
    fn = t.this
    if not isinstance(fn, exp.Func):
        return None
    if isinstance(fn, exp.Anonymous):
        return fn.name.lower()
    if isinstance(fn, exp.GenerateSeries):
        return "generate_series"
    return fn.sql_name().lower()


def _first_line(msg: str) -> str:
    return msg.strip().splitlines()[0] if msg.strip() else msg
