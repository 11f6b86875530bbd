"""Source columns to canonical event fields, as DuckDB SQL expressions.

Aliases are matched case-insensitively ignoring punctuation (`statusCode` = `status_code`).
Values are converted in SQL, in one pass, and every failure yields a quarantine reason
instead of a NULL that would hide it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

import phonenumbers

from reporter.config import CANONICAL_FIELDS
from reporter.engine import quote_ident, quote_literal

ALIASES: dict[str, tuple[str, ...]] = {
    "event_time": (
        "eventtime",
        "timestamp",
        "timestamp",
        "time",
        "eventtimestamp",
        "statustime",
        "ts",
        "datetime",
    ),
    "message_id": ("messageid", "transid", "transactionid", "msgid"),
    "channel": ("channel", "deliverychannel", "channeltype"),
    "status_code": ("statuscode", "code", "errorcode", "resultcode"),
    "region": ("region", "tenantregion", "hostingregion"),
    "event_id": ("eventid", "subtid"),
    "status_description": ("statusdescription", "description", "statusmessage", "reason"),
    "delivery_status": ("deliverystatus",),
    "destination": ("destination", "msisdn", "recipient", "to", "address", "phonenumber"),
    "sender": ("sender", "senderid", "from"),
    "tenant": ("tenant", "tenantid", "serviceid"),
    "carrier": ("carrier", "operator"),
    "callback_data": ("callbackdata",),
    "correlation_id": ("correlationid",),
}

# The vendor's delivery-receipt webhook body (DESIGN.md §3): canonical field -> JSON path.
_DIN = "$.deliveryInfoNotification"
WEBHOOK_PATHS: dict[str, str] = {
    "event_time": f"{_DIN}.deliveryInfo.timeStamp",
    "status_code": f"{_DIN}.deliveryInfo.code",
    "status_description": f"{_DIN}.deliveryInfo.Description",
    "channel": f"{_DIN}.deliveryInfo.deliveryChannel",
    "delivery_status": f"{_DIN}.deliveryInfo.deliveryStatus",
    "destination": f"{_DIN}.deliveryInfo.destination",
    "message_id": f"{_DIN}.transid",
    "event_id": f"{_DIN}.subtid",
    "carrier": f"{_DIN}.carrier",
    "callback_data": f"{_DIN}.callbackData",
    "correlation_id": f"{_DIN}.correlationid",
}
WEBHOOK_KEY = "deliveryInfoNotification"

INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
}
# E.164 calling codes are prefix-free, so one alternation finds a number's country code.
_CALLING_CODES = "|".join(str(c) for c in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE, key=str))


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve_columns(columns: list[str], extra: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """canonical field -> source column, first by the config's spellings, then the built-in aliases."""
    by_norm: dict[str, str] = {}
    for name in columns:
        by_norm.setdefault(normalise(name), name)
    resolved: dict[str, str] = {}
    used: set[str] = set()
    for field in CANONICAL_FIELDS:
        for spelling in (*extra.get(field, ()), field, *ALIASES.get(field, ())):
            column = by_norm.get(normalise(spelling))
            if column and column not in used:
                resolved[field] = column
                used.add(column)
                break
    return resolved


def text(expr: str) -> str:
    """Trimmed text, with empty strings as NULL (the webhook sends "" for missing values)."""
    return f"NULLIF(TRIM(CAST({expr} AS VARCHAR)), '')"


def status_code(expr: str, dtype: str) -> str:
    if dtype in INTEGER_TYPES:
        return f"CAST({expr} AS BIGINT)"
    return f"CASE WHEN regexp_full_match({text(expr)}, '[0-9]{{1,18}}') THEN CAST({text(expr)} AS BIGINT) END"


_OFFSET = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$"


