"""DuckDB connections, each with the same settings: UTC, bounded memory, bounded threads."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import polars as pl


def connect(
    database: str | Path = ":memory:",
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_directory: Path | None = None,
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    """A connection with the session settings every step relies on."""
    con = duckdb.connect(str(database), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
    con.execute("SET enable_progress_bar = false")  # a cron run prints nothing on success
    # Every connection is bounded: the default is the README's (half the RAM), not DuckDB's 80%.
    con.execute("SET memory_limit = ?", [memory_limit or default_memory_limit()])
    # DuckDB's blocks come from one mapping, made once and kept for the connection, as large as the
    # limit: a block freed by one query is reused by the next instead of going back to the system
    # and being faulted in again (page faults were a sixth of a 10M run's CPU). Released on close.
    # DuckDB maps at most about 80% of the RAM: above that, blocks come from its usual allocator.
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET block_allocator_memory = '100%'")
    if temp_directory is not None:
        con.execute("SET temp_directory = ?", [str(temp_directory)])
    return con


DEFAULT_MEMORY_SHARE = 0.5  # of physical RAM, when neither --memory-limit nor the config sets one
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(%|[kmgt]i?b)", re.IGNORECASE)
_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {u[0] + "ib": 2 ** (10 * (i + 1)) for i, u in enumerate(_UNITS)}


def physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_limit(text: str | None = None) -> str:
    """DuckDB's memory_limit from a size ("3GB", "512MiB") or a share of the RAM ("25%").

    None gives the default share. DuckDB spills past the limit into its temp_directory.
    Raises ValueError naming the accepted forms.
    """
    if text is None:
        return f"{int(physical_memory() * DEFAULT_MEMORY_SHARE) // 10**6}MB"
    match = _SIZE.fullmatch(text.strip())
    if not match or float(match[1]) <= 0 or (match[2] == "%" and float(match[1]) > 100):
        raise ValueError(
            f"memory limit {text!r} is not a size such as 3GB or 512MiB, nor a share such as 25%"
        )
    amount, unit = float(match[1]), match[2].lower()
    size = physical_memory() * amount / 100 if unit == "%" else amount * _UNITS[unit]
    return f"{max(int(size) // 10**6, 1)}MB"


def default_memory_limit() -> str:
    return memory_limit(None)


def size_bytes(limit: str) -> int:
    """Bytes of a memory_limit() value ("<n>MB")."""
    return int(limit.removesuffix("MB")) * 10**6


def limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's memory_limit in bytes (DuckDB reads it back as e.g. "2.7 GiB")."""
    setting = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    return size_bytes(memory_limit(str(setting)))


@contextlib.contextmanager
def spill_folder(out: Path) -> Iterator[Path]:
    """A temporary folder beside `out` for DuckDB to spill into; removed afterwards (swept if killed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.spill.", suffix=".tmp", dir=out.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB (the one place identifiers enter SQL text)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for DuckDB table-function options that take no parameters."""
    return "'" + value.replace("'", "''") + "'"


def copy_buckets(con: duckdb.DuckDBPyConnection, select: str, folder: Path) -> int:
    """`select`'s rows (with an INTEGER column `bucket`) into folder/bucket=<b>/*.parquet, in one
    scan; returns the rows written. The files are uncompressed and without dictionaries, the
    cheapest to write and read back (reporter/buckets.py), in Parquet's version 2 encodings: the
    strings without a length before each, the integers as packed deltas (a bucket file's ordinals
    and times follow the input's order). At 100M events that is 11.0 GB written instead of 14.8, no
    slower to write or read, and the page cache keeps them: 0.03-0.4 GB read back from the disk
    instead of 2.6 (bench/RESULTS.md, 2026-12-01 12:50).

    Small row groups and an early flush keep the writer's buffers (one per open bucket file and
    thread) well under the memory limit. Where the events have spilled, the buffers compete with
    them: at 20M events in 20 buckets under 600 MB, flushing every 16,384 rows took 18 s and 30 CPU-s,
    every 131,072 rows 27-30 s and 48-54 CPU-s (the same events from a table under 3 GB, with
    nothing else in memory: 14 s either way).
    """
    threshold = con.execute("SELECT current_setting('partitioned_write_flush_threshold')").fetchall()[0][0]
    con.execute(f"SET partitioned_write_flush_threshold = {_FLUSH_ROWS}")
    try:
        written = con.execute(
            f"COPY ({select}) TO {quote_literal(str(folder))} (FORMAT parquet, PARTITION_BY (bucket), "
            "PARQUET_VERSION V2, COMPRESSION uncompressed, DICTIONARY_SIZE_LIMIT 1, "
            f"ROW_GROUP_SIZE {_FLUSH_ROWS})"
        ).fetchall()
    finally:
        con.execute(f"SET partitioned_write_flush_threshold = {int(threshold)}")
    return int(written[0][0]) if written else 0


_FLUSH_ROWS = 16_384


class ArrowStream:
    """A Polars frame for `con.register` as an Arrow C stream, exported afresh for every scan. DuckDB
    reads a registered Polars frame itself through `frame.to_arrow()`, which loads pyarrow (38 MB
    resident): the heavy part of a run never needs it
    (test_run::test_the_heavy_part_loads_neither_pyarrow_nor_matplotlib).

    A column of None only (Polars' Null type, exported without a validity bitmap) goes as strings:
    DuckDB 2.0 refuses the Null type's stream, and casts the NULL strings to the column they fill."""

    def __init__(self, frame: pl.DataFrame) -> None:
        import polars as pl

        self.frame = frame.with_columns(pl.col(pl.Null).cast(pl.String))

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.frame.__arrow_c_stream__(requested_schema)


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[list[object]]
) -> None:
    """Append rows to a table in one statement (executemany runs one statement per row).

    The rows go through a Polars frame: building an Arrow table from Python lists makes pyarrow
    import pandas when it is installed (it is with the `spark` extra), 1.4 s of every run's start.
    """
    if not rows:
        return
    import polars as pl

    data = pl.DataFrame({c: [r[i] for r in rows] for i, c in enumerate(columns)}, strict=False)
    con.register("__insert_rows", ArrowStream(data))
    try:
        con.execute(
            f"INSERT INTO {quote_ident(table)} ({', '.join(quote_ident(c) for c in columns)}) "
            f"SELECT * FROM __insert_rows"
        )
    finally:
        con.unregister("__insert_rows")
