"""The shared vocabulary: status classes, their rank, the failure classes and the phone channels.

Declared once here and rendered into SQL (reporter/sql/*.sql through `render`, the Spark path
through the same snippets) and used by Python as plain tuples. Every rendered snippet is plain SQL
that DuckDB and Spark SQL both read (CASE, IN, left, substr, ||), so both engines run the same text;
the few that must differ per engine (_BY_DIALECT) are rendered for the dialect render() is given.
The event's fields come from reporter/schema.py, its only import from reporter: every step may use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reporter import schema

# A message's final status is its highest-ranked event (DESIGN.md §4); ties go to the latest
# event_time, then the higher code, then the later input line, then the later input file
# (FINAL_EVENT_KEY, final_event_key_sql).
STATUS_RANK: dict[str, int] = {
    "read": 5,
    "delivered": 4,
    "failed": 3,
    "undelivered": 3,
    "submitted": 2,
    "queued": 1,
    "unknown": 0,
}
STATUS_CLASSES: tuple[str, ...] = tuple(STATUS_RANK)
# A message has reached its recipient once an event ranks this high (delivered or read).
DELIVERED_RANK = STATUS_RANK["delivered"]
FAILURE_CLASSES: tuple[str, ...] = ("failed", "undelivered")  # a failure is a final status of these
# A message whose final status is one of these has reached its recipient (ranked DELIVERED_RANK and up).
REACHED_CLASSES: tuple[str, ...] = tuple(c for c, rank in STATUS_RANK.items() if rank >= DELIVERED_RANK)
# A message whose final status is one of these still waits for a final receipt.
PENDING_CLASSES: tuple[str, ...] = ("submitted", "queued")
# The final event's order key: each field clamped to [0, 2**bits) (event_time in microseconds since
# 1970, so up to 2112), compared in this order, then source_index. DuckDB packs the clamped fields
# into one HUGEINT (cheap to compare), Spark compares them as a struct: the same order either way.
FINAL_EVENT_KEY: tuple[tuple[str, int], ...] = (
    ("status_rank", 3),
    ("event_time", 52),
    ("status_code", 24),
    ("source_line", 40),
)
# The bits a HUGEINT (127 and a sign) has left beside them: the file index, while it fits (256 files).
KEY_FILE_BITS = 127 - sum(bits for _, bits in FINAL_EVENT_KEY)
# Regions the SMS codes of the US/Canada table belong to; seen elsewhere they are out of region.
US_CA_REGIONS: tuple[str, ...] = ("us", "ca")
US_CA_SCOPE = "us+ca"
# Channels that send to phone numbers: their destinations are E.164 numbers with a country.
PHONE_CHANNELS: tuple[str, ...] = ("sms", "mms", "whatsapp", "voice", "rcs")
# How many characters of an international number ("+" and 6 digits) tell its country apart.
DESTINATION_PREFIX_CHARS = 7
# Where a code's classification came from, in lookup order (channel row, common row, lifecycle, none).
CODE_SOURCES: tuple[str, ...] = ("channel", "common", "lifecycle", "none")


def sql_list(values: tuple[str, ...]) -> str:
    """A SQL list of string literals: ('a', 'b'). Values are this module's constants, never data."""
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def status_rank_sql(column: str) -> str:
    """CASE expression giving a status class its rank (unknown and anything else: 0)."""
    arms = " ".join(f"WHEN '{k}' THEN {v}" for k, v in STATUS_RANK.items() if v)
    return f"CASE {column} {arms} ELSE 0 END"


def reached_sql(rank: str) -> str:
    """True for an event whose rank says it reached the recipient (delivered or read)."""
    return f"{rank} >= {DELIVERED_RANK}"


def is_failure_sql(column: str) -> str:
    return f"{column} IN {sql_list(FAILURE_CLASSES)}"


def destination_prefix_sql(channel: str, destination: str) -> str:
    """The first characters of an international number on a phone channel, else NULL."""
    tail = DESTINATION_PREFIX_CHARS - 1
    return (
        f"CASE WHEN {channel} NOT IN {sql_list(PHONE_CHANNELS)} THEN NULL "
        f"WHEN left({destination}, 1) = '+' THEN left({destination}, {DESTINATION_PREFIX_CHARS}) "
        f"WHEN left({destination}, 2) = '00' THEN '+' || substr({destination}, 3, {tail}) END"
    )


def out_of_region_sql(region_scope: str, region: str) -> str:
    """True for a code documented only for US/Canada tenants, seen in another region."""
    return f"({region_scope} = '{US_CA_SCOPE}' AND {region} NOT IN {sql_list(US_CA_REGIONS)})"


