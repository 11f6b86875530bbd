"""Outcomes: classify every event, find each message's final status, count events.

Runs in DuckDB on the connection that ingest filled (`events`, `ingest_files`). Creates
`enriched_events` (a view), `messages` and `event_counts` (tables). The SQL lives in
reporter/sql/*.sql; row counts are checked here, not only in tests.
"""

from __future__ import annotations

from importlib import resources

import duckdb
import phonenumbers

from reporter.codes import Dimension
from reporter.codes.rules import LIFECYCLE_CODES
from reporter.errors import ReconciliationError

# Destination country comes from the first digits of an international number: a calling code and
# enough digits after it to tell the regions that share it apart (1 = US, CA, ...; 44 = GB, JE, ...).
_PREFIX_DIGITS = 7


def pipeline_sql(name: str) -> str:
    return resources.files("reporter.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


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
    con.executemany("INSERT INTO lifecycle_codes VALUES (?, ?, ?)", rows)


# International digits of a destination: "00" becomes "+", punctuation goes.
_E164 = "regexp_replace(regexp_replace({}, '^00', '+'), '[^0-9+]', '', 'g')"
_PHONE_CHANNELS = "('sms', 'mms', 'whatsapp', 'voice')"


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
    """`destination_prefixes`: region code per international-number prefix, via phonenumbers."""
    prefixes = con.execute(
        f"SELECT left(d, {_PREFIX_DIGITS}) AS p, any_value(d) FROM ("
        f"SELECT {_E164.format('destination')} AS d FROM messages WHERE channel IN {_PHONE_CHANNELS}) "
        "WHERE d LIKE '+%' GROUP BY p"
    ).fetchall()
    rows = []
    for prefix, example in prefixes:
        rows.append([prefix, _country(example)])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE destination_prefixes (prefix VARCHAR PRIMARY KEY, country VARCHAR)"
    )
    if rows:
        con.executemany("INSERT INTO destination_prefixes VALUES (?, ?)", rows)


def build_outcomes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create enriched_events, messages (with destination_country) and event_counts; return counts."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW enriched_events AS {pipeline_sql('enriched_events')}")
    events = _one(con, "SELECT count(*) FROM events")
    enriched = _one(con, "SELECT count(*) FROM enriched_events")
    if enriched != events:
        raise ReconciliationError(f"enrichment changed the event count: {events} events, {enriched} enriched")
    con.execute(f"CREATE OR REPLACE TEMP TABLE messages AS {pipeline_sql('messages')}")
    _country_table(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE messages AS "
        "SELECT m.*, p.country AS destination_country FROM messages m LEFT JOIN destination_prefixes p "
        f"ON p.prefix = left({_E164.format('m.destination')}, {_PREFIX_DIGITS}) "
        f"AND m.channel IN {_PHONE_CHANNELS}"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE event_counts AS {pipeline_sql('event_counts')}")
    counted = _one(con, "SELECT coalesce(sum(events), 0) FROM event_counts")
    in_messages = _one(con, "SELECT coalesce(sum(events), 0) FROM messages")
    if not counted == in_messages == events:
        raise ReconciliationError(
            f"outcomes lost events: {events} events, {in_messages} in messages, {counted} counted"
        )
    return {"events": events, "messages": _one(con, "SELECT count(*) FROM messages")}


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchall()[0]
    return int(row[0]) if row else 0
