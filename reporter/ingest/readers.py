"""Read one source into a DuckDB stage table: canonical fields, a reason for every bad row.

DuckDB reads every format here (the fastest engine for text formats, see field notes):
CSV with `store_rejects` and a pinned dialect, so structural errors are recorded and never
drop good rows; NDJSON as lines, each validated with `json_valid` before it is parsed; JSON
arrays as objects; Parquet with its own types. No reader runs in an `ignore_errors` mode.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import zstandard

from reporter.engine import insert_rows, quote_ident, quote_literal
from reporter.errors import StorageError
from reporter.ingest import mapping
from reporter.ingest.sources import (
    MAX_RECORD,
    Discard,
    LineBreakRepair,
    Source,
    count_lines,
    cut_long_lines,
    repair_line_breaks,
)

# DuckDB reject error types to quarantine reasons.
CSV_REASONS = {
    "MISSING COLUMNS": "too_few_columns",
    "TOO MANY COLUMNS": "too_many_columns",
    "UNQUOTED VALUE": "bad_quoting",
    "INVALID ENCODING": "invalid_utf8",
    "INVALID UNICODE": "invalid_utf8",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}
_NEWLINE_OPTION = {"\n": "\\n", "\r\n": "\\r\\n"}  # DuckDB takes the escaped spelling
_RECORD_SEP = chr(0x1E)  # cannot occur unescaped in valid JSON text, so a JSON line is one field


REJECT_COLUMNS = "line BIGINT, reason VARCHAR, detail VARCHAR, raw VARCHAR"


@dataclass
class Staged:
    """A stage table for one source: its rows, and the rows the reader itself rejected.

    Rejects and empty lines live in DuckDB tables, never in Python lists: a file of millions of
    them is numbered within the memory limit.
    """

    table: str
    header_lines: int  # lines before the first data record (1 for a CSV header)
    rejects: str  # table (REJECT_COLUMNS): one row per record the reader refused
    ordinal_from_rowid: bool = True  # CSV, Parquet: the stage's rowid is the record's ordinal
    blanks: str | None = None  # CSV: table (line) of empty lines, which the reader skips
    present: frozenset[str] = frozenset()  # optional fields the source has (absent ones are not stored)


def reject_table(con: duckdb.DuckDBPyConnection, name: str) -> str:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({REJECT_COLUMNS})")
    return name


_SMALL = 64  # up to this many skipped lines, a list literal in the expression beats a join


def line_numbering(con: duckdb.DuckDBPyConnection, staged: Staged) -> tuple[str, str]:
    """(SQL for a kept record's line number, a join to put after `FROM <stage> s`).

    The reader kept every line but the header, its rejects and (CSV) empty lines: a kept record's
    line is its ordinal plus the header plus the skipped lines before it. Skipped lines j = 1..n
    at lines r_j give thresholds t_j = r_j - h - j (non-decreasing): the count below the ordinal
    is the largest j with t_j < ordinal, an ASOF join when there are many.
    """
    k = "(s.rowid + 1)" if staged.ordinal_from_rowid else "s.__c_ordinal"
    h = staged.header_lines
    skipped = f"SELECT line FROM {staged.rejects}" + (
        f" UNION SELECT line FROM {staged.blanks}" if staged.blanks else ""
    )
    n = con.execute(f"SELECT count(*) FROM ({skipped})").fetchall()[0][0]
    if not n:
        return f"({k} + {h})", ""
    if n <= _SMALL:
        lines = [r for (r,) in con.execute(f"SELECT line FROM ({skipped}) ORDER BY line").fetchall()]
        thresholds = [r - h - j for j, r in enumerate(lines, 1)]
        return f"({k} + {h} + {_count_below(thresholds, k)})", ""
    thresholds_table = staged.table + "_skips"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {thresholds_table} AS SELECT t, max(j) AS j FROM ("
        f"SELECT line - {h} - row_number() OVER (ORDER BY line) AS t, row_number() OVER (ORDER BY line) AS j "
        f"FROM ({skipped})) GROUP BY t"
    )
    return (
        f"({k} + {h} + coalesce(__skips.j, 0))",
        f" ASOF LEFT JOIN {thresholds_table} __skips ON {k} > __skips.t",
    )


def _count_below(sorted_values: list[int], k: str) -> str:
    """SQL for how many of `sorted_values` are below `k`, in about sqrt(n) comparisons a row.

    One list_filter over all values costs n comparisons a row: a CSV with an empty line after each
    of 400k records did not finish in 500 s (10 s with blocks). Values are cut into blocks of about
    sqrt(n): the blocks wholly below `k` are counted on their last values, then one block searched.
    """

    def listed(values: list[int]) -> str:
        return "[" + ", ".join(map(str, values)) + "]"

    if len(sorted_values) <= 64:
        return f"len(list_filter({listed(sorted_values)}, lambda t: t < {k}))"
    size = math.isqrt(len(sorted_values)) + 1
    blocks = [sorted_values[i : i + size] for i in range(0, len(sorted_values), size)]
    whole = f"len(list_filter({listed([b[-1] for b in blocks])}, lambda t: t < {k}))"
    nested = "[" + ", ".join(listed(b) for b in blocks) + "]"
    # Blocks are 1-based in SQL; past the last block the index gives NULL, an empty remainder, and
    # only the last block can be short, hence the least().
    rest = f"coalesce(len(list_filter(({nested})[{whole} + 1], lambda t: t < {k})), 0)"
    return f"(least({whole} * {size}, {len(sorted_values)}) + {rest})"


# make(columns, webhook, keyed): the stage query for a source whose i-th column (name -> type) the
# scan exposes as source_column(i); keyed (JSON objects): a field may come from any of its spellings.
SpecMaker = Callable[[dict[str, str], bool, bool], "StageSpecs"]


def source_column(index: int) -> str:
    """The name the stage's scan gives a source's `index`-th column.

    The input's own names never become identifiers in the stage: a column or key named like one
    of the working columns (`__c_event_time`, `__raw`...) or "" is just a field.
    """
    return f"__in_{index}"


@dataclass(frozen=True)
class FieldSpec:
    """Where a canonical field comes from in a source: a column of some type, or a constant."""

    expr: str
    dtype: str = "VARCHAR"


def _csv_options(source: Source, columns: dict[str, str], rejects: str) -> str:
    assert source.dialect is not None
    cols = "{" + ", ".join(f"{quote_literal(n)}: {quote_literal(t)}" for n, t in columns.items()) + "}"
    options = [
        "auto_detect = false",
        f"delim = {quote_literal(source.dialect.delimiter)}",
        "quote = '\"'",
        "escape = '\"'",
        f"new_line = {quote_literal(_NEWLINE_OPTION[source.dialect.newline])}",
        "header = true",
        f"columns = {cols}",
        "store_rejects = true",
        f"rejects_table = {quote_literal(rejects + '_errors')}",
        f"rejects_scan = {quote_literal(rejects + '_scans')}",
        f"max_line_size = {MAX_RECORD}",
    ]
    if source.compression:
        options.append(f"compression = {quote_literal(source.compression)}")
    return ", ".join(options)


def _collect_rejects(con: duckdb.DuckDBPyConnection, rejects: str, into: str) -> None:
    """One reject per record into table `into` (a record with several errors is one quarantined row).

    A line over the size limit has no column: its error sorts first (arg_min ignores NULL keys)."""
    kinds = " ".join(f"WHEN {quote_literal(k)} THEN {quote_literal(r)}" for k, r in CSV_REASONS.items())
    order = "coalesce(column_idx, -1)"
    con.execute(
        f"INSERT INTO {into} SELECT line, "
        f"CASE arg_min(error_type, {order}) {kinds} ELSE 'malformed_row' END, "
        f"arg_min(error_message, {order}), "
        f"ltrim(coalesce(arg_min(csv_line, {order}), ''), chr(13) || chr(10)) "
        f"FROM {quote_ident(rejects + '_errors')} GROUP BY line"
    )
    _drop_rejects(con, rejects)


def _drop_rejects(con: duckdb.DuckDBPyConnection, rejects: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(rejects + '_errors')}")
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(rejects + '_scans')}")


class UnreadableSource(Exception):
    """A source that broke off while read outside DuckDB (a truncated gzip): recorded whole."""


def stage_csv(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
    with _long_lines_cut(con, source) as (readable, cut):
        staged = _stage_csv(con, readable, table, make)
    _reject_long_lines(con, staged, cut)
    return staged


def _stage_csv(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
    assert source.dialect is not None
    columns = dict.fromkeys(source.dialect.columns, "VARCHAR")
    specs = make(columns, False, False)
    specs.empty_is_null = True
    try:
        staged = _read_csv(con, source, table, specs)
    except duckdb.InvalidInputException as exc:
        # A line break outside quotes unlike the file's others (an LF-only line in a CRLF file, a CR
        # inside a field) stops DuckDB's strict parser for the whole file; its lenient mode would keep
        # a record with a field too many by dropping the field. DuckDB reads a repaired copy instead.
        if "state machine" not in str(exc):
            raise
        _drop_rejects(con, table + "_rej")
        return _stage_repaired(con, source, table, specs)
    staged.blanks = _empty_lines(con, source, staged)
    return staged


def _read_csv(con: duckdb.DuckDBPyConnection, source: Source, table: str, specs: StageSpecs) -> Staged:
    assert source.dialect is not None
    names = [source_column(i) for i in range(len(source.dialect.columns))]
    columns = dict.fromkeys(names, "VARCHAR")
    cells = ", ".join(f"coalesce({c}, '')" for c in names)
    raw = f"concat_ws({quote_literal(source.dialect.delimiter)}, {cells})"
    scan = f"read_csv({quote_literal(str(source.path))}, {_csv_options(source, columns, table + '_rej')})"
    con.execute(f"CREATE TEMP TABLE {table} AS {specs.select(scan, raw, 'CAST(NULL AS BIGINT)')}")
    rejects = reject_table(con, table + "_rejects")
    _collect_rejects(con, table + "_rej", rejects)
    return Staged(table, header_lines=1, rejects=rejects, present=specs.present)


class _Copy:
    """The repaired copy, being written: its I/O errors (a full disk) are the run's, not the input's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: BinaryIO = self._guard(lambda: path.open("wb"))

    def _guard(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except OSError as exc:
            raise StorageError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def write(self, data: bytes) -> int:
        return int(self._guard(lambda: self.file.write(data)))

    def close(self) -> None:
        self._guard(self.file.flush)
        self.file.close()

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # after a failed write, close() fails the same way again
            self.file.close()


@contextlib.contextmanager
def _temporary_folder(parent: str | None) -> Iterator[str]:
    """A temporary folder, removed after; failing to make one is the run's error, not the input's."""
    try:
        folder = tempfile.TemporaryDirectory(dir=parent)
    except OSError as exc:
        where = parent or tempfile.gettempdir()
        raise StorageError(f"cannot make a temporary folder in {where}: {exc}") from exc
    with folder as path:
        yield path


def _stage_repaired(con: duckdb.DuckDBPyConnection, source: Source, table: str, specs: StageSpecs) -> Staged:
    """Stage a copy of the file whose line breaks outside quotes all have the dialect's form.

    A record with a lone CR outside quotes is quarantined as malformed_row (an empty line in the copy);
    every other record reads exactly as it would from a clean file, with the same line numbers.
    The copy is written beside DuckDB's spill files (or the system's temporary folder) and removed.
    """
    dialect = source.dialect
    assert dialect is not None
    repair = LineBreakRepair(sink=_line_sink(con, table))
    with _copy(
        con,
        "repaired.csv",
        lambda out: repair_line_breaks(source.path, source.compression, dialect, out, repair),
    ) as path:
        staged = _read_csv(con, dataclasses.replace(source, path=path, compression=None), table, specs)
    con.execute(f"INSERT INTO {staged.rejects} SELECT * FROM {table}_malformed")
    con.execute(f"DROP TABLE {table}_malformed")
    staged.blanks = table + "_blanks"
    return staged


@contextlib.contextmanager
def _long_lines_cut(
    con: duckdb.DuckDBPyConnection, source: Source
) -> Iterator[tuple[Source, list[tuple[int, int, str]]]]:
    """The source as DuckDB may read it: with no line over MAX_RECORD (DuckDB rejects a line over its
    max_line_size, but drops one of some 300 MB without a word). Such lines are left empty in a copy
    (beside the spill files, removed after) and returned, to be quarantined as line_too_long."""
    if source.longest <= MAX_RECORD or source.format not in ("csv", "ndjson"):
        yield source, []
        return
    cut: list[tuple[int, int, str]] = []
    with _copy(
        con, "cut", lambda out: cut.extend(cut_long_lines(source.path, source.compression, out))
    ) as path:
        lines = count_lines(path) if source.format == "csv" else None
        yield dataclasses.replace(source, path=path, compression=None, lines=lines, longest=0), cut


@contextlib.contextmanager
def _copy(con: duckdb.DuckDBPyConnection, name: str, write: Callable[[_Copy], object]) -> Iterator[Path]:
    """A copy of a source that `write` makes, beside DuckDB's spill files (or in the system's
    temporary folder), removed after. An error reading the source records it whole."""
    folder = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    with _temporary_folder(folder if folder and Path(folder).is_dir() else None) as tmp:
        copy = _Copy(Path(tmp) / name)
        try:
            write(copy)
        except (OSError, EOFError, zstandard.ZstdError, zlib.error) as exc:  # reading the input
            copy.discard()
            raise UnreadableSource(f"{type(exc).__name__}: {exc}") from exc
        except StorageError:
            copy.discard()
            raise
        copy.close()
        yield copy.path


def _reject_long_lines(
    con: duckdb.DuckDBPyConnection, staged: Staged, cut: list[tuple[int, int, str]]
) -> None:
    detail = "a line of {:,} bytes, over the maximum record size of {:,}"
    rows = [[n, "line_too_long", detail.format(length, MAX_RECORD), head] for n, length, head in cut]
    insert_rows(con, staged.rejects, ["line", "reason", "detail", "raw"], rows)


def _line_sink(con: duckdb.DuckDBPyConnection, table: str) -> Callable[[LineBreakRepair], None]:
    """Where `repair_line_breaks` hands its findings, batch by batch: `<table>_blanks` (empty lines)
    and `<table>_malformed` (records with a lone CR, as rejects)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_blanks (line BIGINT)")
    reject_table(con, table + "_malformed")

    def sink(repair: LineBreakRepair) -> None:
        insert_rows(con, table + "_blanks", ["line"], [[n] for n in repair.empty])
        detail = "a CR outside quotes that ends no line"
        rows = [[n, "malformed_row", detail, raw] for n, raw in repair.malformed]
        insert_rows(con, table + "_malformed", ["line", "reason", "detail", "raw"], rows)

    return sink


def _empty_lines(con: duckdb.DuckDBPyConnection, source: Source, staged: Staged) -> str | None:
    """The CSV file's empty lines (a table), which DuckDB skips but counts in its line numbers.

    A file whose lines are exactly its header and records has none (nor quoted newlines): the
    common case costs one newline count. Otherwise the scan that repairs line breaks numbers them,
    reading quotes as DuckDB does (nothing is written).
    """
    assert source.dialect is not None
    records = con.execute(
        f"SELECT (SELECT count(*) FROM {staged.table}) + (SELECT count(*) FROM {staged.rejects})"
    ).fetchall()[0][0]
    if source.lines is None or source.lines == staged.header_lines + records:
        return None
    repair = LineBreakRepair(sink=_line_sink(con, staged.table))
    repair_line_breaks(source.path, source.compression, source.dialect, Discard(), repair)
    con.execute(f"DROP TABLE {staged.table}_malformed")  # DuckDB read the file itself: no lone CR
    return staged.table + "_blanks"


def _json_lines(con: duckdb.DuckDBPyConnection, source: Source, lines: str, into: str) -> None:
    newline = source.dialect.newline if source.dialect else "\n"
    options = [
        "columns = {'__raw': 'VARCHAR'}",
        "header = false",
        f"delim = {quote_literal(_RECORD_SEP)}",
        "quote = ''",
        "escape = ''",
        "auto_detect = false",
        f"new_line = {quote_literal(_NEWLINE_OPTION[newline])}",
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
    _collect_rejects(con, lines + "_rej", into)


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


def stage_json(
    con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker
) -> tuple[Staged, bool]:
    """NDJSON or a JSON array: one object per record. Returns the stage and whether it was webhook bodies."""
    with _long_lines_cut(con, source) as (readable, cut):
        staged, webhook = _stage_json(con, readable, table, make)
    _reject_long_lines(con, staged, cut)
    return staged, webhook


def _stage_json(
    con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker
) -> tuple[Staged, bool]:
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
    return Staged(table, 0, rejects, ordinal_from_rowid=False, present=specs.present), webhook


def parquet_schema(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({quote_literal(str(source.path))})").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def stage_parquet(
    con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker, schema: dict[str, str]
) -> Staged:
    specs = make(schema, False, False)
    columns = list(schema)
    # The stage keeps the file's row order (insertion order is preserved), so its rowid is the
    # record's ordinal: reading file_row_number instead doubled the time of a bare read.
    renamed = ", ".join(f"{quote_ident(c)} AS {source_column(i)}" for i, c in enumerate(columns))
    scan = f"(SELECT {renamed} FROM read_parquet({quote_literal(str(source.path))}))"
    raw = (
        "CAST(struct_pack("
        + ", ".join(f"{quote_ident(c)} := {source_column(i)}" for i, c in enumerate(columns))
        + ") AS VARCHAR)"
    )
    con.execute(f"CREATE TEMP TABLE {table} AS {specs.select(scan, raw, 'CAST(NULL AS BIGINT)')}")
    return Staged(table, 0, reject_table(con, table + "_rejects"), present=specs.present)


class StageSpecs:
    """The stage query for one source: canonical fields, a reason for each bad row, its raw text.

    Computed columns are prefixed `__c_` so they never collide with a source's own columns.
    The destination stays unmasked in the stage (memory only); every writer masks it.
    """

    TEXT_FIELDS = (
        "message_id",
        "destination",
        "event_id",
        "status_description",
        "delivery_status",
        "sender",
        "tenant",
        "carrier",
        "callback_data",
        "correlation_id",
    )

    def __init__(self, fields: dict[str, FieldSpec], zone: str, region: str, known_hashes: list[int]) -> None:
        self.fields, self.zone, self.region = fields, zone, region
        self.known_hashes = known_hashes  # DuckDB hash() of exact spellings that need no raw text kept
        self.present = frozenset(n for n in self.TEXT_FIELDS if n in fields)
        # DuckDB's CSV reader already reads an empty field as NULL: no NULLIF/TRIM pass needed.
        self.empty_is_null = False
        self.conflicts: list[str] = []  # SQL, true where two spellings of one key disagree

    def _columns(self) -> list[str]:
        null = FieldSpec("CAST(NULL AS VARCHAR)")
        f = self.fields
        code, time, chan = (f.get(n, null) for n in ("status_code", "event_time", "channel"))
        # Regions are keys ("US" and "us" are one region): trimmed and lower-cased.
        message_id = f.get("message_id", null)

        def text(spec: FieldSpec, trim: bool = True) -> str:
            return spec.expr if self.empty_is_null else mapping.text(spec.expr, spec.dtype, trim)

        region = f"lower({text(f['region'])})" if "region" in f else "NULL"
        return [
            f"{mapping.event_time(time.expr, time.dtype, self.zone)} AS __c_event_time",
            f"{mapping.is_missing(time.expr, time.dtype)} AS __c_event_time_missing",
            f"{mapping.status_code(code.expr, code.dtype)} AS __c_status_code",
            f"{mapping.is_missing(code.expr, code.dtype)} AS __c_status_code_missing",
            # Not trimmed: channel_key() normalises each distinct spelling in Python.
            f"{mapping.text(chan.expr, chan.dtype, trim=False)} AS __c_channel_text",
            f"coalesce({region}, {quote_literal(self.region.lower())}) AS __c_region",
            f"{text(message_id)} AS __c_message_id",
            # Descriptive fields are kept as written (no TRIM: it costs a pass per column).
            *[
                f"{text(f[n], trim=False)} AS __c_{n}"
                for n in self.TEXT_FIELDS
                if n != "message_id" and n in f
            ],
        ]

    def select(self, scan: str, raw: str, ordinal: str, extra_reason: str | None = None) -> str:
        conflict = f"WHEN {' OR '.join(self.conflicts)} THEN 'conflicting_keys' " if self.conflicts else ""
        reason = (
            f"CASE {conflict}WHEN __c_status_code_missing THEN 'missing_status_code' "
            "WHEN __c_status_code IS NULL THEN 'bad_status_code' "
            "WHEN __c_event_time_missing THEN 'missing_event_time' "
            "WHEN __c_event_time IS NULL THEN 'bad_event_time' "
            "WHEN __c_channel_text IS NULL THEN 'missing_channel' END"
        )
        if extra_reason:
            reason = f"coalesce({extra_reason}, {reason})"
        # Raw text is kept for bad rows, and for rows whose channel may turn out unknown. Spellings are
        # tested by their 64-bit hash: an IN list of ~130 strings cost 3.7 s per 20M rows, of integers
        # 0.9 s; a semi-join would reorder rows (the stage's rowid is the record's ordinal). A collision
        # with a known spelling (odds ~1e-17) would only leave an unknown channel's raw text out.
        known = ", ".join(map(str, self.known_hashes))
        keep_raw = f"__c_reason IS NOT NULL OR hash(__c_channel_text) NOT IN ({known})"
        kept = [
            "__c_event_time",
            "__c_status_code",
            "__c_channel_text",
            "__c_region",
            "__c_message_id",
            *[f"__c_{n}" for n in sorted(self.present - {"message_id"})],
        ]
        # Every field but the channel (whose spelling may differ between copies of one event), in a
        # fixed order with NULL for absent fields, so equal events hash alike whatever file holds them.
        optional = [n for n in self.TEXT_FIELDS if n != "message_id"]
        hashed = ", ".join(f"__c_{n}" if n in self.present else "CAST(NULL AS VARCHAR)" for n in optional)
        inner = f"SELECT *, {', '.join(self._columns())}, {ordinal} AS __c_ordinal FROM {scan}"
        return (
            f"SELECT {', '.join(kept)}, __c_ordinal, __c_reason, "
            f"hash(__c_event_time, __c_status_code, __c_region, __c_message_id, {hashed}) AS __c_hash, "
            f"CASE WHEN {keep_raw} THEN {raw} END AS __c_raw "
            f"FROM (SELECT *, {reason} AS __c_reason FROM ({inner}))"
        )
