"""Ingest past the memory limit: Parquet inputs written straight into bucket files, then read back
one bucket at a time.

When every input is Parquet and their rows exceed what the memory limit builds at once
(reporter/buckets.py's bucket_count), each file's stage (the same query as parquet_reader's, with
the file's row number as the ordinal) is written into bucket files by a hash of the message key
instead of a stage table: nothing spills, and the events are not copied again before they are
bucketed. An event without a message id goes by its row hash. Each file's bad rows are then
quarantined and its figures counted from its bucket files, as ingest does from a stage table. The
exact duplicates are found per bucket (a copy has its original's message key, or row hash, so its
bucket) and left out of `events` by their input position; the files are read where they lie, never
copied into a table.

At 100M events under 3 GB: staging into a table, reading it back (duplicate check, event groups),
writing the bucket files and dropping the table took 102 s; writing the bucket files straight from
the input, 44 s, and the whole run 220 s against 263 s (bench/RESULTS.md, 2026-12-01).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import duckdb

from reporter import schema
from reporter.engine import quote_literal
from reporter.ingest.dedup import bucket_events, drop_events, find_duplicates
from reporter.ingest.pipeline import IngestOptions, _Ingest, _utf8, bucket_folder, finish, read_inputs
from reporter.ingest.results import FileStats, IngestResult, reconciled
from reporter.ingest.sources import PARQUET_MAGIC, InputFinding


class BucketedIngest:
    """The inputs in bucket files: `each()` leaves one bucket's `events` on the connection at a time
    (as ingest does for all of them), `result()` reconciles once every bucket has been read."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        run: _Ingest,
        files: list[FileStats],
        findings: list[InputFinding],
    ) -> None:
        assert run.buckets is not None
        self.con, self.run, self.files, self.findings = con, run, files, findings
        self.buckets, self.folder = run.buckets

    def latest_event_time(self) -> dt.datetime | None:
        """The latest time of an accepted event (outcomes' as-of time, needed before the first bucket).

        Read from the bucket files' good rows by channel spelling, kept where channel_map (which
        ingest filled from every file, and `events` joins) maps the spelling to a channel; the
        rows of the others are unknown_channel, never events."""
        if not self.run.bucketed:
            return None
        value = self.con.execute(
            "SELECT max(t) FROM (SELECT __c_channel_text AS text, max(__c_event_time) AS t "
            f"FROM read_parquet({self._every_file()}) WHERE __c_reason IS NULL GROUP BY ALL) "
            "JOIN channel_map USING (text) WHERE channel IS NOT NULL"
        ).fetchall()[0][0]
        return value if isinstance(value, dt.datetime) else None

    def each(self) -> Iterator[int]:
        """For each bucket: `events` over its files, its exact duplicates left out (and counted in
        each file's figures); after the caller's work, dropped with the bucket's files. At least one
        bucket, empty if no file wrote a row, so the caller's tables always exist."""
        staged = 0
        for bucket in range(self.buckets):
            if self._events(bucket):
                staged += 1
                yield bucket
                drop_events(self.con)
            for index in self.run.bucketed:
                shutil.rmtree(bucket_folder(self.folder, index) / f"bucket={bucket}", ignore_errors=True)
        if not staged:  # no file wrote a row (every one quarantined whole): one empty bucket
            bucket_events(self.con, [], frozenset())
            yield 0
            drop_events(self.con)

    def result(self) -> IngestResult:
        """The reconciliation, once every bucket has been read."""
        for index in self.run.bucketed:
            stats = self.files[index]
            stats.unique = stats.accepted - stats.duplicates
        shutil.rmtree(self.folder, ignore_errors=True)
        # In the order ingest() leaves it (by file, then line), not the buckets' order.
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE quarantine AS SELECT q.* FROM quarantine q "
            "LEFT JOIN ingest_files f ON f.path = q.file ORDER BY f.source_index, q.line NULLS FIRST"
        )
        return reconciled(self.con, self.files, self.findings)

    def _events(self, bucket: int) -> bool:
        """`events` over the bucket's files, without the later copies; False if it has no files.

        The files are read where they lie, never copied into a table: the later copies are found
        (dedup.find_duplicates: a GROUP BY of the row hashes, then the repeated ones compared column
        by column) and left out of `events` by their input position."""
        accepted, globs = [], []
        for index, whole in self.run.bucketed.items():
            folder = bucket_folder(self.folder, index) / f"bucket={bucket}"
            if folder.is_dir():
                globs.append(quote_literal(str(folder / "*.parquet")))
                accepted.append(replace(whole, table=f"read_parquet({globs[-1]}, hive_partitioning = false)"))
        if not accepted:
            return False
        count = f"SELECT count(*) FROM read_parquet([{', '.join(globs)}])"  # from the footers
        written = int(self.con.execute(count).fetchall()[0][0])
        for index, later in find_duplicates(self.con, accepted, written).items():
            self.files[index].duplicates += later
        bucket_events(self.con, accepted, self.run.options.fields or frozenset(schema.NAMES))
        return True

    def _every_file(self) -> str:
        """Every bucket file of the inputs that wrote some: a file that failed half-way is never
        read, even if its folder were left."""
        globs = [
            quote_literal(str(bucket_folder(self.folder, i) / "*" / "*.parquet")) for i in self.run.bucketed
        ]
        return f"[{', '.join(globs)}]"


def ingest_in_buckets(
    con: duckdb.DuckDBPyConnection,
    inputs: list[str],
    options: IngestOptions,
    buckets: tuple[Callable[[int], int], Path],
    on_file: Callable[[int, int, Path], None] | None = None,
) -> IngestResult | BucketedIngest:
    """ingest(), or, when every input is Parquet and `buckets` (the count for their rows, and a
    folder) gives more than one, the inputs written into that many bucket files (a BucketedIngest)."""
    buckets_for, folder = buckets

    def plan(paths: list[Path]) -> tuple[int, Path] | None:
        rows = parquet_rows(con, paths)
        buckets = buckets_for(rows) if rows is not None else 1
        return (buckets, folder) if buckets > 1 else None

    run, files, findings = read_inputs(con, inputs, options, on_file, plan)
    if run.buckets is None:
        return finish(con, run, files, findings)
    return BucketedIngest(con, run, files, findings)


def parquet_rows(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int | None:
    """The rows of `paths` from their Parquet footers; None unless every one is a readable Parquet
    file (the inputs are then staged as usual, and a bad file quarantined there)."""
    if not paths or not all(_utf8(str(p)) for p in paths):  # DuckDB cannot open the others
        return None
    try:
        for path in paths:
            with path.open("rb") as f:
                if f.read(4) != PARQUET_MAGIC:
                    return None
        listed = ", ".join(quote_literal(str(p)) for p in paths)
        (rows,) = con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata([{listed}])").fetchall()[0]
        # bucket_parquet numbers the rows with read_parquet's file_row_number, which such a column
        # would shadow (DuckDB refuses the file): staged instead, where it is one more column.
        (shadowed,) = con.execute(
            f"SELECT count(*) FROM parquet_schema([{listed}]) WHERE lower(name) = 'file_row_number'"
        ).fetchall()[0]
    except (OSError, duckdb.Error):
        return None
    return None if shadowed else int(rows)
