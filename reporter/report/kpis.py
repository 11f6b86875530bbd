"""KPI tiles: the day's headline figures, each against the previous day and the trailing 7 days.

Rates are compared in percentage points against the pooled baseline (its days named: "3 earlier
days" when only three exist); counts against the baseline's daily average.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from reporter.report.text import percent, seconds, signed
from reporter.report.verdict import baseline_words


@dataclass(frozen=True)
class Tile:
    """One figure: its value, and a line per comparison ("+1.2 pts vs 2026-11-24")."""

    label: str
    value: str
    changes: list[str]
    worse: bool | None = None  # True: moved the bad way (worth the reader's attention); None: no baseline


@dataclass(frozen=True)
class Day:
    """Totals of one day (or pooled days): from the daily_totals query."""

    days: int
    messages: int
    delivered: int
    failures: int
    without_receipt: int


def _day(frame: pl.DataFrame) -> Day:
    sums = {c: int(frame[c].sum() or 0) for c in ("messages", "delivered", "failures", "without_receipt")}
    return Day(frame.height, **sums)


def _share(part: str) -> Callable[[Day], float | None]:
    return lambda d: getattr(d, part) / d.messages if d.messages else None


def _rate_changes(
    today: Day, before: Day | None, base: Day, share: Callable[[Day], float | None], before_day: str
) -> tuple[list[str], float | None]:
    value, lines, base_points = share(today), [], None
    if before is not None and share(before) is not None and value is not None:
        lines.append(f"{signed(100 * (value - share(before)), ' pts')} vs {before_day}")  # type: ignore[operator]
    if base.days and share(base) is not None and value is not None:
        base_points = 100 * (value - share(base))  # type: ignore[operator]
        lines.append(f"{signed(base_points, ' pts')} vs {baseline_words(base.days)}")
    return lines or ["no earlier day"], base_points


def tiles(totals: pl.DataFrame, day: dt.date | None, delivery: dict[str, float | None]) -> list[Tile]:
    """Messages, delivered %, failure rate, without receipt, and the delivery time percentiles."""
    if day is None or totals.filter(pl.col("date") == day).is_empty():
        return []
    today = _day(totals.filter(pl.col("date") == day))
    prev_date = day - dt.timedelta(days=1)
    prev_rows = totals.filter(pl.col("date") == prev_date)
    before = _day(prev_rows) if prev_rows.height else None
    base = _day(totals.filter(pl.col("date").is_between(day - dt.timedelta(days=7), prev_date)))
    label = prev_date.strftime("%d %b")
    result = []
    count_lines = []
    if before is not None and before.messages:
        count_lines.append(f"{100 * (today.messages / before.messages - 1):+.1f}% vs {label}")
    if base.days and base.messages:
        average = base.messages / base.days
        words = baseline_words(base.days).removeprefix("the ")
        count_lines.append(f"{100 * (today.messages / average - 1):+.1f}% vs the average of {words}")
    result.append(Tile("Messages", f"{today.messages:,}", count_lines or ["no earlier day"]))
    for name, part, bad_up in (
        ("Delivered", "delivered", False),
        ("Failed", "failures", True),
        ("Still no receipt", "without_receipt", True),
    ):
        lines, moved = _rate_changes(today, before, base, _share(part), label)
        worse = None if moved is None else (moved >= 1.0 if bad_up else moved <= -1.0)
        value = percent(_share(part)(today))
        if part == "without_receipt":
            value = f"{today.without_receipt:,} ({value})"
        result.append(Tile(name, value, lines, worse))
    for key, name in (("p50", "Median time to delivery"), ("p95", "95% delivered within")):
        if delivery.get(key) is not None:
            result.append(Tile(name, seconds(delivery[key]), delivery_lines(delivery, key, label)))
    return result


def delivery_figures(frame: pl.DataFrame, day: dt.date | None) -> dict[str, float | None]:
    """The day's p50/p95 seconds (delivery_times at level date), and the previous day's when the run has it.

    Quantiles cannot be pooled, so the baseline of a delivery time is the previous day only.
    """
    rows = {r["date"]: r for r in frame.filter(pl.col("level") == "date").iter_rows(named=True)}
    if day is None or day not in rows:
        return {}
    figures = {"p50": rows[day]["p50_seconds"], "p95": rows[day]["p95_seconds"]}
    before = rows.get(day - dt.timedelta(days=1))
    if before is not None:
        figures |= {"p50_previous": before["p50_seconds"], "p95_previous": before["p95_seconds"]}
    return figures


def delivery_lines(delivery: dict[str, float | None], key: str, label: str) -> list[str]:
    before = delivery.get(f"{key}_previous")
    if not before:
        return ["no earlier day in this run"]
    return [f"{100 * ((delivery[key] or 0.0) / before - 1):+.0f}% vs {label}"]
