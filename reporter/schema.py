"""The canonical delivery event (DESIGN.md §3): every field declared once, here.

Everything that names the event's fields derives from FIELDS: the `events` table's columns and types
(ingest/pipeline.py), the spellings a source column may use and the webhook paths
(ingest/mapping.py), which fields a reader keeps as written (ingest/stage.py), the config's
`[columns]` keys (config.py), the fields a message carries from its final event into the messages
SQL (`{{ message_fields(prefix) }}` through vocabulary.render) and the README's table of fields
(tests/test_docs.py). This module imports nothing from reporter: every step may use it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One canonical field; its place in FIELDS is its column's place in `events`."""

    name: str
    type: str  # the DuckDB type of its column in `events`
    doc: str  # its line in the README's table of fields ("accepted names" come from aliases)
    aliases: tuple[
        str, ...
    ] = ()  # other spellings, in the order tried; matched ignoring case and punctuation
    webhook: str | None = None  # its path in the vendor's delivery receipt, under WEBHOOK_KEY
    # Read by a rule of its own in ingest/stage.py (typed, required or defaulted); the others are text
    # kept as written, stored only when the source has them.
    converted: bool = False
    message: bool = False  # a message carries its final event's value (a column of the messages)


WEBHOOK_KEY = "deliveryInfoNotification"


def _key(name: str, type_: str, doc: str, aliases: tuple[str, ...], webhook: str | None = None) -> Field:
    """A field every message carries, read by a rule of its own in ingest/stage.py."""
    return Field(name, type_, doc, aliases, webhook, converted=True, message=True)


FIELDS: tuple[Field, ...] = (
    _key(
        "event_time",
        "TIMESTAMPTZ",
        "required; ISO 8601 with an offset or `Z`, naive (zone from config, default UTC), epoch seconds "
        "(10 digits) or milliseconds (13); stored as UTC",
        ("eventTime", "timestamp", "time", "eventTimestamp", "statusTime", "ts", "datetime"),
        "deliveryInfo.timeStamp",
    ),
    _key(
        "message_id",
        "VARCHAR",
        "absent: the event is its own message",
        ("messageId", "transid", "transactionId", "msgId"),
        "transid",
    ),
    _key(
        "channel",
        "VARCHAR",
        "required; any spelling `reporter codes` knows (`SMS`, `WhatsApp`, `fb`, `rt`, ...)",
        ("deliveryChannel", "channelType"),
        "deliveryInfo.deliveryChannel",
    ),
    _key(
        "status_code",
        "BIGINT",
        "required; digits as text or a number",
        ("statusCode", "code", "errorCode", "resultCode"),
        "deliveryInfo.code",
    ),
    _key(
        "region",
        "VARCHAR",
        "else the `region=` folder, the config's `[[inputs]]`, `--region`, the config's `region`, "
        "else `unknown`",
        ("tenantRegion", "hostingRegion"),
    ),
    Field("event_id", "VARCHAR", "the event's own id; kept when present", ("eventId", "subtid"), "subtid"),
    Field(
        "status_description",
        "VARCHAR",
        "the code's text as the log gives it; kept when present",
        ("statusDescription", "description", "statusMessage", "reason"),
        "deliveryInfo.Description",
    ),
    Field(
        "delivery_status",
        "VARCHAR",
        "the vendor's delivery status; kept when present",
        ("deliveryStatus",),
        "deliveryInfo.deliveryStatus",
    ),
    Field(
        "destination",
        "VARCHAR",
        "the recipient; kept when present, masked in every output (see Destinations)",
        ("msisdn", "recipient", "to", "address", "phoneNumber"),
        "deliveryInfo.destination",
        message=True,
    ),
    Field("sender", "VARCHAR", "kept when present", ("senderId", "from"), message=True),
    Field("tenant", "VARCHAR", "kept when present", ("tenantId", "serviceId"), message=True),
    Field("carrier", "VARCHAR", "kept when present", ("operator",), "carrier", message=True),
    Field("callback_data", "VARCHAR", "kept when present", ("callbackData",), "callbackData"),
    Field("correlation_id", "VARCHAR", "kept when present", ("correlationId",), "correlationid"),
)

NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
# Text fields kept as written when a source has them (NULL in `events` when it does not).
AS_WRITTEN: tuple[str, ...] = tuple(f.name for f in FIELDS if not f.converted)
# The fields a message carries from its final event; the ones after the classification in the extract.
MESSAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.message)
MESSAGE_DETAILS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.message and not f.converted)


def events_columns() -> str:
    """`name TYPE, ...`: the columns of `events`, for a CREATE TABLE."""
    return ", ".join(f"{f.name} {f.type}" for f in FIELDS)


def webhook_paths() -> dict[str, str]:
    """Canonical field -> JSON path in the vendor's delivery-receipt body."""
    return {f.name: f"$.{WEBHOOK_KEY}.{f.webhook}" for f in FIELDS if f.webhook}


def columns_sql(names: tuple[str, ...], prefix: str = "") -> str:
    """`p.a, p.b`: a column list for SQL (names are this module's, never data)."""
    return ", ".join(f"{prefix}{n}" for n in names)
