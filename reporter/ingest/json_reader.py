"""NDJSON and JSON arrays: one object per record. NDJSON is read as lines, each parsed once (TRY);
lines only a lenient parser reads (trailing commas, NaN) are checked again strictly."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from reporter import schema
from reporter.engine import insert_rows, quote_literal
from reporter.ingest.content import MAX_RECORD, Writer
from reporter.ingest.json_array import Elements, MalformedArray, split_array
from reporter.ingest.sources import Source
from reporter.ingest.stage import (
    NEWLINE_OPTION,
    RECORD_SEP,
    SpecMaker,
    Staged,
    UnreadableSource,
    collect_rejects,
    copy_source,
    reject_lines,
    reject_long_lines,
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
    except (ValueError, RecursionError):  # json.JSONDecodeError included; RecursionError: nested too deep
        return False
    return True


def lenient_lines(con: duckdb.DuckDBPyConnection, lines: str) -> str | None:
    """SQL true for the lines (by `__ordinal`) only a lenient parser reads; None when there are none."""
    candidates = f"__raw IS NOT NULL AND ({' OR '.join(_LENIENT)})"
    return _flagged(con, lines, (candidates, None), lambda text: not _strict_json(text), lines + "_lenient")


def _flagged(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    candidates: tuple[str, Sequence[object] | None],
    flag: Callable[[str], bool],
    table: str,
) -> str | None:
    """SQL true for the lines of `lines` that match `candidates` (SQL, its parameters) and whose text
    `flag` holds true (kept in `table`, see _ordinals); None when there are none. The texts stream by
    in batches (fetchmany: no pyarrow in the heavy part), so a file full of them is never held whole."""
    con.execute(f"SELECT rowid + 1 AS r, __raw FROM {lines} WHERE {candidates[0]}", candidates[1])
    found: list[int] = []
    while batch := con.fetchmany(10_000):
        found.extend(r for r, text in batch if flag(text))
    return _ordinals(con, table, found)


def json_keys(con: duckdb.DuckDBPyConnection, lines: str) -> tuple[list[str], list[list[str]]]:
    """Every top-level key of every object line, in first-seen order; and each distinct list of
    keys an object has (grouped by the list: a key given twice shows as a list with a repeat).

    Lines that do not parse (NULL) are dropped here, not in SQL: DuckDB pushes a filter on `k` into
    the scan as a second json_keys() call, which parsed every line twice."""
    rows = con.execute(
        f"SELECT k, min(r) FROM (SELECT TRY(json_keys(__raw)) AS k, rowid AS r FROM {lines} "
        f"WHERE {_IS_OBJECT}) GROUP BY k"
    ).fetchall()
    rows = [(keys, row) for keys, row in rows if keys is not None]
    first: dict[str, int] = {}
    for keys, row in rows:
        for key in keys:
            first[key] = min(first.get(key, row), row)
    return sorted(first, key=lambda k: (first[k], k)), [keys for keys, _ in rows]


class _Object(dict[str, Any]):
    """A JSON object as DuckDB reads it (the first value of a repeated key), with the keys given
    twice or more with different values."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.conflicts: set[str] = set()
        for key, value in pairs:
            if key not in self:
                self[key] = value
            elif _canonical(self[key]) != _canonical(value):
                self.conflicts.add(key)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)  # 1 and true differ; key order does not matter


def _conflicting(text: str, levels: dict[tuple[str, ...], set[str]]) -> bool:
    """True when an object gives a key it is read by (`levels`: path of objects -> keys read there)
    two different values."""
    try:
        top = json.loads(text.lstrip("\ufeff"), object_pairs_hook=_Object)
    except ValueError:
        return False  # not strict JSON: invalid_json, decided elsewhere
    except RecursionError:  # nested deeper than Python's parser goes: the two values cannot be compared,
        return True  # so the row is not read as DuckDB's first value of the key

    for path, keys in levels.items():
        node = top
        for key in path:
            node = node.get(key) if isinstance(node, _Object) else None
        if isinstance(node, _Object) and node.conflicts & keys:
            return True
    return False


def _levels(paths: list[str]) -> dict[tuple[str, ...], set[str]]:
    """`$.a.b` paths -> the keys read in each object along them: {(): {a}, (a,): {b}}."""
    levels: dict[tuple[str, ...], set[str]] = {}
    for path in paths:
        parts = tuple(path.removeprefix("$.").split("."))
        for depth in range(len(parts)):
            levels.setdefault(parts[:depth], set()).add(parts[depth])
    return levels


def _repeats(keys: list[str] | None, read: set[str]) -> bool:
    """True when a list of an object's keys holds a key that is read more than once."""
    named = [k for k in keys or [] if k in read]
    return len(named) > len(set(named))


