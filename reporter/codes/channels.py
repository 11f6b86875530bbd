"""Channel keys: the document's section headings and the spellings found in logs.

Every step that names a channel goes through `channel_key`, so a log that says
"WhatsApp", "fb" or "In-App Messaging and Live Chat" joins the dimension row for
`whatsapp`, `messenger` or `inapp`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reporter.errors import UsageError

COMMON = "common"


@dataclass(frozen=True)
class Channel:
    key: str
    name: str
    aliases: tuple[str, ...] = ()


CHANNELS: tuple[Channel, ...] = (
    Channel(COMMON, "Common Error Codes across Channels"),
    Channel("sms", "SMS", ("text", "sms text")),
    Channel("voice", "Voice", ("call", "ivr", "voice call")),
    Channel("push", "Push", ("push notification", "apns", "fcm", "hms")),
    Channel(
        "inapp",
        "In-App Messaging and Live Chat",
        ("in app", "in-app", "in app messaging", "live chat", "livechat", "rt", "realtime"),
    ),
    Channel("email", "Email", ("e-mail", "mail")),
    Channel("messenger", "Messenger", ("fb", "facebook", "facebook messenger", "fbm")),
    Channel("gbm", "Google Business Messages", ("google", "gbmessages", "google business messaging")),
    Channel("instagram", "Instagram", ("ig", "insta")),
    Channel("twitter", "Twitter DM", ("twitter dm", "twitterdm", "tw")),
    Channel("apple", "Apple Messages for Business", ("abc", "amb", "apple business chat", "imessage")),
    Channel("wechat", "WeChat", ("wc", "weixin")),
    Channel("whatsapp", "WhatsApp", ("wa", "whatsapp business")),
    Channel("rcs", "RCS", ("rich communication services",)),
    Channel("mms", "MMS", ()),
)

CHANNEL_KEYS: tuple[str, ...] = tuple(c.key for c in CHANNELS if c.key != COMMON)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_LOOKUP: dict[str, str] = {}
for _channel in CHANNELS:
    for _spelling in (_channel.key, _channel.name, *_channel.aliases):
        _LOOKUP[_norm(_spelling)] = _channel.key


def channel_key(spelling: str) -> str | None:
    """The channel key for a section name or common spelling, or None if unknown."""
    return _LOOKUP.get(_norm(spelling))


def channel_or_common(value: str) -> str:
    """The channel key for a spelling, or "common"; anything else is a usage error."""
    key = channel_key(value)
    if key is None and value.lower() != COMMON:
        raise UsageError(f"unknown channel {value!r} (known: {', '.join(CHANNEL_KEYS)})")
    return key or COMMON


def spellings() -> dict[str, str]:
    """Every normalised spelling and its key (for SQL joins in ingest)."""
    return dict(_LOOKUP)


def normalise_spelling(text: str) -> str:
    """The normalised form that `spellings()` is keyed by."""
    return _norm(text)


@dataclass(frozen=True)
class Section:
    """A table heading in the document: which channel, which region, supported or not."""

    channel: str
    region_scope: str
    supported: bool
    rule: str


# Headings that carry more than a channel name. Checked before the plain names.
_US_CA = re.compile(r"tenants hosted in the United States and Canada", re.IGNORECASE)
_NOT_SUPPORTED = re.compile(r"\(\s*currently not supported\s*\)\s*$", re.IGNORECASE)


def section_for_heading(line: str) -> Section | None:
    """Interpret a line of the document as a table heading, or None if it is not one."""
    text = line.strip()
    if _US_CA.search(text) and re.search(r"\bSMS\b", text):
        return Section("sms", "us+ca", True, "heading names United States and Canada tenants")
    supported = True
    rule = "heading"
    if _NOT_SUPPORTED.search(text):
        text = _NOT_SUPPORTED.sub("", text).strip()
        supported, rule = False, "heading says (Currently not supported)"
    for channel in CHANNELS:
        if _norm(text) == _norm(channel.name):
            return Section(channel.key, "all", supported, rule)
    return None
