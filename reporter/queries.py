"""Named queries: `queries/*.sql`, each with a title, a description and its parameters.

A query file starts with comment lines:

    -- title: Messages by final status code
    -- description: One sentence on what each row counts.
    -- param start: first date included (YYYY-MM-DD); all dates when omitted

Values reach the SQL as DuckDB named parameters (`$start`), never by string formatting. The
report, the extracts, `reporter query` and the warehouse views all run these same files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from reporter import vocabulary
from reporter.errors import QueryError, UsageError

QUERIES_ENV = "REPORTER_QUERIES"
_HEADER = re.compile(r"^--\s*(title|description|param\s+(\w+))\s*:\s*(.+)$")
_PARAM_USE = re.compile(r"\$([A-Za-z_]\w*)")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    sql: str
    params: dict[str, str] = field(default_factory=dict)  # name -> what it means
    path: Path | None = None


def queries_folder() -> Path:
    """$REPORTER_QUERIES; else the copy an installed wheel carries (reporter/named_queries, see
    setup.py); else `queries/` beside the package, where they are written (a checkout or an
    editable install)."""
    configured = os.environ.get(QUERIES_ENV)
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent
    shipped = package / "named_queries"
    return shipped if shipped.is_dir() else package.parent / "queries"


def parse_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _HEADER.match(line)
        if match and match.group(2):
            params[match.group(2)] = match.group(3).strip()
        elif match:
            meta[match.group(1)] = match.group(3).strip()
    for key in ("title", "description"):
        if key not in meta:
            raise QueryError(f"{path}:1: the leading comment has no '-- {key}:' line")
    used = set(_PARAM_USE.findall(text))
    if used != set(params):
        missing = sorted(used - set(params)) or sorted(set(params) - used)
        raise QueryError(
            f"{path}: parameter ${missing[0]} is used but not documented, or documented but unused"
        )
    try:  # the shared lists ({{ failure_classes }}...) come from reporter/vocabulary.py
        sql = vocabulary.render(text)
    except KeyError as exc:
        raise QueryError(f"{path}: unknown marker {{{{ {exc.args[0]} }}}}") from exc
    return NamedQuery(path.stem, meta["title"], meta["description"], sql, params, path)


def load_queries(folder: Path | None = None) -> dict[str, NamedQuery]:
    folder = folder or queries_folder()
    if not folder.is_dir():
        raise QueryError(f"{folder}: no queries folder (set {QUERIES_ENV})")
    return {p.stem: parse_query(p) for p in sorted(folder.glob("*.sql"))}


def get_query(name: str, folder: Path | None = None) -> NamedQuery:
    queries = load_queries(folder)
    if name not in queries:
        raise UsageError(f"unknown query {name!r} (see 'reporter query --list')")
    return queries[name]


def parse_params(pairs: tuple[str, ...] | list[str], query: NamedQuery) -> dict[str, str | None]:
    """`k=v` pairs to parameter values; every documented parameter is bound (None when omitted)."""
    values: dict[str, str | None] = dict.fromkeys(query.params)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--param {pair!r}: expected NAME=VALUE")
        if key not in query.params:
            known = ", ".join(query.params) or "none"
            raise UsageError(f"query {query.name} has no parameter {key!r} (parameters: {known})")
        values[key] = value
    return values


def run_query(
    con: duckdb.DuckDBPyConnection, query: NamedQuery, params: dict[str, str | None] | None = None
) -> pl.DataFrame:
    """The query's result as a Polars frame (DuckDB hands it over as Arrow)."""
    values = params if params is not None else dict.fromkeys(query.params)
    try:
        frame: pl.DataFrame = con.sql(query.sql, params=values or None).pl()
        return frame
    except duckdb.ConversionException as exc:
        given = {k: v for k, v in values.items() if v is not None}
        first = str(exc).splitlines()[0]
        if given:  # a --param value of the wrong kind (limit=abc, start=2026-13-01) is a usage error
            shown = ", ".join(f"{k}={v}" for k, v in given.items())
            raise UsageError(f"query {query.name}: a --param value does not fit ({shown}): {first}") from exc
        raise QueryError(f"query {query.name}: {first}") from exc
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise QueryError(f"query {query.name}: {first}") from exc


def sandbox(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Let SQL on `con` reach the files under `folder` (the warehouse's own) and nothing else.

    The views read the extracts under the warehouse's folder, so they still answer; read_text,
    read_blob, glob or read_csv on any other path is refused, and the settings cannot be undone.
    """
    con.execute("SET allowed_directories = ?", [[str(folder.resolve()) + os.sep]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def run_select(con: duckdb.DuckDBPyConnection, statement: str) -> pl.DataFrame:
    """One ad-hoc SELECT (the connection is read-only too); anything else is refused."""
    try:
        statements = con.extract_statements(statement)
    except duckdb.Error as exc:
        raise QueryError(f"cannot parse: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise UsageError("reporter sql runs exactly one SELECT statement")
    try:
        frame: pl.DataFrame = con.sql(statement).pl()
        return frame
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from exc