def repeated_keys(
    con: duckdb.DuckDBPyConnection, lines: str, key_lists: list[list[str]], read: set[str], webhook: bool
) -> str | None:
    """SQL true for the lines (by `__ordinal`) whose object gives a key it is read by twice with
    different values (DuckDB would read the first); None when there are none.

    Only the objects whose key lists repeat a key read are parsed again (in Python, in batches).
    The webhook's nested objects are listed in one more pass, over webhook files only."""
    levels: dict[tuple[str, ...], set[str]] = {(): read}
    if webhook:
        levels = _levels(list(schema.webhook_paths().values()))
    tests = []  # (SQL listing the keys of some objects, the lists that repeat a key read there)
    top = [keys for keys in key_lists if _repeats(keys, levels[()])]
    if top:
        tests.append(("TRY(json_keys(__raw))", top))
    nested = [path for path in levels if path]  # the webhook's nested objects, listed in one parse
    if nested:
        paths = ", ".join(quote_literal("$." + ".".join(path)) for path in nested)
        listed = f"TRY(json_keys(__raw, [{paths}]))"
        groups = con.execute(f"SELECT DISTINCT {listed} FROM {lines} WHERE {_IS_OBJECT}").fetchall()
        repeating = [
            g for (g,) in groups if g and any(_repeats(k, levels[p]) for k, p in zip(g, nested, strict=True))
        ]
        if repeating:
            tests.append((listed, repeating))
    if not tests:
        return None
    where = " OR ".join(f"list_contains(${i}, {listed})" for i, (listed, _) in enumerate(tests, 1))
    candidates = (f"{_IS_OBJECT} AND ({where})", [lists for _, lists in tests])
    return _flagged(con, lines, candidates, lambda text: _conflicting(text, levels), lines + "_repeated")


def _ordinals(con: duckdb.DuckDBPyConnection, table: str, ordinals: list[int]) -> str | None:
    """SQL true for the rows whose `__ordinal` is one of `ordinals` (kept in `table`); None if none."""
    if not ordinals:
        return None
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (r BIGINT)")
    insert_rows(con, table, ["r"], [[r] for r in ordinals])
    return f"__ordinal IN (SELECT r FROM {table})"


def stage_json(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
    """NDJSON or a JSON array: one object per record (`webhook`: the vendor's delivery-receipt bodies)."""
    lines = table + "_lines"
    if source.format == "json" and not _array_read(con, source, lines):
        return _stage_split_array(con, source, table, make)
    rejects = reject_table(con, table + "_rejects")
    if source.format != "json":
        _json_lines(con, source, lines, rejects)
    keys, key_lists = json_keys(con, lines)
    webhook = schema.WEBHOOK_KEY in keys
    # JSON pointers (RFC 6901) name any key, "" and quotes included; `$."k"` paths cannot.
    pointers = {k: "/" + k.replace("~", "~0").replace("/", "~1") for k in keys}
    paths = schema.webhook_paths() if webhook else pointers
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
    repeated = repeated_keys(con, lines, key_lists, set(specs.read), webhook)
    specs.conflicts += [repeated] if repeated else []
    con.execute(f"CREATE TEMP TABLE {table} AS {specs.select(scan, '__raw', '__ordinal', '__json_reason')}")
    con.execute(f"DROP TABLE {lines}")
    con.execute(f"DROP TABLE IF EXISTS {lines}_lenient")
    con.execute(f"DROP TABLE IF EXISTS {lines}_repeated")
    return Staged(table, 0, rejects, ordinal_from_rowid=False, present=specs.present, webhook=webhook)


def _array_read(con: duckdb.DuckDBPyConnection, source: Source, lines: str) -> bool:
    """A JSON array's elements into `lines`, by DuckDB; False (and no table) when it cannot read them
    (an element over its own size limit, a malformed one) or an element is over MAX_RECORD."""
    compression = f", compression = {quote_literal(source.compression)}" if source.compression else ""
    try:
        con.execute(
            f"CREATE TEMP TABLE {lines} AS SELECT CAST(json AS VARCHAR) AS __raw "
            f"FROM read_json_objects({quote_literal(str(source.path))}, format = 'array'{compression})"
        )
    except duckdb.InvalidInputException:
        con.execute(f"DROP TABLE IF EXISTS {lines}")
        return False
    longest = con.execute(f"SELECT coalesce(max(strlen(__raw)), 0) FROM {lines}").fetchall()[0][0]
    if longest > MAX_RECORD:
        con.execute(f"DROP TABLE {lines}")
        return False
    return True


def _stage_split_array(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
    """A JSON array DuckDB cannot read as it is, read from a copy with one element a line (json_array.py):
    an element over MAX_RECORD is line_too_long, one with a line break inside a string invalid_json."""
    left_out: list[Elements] = []

    def write(out: Writer) -> None:
        try:
            left_out.append(split_array(source, out))
        except MalformedArray as exc:
            raise UnreadableSource(str(exc)) from exc

    with copy_source(con, "elements", write) as path:
        staged = stage_json(con, Source(path=path, format="ndjson"), table, make)
    (found,) = left_out
    reject_long_lines(con, staged, found.too_long)
    broken: list[list[object]] = [
        [n, "invalid_json", "a line break inside a string", h] for n, h in found.broken
    ]
    reject_lines(con, staged, broken)
    return staged
