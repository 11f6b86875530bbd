"""Outcomes: classify every event, find each message's final status, count events.

Runs in DuckDB on the connection that ingest filled (`events`, `ingest_files`). Creates
`enriched_events` (a view), `messages` and `event_counts` (tables). The SQL lives in
reporter/sql/*.sql; row counts are checked here, not only in tests.
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
from reporter.engine import ArrowStream, insert_rows
from reporter.errors import ReconciliationError
from reporter.ingest import IngestResult, drop_events


def pipeline_sql(name: str, dialect: str = "duckdb") -> str:
    text = resources.files("reporter.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
    return vocabulary.render(text, dialect)


def register_dimension(con: duckdb.DuckDBPyConnection, dimension: Dimension) -> None:
    """`status_codes`, `status_code_rows`, `channel_support` and `lifecycle_codes` tables."""
    for name, frame in (("status_codes", dimension.codes), ("status_code_rows", dimension.rows)):
        con.register(f"{name}_df", ArrowStream(frame))
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
    """`destination_prefixes`: the country of each prefix of the messages' final destinations, from
    one number per prefix. Prefixes already in the table (an earlier bucket's) are not looked up again.
    """
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS destination_prefixes (prefix VARCHAR PRIMARY KEY, country VARCHAR)"
    )
    prefixes = con.execute(
        "SELECT prefix, min(destination) FROM (SELECT destination_prefix(channel, destination) AS prefix, "
        "destination FROM message_base) WHERE prefix IS NOT NULL "
        "AND prefix NOT IN (SELECT prefix FROM destination_prefixes) GROUP BY ALL"
    ).fetchall()
    insert_rows(con, "destination_prefixes", ["prefix", "country"], [[p, _country(n)] for p, n in prefixes])


def _destination_public(con: duckdb.DuckDBPyConnection, hmac_key: bytes | None) -> None:
    """`destination_public`: each distinct final destination, masked, with its keyed hash.

    Once per distinct destination (2.8M per 10M events, against 4.8M messages), in DuckDB on every
    thread: at 10M events 5.9 s, against 10.4 s hashing in Python on one thread (the values' trip
    through Arrow and Python lists cost as much as the hashing).
    """
    distinct = "SELECT DISTINCT destination FROM message_base WHERE destination IS NOT NULL"
    masked = privacy.masked(distinct, "destination", "destination_masked")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE destination_public AS SELECT destination, destination_masked, "
        f"{privacy.destination_hash('destination', hmac_key)} AS destination_hash FROM ({masked})"
    )


def prepare_outcomes(con: duckdb.DuckDBPyConnection, ingested: IngestResult, dimension: Dimension) -> int:
    """The dimension's tables (register_dimension), event_groups, code_lookup, the destination_prefix
    and final_event_key macros (the key packed for the run's count of input files) and the
    enriched_events view over `events`; returns the events, checked against what ingest kept. The
    events are grouped on their own columns first: the code lookup's pairs and the count come from
    the (small) groups, two scans of the events less (0.5 s at 10M events, 13 s at 100M under a 3 GB
    limit, where the events have spilled)."""
    prepare_dimension(con, dimension, len(ingested.files))  # ingest_files' rows
    group_events(con)
    return check_event_groups(con, ingested)


def prepare_dimension(con: duckdb.DuckDBPyConnection, dimension: Dimension, files: int) -> None:
    """What outcomes needs before the events: the dimension's tables and the macros, the order key
    packed for `files` input files."""
    register_dimension(con, dimension)
    con.execute(pipeline_sql("destination_prefix"))
    key = vocabulary.final_event_key_sql("duckdb", files)
    con.execute(
        "CREATE OR REPLACE TEMP MACRO final_event_key(status_rank, event_time, status_code, source_line, "
        f"source_index) AS {key}"
    )


def group_events(con: duckdb.DuckDBPyConnection) -> None:
    """event_groups and code_lookup from `events`, and the enriched_events view over them."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE event_groups AS {pipeline_sql('event_groups')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE code_lookup AS {pipeline_sql('code_lookup')}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW enriched_events AS {pipeline_sql('enriched_events')}")


def check_event_groups(con: duckdb.DuckDBPyConnection, ingested: IngestResult) -> int:
    """The events in event_groups, which must be the events ingest kept."""
    events = _one(con, "SELECT coalesce(sum(events), 0) FROM event_groups")
    if events != ingested.totals()["unique"]:
        raise ReconciliationError(f"outcomes read {events} events, ingest kept {ingested.totals()['unique']}")
    return events


def drop_enriched_events(con: duckdb.DuckDBPyConnection) -> None:
    """Drop enriched_events (ours, over `events`), then the events and the stage tables under them."""
    con.execute("DROP VIEW enriched_events")
    drop_events(con)


def build_messages(
    con: duckdb.DuckDBPyConnection, hmac_key: bytes | None, drop_events: bool = False, passes: int = 1
) -> int:
    """`message_base` (a table, one row per message of `events`), the views `message_rows`
    (classified, with the destination country; destination in clear, internal), `messages_public`
    and `messages` (destination masked, keyed hash beside it); return the events the messages hold.
    With `drop_events`, the events are dropped as soon as message_base holds them, to free their
    memory for the destinations' hashing; `passes`: see _message_base.

    Run once over all events, or once per bucket of events (reporter/buckets.py).
    """
    _message_base(con, passes)
    if drop_events:
        drop_enriched_events(con)
    _country_table(con)
    _destination_public(con, hmac_key)
    con.execute(f"CREATE OR REPLACE TEMP VIEW message_rows AS {pipeline_sql('message_rows')}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW messages_public AS {pipeline_sql('messages_public')}")
    con.execute("CREATE OR REPLACE TEMP VIEW messages AS SELECT * EXCLUDE (first_src) FROM messages_public")
    return _one(con, "SELECT coalesce(sum(events), 0) FROM message_base")


# Events per pass of the per-message GROUP BY over the in-memory events (message_passes). Measured at
# 20M events (the most a 12 GB limit, half of a 24 GB machine, builds without buckets) with the
# final event joined back (messages.sql): one pass 16.4 s and 6,203 MiB resident at its end, two
# passes 20.5 s and 5,509 MiB.
MESSAGE_PASS_EVENTS = 20_000_000


def message_passes(events: int) -> int:
    return max(1, -(-events // MESSAGE_PASS_EVENTS))


def _message_base(con: duckdb.DuckDBPyConnection, passes: int) -> None:
    """`message_base`, in `passes` passes over disjoint hash ranges of message_id (all of a message's
    events, and every event without one, fall in one pass): each pass's GROUP BY holds its share of
    the messages only (the join back to the final events still reads all of them, once a pass)."""
    messages = pipeline_sql("messages")
    if passes == 1:
        con.execute(f"CREATE OR REPLACE TEMP TABLE message_base AS {messages}")
        return
    enriched = pipeline_sql("enriched_events")
    for p in range(passes):
        part = f"SELECT * FROM ({enriched}) WHERE hash(message_id) % {passes} = {p}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW enriched_events AS {part}")
        into = "CREATE OR REPLACE TEMP TABLE message_base AS" if p == 0 else "INSERT INTO message_base"
        con.execute(f"{into} {messages}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW enriched_events AS {enriched}")


@dataclass(frozen=True)
class OutcomeCounts:
    """Events classified, messages with a final status (build_outcomes' result; the run's, once the
    period has narrowed the messages)."""

    events: int
    messages: int  # whose first event falls in the period
    messages_outside_period: int = 0  # left out by --start/--end, counted so none leaves silently
    buckets: int = 1  # the messages were built in this many buckets (reporter/buckets.py)


def build_outcomes(
    con: duckdb.DuckDBPyConnection,
    ingested: IngestResult,
    dimension: Dimension,
    hmac_key: bytes | None = None,
    keep_events: bool = True,
) -> OutcomeCounts:
    """Reads ingest's `events` and `ingest_files` (`ingested` is that ingest's result) and the dimension.

    Creates the dimension's tables (register_dimension), code_lookup, destination_prefixes,
    event_counts, message_base (the views message_rows, messages_public and `messages` over it,
    see build_messages) and message_counts; returns the counts. All at once: reporter/buckets.py
    does the same per bucket when the events do not fit the memory limit.

    Destination country comes from the first digits of an international number (a calling code and
    enough digits to tell apart the regions that share it: 1 = US, CA...; 44 = GB, JE...), looked up
    once per distinct prefix of the final destinations with phonenumbers. The `messages` view is
    public: destination masked, its keyed hash beside it, so every writer downstream sees only that.
    Without `keep_events`, the events are dropped once the messages are built, so the memory they
    held is free for the steps after (at 20M events, keeping them made DuckDB spill under its limit).
    """
    events = prepare_outcomes(con, ingested, dimension)
    build_event_counts(con)
    in_messages = build_messages(con, hmac_key, not keep_events, message_passes(events))
    check_events(con, events, in_messages)
    build_message_counts(con)
    return OutcomeCounts(events, _one(con, "SELECT count(*) FROM message_base"))


def build_event_counts(con: duckdb.DuckDBPyConnection) -> None:
    """`event_counts`: prepare_outcomes' event_groups, classified."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE event_counts AS {pipeline_sql('event_counts')}")


def check_events(con: duckdb.DuckDBPyConnection, events: int, in_messages: int) -> None:
    """The joins to code_lookup are inner joins: these sums prove no event was lost or doubled."""
    counted = _one(con, "SELECT coalesce(sum(events), 0) FROM event_counts")
    if not counted == in_messages == events:
        raise ReconciliationError(
            f"outcomes lost events: {events} events, {in_messages} in messages, {counted} counted"
        )


def build_message_counts(con: duckdb.DuckDBPyConnection) -> int:
    """`message_counts`, the small aggregate of `messages` that the named queries and the report read.

    Returns its rows. Its total is checked against the messages; `run` filters both by date alike.
    """
    con.execute(f"CREATE OR REPLACE TEMP VIEW message_groups AS {pipeline_sql('message_groups')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE message_counts AS {pipeline_sql('message_counts')}")
    counted = _one(con, "SELECT coalesce(sum(messages), 0) FROM message_counts")
    messages = _one(con, "SELECT count(*) FROM message_base")
    if counted != messages:
        raise ReconciliationError(f"message_counts holds {counted} messages, messages {messages}")
    return _one(con, "SELECT count(*) FROM message_counts")


def latest_event_time(
    con: duckdb.DuckDBPyConnection, query: str = "SELECT max(last_event_at) FROM message_base"
) -> dt.datetime | None:
    """The latest event time of the run's input (call before the period narrows the messages)."""
    value = con.execute(query).fetchall()[0][0]
    return value if isinstance(value, dt.datetime) else None


def build_message_summaries(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime | None,
    receipt_timeout_minutes: int,
) -> None:
    """`delivery_times` and `by_carrier`, the small tables that need the messages themselves.

    by_carrier reads `message_rows`, delivery_times `message_base` with its class (delivery_seconds.sql),
    before they are dropped; messages without a receipt are those still submitted or queued whose
    first event is older than the timeout before `as_of`; delivery_times must count every row of
    message_base.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE by_carrier AS {pipeline_sql('by_carrier')}")
    # delivery_seconds as a CTE, not a table (the buckets keep one): 0.35 s less at 10M.
    seconds = f"WITH delivery_seconds AS ({pipeline_sql('delivery_seconds')}) "
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE delivery_times AS {seconds}{pipeline_sql('delivery_times')}",
        delivery_params(as_of, receipt_timeout_minutes),
    )
    _check_delivery_times(con, _one(con, "SELECT count(*) FROM message_base"))


def delivery_params(as_of: dt.datetime | None, receipt_timeout_minutes: int) -> dict[str, object]:
    return {"as_of": as_of, "timeout_minutes": receipt_timeout_minutes}


def build_delivery_times(con: duckdb.DuckDBPyConnection, messages: int) -> None:
    """`delivery_times` from the view `delivery_seconds` (one row per message, across buckets)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE delivery_times AS {pipeline_sql('delivery_times')}")
    con.execute("DROP VIEW delivery_seconds")
    _check_delivery_times(con, messages)


def _check_delivery_times(con: duckdb.DuckDBPyConnection, messages: int) -> None:
    counted = _one(con, "SELECT coalesce(sum(messages), 0) FROM delivery_times WHERE level = 'all'")
    if counted != messages:
        raise ReconciliationError(f"delivery_times holds {counted} messages, not every message")


def drop_outside_period(
    con: duckdb.DuckDBPyConnection, table: str, start: dt.date | None, end: dt.date | None
) -> int:
    """Delete the rows of `table` dated outside [start, end]; return how many went."""
    rows = con.execute(
        f"DELETE FROM {table} WHERE date < coalesce(?, DATE '0001-01-01') "
        "OR date > coalesce(?, DATE '9999-12-31')",
        [start, end],
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchall()[0]
    return int(row[0]) if row else 0