def final_event_key_sql(dialect: str, files: int | None = None) -> str:
    """The order key of a message's events (FINAL_EVENT_KEY) for `dialect` ("duckdb" or "spark").

    DuckDB packs the fields into one HUGEINT, and the file index into its low bits when a run has
    `files` of at most 2**KEY_FILE_BITS (arg_max compares one integer: 1 s less at 10M events than
    beside the index in a struct); more files, or `files` unknown, keep that struct."""
    micros = {"duckdb": "epoch_us(event_time)", "spark": "unix_micros(event_time)"}[dialect]
    fields = [
        (f"least(greatest({micros if name == 'event_time' else name}, 0), {2**bits - 1})", bits)
        for name, bits in FINAL_EVENT_KEY
    ]
    if dialect == "spark":
        return f"struct({', '.join(field for field, _ in fields)}, source_index)"
    shift, packed = 0, []
    for field, bits in reversed(fields):
        packed.append(f"(CAST({field} AS HUGEINT) << {shift})")
        shift += bits
    key = " + ".join(reversed(packed))
    if files is not None and files <= 2**KEY_FILE_BITS:
        return f"(({key}) << {KEY_FILE_BITS}) + source_index"
    return f"struct_pack(k := {key}, s := source_index)"


def p50_p95_sql(column: str, dialect: str) -> str:
    """`p50_<column>`, `p95_<column>`: the exact, interpolated median and 95th percentile, rounded to
    the microsecond (the engines' float interpolation differs in the last bits). DuckDB gets one
    quantile_cont over a list, one state and one sort for both: two percentile_cont states ran 48M
    messages (100M events) out of a 3 GB limit in delivery_times, and cost 0.6 s more at 10M.
    Spark SQL has no list form."""
    if dialect == "spark":
        one = "round(percentile_cont({q}) WITHIN GROUP (ORDER BY {c}), 6)"
        p50, p95 = one.format(q=0.5, c=column), one.format(q=0.95, c=column)
    else:  # the same aggregate twice is one state (DuckDB folds equal aggregates)
        p50, p95 = (f"round(quantile_cont({column}, [0.5, 0.95])[{i}], 6)" for i in (1, 2))
    return f"{p50} AS p50_{column}, {p95} AS p95_{column}"


def message_fields_sql(prefix: str = "") -> str:
    """The fields a message carries from its final event (schema.MESSAGE_FIELDS), as columns, but
    message_id: the messages are grouped by it, so messages.sql carries it beside the final event."""
    return schema.columns_sql(tuple(f for f in schema.MESSAGE_FIELDS if f != "message_id"), prefix)


def message_details_sql(prefix: str = "") -> str:
    """Those of them that follow the classification in the messages (schema.MESSAGE_DETAILS)."""
    return schema.columns_sql(schema.MESSAGE_DETAILS, prefix)


_SNIPPETS: dict[str, Callable[..., str]] = {
    "status_rank": status_rank_sql,
    "is_failure": is_failure_sql,
    "reached": reached_sql,
    "destination_prefix": destination_prefix_sql,
    "out_of_region": out_of_region_sql,
    "message_fields": message_fields_sql,
    "message_details": message_details_sql,
}
# Snippets rendered differently per engine: render() passes them its `dialect` last.
_BY_DIALECT: dict[str, Callable[..., str]] = {"p50_p95": p50_p95_sql}
_LISTS = {
    "failure_classes": FAILURE_CLASSES,
    "reached_classes": REACHED_CLASSES,
    "pending_classes": PENDING_CLASSES,
    "phone_channels": PHONE_CHANNELS,
}
_MARKER = re.compile(r"\{\{\s*(\w+)(?:\(([^)]*)\))?\s*\}\}")


def render(sql: str, dialect: str = "duckdb") -> str:
    """Replace `{{ name }}` (a list) and `{{ name(args) }}` (a snippet) markers in a SQL text for
    `dialect` ("duckdb" or "spark").

    An unknown marker raises KeyError, so a typo cannot reach an engine as text.
    """

    def replace(match: re.Match[str]) -> str:
        name, args = match[1], match[2]
        if args is None:
            return sql_list(_LISTS[name])
        values = [a.strip() for a in args.split(",")] if args.strip() else []
        if name in _BY_DIALECT:
            return _BY_DIALECT[name](*values, dialect)
        return _SNIPPETS[name](*values)

    return _MARKER.sub(replace, sql)
