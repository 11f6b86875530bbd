"""NDJSON and JSON arrays: one object per record. NDJSON is read as lines, each parsed once (TRY);
lines only a lenient parser reads (trailing commas, NaN) are checked again strictly."""

from __future__ import annotations

import json

import duckdb

from reporter.engine import insert_rows, quote_literal
from reporter.ingest import mapping
from reporter.ingest.sources import (
    MAX_RECORD,
    Source,
)
from reporter.ingest.stage import (
    NEWLINE_OPTION,
    RECORD_SEP,
    SpecMaker,
    Staged,
    collect_rejects,
    reject_table,
    source_column,
)


def _json_lines(con: duckdb.DuckDBPyConnection, source: Source, lines: str, into: str) -> None:
    newline = source.dialect.newline if source.dialect else "\n"
    options = [
        "columns = {'__raw': 'VARCHAR'}",
        "header = false",
        f"delim = {quote_literal(RECORD_SEP)}",
        "quote = ''",
        "escape = ''",
        "auto_detect = false",
        f"new_line = {quote_literal(NEWLINE_OPTION[newline])}",
        "store_rejects = true",
        f"rejects_table = {quote_literal(lines + '_rej_errors')}",
        f"rejects_scan = {quote_literal(lines + '_rej_scans')}",
        f"max_line_size = {MAX_RECORD}",
    ]
    if source.compression:
        options.append(f"compression = {quote_literal(source.compression)}")
    con.execute(
        f"CREATE TEMP TABLE {lines} AS SELECT __raw FROM read_csv({quote_literal(str(source.path))}, "
        f"{', '.join(options)})"
    )
    collect_rejects(con, lines + "_rej", into)


_JSON_SPACE = quote_literal(" \t\r\n")
# Valid JSON that starts with "{" is an object. Each JSON function parses its input again, so a line
# is parsed once (TRY() turns a parse error into NULL) rather than by json_valid, json_type and the
# extraction in turn: a third of the time per NDJSON line. Trimming copies the whole line, so only
# lines that do not start with "{" are trimmed (OR evaluates its right side for those rows only):
# trimming every line cost 40% of the stage at 10M events.
_IS_OBJECT = f"(starts_with(__raw, '{{') OR starts_with(ltrim(__raw, {_JSON_SPACE}), '{{'))"
_NOT_BLANK = f"(starts_with(__raw, '{{') OR trim(__raw, {_JSON_SPACE}) <> '')"


# DuckDB's JSON parser also reads trailing commas and NaN/Infinity, which JSON forbids. A line
# with a comma before a closing bracket, or a value starting like nan/inf, may be one of those:
# only such lines are parsed again, strictly, in Python. Each pattern starts with a literal
# character, which RE2 finds fast (a pattern starting with a character class cost 4x).
_LENIENT = (
    "regexp_matches(__raw, ',[ \\t\\r]*(?:[}\\]]|[+-]?[NnIi][AaNn])')",
    "regexp_matches(__raw, ':[ \\t\\r]*[+-]?[NnIi][AaNn]')",
    "(contains(__raw, '[') AND regexp_matches(__raw, '\\[[ \\t\\r]*[+-]?[NnIi][AaNn]'))",
)


def _strict_json(text: str) -> bool:
    def refuse(token: str) -> None:
        raise ValueError(token)

    try:
        json.loads(text.lstrip("\ufeff"), parse_constant=refuse)
    except ValueError:  # json.JSONDecodeError included
        return False
    return True


def lenient_lines(con: duckdb.DuckDBPyConnection, lines: str) -> str | None:
    """SQL true for the lines (by `__ordinal`) only a lenient parser reads; None when there are none.

    The candidates stream by in batches, so a file full of them is never held whole."""
    table = lines + "_lenient"
    candidates = con.sql(
        f"SELECT rowid + 1 AS r, __raw FROM {lines} WHERE __raw IS NOT NULL AND ({' OR '.join(_LENIENT)})"
    ).to_arrow_reader(10_000)
    bad = [  # line numbers only: the texts stream by in batches
        r
        for batch in candidates
        for r, text in zip(*batch.to_pydict().values(), strict=True)
        if not _strict_json(text)
    ]
    if not bad:
        return None
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (r BIGINT)")
    insert_rows(con, table, ["r"], [[r] for r in bad])
    return f"__ordinal IN (SELECT r FROM {table})"


def json_keys(con: duckdb.DuckDBPyConnection, lines: str) -> list[str]:
    """Every top-level key of every object line, in first-seen order."""
    rows = con.execute(
        f"SELECT k FROM (SELECT unnest(TRY(json_keys(__raw))) AS k, rowid AS r FROM {lines} "
        f"WHERE {_IS_OBJECT}) GROUP BY k ORDER BY min(r), k"
    ).fetchall()
    return [k for (k,) in rows]


def stage_json(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
    """NDJSON or a JSON array: one object per record (`webhook`: the vendor's delivery-receipt bodies)."""
    lines = table + "_lines"
    if source.format == "json":
        con.execute(
            f"CREATE TEMP TABLE {lines} AS SELECT CAST(json AS VARCHAR) AS __raw "
            f"FROM read_json_objects({quote_literal(str(source.path))}, format = 'array'"
            + (f", compression = {quote_literal(source.compression)}" if source.compression else "")
            + ")"
        )
    rejects = reject_table(con, table + "_rejects")
    if source.format != "json":
        _json_lines(con, source, lines, rejects)
    keys = json_keys(con, lines)
    webhook = mapping.WEBHOOK_KEY in keys
    # JSON pointers (RFC 6901) name any key, "" and quotes included; `$."k"` paths cannot.
    pointers = {k: "/" + k.replace("~", "~0").replace("/", "~1") for k in keys}
    paths = dict(mapping.WEBHOOK_PATHS) if webhook else pointers
    names = list(paths)
    extract = "json_extract_string(__raw, [" + ", ".join(quote_literal(p) for p in paths.values()) + "])"
    values = (
        f"SELECT __raw, rowid + 1 AS __ordinal, CASE WHEN {_IS_OBJECT} THEN TRY({extract}) END AS __v "
        f"FROM {lines} WHERE __raw IS NOT NULL AND {_NOT_BLANK}"
    )
    # An object line that did not parse is invalid; a line that is not an object is either valid
    # JSON of another kind (json_valid runs on those few lines only) or invalid.
    lenient = lenient_lines(con, lines)
    strict = f"WHEN {lenient} THEN 'invalid_json' " if lenient else ""
    inner = (
        f"SELECT *, CASE {strict}WHEN __v IS NOT NULL THEN NULL "
        f"WHEN {_IS_OBJECT} OR NOT json_valid(__raw) THEN 'invalid_json' ELSE 'not_an_object' END "
        f"AS __json_reason FROM ({values})"
    )
    scan = (
        "(SELECT "
        + ", ".join(
            [f"__v[{i + 1}] AS {source_column(i)}" for i in range(len(names))]
            + ["__raw", "__ordinal", "__json_reason"]
        )
        + f" FROM ({inner}))"
    )
    specs = make(dict.fromkeys(names, "VARCHAR"), webhook, not webhook)
    con.execute(f"CREATE TEMP TABLE {table} AS {specs.select(scan, '__raw', '__ordinal', '__json_reason')}")
    con.execute(f"DROP TABLE {lines}")
    con.execute(f"DROP TABLE IF EXISTS {lines}_lenient")
    return Staged(table, 0, rejects, ordinal_from_rowid=False, present=specs.present, webhook=webhook)
