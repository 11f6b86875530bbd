"""What every reader shares: the stage table's query (StageSpecs), its rejects and line numbers,
and copies of a source that DuckDB reads instead of the original (lines over MAX_RECORD cut).

A reader (csv_reader, json_reader, parquet_reader; registered in readers.py) turns one source into
a stage table: canonical fields, a reason for every bad row. No reader runs in an `ignore_errors` mode.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import zstandard

from reporter import schema
from reporter.codes.channels import channel_key
from reporter.engine import insert_rows, quote_ident, quote_literal
from reporter.errors import StorageError
from reporter.ingest import mapping
from reporter.ingest.content import MAX_RECORD, count_lines, cut_long_lines
from reporter.ingest.sources import Source

# DuckDB reject error types to quarantine reasons.
CSV_REASONS = {
    "MISSING COLUMNS": "too_few_columns",
    "TOO MANY COLUMNS": "too_many_columns",
    "UNQUOTED VALUE": "bad_quoting",
    "INVALID ENCODING": "invalid_utf8",
    "INVALID UNICODE": "invalid_utf8",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}
NEWLINE_OPTION = {"\n": "\\n", "\r\n": "\\r\\n"}  # DuckDB takes the escaped spelling
RECORD_SEP = chr(0x1E)  # cannot occur unescaped in valid JSON text, so a JSON line is one field


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
    webhook: bool = False  # JSON: the vendor's delivery-receipt bodies
    # JSON: table (line) of rejects whose lines a copy left empty: the ordinals count them already
    counted: str | None = None
    channel_texts: list[str] | None = None  # the distinct channel spellings, if the reader found them


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
    skipped = (
        f"SELECT line FROM {staged.rejects}"
        + (f" WHERE line NOT IN (SELECT line FROM {staged.counted})" if staged.counted else "")
        + (f" UNION SELECT line FROM {staged.blanks}" if staged.blanks else "")
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


def collect_rejects(con: duckdb.DuckDBPyConnection, rejects: str, into: str) -> None:
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
    drop_rejects(con, rejects)


def drop_rejects(con: duckdb.DuckDBPyConnection, rejects: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(rejects + '_errors')}")
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(rejects + '_scans')}")


class UnreadableSource(Exception):
    """A source that broke off while read outside DuckDB (a truncated gzip): recorded whole."""


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


@contextlib.contextmanager
def long_lines_cut(
    con: duckdb.DuckDBPyConnection, source: Source
) -> Iterator[tuple[Source, list[tuple[int, int, str]]]]:
    """The source as DuckDB may read it: with no line over MAX_RECORD (DuckDB rejects a line over its
    max_line_size, but drops one of some 300 MB without a word). Such lines are left empty in a copy
    (beside the spill files, removed after) and returned, to be quarantined as line_too_long."""
    if source.longest <= MAX_RECORD or source.format not in ("csv", "ndjson"):
        yield source, []
        return
    cut: list[tuple[int, int, str]] = []
    with copy_source(
        con, "cut", lambda out: cut.extend(cut_long_lines(source.path, source.compression, out))
    ) as path:
        lines = count_lines(path) if source.format == "csv" else None
        yield dataclasses.replace(source, path=path, compression=None, lines=lines, longest=0), cut


@contextlib.contextmanager
def copy_source(
    con: duckdb.DuckDBPyConnection, name: str, write: Callable[[_Copy], object]
) -> Iterator[Path]:
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


Reader = Callable[[duckdb.DuckDBPyConnection, Source, str, SpecMaker], Staged]


def cutting_long_lines(stage: Reader) -> Reader:
    """`stage` reading a text source with its lines over MAX_RECORD cut, quarantined as line_too_long."""

    def read(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
        with long_lines_cut(con, source) as (readable, cut):
            staged = stage(con, readable, table, make)
        reject_long_lines(con, staged, cut)
        return staged

    return read


def reject_long_lines(
    con: duckdb.DuckDBPyConnection, staged: Staged, cut: list[tuple[int, int, str]]
) -> None:
    detail = "a line of {:,} bytes, over the maximum record size of {:,}"
    reject_lines(
        con,
        staged,
        [[n, "line_too_long", detail.format(length, MAX_RECORD), head] for n, length, head in cut],
    )


def reject_lines(con: duckdb.DuckDBPyConnection, staged: Staged, rows: list[list[object]]) -> None:
    """Rejects (line, reason, detail, raw) for lines a copy left empty. A JSON stage's ordinals count
    the copy's empty lines, so those lines are not counted again as skipped (`Staged.counted`)."""
    insert_rows(con, staged.rejects, ["line", "reason", "detail", "raw"], rows)
    if rows and not staged.ordinal_from_rowid:
        staged.counted = staged.table + "_counted"
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staged.counted} (line BIGINT)")
        insert_rows(con, staged.counted, ["line"], [[row[0]] for row in rows])


