"""Realistic traffic (`realistic=True`) and incidents: what makes a generated log tell a story.

- Base failure rates per channel and region, and a share of messages per channel that never get a
  final receipt (they stay `submitted`).
- Volume with a daily curve (UTC: quiet at night, busiest in the afternoon) and a weekly one
  (weekends lighter): a message's position in the run is mapped through the cumulative volume.
- Delivery latencies per channel from a log-logistic distribution (a median and a long tail):
  about a second for push, tens of seconds for SMS.
- An `Incident`: on one day, one code spikes for one channel, region and (optionally) carrier.

Every draw is still a pure function of (seed, message index), so the same arguments give the same
bytes, and without `realistic` and an incident the generator writes exactly what it always did.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from reporter.errors import UsageError
from reporter.vocabulary import FAILURE_CLASSES

# Per channel: share of messages that fail (before the region's factor; a fifth of them are retried
# and delivered), share whose final receipt never comes (they end `submitted`), and median seconds
# from submission to the delivered receipt (the tail: p95 is about 5x the median).
CHANNEL_TRAFFIC: dict[str, tuple[float, float, float]] = {
    "sms": (0.12, 0.05, 12), "whatsapp": (0.08, 0.02, 2.5), "email": (0.07, 0.06, 4),
    "push": (0.11, 0.08, 1.2), "voice": (0.17, 0.01, 18), "inapp": (0.04, 0.03, 0.8),
    "rcs": (0.10, 0.04, 3), "mms": (0.14, 0.06, 25), "messenger": (0.07, 0.03, 2),
    "instagram": (0.08, 0.03, 2), "apple": (0.05, 0.03, 2), "gbm": (0.07, 0.03, 3),
    "wechat": (0.09, 0.04, 2), "twitter": (0.12, 0.05, 3),
}  # fmt: skip
FAILURE_RATE = {channel: row[0] for channel, row in CHANNEL_TRAFFIC.items()}
MISSING_RECEIPT = {channel: row[1] for channel, row in CHANNEL_TRAFFIC.items()}
DELIVERY_MEDIAN_SECONDS = {channel: row[2] for channel, row in CHANNEL_TRAFFIC.items()}
REGION_FACTOR: dict[str, float] = {
    "us": 1.0,
    "eu": 0.8,
    "in": 1.5,
    "uk": 0.85,
    "au": 0.9,
    "ca": 1.0,
    "sg": 0.7,
}
TAIL_SHAPE = 1.8  # log-logistic beta: p95 / median = 19 ** (1 / beta)
MAX_DELIVERY_SECONDS = 6 * 3600.0
# Relative volume per UTC hour, and per weekday (Monday first).
HOURLY_VOLUME = (
    0.25, 0.2, 0.18, 0.18, 0.22, 0.35, 0.6, 0.9, 1.15, 1.3, 1.4, 1.45,
    1.5, 1.5, 1.55, 1.6, 1.55, 1.45, 1.3, 1.15, 0.95, 0.75, 0.5, 0.35,
)  # fmt: skip
WEEKDAY_VOLUME = (1.0, 1.05, 1.05, 1.05, 1.0, 0.7, 0.6)
# Shares of the other lifecycles, as in the uniform model: unknown 7200 and undocumented 7999.
UNKNOWN_STATUS, UNDOCUMENTED = 0.02, 0.01
READ_SHARE = 0.16 / 0.76  # of the delivered messages on channels that send read receipts
RETRY_SHARE = 0.2  # of the failures: retried and delivered


@dataclass(frozen=True)
class Incident:
    """One failure code spiking on one day for one channel, region and (optionally) carrier.

    On `day` (UTC), each message of `channel` in `region` (and from `carrier`'s numbers, when
    given: carriers are known for SMS, MMS, Voice and RCS) that would have been delivered fails
    with `code` instead with probability `rate`. For example
    `Incident(day=dt.date(2026, 11, 25), channel="sms", region="us", code=7203, carrier="AT&T")`
    turns about 30% of AT&T's SMS in the US that day into 7203 Unknown Subscriber.
    """

    day: dt.date
    channel: str
    region: str
    code: int
    carrier: str | None = None
    rate: float = 0.3

    @classmethod
    def parse(cls, text: str, rate: float = 0.3) -> Incident:
        """`DATE:CHANNEL:REGION:CODE[:CARRIER]`, e.g. `2026-11-25:sms:us:7203:AT&T`."""
        parts = text.split(":", 4)
        if len(parts) < 4:
            raise UsageError(f"--incident {text!r}: expected DATE:CHANNEL:REGION:CODE[:CARRIER]")
        try:
            day, code = dt.date.fromisoformat(parts[0]), int(parts[3])
        except ValueError as exc:
            raise UsageError(f"--incident {text!r}: {exc}") from exc
        carrier = parts[4] if len(parts) == 5 and parts[4] else None
        return cls(day, parts[1].lower(), parts[2].lower(), code, carrier, rate)

    def check(
        self, start: dt.date, days: int, carriers: Mapping[str, Sequence[str]], codes: pl.DataFrame
    ) -> None:
        """A UsageError naming what does not fit the run: day, region, carrier or code."""
        where = f"incident {self.day}:{self.channel}:{self.region}:{self.code}"
        last = start + dt.timedelta(days=days - 1)
        if not start <= self.day <= last:
            raise UsageError(
                f"{where}: the day is outside the run ({start} to {last}: see --start and --days)"
            )
        if self.channel == "common" or self.channel not in set(codes["channel"]):
            raise UsageError(f"{where}: unknown channel (see 'reporter codes')")
        if self.region not in carriers:
            raise UsageError(f"{where}: unknown region (one of {', '.join(carriers)})")
        if self.carrier is not None and self.carrier not in carriers[self.region]:
            known = ", ".join(sorted(set(carriers[self.region])))
            raise UsageError(f"{where}: carrier {self.carrier!r} has no numbers in {self.region} ({known})")
        failing = codes.filter(
            pl.col("channel").is_in([self.channel, "common"])
            & (pl.col("code") == self.code)
            & pl.col("status_class").is_in(FAILURE_CLASSES)
        )
        if failing.is_empty():
            raise UsageError(f"{where}: {self.code} is no failure code of {self.channel} or the common table")
        if not 0 < self.rate <= 1:
            raise UsageError(f"{where}: the rate must be above 0 and at most 1, not {self.rate}")


def _by_key(index: pl.Expr, keys: Sequence[str], table: dict[str, float]) -> pl.Expr:
    return pl.lit(pl.Series([float(table[k]) for k in keys])).gather(index)


def lifecycle(u: pl.Expr, channels: Sequence[str], regions: Sequence[str]) -> pl.Expr:
    """The lifecycle index (as model._LIFECYCLES numbers them) from the channel's and region's rates."""
    failing = _by_key(pl.col("ci"), channels, FAILURE_RATE) * _by_key(pl.col("ri"), regions, REGION_FACTOR)
    missing = _by_key(pl.col("ci"), channels, MISSING_RECEIPT)
    cut = [failing * (1 - RETRY_SHARE), failing, failing + missing]
    cut += [cut[-1] + UNKNOWN_STATUS, cut[-1] + UNKNOWN_STATUS + UNDOCUMENTED]
    read = cut[-1] + (1 - cut[-1]) * READ_SHARE
    # Lifecycle numbers: delivered 0, read 1, failure 2, retry 3, submitted only 4, 7200 5, 7999 6.
    return (
        pl.when(u < cut[0]).then(2).when(u < cut[1]).then(3).when(u < cut[2]).then(4)
        .when(u < cut[3]).then(5).when(u < cut[4]).then(6).when(u < read).then(1).otherwise(0)
    )  # fmt: skip


def delivery_seconds(u: pl.Expr, channels: Sequence[str]) -> pl.Expr:
    """Log-logistic seconds to delivery: median per channel, p95 about 5x it, capped at 6 hours."""
    odds = (u / (1 - u)).clip(1e-6, 1e6)
    seconds = _by_key(pl.col("ci"), channels, DELIVERY_MEDIAN_SECONDS) * odds.pow(1 / TAIL_SHAPE)
    return seconds.clip(0.05, MAX_DELIVERY_SECONDS)


def volume_curve(start: dt.date, days: int) -> tuple[list[float], list[float]]:
    """Cumulative share of the run's volume at the start of each hour, and each hour's share."""
    weights = [
        HOURLY_VOLUME[h % 24] * WEEKDAY_VOLUME[(start + dt.timedelta(days=h // 24)).weekday()]
        for h in range(days * 24)
    ]
    total = sum(weights)
    shares = [w / total for w in weights]
    return [0.0, *itertools.accumulate(shares)][:-1], shares


def seasonal(position: pl.Expr, start: dt.date, days: int) -> pl.Expr:
    """Map a uniform position in [0, 1) to a share of the window with the volume's daily and weekly curve."""
    lower, shares = volume_curve(start, days)
    hour = (pl.lit(pl.Series(lower)).search_sorted(position, "right").cast(pl.Int64) - 1).clip(
        0, len(shares) - 1
    )
    within = (position - pl.lit(pl.Series(lower)).gather(hour)) / pl.lit(pl.Series(shares)).gather(hour)
    return (hour.cast(pl.Float64) + within.clip(0.0, 1.0 - 1e-9)) / len(shares)


def day_ms(day: dt.date) -> int:
    return calendar.timegm(day.timetuple()) * 1000
