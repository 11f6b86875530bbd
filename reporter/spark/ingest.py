"""Ingest on Spark: each input file is read by reporter's own ingest (DuckDB) in an executor task.

The row rules (formats, fields, quarantine reasons, line numbers, masking of raw text) are the
DuckDB ingest's, run as they are on one file per task: no second copy of them exists. What needs
every file at once is done here: a Parquet file whose field types differ from the run's first
Parquet file is quarantined whole (`schema_changed`), and exact duplicates across files are dropped
by a shuffle on the event's fields, counted against the later file as in the DuckDB path.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reporter import schema
from reporter.engine import connect
from reporter.ingest import (
    EVENT_COLUMNS,
    FileStats,
    IngestOptions,
    IngestResult,
    ingest,
    pipeline,
    readers,
    sources,
)
from reporter.ingest.results import reconciled
from reporter.ingest.sources import InputFinding
from reporter.spark.inputs import RemoteFile, local_name

# One row type for what a task returns: events (kind 'e'), quarantine rows ('q'), the file's stats ('s').
_ARROW_TYPES = {"TIMESTAMPTZ": pa.timestamp("us", tz="UTC"), "BIGINT": pa.int64(), "VARCHAR": pa.string()}
TASK_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("source_index", pa.int32()),
        ("source_line", pa.int64()),
        *[(f.name, _ARROW_TYPES[f.type]) for f in schema.FIELDS],  # the canonical event (EVENT_COLUMNS)
        ("q_file", pa.string()),
        ("q_reason", pa.string()),
        ("q_detail", pa.string()),
        ("q_raw", pa.string()),
        ("q_rows", pa.int64()),
    ]
)
_BATCH_ROWS = 100_000


def _task_sql(index: int) -> str:
    """Events, then quarantine rows, of the file just ingested, in TASK_SCHEMA's column order."""
    nulls = ", ".join(f"NULL AS {c}" for c in ("q_file", "q_reason", "q_detail", "q_raw", "q_rows"))
    events = ", ".join(EVENT_COLUMNS)
    empty = ", ".join(f"NULL AS {c}" for c in EVENT_COLUMNS)
    return (
        f"SELECT 'e' AS kind, {index} AS source_index, source_line, {events}, {nulls} FROM events "
        f"UNION ALL SELECT 'q', {index}, line, {empty}, file, reason, detail, raw, rows FROM quarantine"
    )


def ingest_one(
    index: int, path: str, options: IngestOptions, memory: str, name: str | None = None
) -> Iterator[pa.RecordBatch]:
    """Run reporter's ingest on one file; yield its events, quarantine rows and stats (last).

    The stats row's q_detail is JSON: the file's FileStats (None when the file could not even be
    opened: then a finding says why), the findings, and the Parquet schema for the run-wide check.
    `name`: what outputs call the file when `path` is a task-local copy of it (a URI's file).
    """
    spill = Path(tempfile.mkdtemp(prefix="reporter-spark-"))
    con = connect(memory_limit=memory, threads=1, temp_directory=spill)
    renamed = _renamer(path, name)
    try:
        result = ingest(con, [path], options)
        reader = con.sql(_task_sql(index)).to_arrow_reader(_BATCH_ROWS)
        for batch in reader:
            yield pa.RecordBatch.from_arrays(
                [renamed(f.name, batch.column(i).cast(f.type)) for i, f in enumerate(TASK_SCHEMA)],
                schema=TASK_SCHEMA,
            )
        file = result.files[0] if result.files else None
        stats = {
            "stats": asdict(file) | {"path": name or path} if file else None,
            "findings": [_named(asdict(f), path, name) for f in result.findings],
            "parquet_schema": _parquet_schema(con, file) if file else None,
        }
        row = {f.name: [None] for f in TASK_SCHEMA} | {
            "kind": ["s"],
            "source_index": [index],
            "q_detail": [json.dumps(stats)],
        }
        yield pa.RecordBatch.from_pydict(row, schema=TASK_SCHEMA)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _named(finding: dict[str, Any], path: str, name: str | None) -> dict[str, Any]:
    if name is None:
        return finding
    return finding | {"path": name, "problem": finding["problem"].replace(path, name)}


def _renamer(path: str, name: str | None) -> Any:
    """(column name, array) -> array with the local copy's path replaced by `name` in q_file, q_detail."""

    def rename(column: str, array: pa.Array) -> pa.Array:
        if name is None or column not in ("q_file", "q_detail"):
            return array
        return pc.replace_substring(array, path, name)

    return rename


def _parquet_schema(con: duckdb.DuckDBPyConnection, stats: FileStats) -> dict[str, str] | None:
    """The file's column types, for the run-wide schema check (Parquet files that read at all)."""
    if stats.format != "parquet":
        return None
    try:
        return readers.parquet_schema(con, sources.Source(path=Path(stats.path)))
    except duckdb.Error:
        return None


def task(options: IngestOptions, memory: str) -> Any:
    """The function mapInArrow runs on each partition of (source_index, path) rows."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index, path in zip(batch["source_index"].to_pylist(), batch["path"].to_pylist(), strict=True):
                yield from ingest_one(index, path, options, memory)

    return run


def remote_task(options: IngestOptions, memory: str, files: dict[str, tuple[int, str]]) -> Any:
    """mapInArrow over binaryFile's (path, content) rows: each file copied to a task-local folder
    (its name kept: the suffixes tell the format), ingested there, named as the user named it."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for row, uri in enumerate(batch["path"].to_pylist()):
                index, name = files[uri]
                folder = Path(tempfile.mkdtemp(prefix="reporter-spark-input-"))
                try:
                    local = folder / local_name(name)
                    local.write_bytes(batch["content"][row].as_buffer())
                    yield from ingest_one(index, str(local), options, memory, name)
                finally:
                    shutil.rmtree(folder, ignore_errors=True)

    return run