_SPELLINGS_TESTED = 1_000  # distinct channel spellings StageSpecs.channels_known looks at, at most


class StageSpecs:
    """The stage query for one source: canonical fields, a reason for each bad row, its raw text.

    Computed columns are prefixed `__c_` so they never collide with a source's own columns.
    The converted fields (reporter/schema.py) have their rules below; every other field is text kept
    as written (schema.AS_WRITTEN). The destination stays unmasked in the stage (memory only).
    """

    def __init__(self, fields: dict[str, FieldSpec], zone: str, region: str, known_hashes: list[int]) -> None:
        self.fields, self.zone, self.region = fields, zone, region
        self.known_hashes = known_hashes  # DuckDB hash() of exact spellings that need no raw text kept
        # Every channel spelling of the source is known (found by channel_texts): the raw text is then
        # kept for bad rows only, without a test per row.
        self.every_channel_known = False
        self.present = frozenset(n for n in schema.AS_WRITTEN if n in fields)
        # DuckDB's CSV reader already reads an empty field as NULL: no NULLIF/TRIM pass needed.
        self.empty_is_null = False
        self.conflicts: list[str] = []  # SQL, true where two spellings of one key disagree
        self.read: frozenset[str] = frozenset()  # the source's column names or keys the fields read

    def channel_texts(self, con: duckdb.DuckDBPyConnection, scan: str) -> list[str] | None:
        """The distinct channel spellings of `scan` as the stage will hold them (a cheap query where
        the source is columnar: 0.05 s at 10M Parquet rows), and every_channel_known set from them:
        one test per file instead of one per row (0.5 s). None past _SPELLINGS_TESTED of them
        (hostile or broken input): the per-row test decides, and the stage is asked for them later."""
        chan = self.fields.get("channel", FieldSpec("CAST(NULL AS VARCHAR)"))
        rows = con.execute(
            f"SELECT DISTINCT {mapping.text(chan.expr, chan.dtype, trim=False)} FROM {scan} "
            f"LIMIT {_SPELLINGS_TESTED + 1}"
        ).fetchall()
        if len(rows) > _SPELLINGS_TESTED:
            return None
        texts = [t for (t,) in rows if t is not None]
        self.every_channel_known = all(channel_key(t) is not None for t in texts)
        return texts

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
            *[f"{text(f[n], trim=False)} AS __c_{n}" for n in schema.AS_WRITTEN if n in f],
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
        keep_raw = "__c_reason IS NOT NULL"
        if not self.every_channel_known:
            known = ", ".join(map(str, self.known_hashes))
            keep_raw += f" OR hash(__c_channel_text) NOT IN ({known})"
        kept = [
            "__c_event_time",
            "__c_status_code",
            "__c_channel_text",
            "__c_region",
            "__c_message_id",
            *[f"__c_{n}" for n in sorted(self.present)],
        ]
        # Every field but the channel (whose spelling may differ between copies of one event), in a
        # fixed order with NULL for absent fields, so equal events hash alike whatever file holds them.
        hashed = ", ".join(
            f"__c_{n}" if n in self.present else "CAST(NULL AS VARCHAR)" for n in schema.AS_WRITTEN
        )
        inner = f"SELECT *, {', '.join(self._columns())}, {ordinal} AS __c_ordinal FROM {scan}"
        return (
            f"SELECT {', '.join(kept)}, __c_ordinal, __c_reason, "
            f"hash(__c_event_time, __c_status_code, __c_region, __c_message_id, {hashed}) AS __c_hash, "
            f"CASE WHEN {keep_raw} THEN {raw} END AS __c_raw "
            f"FROM (SELECT *, {reason} AS __c_reason FROM ({inner}))"
        )
