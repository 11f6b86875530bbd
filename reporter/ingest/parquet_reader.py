"""Parquet: DuckDB reads the file with its own types; values that do not fit are that row's."""

from __future__ import annotations

from pathlib import Path

import duckdb

from reporter.engine import copy_buckets, quote_ident, quote_literal
from reporter.ingest.sources import (
    Source,
)
from reporter.ingest.stage import (
    SpecMaker,
    Staged,
    StageSpecs,
    reject_table,
    source_column,
)


def parquet_schema(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({quote_literal(str(source.path))})").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def stage_parquet(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
    # The stage keeps the file's row order (insertion order is preserved), so its rowid is the
    # record's ordinal: reading file_row_number instead doubled the time of a bare read.
    specs, texts, select = _stage_query(con, source, make, numbered=False)
    con.execute(f"CREATE TEMP TABLE {table} AS {select}")
    rejects = reject_table(con, table + "_rejects")
    return Staged(table, 0, rejects, present=specs.present, channel_texts=texts)


def bucket_parquet(
    con: duckdb.DuckDBPyConnection, source: Source, folder: Path, make: SpecMaker, buckets: int
) -> tuple[Staged, int]:
    """The stage's rows written straight into `buckets` files under folder/bucket=<b>/, by a hash of
    the message key, instead of a table in memory (inputs past the memory limit: reporter/ingest/
    bucketed.py). An event without a message id goes by its row hash, so exact duplicates still
    share a bucket. The ordinal is the file's row number (a bucket holds some of its rows). Returns
    the stage's description (its table: a scan of the bucket files, bucketed.py) and the rows written."""
    specs, texts, select = _stage_query(con, source, make, numbered=True)
    key = "CASE WHEN __c_message_id IS NULL THEN __c_hash ELSE hash(__c_message_id) END"
    written = copy_buckets(
        con, f"SELECT *, CAST({key} % {buckets} AS INTEGER) AS bucket FROM ({select})", folder
    )
    staged = Staged("", 0, "", ordinal_from_rowid=False, present=specs.present, channel_texts=texts)
    return staged, written


def _stage_query(
    con: duckdb.DuckDBPyConnection, source: Source, make: SpecMaker, numbered: bool
) -> tuple[StageSpecs, list[str] | None, str]:
    """The file's stage query, its specs and channel spellings. `numbered`: the ordinal is the
    file's row number (read_parquet's file_row_number), else NULL (the stage's rowid is)."""
    schema = parquet_schema(con, source)
    specs = make(schema, False, False)
    columns = list(schema)
    renamed = ", ".join(f"{quote_ident(c)} AS {source_column(i)}" for i, c in enumerate(columns))
    path = quote_literal(str(source.path))
    numbering = ", file_row_number AS __c_row" if numbered else ""
    option = ", file_row_number = true" if numbered else ""
    scan = f"(SELECT {renamed}{numbering} FROM read_parquet({path}{option}))"
    texts = specs.channel_texts(con, scan)
    # A row's raw text (kept for the quarantine): its columns as a struct, cast to text.
    packed = ", ".join(f"{quote_ident(c)} := {source_column(i)}" for i, c in enumerate(columns))
    raw = f"CAST(struct_pack({packed}) AS VARCHAR)"
    return specs, texts, specs.select(scan, raw, "__c_row + 1" if numbered else "CAST(NULL AS BIGINT)")
