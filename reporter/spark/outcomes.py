"""Outcomes on Spark: the code lookup broadcast, final status per message, masking, the counts.

What each rule comes from (none is a second copy):
- the code lookup is reporter/sql/code_lookup.sql itself, run by DuckDB on the driver over the
  (channel, code) pairs of event_groups, the events Spark grouped (small), then broadcast;
- ranks, failure classes, phone channels and the out-of-region flag are reporter/vocabulary.py's
  snippets, which Spark SQL reads as DuckDB does; the final event is the one with the greatest
  order key (vocabulary.final_event_key_sql) of each message, after a shuffle by message key;
- event_groups.sql and message_groups.sql run as they are in Spark SQL;
- masking and the keyed hash are privacy.public, run by DuckDB in each task on Arrow batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from reporter import privacy, schema, vocabulary
from reporter.engine import connect
from reporter.outcomes import _country, pipeline_sql

# The final event's fields a message carries (messages.sql's columns from `events`).
_FINAL_FIELDS = tuple(c for c in schema.MESSAGE_FIELDS if c != "event_time")  # event_time: final_event_at
_LOOKUP_FIELDS = (
    "status_class",
    "code_message",
    "failure_category",
    "retryable",
    "code_source",
    "is_failure",
)


def code_lookup(spark: Any, con: duckdb.DuckDBPyConnection) -> Any:
    """code_lookup.sql on the driver over event_groups (grouped_counts' driver table), as a Spark frame."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE code_lookup AS {pipeline_sql('code_lookup')}")
    return spark.createDataFrame(con.sql("SELECT * FROM code_lookup").to_arrow_table())


def enrich(events: Any, lookup: Any) -> Any:
    """Every event with its classification (a broadcast join: the lookup is small)."""
    from pyspark.sql import functions as F

    codes = lookup.select(
        "channel", "status_code", "status_rank", "code_source", "region_scope", "unsupported_channel"
    )
    return events.join(F.broadcast(codes), ["channel", "status_code"]).withColumn(
        "out_of_region", F.expr(vocabulary.out_of_region_sql("region_scope", "region"))
    )


def destination_countries(spark: Any, enriched: Any) -> Any:
    """Country per destination prefix, from the least destination with it (as outcomes.py does)."""
    from pyspark.sql import functions as F

    prefix = F.expr(vocabulary.destination_prefix_sql("channel", "destination"))
    rows = (
        enriched.select(prefix.alias("prefix"), "destination")
        .where("prefix IS NOT NULL")
        .groupBy("prefix")
        .agg(F.min("destination").alias("number"))
        .collect()
    )
    table = pa.table(
        {"prefix": [r.prefix for r in rows], "destination_country": [_country(r.number) for r in rows]},
        schema=pa.schema([("prefix", pa.string()), ("destination_country", pa.string())]),
    )
    return spark.createDataFrame(table)


def messages(enriched: Any, lookup: Any, countries: Any, files: Any) -> Any:
    """One row per message, messages.sql's columns plus `first_src` (for the sort), unmasked."""
    from pyspark.sql import functions as F

    # The order key DuckDB packs for messages.sql (vocabulary.FINAL_EVENT_KEY), here compared field by field.
    key = F.expr(vocabulary.final_event_key_sql("spark"))
    fields = F.struct(*[F.col(c).alias(f"f_{c}") for c in (*_FINAL_FIELDS, "event_time")])
    keyed = enriched.join(F.broadcast(files), "source_index").withColumn(
        "message_key",
        F.coalesce(
            F.col("message_id"),
            F.concat(
                F.lit("event:"), F.substring("sha256", 1, 12), F.lit(":"), F.col("source_line").cast("string")
            ),
        ),
    )
    grouped = keyed.groupBy("message_key").agg(
        F.max_by(fields, key).alias("final"),
        F.min(F.struct("source_index", "source_line")).alias("first_src"),
        F.min("event_time").alias("first_event_at"),
        F.max("event_time").alias("last_event_at"),
        F.count(F.lit(1)).alias("events"),
        F.bool_or("out_of_region").alias("out_of_region"),
        F.bool_or("unsupported_channel").alias("unsupported_channel"),
        F.bool_or(F.col("code_source") == "none").alias("has_unknown_code"),
        # As messages.sql: the first delivered or read event (internal, for delivery_times).
        F.min(F.when(F.expr(vocabulary.reached_sql("status_rank")), F.col("event_time"))).alias(
            "first_delivered_at"
        ),
    )
    final = grouped.select(
        F.to_date("first_event_at").alias("date"),
        "message_key",
        *[F.col(f"final.f_{c}").alias(c) for c in _FINAL_FIELDS],
        "first_event_at",
        F.col("final.f_event_time").alias("final_event_at"),
        "last_event_at",
        "events",
        "out_of_region",
        "unsupported_channel",
        "has_unknown_code",
        "first_delivered_at",
        "first_src",
    )
    prefix = F.expr(vocabulary.destination_prefix_sql("channel", "destination")).alias("prefix")
    classified = final.join(
        F.broadcast(lookup.select("channel", "status_code", *_LOOKUP_FIELDS)), ["channel", "status_code"]
    )
    with_country = classified.withColumn("prefix", prefix).join(F.broadcast(countries), "prefix", "left")
    return with_country.select(
        "date",
        "message_key",
        "message_id",
        "channel",
        "region",
        "first_event_at",
        "final_event_at",
        "last_event_at",
        "events",
        "status_code",
        *_LOOKUP_FIELDS[:4],
        "code_source",
        "is_failure",
        "out_of_region",
        "unsupported_channel",
        "has_unknown_code",
        "destination_country",
        *schema.MESSAGE_DETAILS,
        "first_delivered_at",
        "first_src",
    )


def mask_task(hmac_key: bytes | None) -> Any:
    """mapInArrow function: privacy.public (DuckDB) over each Arrow batch of messages, the
    destination moved last as outcomes.py orders the messages."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        con = connect(threads=1, memory_limit="512MB")
        try:
            for batch in batches:
                con.register("batch", pa.Table.from_batches([batch]))
                public = privacy.public("SELECT * FROM batch", hmac_key)
                out = con.sql(f"SELECT * EXCLUDE (destination), destination FROM ({public})").to_arrow_table()
                con.unregister("batch")
                yield from out.to_batches()
        finally:
            con.close()

    return run


def masked(frame: Any, hmac_key: bytes | None) -> Any:
    """The messages as they may leave the process: destination masked, its keyed hash beside it."""
    from pyspark.sql.types import StringType, StructField, StructType

    fields = [f for f in frame.schema.fields if f.name != "destination"]
    schema = StructType(
        [*fields, StructField("destination_hash", StringType()), StructField("destination", StringType())]
    )
    return frame.mapInArrow(mask_task(hmac_key), schema)


def grouped_counts(
    spark: Any, con: duckdb.DuckDBPyConnection, name: str, view: str, frame: Any, order: str = ""
) -> None:
    """Run reporter/sql/NAME.sql in Spark SQL over `frame` (as VIEW); the small result becomes a
    driver table NAME, in Spark's order or `order` (DuckDB's, where the NULLs' place differs)."""
    frame.createOrReplaceTempView(view)
    table = spark.sql(pipeline_sql(name, "spark")).toArrow()
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow {order}")
    con.unregister(f"{name}_arrow")
