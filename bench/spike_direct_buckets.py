"""Spike, not a step of reporter: what ingest writing the bucket files straight from a Parquet input
would cost, against today's stage table then bucket files (bench/RESULTS.md, sixth session).

    python bench/spike_direct_buckets.py INPUT.parquet SCRATCH_DIR MEMORY_LIMIT BUCKETS [one|all]

Builds reporter's own stage query for the file (reporter.ingest's spec maker, the same SQL as
parquet_reader, with file_row_number as the ordinal instead of the stage's rowid), writes its rows
straight into BUCKETS Parquet files by a hash of the message key, then times in one bucket (or all)
what would move there: the quarantine's rows, the repeated row hashes of the duplicate check and
event_groups. Prints each statement's seconds, CPU seconds, page faults and disk traffic.
SCRATCH_DIR is removed.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from profile_run import Usage  # bench/, beside this script: CPU, page faults and disk traffic

from reporter import schema
from reporter.engine import connect, quote_ident, quote_literal
from reporter.ingest.parquet_reader import parquet_schema
from reporter.ingest.pipeline import IngestOptions, _create_tables, _Ingest
from reporter.ingest.sources import detect
from reporter.ingest.stage import source_column


def timed(con: Any, name: str, sql: str) -> None:
    start, before = time.perf_counter(), Usage.now()
    rows = con.execute(sql).fetchall()
    used = Usage.now() - before
    print(f"{name:32s} {time.perf_counter() - start:7.1f} s, {used}  {rows[0] if rows else ''}", flush=True)


def main() -> None:
    path, out, limit, buckets = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    every = len(sys.argv) > 5 and sys.argv[5] == "all"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = connect(memory_limit=limit, temp_directory=out / "spill")
    _create_tables(con)
    ingest = _Ingest(con, IngestOptions(fields=frozenset(schema.MESSAGE_FIELDS)))
    source = detect(path)
    columns = parquet_schema(con, source)
    specs = ingest.spec_maker(source)(columns, False, False)
    names = list(columns)
    renamed = ", ".join(f"{quote_ident(c)} AS {source_column(i)}" for i, c in enumerate(names))
    file = quote_literal(str(path))
    scan = f"(SELECT {renamed}, file_row_number AS __ord FROM read_parquet({file}, file_row_number = true))"
    packed = ", ".join(f"{quote_ident(c)} := {source_column(i)}" for i, c in enumerate(names))
    specs.channel_texts(con, scan)
    select = specs.select(scan, f"CAST(struct_pack({packed}) AS VARCHAR)", "__ord + 1")
    key = f"CASE WHEN __c_message_id IS NULL THEN hash(__c_ordinal) ELSE hash(__c_message_id) END % {buckets}"
    con.execute("SET partitioned_write_flush_threshold = 16384")
    timed(
        con,
        "stage -> bucket files",
        f"COPY (SELECT *, CAST({key} AS INTEGER) AS bucket FROM ({select})) "
        f"TO {quote_literal(str(out / 'b'))} "
        "(FORMAT parquet, PARTITION_BY (bucket), COMPRESSION uncompressed, DICTIONARY_SIZE_LIMIT 1, "
        "ROW_GROUP_SIZE 16384)",
    )
    folders = sorted((out / "b").iterdir())
    for folder in folders if every else folders[:1]:
        files = f"read_parquet({quote_literal(str(folder / '*.parquet'))})"
        timed(con, f"{folder.name} quarantine", f"SELECT count(*) FROM {files} WHERE __c_reason IS NOT NULL")
        timed(
            con,
            f"{folder.name} repeated hashes",
            f"SELECT count(*) FROM (SELECT __c_hash FROM {files} WHERE __c_reason IS NULL "
            "GROUP BY ALL HAVING count(*) > 1)",
        )
        timed(
            con,
            f"{folder.name} event groups",
            "SELECT count(*) FROM (SELECT CAST(__c_event_time AS DATE), date_part('hour', __c_event_time), "
            "__c_channel_text, __c_region, __c_status_code, count(*), max(__c_event_time) "
            f"FROM {files} WHERE __c_reason IS NULL GROUP BY ALL)",
        )
    con.close()
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
