"""Parquet: DuckDB reads the file with its own types; values that do not fit are that row's."""

from __future__ import annotations

import duckdb

from reporter.engine import quote_ident, quote_literal
from reporter.ingest.sources import (
    Source,
)
from reporter.ingest.stage import (
    SpecMaker,
    Staged,
    reject_table,
    source_column,
)


def parquet_schema(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({quote_literal(str(source.path))})").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def stage_parquet(con: duckdb.DuckDBPyConnection, source: Source, table: str, make: SpecMaker) -> Staged:
    schema = parquet_schema(con, source)
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
    texts = specs.channel_texts(con, scan)
    con.execute(f"CREATE TEMP TABLE {table} AS {specs.select(scan, raw, 'CAST(NULL AS BIGINT)')}")
    rejects = reject_table(con, table + "_rejects")
    return Staged(table, 0, rejects, present=specs.present, channel_texts=texts)
