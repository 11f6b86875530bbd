"""Outcomes: classify every event, find each message's final status, count events.

Runs in DuckDB on the connection that ingest filled (`events`, `ingest_files`); `build_outcomes`
says what it creates. The SQL lives in reporter/sql/*.sql; row counts are checked here, not only
in tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources

import duckdb
import phonenumbers

from reporter import privacy, vocabulary
from reporter.codes import Dimension
from reporter.codes.rules import LIFECYCLE_CODES
from reporter.engine import insert_rows
from reporter.errors import ReconciliationError
from reporter.ingest import IngestResult, drop_events


def pipeline_sql(name: str) -> str:
    text = resources.files("reporter.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
    return vocabulary.render(text)


def register_dimension(con: duckdb.DuckDBPyConnection, dimension: Dimension) -> None:
    """`status_codes`, `status_code_rows`, `channel_support` and `lifecycle_codes` tables."""
    for name, frame in (("status_codes", dimension.codes), ("status_code_rows", dimension.rows)):
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_df")
        con.unregister(f"{name}_df")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE channel_support AS "
        "SELECT channel, bool_and(supported) AS supported FROM status_codes GROUP BY channel"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lifecycle_codes (code BIGINT, status_class VARCHAR, message VARCHAR)"
    )
    rows = [
        [code, klass, klass.capitalize()] for code, klass in LIFECYCLE_CODES.items() if klass != "unknown"
    ]
    insert_rows(con, "lifecycle_codes", ["code", "status_class", "message"], rows)


def _country(number: str) -> str | None:
    """The number's region; for a number phonenumbers deems invalid, its calling code's main region."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code or 0
    )
    return region if region and region != "ZZ" else None


def _country_table(con: duckdb.DuckDBPyConnection) -> None:
    """`destination_prefixes`: the country of each destination prefix, from one number per prefix."""
    prefixes = con.execute(
        "SELECT destination_prefix, min(destination) FROM enriched_events "
        "WHERE destination_prefix IS NOT NULL GROUP BY ALL"
    ).fetchall()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE destination_prefixes (prefix VARCHAR PRIMARY KEY, country VARCHAR)"
    )
    insert_rows(con, "destination_prefixes", ["prefix", "country"], [[p, _country(n)] for p, n in prefixes])


@dataclass(frozen=True)
class Outcomes:
    """What build_outcomes made: events classified, messages with a final status."""

    events: int
    messages: int


