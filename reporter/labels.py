"""Names people read: channels, destination countries and hosting regions, one spelling each.

Keys stay keys in the data (`sms`, `IN`, `in`); the report turns them into labels here, so "SMS"
is spelled one way everywhere and region `in` reads "India", not "sms in in".
"""

from __future__ import annotations

from reporter.codes.channels import CHANNELS
from reporter.config import DEFAULT_REGION_LABELS, Config
from reporter.country_names import NAMES

# Short display names where the document's section heading is long ("In-App Messaging and Live Chat").
_SHORT_CHANNEL_NAMES = {
    "inapp": "In-App",
    "apple": "Apple Messages",
    "gbm": "Google Business Messages",
    "common": "All channels",
}
_CHANNEL_NAMES = {c.key: _SHORT_CHANNEL_NAMES.get(c.key, c.name) for c in CHANNELS}
# Regions phonenumbers knows by number but has no English name for, and one name it has kept old.
_COUNTRY_NAMES = {
    "AC": "Ascension Island",
    "TA": "Tristan da Cunha",
    "XK": "Kosovo",
    "MK": "North Macedonia",
}


def channel_label(key: str) -> str:
    """ "SMS", "WhatsApp", "Push", "In-App", "Email", "Voice", "RCS", "MMS"...; an unknown key as it is."""
    return _CHANNEL_NAMES.get(key, key)


def country_name(iso2: str | None) -> str:
    """The English name of an ISO 3166 alpha-2 code ("IN" -> "India"); "Unknown" for none.

    From phonenumbers' geocoding data (reporter/country_names.py; already a dependency: destination
    countries come from it, so it names every code the messages can carry, in the short forms people
    use: "South Korea", "Bolivia", not ISO's "Korea, Republic of"). An unknown code is returned as it is.
    """
    if not iso2:
        return "Unknown"
    code = iso2.upper()
    if code in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[code]
    return NAMES.get(code, code)


def region_label(key: str | None, config: Config | None = None) -> str:
    """The config's `[regions]` label for a region key, else the built-in one, else the key in capitals."""
    if not key:
        return "Unknown"
    labels = config.regions if config is not None else DEFAULT_REGION_LABELS
    return labels.get(key) or DEFAULT_REGION_LABELS.get(key) or key.upper()
