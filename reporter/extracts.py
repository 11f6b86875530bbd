"""Atomic writers for extracts (Parquet via DuckDB COPY) and the manifest."""

from __future__ import annotations

import datetime as dt
import json
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from reporter import __version__, privacy
from reporter.engine import ArrowStream, quote_literal
from reporter.fsio import atomic_dir, atomic_path, write_text
from reporter.ingest import IngestResult


def copy_parquet(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """Write a query's result as Parquet at `path`, atomically; an empty result keeps its schema."""
    with atomic_path(path) as tmp:
        con.execute(f"COPY ({query}) TO {quote_literal(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")


def write_ingest_extracts(con: duckdb.DuckDBPyConnection, out: Path, hmac_key: bytes | None) -> None:
    """extracts/events.parquet (input order) and extracts/quarantine.parquet.

    Reads ingest's `events`, `ingest_files` and `quarantine`; the destination leaves masked (privacy.py).
    """
    copy_parquet(
        con,
        "SELECT e.* EXCLUDE (source_index), f.path AS source_file "
        f"FROM ({privacy.public('SELECT * FROM events', hmac_key)}) e "
        "JOIN ingest_files f ON f.source_index = e.source_index ORDER BY e.source_index, e.source_line",
        out / "extracts" / "events.parquet",
    )
    copy_parquet(
        con,
        "SELECT * FROM quarantine ORDER BY file, line NULLS FIRST",
        out / "extracts" / "quarantine.parquet",
    )


def manifest(result: IngestResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """inputs (path, size, sha256, format, counts), reconciliation, versions."""
    totals = result.totals()
    return {
        "reporter_version": __version__,
        "versions": {
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "polars": pl.__version__,
        },
        "inputs": [asdict(f) for f in result.files],
        "input_findings": [asdict(f) for f in result.findings],  # links not followed, unreadable paths
        "reconciliation": {
            **totals,
            "quarantine_reasons": result.reasons,
            "balanced": totals["rows_read"] == totals["accepted"] + totals["quarantined"]
            and totals["accepted"] == totals["unique"] + totals["duplicates"],
        },
        **(extra or {}),
    }


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_messages(con: duckdb.DuckDBPyConnection, folder: Path, empty_date: dt.date | None = None) -> None:
    """extracts/messages/date=YYYY-MM-DD/data_0.parquet, built under a temporary name, then renamed."""
    with atomic_dir(folder) as tmp:
        if not write_message_dates(con, tmp):
            write_empty_messages(con, tmp, empty_date)


def write_message_dates(con: duckdb.DuckDBPyConnection, folder: Path, part: int = 0) -> int:
    """The `messages` view into folder/date=YYYY-MM-DD/data_<part>.parquet; return the files written.

    One COPY per date, ordered by the input position of each message's first event (unique), so
    re-runs are byte-identical: PARTITION_BY would interleave threads. The destination is already
    masked in the view (outcomes.py).
    """
    dates = [d for (d,) in con.execute("SELECT DISTINCT date FROM message_base ORDER BY date").fetchall()]
    for day in dates:
        target = folder / f"date={day.isoformat()}"
        target.mkdir(exist_ok=True)
        con.execute(
            "COPY (SELECT * EXCLUDE (date, first_src) FROM messages_public WHERE date = ? "
            "ORDER BY first_src) "
            f"TO {quote_literal(str(target / f'data_{part}.parquet'))} "
            # zstd level 1: 20% faster to write than the default level 3, and no larger here.
            "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)",
            [day],
        )
    return len(dates)


def write_empty_messages(con: duckdb.DuckDBPyConnection, folder: Path, day: dt.date | None) -> None:
    """No messages: still one valid, empty file (with its schema), so readers and globs find one."""
    target = folder / f"date={(day or dt.date(1970, 1, 1)).isoformat()}"
    target.mkdir()
    con.execute(
        "COPY (SELECT * EXCLUDE (date, first_src) FROM messages_public LIMIT 0) "
        f"TO {quote_literal(str(target / 'data_0.parquet'))} "
        "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
    )


def register_inputs(con: duckdb.DuckDBPyConnection, result: IngestResult) -> None:
    """`inputs`: one row per input file with its reconciliation figures."""
    frame = pl.DataFrame([asdict(f) for f in result.files], schema=INPUT_SCHEMA)
    con.register("inputs_df", ArrowStream(frame))
    con.execute("CREATE OR REPLACE TEMP TABLE inputs AS SELECT * FROM inputs_df")
    con.unregister("inputs_df")


INPUT_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String(),
    "format": pl.String(),
    "size": pl.Int64(),
    "sha256": pl.String(),
    "compression": pl.String(),
    "webhook": pl.Boolean(),
    "rows_read": pl.Int64(),
    "accepted": pl.Int64(),
    "quarantined": pl.Int64(),
    "unique": pl.Int64(),
    "duplicates": pl.Int64(),
    "whole_file": pl.String(),
}
