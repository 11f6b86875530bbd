"""Source columns to canonical event fields, as DuckDB SQL expressions.

Aliases (reporter/schema.py) are matched case-insensitively ignoring punctuation
(`statusCode` = `status_code`).
Values are converted in SQL, in one pass, and every failure yields a quarantine reason
instead of a NULL that would hide it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reporter.engine import quote_ident, quote_literal
from reporter.schema import FIELDS

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


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve_columns(columns: list[str], extra: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """canonical field -> source column, first by the config's spellings, then the built-in aliases."""
    by_norm: dict[str, str] = {}
    for name in columns:
        by_norm.setdefault(normalise(name), name)
    resolved: dict[str, str] = {}
    used: set[str] = set()
    for field in FIELDS:
        for spelling in (*extra.get(field.name, ()), field.name, *field.aliases):
            column = by_norm.get(normalise(spelling))
            if column and column not in used:
                resolved[field.name] = column
                used.add(column)
                break
    return resolved


def resolve_keys(keys: list[str], extra: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """canonical field -> every key spelling it (JSON objects), in the order `resolve_columns` tries them.

    A key belongs to the first field that spells it; each object's value is its first key present.
    """
    resolved: dict[str, list[str]] = {}
    used: set[str] = set()
    for field in FIELDS:
        for spelling in (*extra.get(field.name, ()), field.name, *field.aliases):
            for key in keys:
                if key not in used and normalise(key) == normalise(spelling):
                    resolved.setdefault(field.name, []).append(key)
                    used.add(key)
    return resolved


def same_spelling(keys: list[str]) -> list[list[str]]:
    """Groups of two or more keys that are one spelling (`Channel`, `channel`): duplicates, not aliases."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(normalise(key), []).append(key)
    return [g for g in groups.values() if len(g) > 1]


def text(expr: str, dtype: str = "VARCHAR", trim: bool = True) -> str:
    """Text with empty strings as NULL (the webhook sends "" for missing values); trimmed if asked."""
    value = expr if dtype == "VARCHAR" else f"CAST({expr} AS VARCHAR)"
    if not trim:
        return f"NULLIF({value}, '')"

    # TRIM copies every string it is given (0.7 s per 10M message ids), so a value whose first and
    # last characters are printable ASCII other than space skips it. TRIM() also takes Unicode spaces
    # (no-break space...), which the test sends down the TRIM path with every other non-ASCII end.
    def printable(char: str) -> str:
        return f"ascii({char}) BETWEEN 33 AND 126"

    return (
        f"CASE WHEN {printable(value)} AND {printable(f'right({value}, 1)')} THEN {value} "
        f"ELSE NULLIF(TRIM({value}), '') END"
    )


def is_missing(expr: str, dtype: str) -> str:
    """True where a field has no value: NULL, or blank text. Typed columns are never cast to text."""
    return f"(NULLIF({expr}, '') IS NULL)" if dtype == "VARCHAR" else f"({expr} IS NULL)"


def status_code(expr: str, dtype: str) -> str:
    """A non-negative integer code, or NULL (then the row is quarantined as bad_status_code)."""
    if dtype in INTEGER_TYPES:  # out of BIGINT's range, or negative: that row's bad_status_code
        return f"CASE WHEN {expr} >= 0 THEN TRY_CAST({expr} AS BIGINT) END"
    # TRY_CAST ignores surrounding blanks but accepts "7500.0": a code with a dot is refused.
    # No TRIM/NULLIF here: DuckDB would evaluate them once per reference, and the cast needs neither.
    return f"CASE WHEN NOT contains({expr}, '.') THEN TRY_CAST({expr} AS UBIGINT)::BIGINT END"


def event_time(expr: str, dtype: str, zone: str) -> str:
    """UTC TIMESTAMPTZ from a timestamp column, epoch s/ms, or ISO 8601 text.

    Text without an offset is read in the session's time zone, which the pipeline sets to the
    input's zone while it stages that input (one cast instead of a regex per row).
    """
    if dtype == "TIMESTAMP WITH TIME ZONE":
        return expr
    if dtype.startswith("TIMESTAMP"):
        return f"timezone({quote_literal(zone)}, CAST({expr} AS TIMESTAMP))"
    if dtype in INTEGER_TYPES:  # TRY: an epoch out of range is that row's bad_event_time
        return f"TRY(CASE WHEN {expr} >= 100000000000 THEN {_epoch_ms(expr)} ELSE to_timestamp({expr}) END)"
    # The raw text, untrimmed: the casts ignore blanks, and each repeated TRIM would be evaluated.
    number = f"TRY_CAST({expr} AS BIGINT)"
    return (
        f"CASE WHEN length({expr}) = 13 AND {number} IS NOT NULL THEN {_epoch_ms(number)} "
        f"WHEN length({expr}) = 10 AND {number} IS NOT NULL THEN to_timestamp({number}) "
        f"ELSE TRY_CAST({expr} AS TIMESTAMPTZ) END"
    )


def _epoch_ms(expr: str) -> str:
    return f"(to_timestamp({expr} // 1000) + to_milliseconds({expr} % 1000))"


def column_ref(name: str) -> str:
    return quote_ident(name)
