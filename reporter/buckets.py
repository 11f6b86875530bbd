"""Outcomes in buckets: when the events do not fit the memory limit, the messages are built per bucket.

Every event goes to one of K bucket files by a hash of its message key (an event without a message id
by its input position), so each message's events share a bucket. The files are Parquet, uncompressed
and without dictionaries (the cheapest to write and read back). Each bucket's messages are then
built, masked, hashed and written on their own (`extracts/messages/date=D/data_<bucket>.parquet`);
only the small aggregates (message_counts, by_carrier) are merged, and delivery_times' exact
quantiles are computed at the end from one small row per message (delivery_seconds) kept across
buckets. event_counts comes from one GROUP BY over all events before they are bucketed. With
K = 1 (the events fit), reporter.outcomes builds everything at once, nothing written in between.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from reporter import schema
from reporter.codes import Dimension
from reporter.engine import quote_literal, size_bytes
from reporter.errors import ReconciliationError
from reporter.extracts import write_message_dates
from reporter.ingest import IngestResult
from reporter.ingest.dedup import position_columns
from reporter.outcomes import (
    build_delivery_times,
    build_event_counts,
    build_messages,
    check_events,
    delivery_params,
    drop_enriched_events,
    drop_outside_period,
    latest_event_time,
    pipeline_sql,
    prepare_outcomes,
)

# Memory the build of one message takes per event at most (stage, group-by, extract), measured:
# 5M events in a bucket at a 3 GB limit keep DuckDB from spilling the per-message GROUP BY.
BYTES_PER_EVENT = 600


def bucket_count(events: int, memory_limit: str) -> int:
    """Buckets for `events` under `memory_limit` (engine.memory_limit's "<n>MB"): 1 when they fit."""
    per_bucket = max(size_bytes(memory_limit) // BYTES_PER_EVENT, 1)
    return max(1, -(-events // per_bucket))


def write_buckets(con: duckdb.DuckDBPyConnection, folder: Path, buckets: int) -> None:
    """`events` into folder/bucket=<b>/*.parquet by a hash of the message key, in one scan.

    Small row groups and an early flush keep the writer's buffers (one per open bucket file and
    thread) well under the memory limit. Where the events have spilled, the buffers compete with
    them: at 20M events in 20 buckets under 600 MB, flushing every 16,384 rows took 18 s and 30 CPU-s,
    every 131,072 rows 27-30 s and 48-54 CPU-s (the same events from a table under 3 GB, with
    nothing else in memory: 14 s either way).
    Only the columns the messages are built from are written (_NOT_WRITTEN are not): of an event's
    position, only event_src (its file and line are read back from it).
    """
    key = "CASE WHEN message_id IS NULL THEN hash(event_src) ELSE hash(message_id) END"
    threshold = con.execute("SELECT current_setting('partitioned_write_flush_threshold')").fetchall()[0][0]
    con.execute(f"SET partitioned_write_flush_threshold = {_FLUSH_ROWS}")
    try:
        con.execute(
            f"COPY (SELECT * EXCLUDE ({', '.join(_NOT_WRITTEN)}), "
            f"CAST({key} % {buckets} AS INTEGER) AS bucket FROM events) "
            f"TO {quote_literal(str(folder))} (FORMAT parquet, PARTITION_BY (bucket), "
            f"COMPRESSION uncompressed, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE {_FLUSH_ROWS})"
        )
    finally:
        con.execute(f"SET partitioned_write_flush_threshold = {int(threshold)}")


_FLUSH_ROWS = 16_384
# Not written into the buckets: the event fields that no message column, count or summary reads (a
# message carries only schema.MESSAGE_FIELDS from its events), and the position that event_src holds.
_NOT_WRITTEN = (
    *(n for n in schema.NAMES if n not in schema.MESSAGE_FIELDS),
    "source_index",
    "source_line",
)


def build_in_buckets(
    con: duckdb.DuckDBPyConnection,
    inputs: tuple[IngestResult, Dimension],
    keys: tuple[bytes | None, int],
    layout: tuple[int, Path],
    messages: Path,
    period: tuple[dt.date | None, dt.date | None],
) -> dict[str, int]:
    """event_counts, message_counts, delivery_times, by_carrier and the messages extract (into
    `messages`) bucket by bucket; `events` is dropped. `inputs`: ingest's result and the dimension;
    `keys`: the HMAC key and the receipt timeout; `layout`: the buckets and the folder for their files.
    Returns the counts (events, messages, messages_outside_period) and the message files written."""
    (buckets, work) = layout
    events = prepare_outcomes(con, *inputs)
    as_of = latest_event_time(con, "SELECT max(last_event_at) FROM event_groups")
    build_event_counts(con)
    write_buckets(con, work, buckets)
    drop_enriched_events(con)
    for table in ("message_count_parts", "by_carrier_parts", "delivery_seconds"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    totals = {"in_messages": 0, "messages": 0, "messages_outside_period": 0, "files": 0}
    for bucket in range(buckets):
        parts = work / f"bucket={bucket}"
        if parts.is_dir():
            built = _bucket(con, (keys[0], delivery_params(as_of, keys[1])), parts, messages, bucket, period)
            for name, value in built.items():
                totals[name] += value
            shutil.rmtree(parts)
    check_events(con, events, totals.pop("in_messages"))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE message_counts AS SELECT * EXCLUDE (messages), "
        "CAST(sum(messages) AS BIGINT) AS messages FROM message_count_parts GROUP BY ALL ORDER BY ALL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE by_carrier AS SELECT * EXCLUDE (messages, failures), "
        "CAST(sum(messages) AS BIGINT) AS messages, CAST(sum(failures) AS BIGINT) AS failures "
        "FROM by_carrier_parts GROUP BY ALL ORDER BY ALL"
    )
    build_delivery_times(con, totals["messages"])
    for name in ("message_count_parts", "by_carrier_parts"):
        con.execute(f"DROP TABLE {name}")
    con.execute("DROP VIEW enriched_events")
    con.execute("DROP VIEW events")  # over the last bucket's files, removed
    counted = _one(con, "SELECT coalesce(sum(messages), 0) FROM message_counts")
    if counted != totals["messages"]:
        raise ReconciliationError(
            f"message_counts holds {counted} messages, the buckets {totals['messages']}"
        )
    return {"events": events, **totals}


def _bucket(
    con: duckdb.DuckDBPyConnection,
    keys: tuple[bytes | None, dict[str, object]],
    parts: Path,
    messages: Path,
    bucket: int,
    period: tuple[dt.date | None, dt.date | None],
) -> dict[str, int]:
    """One bucket's messages: built, limited to the period, written; their small aggregates and
    delivery seconds kept for the merge. `keys`: the HMAC key and delivery_seconds' parameters."""
    glob = quote_literal(str(parts / "*.parquet"))
    con.execute(
        "CREATE OR REPLACE TEMP VIEW events AS "
        f"SELECT * EXCLUDE (event_src), {position_columns('event_src')} "
        f"FROM read_parquet({glob}, hive_partitioning = false)"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW enriched_events AS {pipeline_sql('enriched_events')}")
    in_messages = build_messages(con, keys[0])
    outside = drop_outside_period(con, "message_base", *period)
    files = write_message_dates(con, messages, bucket)
    con.execute(f"CREATE OR REPLACE TEMP VIEW message_groups AS {pipeline_sql('message_groups')}")
    first = not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'delivery_seconds'").fetchall()
    for table, sql in (
        ("message_count_parts", pipeline_sql("message_counts")),
        ("by_carrier_parts", pipeline_sql("by_carrier")),
        ("delivery_seconds", pipeline_sql("delivery_seconds")),
    ):
        into = f"CREATE OR REPLACE TEMP TABLE {table} AS" if first else f"INSERT INTO {table}"
        con.execute(f"{into} {sql}", keys[1] if table == "delivery_seconds" else None)
    return {
        "in_messages": in_messages,
        "messages": _one(con, "SELECT count(*) FROM message_base"),
        "messages_outside_period": outside,
        "files": files,
    }


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])