def read_files(
    spark: Any, paths: list[Path], remote: list[RemoteFile], options: IngestOptions, memory: str
) -> Any:
    """Every file through `ingest_one`, one task per local file (a URI's files: as binaryFile splits
    them); the result is persisted (it is read thrice). Remote files are numbered after local ones."""
    from pyspark import StorageLevel
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = from_arrow_schema(TASK_SCHEMA)
    listed = [(i, str(p)) for i, p in enumerate(paths)]
    # parallelize slices a list evenly: one file per task (a hash repartition would pair some up).
    files = spark.sparkContext.parallelize(listed, max(len(listed), 1)).toDF("source_index INT, path STRING")
    rows = files.mapInArrow(task(options, memory), schema)
    if remote:
        numbered = {f.uri: (len(paths) + i, f.name) for i, f in enumerate(remote)}
        content = spark.read.format("binaryFile").load([f.uri for f in remote]).select("path", "content")
        rows = rows.unionByName(content.mapInArrow(remote_task(options, memory, numbered), schema))
    return rows.persist(StorageLevel.MEMORY_AND_DISK)


def file_stats(
    con: duckdb.DuckDBPyConnection, rows: Any, options: IngestOptions, findings: list[InputFinding]
) -> tuple[dict[int, FileStats], dict[int, str]]:
    """Each file's stats by input index, with the run-wide Parquet schema check applied.

    Returns the stats and, by file index, how the schema of a file quarantined whole changed.
    Adds the tasks' findings (files that could not be opened) to `findings`.
    """
    collected = rows.where("kind = 's'").select("source_index", "q_detail").collect()
    by_index = {r.source_index: json.loads(r.q_detail) for r in collected}
    check = pipeline._Ingest(con, options)  # the DuckDB path's own schema comparison
    files: dict[int, FileStats] = {}
    changed: dict[int, str] = {}
    for index in sorted(by_index):
        data = by_index[index]
        findings.extend(InputFinding(**f) for f in data["findings"])
        if data["stats"] is None:
            continue
        schema = data["parquet_schema"]
        stats = FileStats(**data["stats"])
        difference = check.schema_change(schema) if schema is not None else None
        if difference:
            stats = FileStats(stats.path, stats.format, stats.size, stats.sha256, stats.compression)
            stats.rows_read = stats.quarantined = data["stats"]["rows_read"]
            stats.whole_file = "schema_changed"
            changed[index] = difference
        files[index] = stats
    return files, changed


def quarantine_table(
    con: duckdb.DuckDBPyConnection, rows: Any, files: dict[int, FileStats], changed: dict[int, str]
) -> None:
    """`quarantine` on the driver's connection, in input order (as the DuckDB path fills it)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE quarantine (file VARCHAR, line BIGINT, reason VARCHAR, detail VARCHAR, "
        "raw VARCHAR, rows BIGINT)"
    )
    columns = ("source_index", "source_line", "q_file", "q_reason", "q_detail", "q_raw", "q_rows")
    con.register("q_arrow", rows.where("kind = 'q'").select(*columns).toArrow())
    con.execute(
        "INSERT INTO quarantine SELECT q_file, source_line, q_reason, q_detail, q_raw, q_rows FROM q_arrow "
        "WHERE NOT list_contains(?::INTEGER[], source_index) "
        "ORDER BY source_index, source_line NULLS FIRST, q_reason",
        [sorted(changed)],
    )
    con.unregister("q_arrow")
    for index, detail in sorted(changed.items()):
        con.execute(
            "INSERT INTO quarantine VALUES (?, NULL, 'schema_changed', ?, NULL, ?)",
            [files[index].path, detail, files[index].rows_read],
        )


def deduplicate(rows: Any, files: dict[int, FileStats], changed: dict[int, str]) -> Any:
    """The unique events across files: later copies of an exact duplicate are dropped and counted.

    Each task already dropped the duplicates inside its file; a window over the event's fields,
    ordered by (file, line), finds the copies in later files. Updates each file's counts.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    events = rows.where("kind = 'e'").select("source_index", "source_line", *EVENT_COLUMNS)
    if changed:
        events = events.where(~F.col("source_index").isin(sorted(changed)))
    window = Window.partitionBy(*EVENT_COLUMNS).orderBy("source_index", "source_line")
    numbered = events.withColumn("__n", F.row_number().over(window))
    later = dict(numbered.where("__n > 1").groupBy("source_index").count().collect())
    for index, stats in files.items():
        stats.duplicates += int(later.get(index, 0))
        stats.unique = stats.accepted - stats.duplicates
    return numbered.where("__n = 1").drop("__n")


def result_of(
    con: duckdb.DuckDBPyConnection, by_index: dict[int, FileStats], findings: list[InputFinding]
) -> IngestResult:
    """The IngestResult, reconciled per file as the DuckDB path does (files in input order)."""
    return reconciled(con, [by_index[i] for i in sorted(by_index)], findings)