def event_time(expr: str, dtype: str, zone: str) -> str:
    """UTC TIMESTAMPTZ from epoch s/ms, ISO 8601 with an offset or Z, or naive text in `zone`."""
    tz = quote_literal(zone)
    if dtype == "TIMESTAMP WITH TIME ZONE":
        return expr
    if dtype.startswith("TIMESTAMP"):
        return f"timezone({tz}, CAST({expr} AS TIMESTAMP))"
    if dtype in INTEGER_TYPES:
        return f"CASE WHEN {expr} >= 100000000000 THEN {_epoch(expr, 1000)} ELSE {_epoch(expr, 1000000)} END"
    t = text(expr)
    return (
        f"CASE WHEN regexp_full_match({t}, '[0-9]{{13}}') THEN {_epoch(t, 1000)} "
        f"WHEN regexp_full_match({t}, '[0-9]{{10}}') THEN {_epoch(t, 1000000)} "
        f"WHEN regexp_matches({t}, '{_OFFSET}') "
        f"THEN TRY_CAST(regexp_replace({t}, '\\s*UTC$', 'Z') AS TIMESTAMPTZ) "
        f"ELSE timezone({tz}, TRY_CAST({t} AS TIMESTAMP)) END"
    )


def _epoch(expr: str, to_micros: int) -> str:
    """Epoch seconds (to_micros 1e6) or milliseconds (1e3) as a UTC TIMESTAMPTZ."""
    return f"make_timestamp(CAST({expr} AS BIGINT) * {to_micros})::TIMESTAMPTZ"


def channel_norm(expr: str) -> str:
    """The same normalisation as reporter.codes.channels.normalise_spelling, in SQL."""
    return f"TRIM(regexp_replace(lower({text(expr)}), '[^a-z0-9]+', ' ', 'g'))"


def mask_destination(expr: str) -> str:
    """Country code and last three digits of a phone number; the domain of an email; else the last 4."""
    d = text(expr)
    digits = f"regexp_replace({d}, '[^0-9]', '', 'g')"
    cc = f"regexp_extract({digits}, '^({_CALLING_CODES})')"
    return (
        f"CASE WHEN {d} IS NULL THEN NULL "
        f"WHEN contains({d}, '@') THEN '***@' || lower(regexp_extract({d}, '@([^@]*)$', 1)) "
        f"WHEN regexp_full_match({d}, '(\\+|00)[0-9][0-9 ().-]{{5,}}') THEN "
        f"'+' || {cc} || repeat('*', greatest(length({digits}) - length({cc}) - 3, 0)) || right({digits}, 3) "
        f"WHEN regexp_full_match({d}, '[0-9][0-9 ().-]{{5,}}') THEN "
        f"repeat('*', greatest(length({digits}) - 3, 0)) || right({digits}, 3) "
        f"WHEN length({d}) > 8 THEN '***' || right({d}, 4) ELSE '***' END"
    )


def destination_hash(expr: str, key: bytes | None) -> str:
    """HMAC-SHA256 of the destination with a secret key, computed in SQL (ipad/opad precomputed)."""
    if key is None:
        return "CAST(NULL AS VARCHAR)"
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in key).hex()
    opad = bytes(b ^ 0x5C for b in key).hex()
    inner = f"unhex(sha256(unhex('{ipad}') || encode({text(expr)})))"
    return f"CASE WHEN {text(expr)} IS NOT NULL THEN sha256(unhex('{opad}') || {inner}) END"


def hmac_reference(value: str, key: bytes) -> str:
    """Python's HMAC-SHA256, the reference the SQL version is tested against."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask_raw(expr: str) -> str:
    """Raw text for the quarantine with phone-like digit runs and email local parts masked."""
    return (
        f"regexp_replace(regexp_replace({expr}, '(\\+?)[0-9]{{4,12}}([0-9]{{3}})', '\\1***\\2', 'g'), "
        f"'[A-Za-z0-9._%+-]+@', '***@', 'g')"
    )


def column_ref(name: str) -> str:
    return quote_ident(name)