def build_outcomes(
    con: duckdb.DuckDBPyConnection,
    ingested: IngestResult,
    dimension: Dimension,
    hmac_key: bytes | None = None,
    keep_events: bool = True,
) -> Outcomes:
    """Reads ingest's `events` and `ingest_files` (`ingested` is that ingest's result) and the dimension.

    Creates the dimension's tables (register_dimension), code_lookup, destination_prefixes,
    message_rows (and the `messages` view over it), message_counts and event_counts; returns the counts.

    Destination country comes from the first digits of an international number (a calling code and
    enough digits to tell apart the regions that share it: 1 = US, CA...; 44 = GB, JE...), looked up
    once per distinct prefix with phonenumbers. The messages leave this step public: destination
    masked, its keyed hash beside it, so every reader and writer downstream sees only that.
    Without `keep_events`, the events are dropped once the messages are built, so the memory they
    held is free for the steps after (at 20M events, keeping them made DuckDB spill under its limit).
    """
    register_dimension(con, dimension)
    con.execute(f"CREATE OR REPLACE TEMP TABLE code_lookup AS {pipeline_sql('code_lookup')}")
    con.execute(pipeline_sql("destination_prefix"))
    con.execute(f"CREATE OR REPLACE TEMP VIEW enriched_events AS {pipeline_sql('enriched_events')}")
    events = _one(con, "SELECT count(*) FROM events")
    if events != ingested.totals()["unique"]:
        raise ReconciliationError(f"outcomes read {events} events, ingest kept {ingested.totals()['unique']}")
    _country_table(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW event_groups AS {pipeline_sql('event_groups')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE event_counts AS {pipeline_sql('event_counts')}")
    # Sorted on (date, input position of the first event) as the last step, so every extract
    # written from it is deterministic: one materialised result, read by every writer.
    # The destination goes last, after its hash: the messages extract's column order (DESIGN.md §5).
    public = privacy.public(pipeline_sql("messages"), hmac_key)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE message_rows AS SELECT * EXCLUDE (sort_key, destination), destination "
        f"FROM ({public}) ORDER BY sort_key"
    )
    # first_delivered_at is internal (for delivery_times): the public messages do not carry it.
    con.execute(
        "CREATE OR REPLACE TEMP VIEW messages AS SELECT * EXCLUDE (first_delivered_at) FROM message_rows"
    )
    if not keep_events:
        con.execute("DROP VIEW enriched_events")  # over `events`: ours to drop before ingest drops those
        drop_events(con)
    counted = _one(con, "SELECT coalesce(sum(events), 0) FROM event_counts")
    in_messages = _one(con, "SELECT coalesce(sum(events), 0) FROM messages")
    # The joins to code_lookup are inner joins: these sums prove no event was lost or doubled.
    if not counted == in_messages == events:
        raise ReconciliationError(
            f"outcomes lost events: {events} events, {in_messages} in messages, {counted} counted"
        )
    build_message_counts(con)
    return Outcomes(events, _one(con, "SELECT count(*) FROM messages"))


@dataclass(frozen=True)
class OutcomeCounts:
    events: int
    messages: int  # whose first event falls in the period
    messages_outside_period: int  # left out by --start/--end, counted so none leaves silently


def limit_period(
    con: duckdb.DuckDBPyConnection,
    start: dt.date | None,
    end: dt.date | None,
    tables: tuple[str, ...] = ("message_rows", "message_counts", "event_counts"),
) -> int:
    """Keep the messages (by first event) and event counts of the period; return the messages left out.

    The quarantine stays whole. The count goes to the manifest, so no message leaves silently.
    """
    outside = 0
    for table in tables:
        rows = con.execute(
            f"DELETE FROM {table} WHERE date < coalesce(?, DATE '0001-01-01') "
            "OR date > coalesce(?, DATE '9999-12-31')",
            [start, end],
        ).fetchall()
        if table == "message_rows":
            outside = int(rows[0][0]) if rows else 0
    return outside


def build_message_counts(con: duckdb.DuckDBPyConnection) -> int:
    """`message_counts`, the small aggregate of `messages` that the named queries and the report read.

    Returns its rows. Its total is checked against the messages; `run` filters both by date alike.
    """
    con.execute(f"CREATE OR REPLACE TEMP VIEW message_groups AS {pipeline_sql('message_groups')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE message_counts AS {pipeline_sql('message_counts')}")
    counted = _one(con, "SELECT coalesce(sum(messages), 0) FROM message_counts")
    messages = _one(con, "SELECT count(*) FROM messages")
    if counted != messages:
        raise ReconciliationError(f"message_counts holds {counted} messages, messages {messages}")
    return _one(con, "SELECT count(*) FROM message_counts")


def latest_event_time(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The latest event time of the run's input (call before the period narrows the messages)."""
    value = con.execute("SELECT max(last_event_at) FROM message_rows").fetchall()[0][0]
    return value if isinstance(value, dt.datetime) else None


def build_message_summaries(
    con: duckdb.DuckDBPyConnection, as_of: dt.datetime | None, receipt_timeout_minutes: int
) -> None:
    """`delivery_times` and `by_carrier`, the small tables that need the messages themselves.

    Built from `message_rows` before it is dropped; messages without a receipt are those still
    submitted or queued whose first event is older than the timeout before `as_of`.
    """
    params = {"as_of": as_of, "timeout_minutes": receipt_timeout_minutes}
    con.execute(f"CREATE OR REPLACE TEMP TABLE delivery_times AS {pipeline_sql('delivery_times')}", params)
    con.execute(f"CREATE OR REPLACE TEMP TABLE by_carrier AS {pipeline_sql('by_carrier')}")
    counted = _one(con, "SELECT coalesce(sum(messages), 0) FROM delivery_times WHERE level = 'all'")
    if counted != _one(con, "SELECT count(*) FROM message_rows"):
        raise ReconciliationError(f"delivery_times holds {counted} messages, not every message")


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchall()[0]
    return int(row[0]) if row else 0
