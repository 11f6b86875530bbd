"""`reporter run --engine spark`: the heavy part of a run on Apache Spark, the small part as ever.

Spark reads the inputs (reporter's own ingest per file in executor tasks), drops duplicates across
files, classifies events (the code lookup, broadcast), finds each message's final status (a shuffle
by message key), masks and hashes destinations, and writes the messages extract. The small tables
the rest of the run reads (message_counts, event_counts, quarantine, inputs, the dimension) are
collected onto the driver's DuckDB connection; run.py then writes the other extracts, the report,
the warehouse and the manifest with the same code as on DuckDB. Requires `pip install 'reporter[spark]'`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from reporter import privacy, vocabulary
from reporter.codes import Dimension
from reporter.config import Config
from reporter.errors import EngineError, ReconciliationError
from reporter.extracts import register_inputs
from reporter.ingest import IngestOptions, IngestResult
from reporter.ingest.sources import Inputs, expand_inputs
from reporter.outcomes import (
    OutcomeCounts,
    build_message_summaries,
    drop_outside_period,
    pipeline_sql,
    register_dimension,
)
from reporter.spark import ingest, inputs, outcomes
from reporter.spark.session import failure_line, log_note, spark_session
from reporter.spark.write import write_messages

if TYPE_CHECKING:
    from reporter.run import RunOptions, Steps

TASK_MEMORY = "1GB"  # DuckDB's limit in each ingest task (it spills past it); one task per core


def build_tables(
    con: duckdb.DuckDBPyConnection, options: RunOptions, config: Config, dimension: Dimension, steps: Steps
) -> tuple[IngestResult, OutcomeCounts]:
    """The heavy part on Spark; leaves on `con` the tables run.py's small part reads.

    A failed Spark job is one line (EngineError, exit 69) naming its first cause, not a JVM trace.
    """
    local, uris = inputs.split_inputs(list(options.inputs))
    # A missing local input exits 66 before Spark starts; a URI is listed by Spark's Hadoop FileSystem.
    expanded = expand_inputs(local) if local else Inputs([], [])
    spark = spark_session(config.engine, options.master, config.timezone)
    remote = inputs.list_uris(spark, uris)
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        return _build(spark, con, options, config, dimension, steps, (expanded, remote))
    except (PySparkException, Py4JError) as exc:
        raise EngineError(f"the Spark job failed: {failure_line(exc)}{log_note()}") from exc


def _build(
    spark: Any,
    con: duckdb.DuckDBPyConnection,
    options: RunOptions,
    config: Config,
    dimension: Dimension,
    steps: Steps,
    files_named: tuple[Inputs, list[inputs.RemoteFile]],
) -> tuple[IngestResult, OutcomeCounts]:
    ingest_options = IngestOptions(config, options.region)
    expanded, remote = files_named
    rows = ingest.read_files(spark, expanded.files, remote, ingest_options, TASK_MEMORY)
    files, changed = ingest.file_stats(con, rows, ingest_options, expanded.findings)
    ingest.quarantine_table(con, rows, files, changed)
    events = ingest.deduplicate(rows, files, changed).persist()
    result = ingest.result_of(con, files, expanded.findings)
    steps.done("ingest")
    register_inputs(con, result)
    register_dimension(con, dimension)
    con.execute("SET TimeZone = ?", [config.timezone])
    outcomes.grouped_counts(spark, con, "event_groups", "events", events)
    lookup = outcomes.code_lookup(spark, con)
    enriched = outcomes.enrich(events, lookup)
    shas = pa.table(
        {"source_index": pa.array(list(files), pa.int32()), "sha256": [f.sha256 for f in files.values()]}
    )
    found = outcomes.messages(
        enriched, lookup, outcomes.destination_countries(spark, enriched), spark.createDataFrame(shas)
    )
    public = outcomes.masked(found, privacy.hmac_key_from_env()).persist()
    outcomes.grouped_counts(spark, con, "message_groups", "message_rows", public)
    rows.unpersist()
    counts = _counts(con, public, options)
    _summaries(spark, con, public, options, config, counts.messages)
    steps.done("outcomes")
    write_messages(public, options)
    public.unpersist()
    events.unpersist()
    steps.done("messages_extract")
    return result, counts


def _counts(con: duckdb.DuckDBPyConnection, messages: Any, options: RunOptions) -> OutcomeCounts:
    """event_counts and message_counts (the same SQL as on DuckDB), reconciled, then cut to the period."""
    from pyspark.sql import functions as F

    con.execute(f"CREATE OR REPLACE TEMP TABLE event_counts AS {pipeline_sql('event_counts')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE message_counts AS {pipeline_sql('message_counts')}")
    total = messages.agg(F.count(F.lit(1)).alias("n"), F.sum("events").alias("e")).collect()[0]
    in_messages, found = int(total.e or 0), int(total.n)
    events = _one(con, "SELECT coalesce(sum(events), 0) FROM event_groups")
    counted = _one(con, "SELECT coalesce(sum(events), 0) FROM event_counts")
    if not counted == in_messages == events:
        raise ReconciliationError(
            f"outcomes lost events: {events} events, {in_messages} in messages, {counted} counted"
        )
    grouped = _one(con, "SELECT coalesce(sum(messages), 0) FROM message_counts")
    if grouped != found:
        raise ReconciliationError(f"message_counts holds {grouped} messages, messages {found}")
    for table in ("message_counts", "event_counts"):
        drop_outside_period(con, table, options.start, options.end)
    inside = _one(con, "SELECT coalesce(sum(messages), 0) FROM message_counts")
    return OutcomeCounts(events, inside, found - inside)


def _summaries(
    spark: Any,
    con: duckdb.DuckDBPyConnection,
    messages: Any,
    options: RunOptions,
    config: Config,
    inside: int,
) -> None:
    """delivery_times and by_carrier: their SQL (reporter/sql) run in Spark SQL over the period's
    messages; only the aggregates come to the driver. `inside`: the period's messages (reconciled)."""
    from pyspark.sql import functions as F

    # The whole input's latest event, as on DuckDB (in microseconds: no time zone on the way).
    as_of = messages.agg(F.max(F.unix_micros("last_event_at"))).collect()[0][0]
    kept = messages
    if options.start:
        kept = kept.where(F.col("date") >= F.lit(options.start))
    if options.end:
        kept = kept.where(F.col("date") <= F.lit(options.end))
    if not inside:  # Spark's GROUPING SETS give no grand total over no rows: DuckDB's SQL, as ever
        con.register("message_rows_arrow", kept.limit(0).toArrow())
        con.execute("CREATE OR REPLACE TEMP TABLE message_rows AS SELECT * FROM message_rows_arrow")
        con.unregister("message_rows_arrow")
        # delivery_seconds.sql reads message_base (DuckDB's table under message_rows): the same columns
        con.execute("CREATE OR REPLACE TEMP VIEW message_base AS SELECT * FROM message_rows")
        latest = None if as_of is None else dt.datetime.fromtimestamp(as_of / 1e6, dt.UTC)
        build_message_summaries(con, latest, config.delivery.receipt_timeout_minutes)
        con.execute("DROP VIEW message_base")
        con.execute("DROP TABLE message_rows")
        return
    # delivery_seconds.sql's two columns (DuckDB's epoch_us and $params are not Spark SQL).
    cutoff = F.timestamp_micros(F.lit(as_of - config.delivery.receipt_timeout_minutes * 60_000_000))
    seconds = kept.select(
        "date",
        "channel",
        "region",
        ((F.unix_micros("first_delivered_at") - F.unix_micros("first_event_at")) / 1e6).alias("seconds"),
        (F.col("status_class").isin(*vocabulary.PENDING_CLASSES) & (F.col("first_event_at") < cutoff)).alias(
            "without_receipt"
        ),
    )
    outcomes.grouped_counts(spark, con, "delivery_times", "delivery_seconds", seconds)
    outcomes.grouped_counts(spark, con, "by_carrier", "message_rows", kept, "ORDER BY ALL")
    counted = _one(con, "SELECT coalesce(sum(messages), 0) FROM delivery_times WHERE level = 'all'")
    if counted != inside:
        raise ReconciliationError(f"delivery_times holds {counted} messages, not every message")


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])
