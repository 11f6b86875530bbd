"""How values read in the report: numbers with separators, codes as codes, names for keys, cut log text.

Every value that comes from the logs (senders, regions, raw rows, file names) is cut to a length and
marked as cut, so one 100 KB value cannot push the email past Gmail's clipping size.
"""

from __future__ import annotations

from collections.abc import Callable

from reporter.labels import channel_label, country_name, region_label

CUT_MARK = "…(cut)"
TEXT_LIMIT = 60  # characters of a log-derived value shown in a table cell

Format = Callable[[object], str]


def cut(value: object, limit: int = TEXT_LIMIT) -> str:
    """The value as text, at most `limit` characters plus a mark saying it was cut."""
    text = "" if value is None else str(value)
    text = " ".join(text.split()) if len(text) < 4 * limit else text[: 4 * limit].replace("\n", " ")
    return text if len(text) <= limit else text[:limit].rstrip() + CUT_MARK


def number(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return cut(value)


def code(value: object) -> str:
    """A status code prints as a code: 7004, never 7,004."""
    return "" if value is None else str(value)


def percent(value: object) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def points(value: object) -> str:
    """A change in percentage points, signed: +3.2 pts."""
    if not isinstance(value, int | float):
        return ""
    return "±0.0 pts" if abs(value) < 0.05 else f"{value:+.1f} pts"


def seconds(value: object) -> str:
    """A duration in seconds as people say it: 42 s, 3.5 min, 2.1 h."""
    if not isinstance(value, int | float):
        return ""
    if value < 90:
        return f"{value:.0f} s"
    if value < 90 * 60:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def channel_name(key: object) -> str:
    """One spelling per channel ("SMS", "WhatsApp"), whatever the logs said."""
    return cut(channel_label(str(key)), 30)


def region_name(key: object, labels: dict[str, str] | None = None) -> str:
    """The config's label for a region (`[regions] in = "India"`), else the built-in one, else the key."""
    if labels and str(key) in labels:
        return cut(labels[str(key)], 24)
    return cut(region_label(None if key is None else str(key)), 24)


def country(iso2: object) -> str:
    """A destination country's name ("IN" -> "India"); "Unknown" when the number had none."""
    return cut(country_name(None if iso2 is None else str(iso2)), 30)


def cell_name(channel: object, region: object, labels: dict[str, str] | None = None) -> str:
    return f"{channel_name(channel)} in {region_name(region, labels)}"


def signed(value: float, unit: str = " points") -> str:
    """+3.2 points, -1.0 points, ±0.0 points (never "-0.0")."""
    return f"±0.0{unit}" if abs(value) < 0.05 else f"{value:+.1f}{unit}"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"
