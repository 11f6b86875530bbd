"""Outcomes in buckets: when the events do not fit the memory limit, the messages are built per bucket.

Every event goes to one of K bucket files by a hash of its message key, so each message's events
share a bucket. The files are Parquet, uncompressed and without dictionaries (the cheapest to write
and read back; engine.copy_buckets). Each bucket's messages are then built, masked, hashed and
written on their own (`extracts/messages/date=D/data_<bucket>.parquet`), then emptied. Only the
small aggregates (event_groups, message_counts, by_carrier) are kept, folded after every bucket, and
delivery_times' exact quantiles are computed at the end from one small row per message
(delivery_seconds, its group as a number) that each bucket wrote to a file: what the buckets keep in
memory does not grow with their number. With K = 1 (the events fit), reporter.outcomes builds
everything at once, nothing written in between.

The bucket files come from one of two places:
- build_from_bucketed_ingest: Parquet inputs, which ingest wrote into the bucket files itself
  (reporter/ingest/bucketed.py; an event without a message id goes by its row hash). Each bucket is
  deduplicated as it is read, and its event groups merged at the end.
- build_in_buckets: any other input (and Parquet that ingest staged: mixed with other formats, a
  footer it could not read), staged in memory (spilled past the limit), then written into
  the bucket files from `events` (an event without a message id by its input position).
  event_counts comes from one GROUP BY over all events before they are bucketed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reporter import schema
from reporter.codes import Dimension
from reporter.engine import copy_buckets, quote_literal, size_bytes
from reporter.errors import ReconciliationError
from reporter.extracts import write_message_dates
from reporter.ingest import IngestResult
from reporter.ingest.bucketed import BucketedIngest
from reporter.ingest.dedup import position_columns
from reporter.outcomes import (
    build_delivery_times,
    build_event_counts,
    build_messages,
    check_event_groups,
    check_events,
    delivery_params,
    drop_enriched_events,
    drop_outside_period,
    group_events,
    latest_event_time,
    pipeline_sql,
    prepare_dimension,
    prepare_outcomes,
)

# Memory the build of one message takes per event at most (stage, group-by, extract), measured:
# 5M events in a bucket at a 3 GB limit keep DuckDB from spilling the per-message GROUP BY.
BYTES_PER_EVENT = 600


def bucket_count(events: int, memory_limit: str) -> int:
    """Buckets for `events` under `memory_limit` (engine.memory_limit's "<n>MB"): 1 when they fit."""
    per_bucket = max(size_bytes(memory_limit) // BYTES_PER_EVENT, 1)
    return max(1, -(-events // per_bucket))


@dataclass(frozen=True)
class Folders:
    """Where the buckets' work is written, in the spill folder: the messages extract, bucket by
    bucket, and each bucket's delivery seconds (one small row a message), read once at the end."""

    messages: Path
    seconds: Path


def write_buckets(con: duckdb.DuckDBPyConnection, folder: Path, buckets: int) -> None:
    """`events` into folder/bucket=<b>/*.parquet by a hash of the message key, in one scan.

    Only the columns the messages are built from are written (_NOT_WRITTEN are not): of an event's
    position, only event_src (its file and line are read back from it).
    """
    key = "CASE WHEN message_id IS NULL THEN hash(event_src) ELSE hash(message_id) END"
    copy_buckets(
        con,
        f"SELECT * EXCLUDE ({', '.join(_NOT_WRITTEN)}), CAST({key} % {buckets} AS INTEGER) AS bucket "
        "FROM events",
        folder,
    )


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
    folders: Folders,
    period: tuple[dt.date | None, dt.date | None],
) -> dict[str, int]:
    """event_counts, message_counts, delivery_times, by_carrier and the messages extract (into
    `folders.messages`) bucket by bucket; `events` is dropped. `inputs`: ingest's result and the dimension;
    `keys`: the HMAC key and the receipt timeout; `layout`: the buckets and the folder for their files.
    Returns the counts (events, messages, messages_outside_period) and the message files written."""
    (buckets, work) = layout
    events = prepare_outcomes(con, *inputs)
    as_of = latest_event_time(con, "SELECT max(last_event_at) FROM event_groups")
    build_event_counts(con)
    write_buckets(con, work, buckets)
    drop_enriched_events(con)
    _drop_parts(con)
    totals = dict.fromkeys(_COUNTS, 0)
    for bucket in range(buckets):
        parts = work / f"bucket={bucket}"
        if parts.is_dir():
            glob = quote_literal(str(parts / "*.parquet"))
            con.execute(
                "CREATE OR REPLACE TEMP VIEW events AS "
                f"SELECT * EXCLUDE (event_src), {position_columns('event_src')} "
                f"FROM read_parquet({glob}, hive_partitioning = false)"
            )
            con.execute(f"CREATE OR REPLACE TEMP VIEW enriched_events AS {pipeline_sql('enriched_events')}")
            built = _bucket(con, (keys[0], delivery_params(as_of, keys[1])), folders, bucket, period)
            for name, value in built.items():
                totals[name] += value
            shutil.rmtree(parts)
    con.execute("DROP VIEW enriched_events")
    con.execute("DROP VIEW events")  # over the last bucket's files, removed
    return _merge(con, events, totals, folders.seconds)


def build_from_bucketed_ingest(
    con: duckdb.DuckDBPyConnection,
    inputs: tuple[BucketedIngest, Dimension],
    keys: tuple[bytes | None, int],
    folders: Folders,
    period: tuple[dt.date | None, dt.date | None],
) -> tuple[IngestResult, dict[str, int]]:
    """build_in_buckets for inputs that ingest wrote into bucket files itself (reporter/ingest/
    bucketed.py): each bucket's events are grouped as they are read, and the groups merged; returns
    ingest's result (reconciled once every bucket is read) and build_in_buckets' counts."""
    staged, dimension = inputs
    prepare_dimension(con, dimension, len(staged.files))
    as_of = staged.latest_event_time()
    _drop_parts(con)
    totals = dict.fromkeys(_COUNTS, 0)
    for bucket in staged.each():
        group_events(con)
        _fold(con, "event_group_parts", "FROM event_groups")
        built = _bucket(con, (keys[0], delivery_params(as_of, keys[1])), folders, bucket, period)
        for name, value in built.items():
            totals[name] += value
        con.execute("DROP VIEW enriched_events")
    ingested = staged.result()
    con.execute("DROP TABLE event_groups")  # the last bucket's
    con.execute("ALTER TABLE event_group_parts RENAME TO event_groups")  # folded bucket by bucket
    con.execute(f"CREATE OR REPLACE TEMP TABLE code_lookup AS {pipeline_sql('code_lookup')}")
    events = check_event_groups(con, ingested)
    build_event_counts(con)
    return ingested, _merge(con, events, totals, folders.seconds)


_COUNTS = ("in_messages", "messages", "messages_outside_period", "files")


def _drop_parts(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("event_group_parts", "message_count_parts", "by_carrier_parts", "delivery_groups"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _merge(
    con: duckdb.DuckDBPyConnection, events: int, totals: dict[str, int], seconds: Path
) -> dict[str, int]:
    """The buckets' parts merged into message_counts, by_carrier and delivery_times (from the
    delivery seconds' files in `seconds`, removed), checked."""
    check_events(con, events, totals.pop("in_messages"))
    for parts, table in (("message_count_parts", "message_counts"), ("by_carrier_parts", "by_carrier")):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS FROM {parts} ORDER BY ALL")  # folded
    con.execute(
        "CREATE OR REPLACE TEMP VIEW delivery_seconds AS SELECT g.date, g.channel, g.region, s.seconds, "
        f"s.late AS without_receipt FROM read_parquet({quote_literal(str(seconds / '*.parquet'))}) s "
        "JOIN delivery_groups g USING (gid)"
    )
    build_delivery_times(con, totals["messages"])
    con.execute("DROP TABLE delivery_groups")
    shutil.rmtree(seconds)
    for name in ("message_count_parts", "by_carrier_parts"):
        con.execute(f"DROP TABLE {name}")
    counted = _one(con, "SELECT coalesce(sum(messages), 0) FROM message_counts")
    if counted != totals["messages"]:
        raise ReconciliationError(
            f"message_counts holds {counted} messages, the buckets {totals['messages']}"
        )
    return {"events": events, **totals}


def _bucket(
    con: duckdb.DuckDBPyConnection,
    keys: tuple[bytes | None, dict[str, object]],
    folders: Folders,
    bucket: int,
    period: tuple[dt.date | None, dt.date | None],
) -> dict[str, int]:
    """One bucket's messages (from `events` and enriched_events over it): built, limited to the
    period, written; their small aggregates and delivery seconds kept for the merge. `keys`: the
    HMAC key and delivery_seconds' parameters."""
    in_messages = build_messages(con, keys[0])
    outside = drop_outside_period(con, "message_base", *period)
    files = write_message_dates(con, folders.messages, bucket)
    con.execute(f"CREATE OR REPLACE TEMP VIEW message_groups AS {pipeline_sql('message_groups')}")
    _fold(con, "message_count_parts", pipeline_sql("message_counts"))
    _fold(con, "by_carrier_parts", pipeline_sql("by_carrier"))
    _keep_delivery_seconds(con, keys[1], folders.seconds / f"{bucket}.parquet")
    built = {
        "in_messages": in_messages,
        "messages": _one(con, "SELECT count(*) FROM message_base"),
        "messages_outside_period": outside,
        "files": files,
    }
    # Written and counted, they are emptied (the views over them stay), so that nothing of a bucket
    # is held while the next one's events are grouped (some 700 MB at 100M events under 3 GB).
    for table in ("message_base", "destination_public"):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS FROM {table} LIMIT 0")
    return built


# The parts kept across buckets, folded after each bucket: each summed column and its sum (the others
# are the group). Appended, they grew with the buckets (at 100M events, message_count_parts to 2.7M
# rows); folded, they stay the size of one bucket's groups.
_SUMS = {
    "event_group_parts": {"events": "CAST(sum(events) AS BIGINT)", "last_event_at": "max(last_event_at)"},
    "message_count_parts": {"messages": "CAST(sum(messages) AS BIGINT)"},
    "by_carrier_parts": {
        "messages": "CAST(sum(messages) AS BIGINT)",
        "failures": "CAST(sum(failures) AS BIGINT)",
    },
}


def _fold(con: duckdb.DuckDBPyConnection, parts: str, rows: str) -> None:
    """The bucket's `rows` (a query, already one row a group) folded into `parts`, created by the
    first bucket: one row a group, the columns in their order."""
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ?", [parts]).fetchall():
        con.execute(f"CREATE TEMP TABLE {parts} AS {rows}")
        return
    sums = _SUMS[parts]
    summed = ", ".join(f"{expression} AS {name}" for name, expression in sums.items())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {parts} AS SELECT * EXCLUDE ({', '.join(sums)}), {summed} "
        f"FROM (FROM {parts} UNION ALL ({rows})) GROUP BY ALL"
    )


def _keep_delivery_seconds(con: duckdb.DuckDBPyConnection, params: dict[str, object], into: Path) -> None:
    """The bucket's delivery seconds, one row per message kept to the end, into the Parquet file
    `into`: the group (date, channel, region) as a number into `delivery_groups`. At 100M events the
    48M rows with their group spelled out took some 2 GB of a 3 GB limit by the last buckets; as
    numbers in a table, 0.6 GB, still growing with the input."""
    con.execute(  # dropped before the first bucket (_drop_parts)
        "CREATE TEMP TABLE IF NOT EXISTS delivery_groups "
        "(gid INTEGER, date DATE, channel VARCHAR, region VARCHAR)"
    )
    seconds = pipeline_sql("delivery_seconds")
    con.execute(f"CREATE OR REPLACE TEMP TABLE delivery_seconds_bucket AS {seconds}", params)
    con.execute(
        "INSERT INTO delivery_groups SELECT (SELECT coalesce(max(gid), -1) FROM delivery_groups) "
        "+ row_number() OVER (ORDER BY date, channel, region), date, channel, region "
        "FROM (SELECT DISTINCT date, channel, region FROM delivery_seconds_bucket) "
        "ANTI JOIN delivery_groups USING (date, channel, region)"
    )
    con.execute(
        "COPY (SELECT g.gid, s.seconds, s.without_receipt AS late "
        "FROM delivery_seconds_bucket s JOIN delivery_groups g USING (date, channel, region)) "
        f"TO {quote_literal(str(into))} (FORMAT parquet, COMPRESSION uncompressed)"
    )
    con.execute("DROP TABLE delivery_seconds_bucket")


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])
