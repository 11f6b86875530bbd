"""Classification rules: status class, failure category and retryability of a documented row.

Rules are applied in order and the first that matches wins; each result records the
rule's name so every classification can be traced. Exceptions live in
`overrides.toml`, each with a reason (see `overrides.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reporter.codes.document import DocumentedRow
from reporter.vocabulary import FAILURE_CLASSES

FAILURE_CATEGORIES = (
    "request",
    "auth",
    "sender",
    "recipient",
    "content",
    "throttling",
    "expired",
    "billing",
    "network",
    "platform",
    "unknown",
)
TRANSIENT = frozenset({"throttling", "network", "platform", "expired"})
PERMANENT = frozenset({"recipient", "request", "auth", "content", "sender", "billing"})

# Codes whose meaning is the same on every channel (DESIGN.md §2).
LIFECYCLE_CODES = {7500: "delivered", 7502: "read", 7501: "submitted", 1001: "queued", 7200: "unknown"}
CHANNEL_LIFECYCLE_CODES = {("voice", 7519): "delivered"}
# The SMS tables' "Delivery Status" column.
DOCUMENTED_STATUS = {
    "delivered": "delivered",
    "submitted": "submitted",
    "failed": "failed",
    "un-delivered": "undelivered",
}
# Failures in these categories are rejections by the platform before the network saw them.
REJECTED_BEFORE_NETWORK = frozenset({"request", "auth", "sender", "content", "throttling", "billing"})

# (category, pattern) in order; matched against the message, then the description.
CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("billing", r"credit|billing"),
    ("expired", r"pending for too long"),
    (
        "auth",
        r"authenticat|oauth|credential|unauthori[sz]ed|not authori[sz]ed|permission|service key"
        r"|access token|refresh token|whitelist|api rights|no rights|certificate|verification failed"
        r"|api not activated|access is blocked|app id|appid|secret|service inactive|application details"
        r"|merchant api session|not enabled",
    ),
    (
        "throttling",
        r"rate limit|transaction limit|too many (concurrent )?requests?|\btps\b|quota|throughput"
        r"|request limit|every x seconds|quantity over the limit",
    ),
    ("network", r"coverage|not reachable|unreachable"),
    (
        "request",
        r"max(imum)? number|max allowed|limited to|duplicate|invalid (json|input|request|parameter|range)"
        r"|json|parameter|\bparam\b|mandatory|missing|required|bad request|template|structure"
        r"|not implemented|not found|(?<!user )does not exist|already exists|conflict|time to live"
        r"|expiration|collapse_key|number of tokens|tokens must|invalid argument|cancelled"
        r"|current system state|invalid topic|segment|thread|parse error",
    ),
    ("sender", r"sender|campaign|short code|serviceid|profile doesn|chatbot"),
    (
        "recipient",
        r"subscriber|address|receiver|recipient|unregistered device|push id|dnd|do not disturb"
        r"|landline|user is not valid|user does not exist|follower|user id|openid|token|not subscribed"
        r"|phone number|re-engagement|inbound message not received|unsubscribe|bounce|complaint"
        r"|country code|privacy rules",
    ),
    (
        "content",
        r"spam|content|too long|too large|too big|payload|size|length|attachment|media|binary|slide"
        r"|message type|sensitive|multipart|character|empty|vcard|\bical\b|\bpdf\b|passbook|image|audio"
        r"|video|file type|playtime|\burl\b",
    ),
    ("expired", r"expired|\bttl\b|deadline"),
    ("network", r"operator|network|carrier|route|end ?point|deleted|imdn"),
    (
        "platform",
        r"internal|server error|system error|service provider|exception|gateway|platform"
        r"|unavailable|data loss|vendor|smtp|maap|interface call|server",
    ),
    ("unknown", r"unknown|generic|error"),
)
_API_REJECTED = re.compile(r"api call rejected", re.IGNORECASE)
_COMPILED = tuple((cat, re.compile(pat, re.IGNORECASE)) for cat, pat in CATEGORY_RULES)


@dataclass(frozen=True)
class Classification:
    status_class: str
    status_class_rule: str
    failure_category: str | None
    failure_category_rule: str | None
    retryable: bool | None
    retryable_rule: str | None


def failure_category(row: DocumentedRow) -> tuple[str, str]:
    """The failure category of a row and the rule that set it."""
    for field, text in (("message", row.message), ("description", row.description or "")):
        for category, pattern in _COMPILED:
            match = pattern.search(text)
            if match:
                return category, f"{field} mentions {match.group(0).lower()!r}"
    return "unknown", "no keyword matched"


def status_class(row: DocumentedRow, category: str | None, common_codes: frozenset[int]) -> tuple[str, str]:
    """The status class of a row and the rule that set it."""
    if (row.channel, row.code) in CHANNEL_LIFECYCLE_CODES:
        return CHANNEL_LIFECYCLE_CODES[(row.channel, row.code)], f"{row.channel} {row.code} lifecycle code"
    if row.code in LIFECYCLE_CODES:
        return LIFECYCLE_CODES[row.code], f"{row.code} lifecycle code"
    if row.delivery_status:
        documented = DOCUMENTED_STATUS.get(row.delivery_status.lower())
        if documented:
            return documented, f"documented delivery status {row.delivery_status!r}"
    if row.code in common_codes:
        return "failed", "common API error code"
    if _API_REJECTED.search(row.message):
        return "failed", "message says the API call was rejected"
    if category in REJECTED_BEFORE_NETWORK:
        return "failed", f"{category} failures are rejected before the network"
    return "undelivered", f"{category} failures happen after the platform accepted the message"


def retryable(category: str | None) -> tuple[bool | None, str | None]:
    if category in TRANSIENT:
        return True, f"{category} failures are transient"
    if category in PERMANENT:
        return False, f"{category} failures are permanent"
    return None, None if category is None else f"{category} failures: retry unknown"


def classify(row: DocumentedRow, common_codes: frozenset[int]) -> Classification:
    """Classify one documented row by the rules above (before overrides)."""
    category, category_rule = failure_category(row)
    klass, klass_rule = status_class(row, category, common_codes)
    if klass not in FAILURE_CLASSES:
        return Classification(klass, klass_rule, None, None, None, None)
    retry, retry_rule = retryable(category)
    return Classification(klass, klass_rule, category, category_rule, retry, retry_rule)
