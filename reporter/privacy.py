"""What may leave the process: masking, the keyed hash and raw-text scrubbing, in one place.

Events hold destinations unmasked in memory only. Every writer that lets a destination or a raw
input line out goes through here: `public()` for rows (the events and messages extracts, and the
messages every later step reads), `mask_raw()` for the quarantine's raw text. All are DuckDB SQL
expressions, computed where the rows are.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import phonenumbers

from reporter.engine import quote_ident, quote_literal

HMAC_KEY_ENV = "REPORTER_HMAC_KEY"
# E.164 calling codes are prefix-free: a number starts with exactly one of them.
_CODES = sorted(str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def hmac_key_from_env() -> bytes | None:
    """The key of `destination_hash`, from $REPORTER_HMAC_KEY (never from a file); None: no hash."""
    key = os.environ.get(HMAC_KEY_ENV)
    return key.encode() if key else None


def public(query: str, hmac_key: bytes | None) -> str:
    """`query`'s rows as they may leave the process: `destination` masked and moved last, its keyed
    hash `destination_hash` after it (NULL without a key)."""
    hashed = f"SELECT *, {destination_hash('destination', hmac_key)} AS destination_hash FROM ({query})"
    with_mask = masked(hashed, "destination", "destination_masked")
    return (
        "SELECT * EXCLUDE (destination, destination_masked, destination_hash), "
        f"destination_masked AS destination, destination_hash FROM ({with_mask})"
    )


def _code_lengths() -> str:
    """A list literal: the calling-code length of a number by its first two digits (00-99).

    Calling codes are prefix-free: 1 and 7 are whole codes, then 20, 27, 30..., the rest 3 digits.
    A list lookup costs a fifth of two IN tests per row.
    """
    lengths = [3] * 100
    for code in _CODES:
        if len(code) == 1:
            lengths[int(code) * 10 : int(code) * 10 + 10] = [1] * 10
        elif len(code) == 2:
            lengths[int(code)] = 2
    return "[" + ", ".join(map(str, lengths)) + "]"


def masked(source: str, column: str, alias: str) -> str:
    """`source` (a query) plus `alias`: `column` masked.

    A phone number keeps its country code (only when written with + or 00) and last three digits;
    an email keeps its domain; anything else its last four characters. Computed in layers because
    DuckDB evaluates a repeated sub-expression each time it appears.
    """
    d = quote_ident(column)
    # Only a phone-like value (digits, +, and the separators people write) is cleaned and tested;
    # translate() on every email and token cost 3 s per 10M messages.
    layer1 = (
        f"SELECT *, CASE WHEN regexp_full_match({d}, '\\+?[0-9]+') THEN {d} "
        f"WHEN regexp_full_match({d}, '[+0-9 ().-]+') THEN translate({d}, ' ()-.', '') END AS __m_s "
        f"FROM ({source})"
    )
    layer2 = (
        "SELECT *, starts_with(__m_s, '+') OR starts_with(__m_s, '00') AS __m_intl, "
        "CASE WHEN starts_with(__m_s, '+') THEN substr(__m_s, 2) WHEN starts_with(__m_s, '00') "
        f"THEN substr(__m_s, 3) ELSE __m_s END AS __m_dg FROM ({layer1})"
    )
    layer3 = (
        "SELECT *, coalesce(regexp_full_match(__m_dg, '[0-9]{6,15}'), false) AS __m_phone, "
        f"left(__m_dg, {_code_lengths()}[TRY_CAST(left(__m_dg, 2) AS INTEGER) + 1]) AS __m_cc "
        f"FROM ({layer2})"
    )
    mask = (
        f"CASE WHEN {d} IS NULL THEN NULL "
        "WHEN __m_phone AND __m_intl THEN "
        "'+' || __m_cc "
        "|| lpad(right(__m_dg, 3), CAST(greatest(length(__m_dg) - length(__m_cc), 3) AS INTEGER), '*') "
        "WHEN __m_phone THEN lpad(right(__m_dg, 3), CAST(length(__m_dg) AS INTEGER), '*') "
        f"WHEN contains({d}, '@') THEN '***@' || lower(split_part({d}, '@', -1)) "
        f"WHEN length({d}) > 8 THEN '***' || right({d}, 4) ELSE '***' END"
    )
    helpers = "__m_s, __m_intl, __m_dg, __m_phone, __m_cc"
    return f"SELECT * EXCLUDE ({helpers}), {mask} AS {quote_ident(alias)} FROM ({layer3})"


def destination_hash(expr: str, key: bytes | None) -> str:
    """HMAC-SHA256 of the destination with a secret key, computed in SQL (ipad/opad precomputed)."""
    if key is None:
        return "CAST(NULL AS VARCHAR)"
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in key).hex()
    opad = bytes(b ^ 0x5C for b in key).hex()
    inner = f"unhex(sha256(unhex('{ipad}') || encode({expr})))"
    return f"CASE WHEN {expr} IS NOT NULL THEN sha256(unhex('{opad}') || {inner}) END"


def hmac_reference(value: str, key: bytes) -> str:
    """Python's HMAC-SHA256, the reference the SQL version is tested against."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask_raw(expr: str) -> str:
    """Raw text for the quarantine with phone-like numbers and email local parts masked.

    A phone number may be written with spaces, dots, dashes or brackets ("+44 7700 900124"): a run of
    digits and such separators, 7 characters or more, keeps only its last three digits. An email's
    local part may hold non-ASCII letters: everything before "@" up to a blank, separator or quote goes.
    """
    phone = quote_literal(r"\+?[0-9][0-9 ().-]{3,}([0-9]{3})")
    email = quote_literal(r"[^\s@,;:\"'<>|]+@")
    return f"regexp_replace(regexp_replace({expr}, {email}, '***@', 'g'), {phone}, '***\\1', 'g')"
