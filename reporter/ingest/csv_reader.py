"""CSV: DuckDB's reader with `store_rejects` and a pinned dialect, so structural errors are recorded
and never drop good rows; a file DuckDB's strict parser refuses is read from a repaired copy."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import duckdb

from reporter.engine import insert_rows, quote_literal
from reporter.ingest.content import MAX_RECORD, Discard
from reporter.ingest.csv_lines import LineBreakRepair, repair_line_breaks
from reporter.ingest.sources import Source
from reporter.ingest.stage import (
    NEWLINE_OPTION,
    SpecMaker,
    Staged,
    StageSpecs,
    collect_rejects,
    copy_source,
    drop_rejects,
    reject_table,
    source_column,
)


def _csv_options(source: Source, columns: dict[str, str], rejects: str) -> str:
    assert source.dialect is not None
    cols = "{" + ", ".join(f"{quote_literal(n)}: {quote_literal(t)}" for n, t in columns.items()) + "}"
    options = [
        "auto_detect = false",
        f"delim = {quote_literal(source.dialect.delimiter)}",
        "quote = '\"'",
        "escape = '\"'",
        f"new_line = {quote_literal(NEWLINE_OPTION[source.dialect.newline])}",
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


def stage_csv(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
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
        drop_rejects(con, table + "_rej")
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
    collect_rejects(con, table + "_rej", rejects)
    return Staged(table, header_lines=1, rejects=rejects, present=specs.present)


def _stage_repaired(con: duckdb.DuckDBPyConnection, source: Source, table: str, specs: StageSpecs) -> Staged:
    """Stage a copy of the file whose line breaks outside quotes all have the dialect's form.

    A record with a lone CR outside quotes is quarantined as malformed_row (an empty line in the copy);
    every other record reads exactly as it would from a clean file, with the same line numbers.
    The copy is written beside DuckDB's spill files (or the system's temporary folder) and removed.
    """
    dialect = source.dialect
    assert dialect is not None
    repair = LineBreakRepair(sink=_line_sink(con, table))
    with copy_source(
        con,
        "repaired.csv",
        lambda out: repair_line_breaks(source.path, source.compression, dialect, out, repair),
    ) as path:
        staged = _read_csv(con, dataclasses.replace(source, path=path, compression=None), table, specs)
    con.execute(f"INSERT INTO {staged.rejects} SELECT * FROM {table}_malformed")
    con.execute(f"DROP TABLE {table}_malformed")
    staged.blanks = table + "_blanks"
    return staged


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
