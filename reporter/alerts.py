"""Alert rules over the comparison query: a high failure rate, or a significant rise over the baseline.

    [[alerts]]
    name = "failure rate"
    failure_rate_above = 0.20      # today's rate in a channel x region above 20%
    min_messages = 200             # ...with at least this many messages today

    [[alerts]]
    name = "rise"
    rise_points_above = 5          # today's rate at least 5 points above the trailing 7-day rate
    min_messages = 200             # today and in the baseline
    significance = 0.01            # and a one-sided two-proportion z-test below this p-value

The test is what keeps small volumes from alarming: 3 failures in 10 messages is a 30% rate, but not
evidence of a rise over a 5% baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from reporter.errors import ConfigError

_KEYS = {"name", "failure_rate_above", "rise_points_above", "min_messages", "significance"}


@dataclass(frozen=True)
class AlertRule:
    name: str
    failure_rate_above: float | None = None
    rise_points_above: float | None = None
    min_messages: int = 100
    significance: float = 0.01


@dataclass(frozen=True)
class Alert:
    rule: str
    channel: str
    region: str
    text: str  # "sms in eu: failure rate 30.0%, ..." (the manifest and stderr carry it)
    excess: float = 0.0  # failures above the baseline's rate (else above the rule's limit): the severity


@dataclass(frozen=True)
class CellAlert:
    """Every rule one channel x region fired, as one entry: the report shows one line per cell."""

    channel: str
    region: str
    rules: tuple[str, ...]
    details: tuple[str, ...]  # each rule's text without the "sms in eu: " prefix
    excess: float


def merge(alerts: list[Alert]) -> list[CellAlert]:
    """One entry per channel x region, the most failures above the baseline first."""
    cells: dict[tuple[str, str], list[Alert]] = {}
    for alert in alerts:
        cells.setdefault((alert.channel, alert.region), []).append(alert)
    merged = [
        CellAlert(
            channel,
            region,
            tuple(a.rule for a in fired),
            tuple(a.text.split(": ", 1)[-1] for a in fired),
            max(a.excess for a in fired),
        )
        for (channel, region), fired in cells.items()
    ]
    return sorted(merged, key=lambda c: (-c.excess, -len(c.rules), c.channel, c.region))


def load_rules(raw: list[dict[str, Any]], where: str) -> tuple[AlertRule, ...]:
    rules = []
    for i, entry in enumerate(raw, 1):
        place = f"{where}: [[alerts]] #{i}"
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise ConfigError(f"{place}: unknown key {unknown[0]!r}")
        if ("failure_rate_above" in entry) == ("rise_points_above" in entry):
            raise ConfigError(f"{place}: set exactly one of 'failure_rate_above', 'rise_points_above'")
        rules.append(AlertRule(**{"name": f"rule {i}", **entry}))
    return tuple(rules)


def rise_p_value(failures: int, messages: int, base_failures: int, base_messages: int) -> float:
    """One-sided p-value that today's failure rate exceeds the baseline's (pooled two-proportion z-test)."""
    if not messages or not base_messages:
        return 1.0
    pooled = (failures + base_failures) / (messages + base_messages)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / messages + 1 / base_messages))
    if spread == 0:
        return 1.0
    z = (failures / messages - base_failures / base_messages) / spread
    return 0.5 * math.erfc(z / math.sqrt(2))


def evaluate(comparison: pl.DataFrame, rules: tuple[AlertRule, ...]) -> list[Alert]:
    """The alerts the comparison rows fire, most severe first (failures above the baseline's rate)."""
    fired = []
    for row in comparison.iter_rows(named=True):
        for rule in rules:
            text = _check(rule, row)
            if text:
                fired.append(Alert(rule.name, row["channel"], row["region"], text, _excess(rule, row)))
    return sorted(fired, key=lambda a: -a.excess)


def _excess(rule: AlertRule, row: dict[str, Any]) -> float:
    """Failures above what the baseline's rate predicts; without a baseline, above the rule's limit."""
    base = row.get("baseline_rate")
    rate = base if base is not None else (rule.failure_rate_above or 0.0)
    return float(row["failures"] - row["messages"] * rate)


def _check(rule: AlertRule, row: dict[str, Any]) -> str | None:
    where = f"{row['channel']} in {row['region']}"
    rate, messages = row["failure_rate"], row["messages"]
    if messages < rule.min_messages:
        return None
    if rule.failure_rate_above is not None and rate > rule.failure_rate_above:
        limit = 100 * rule.failure_rate_above
        return f"{where}: failure rate {100 * rate:.1f}% (above {limit:.1f}%) of {messages:,}"
    if rule.rise_points_above is None or row["baseline_messages"] is None:
        return None
    if row["baseline_messages"] < rule.min_messages or row["change_points"] <= rule.rise_points_above:
        return None
    p = rise_p_value(row["failures"], messages, row["baseline_failures"], row["baseline_messages"])
    if p >= rule.significance:
        return None
    return (
        f"{where}: failure rate {100 * rate:.1f}%, {row['change_points']:+.1f} points over the 7-day "
        f"{100 * row['baseline_rate']:.1f}% (p = {p:.1g})"
    )
