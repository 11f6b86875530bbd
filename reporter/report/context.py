"""What the report shows, as documented dataclasses built from the named queries' results.

Panels share one shape (goaccess): a title, one sentence on how the numbers are computed, and a
table with a totals row. Tables are capped so the email stays under Gmail's clipping size; the
note says where the rest is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from reporter.codes.channels import CHANNELS
from reporter.report.charts import Chart
from reporter.vocabulary import FAILURE_CLASSES

_DISPLAY = {c.key: c.name for c in CHANNELS}

ACTIONS = {
    "request": "Fix the request: a parameter, template or payload is invalid.",
    "auth": "Check the credentials, keys and permissions of the app or account.",
    "sender": "Register or correct the sender ID or campaign.",
    "recipient": "Correct or remove the recipient: invalid, unreachable or opted out.",
    "content": "Change the content: its size, type or wording was refused.",
    "throttling": "Send more slowly or raise the limit, then retry.",
    "expired": "Retry; consider a longer validity period.",
    "billing": "Check the account's or subscriber's balance and billing set-up.",
    "network": "A network or operator problem: retry later; tell the provider if it persists.",
    "platform": "A provider or platform error: retry; open a ticket if it persists.",
    "unknown": "Ask the provider what the code means here.",
}


@dataclass(frozen=True)
class Panel:
    """One panel of the report."""

    key: str
    title: str
    sentence: str  # how the numbers are computed, in one sentence
    columns: list[str]
    rows: list[list[str]]  # display text, escaped by the template
    totals: list[str] | None = None
    note: str | None = None  # e.g. where the rows beyond the cap are
    chart: Chart | None = None
    numeric: set[int] = field(default_factory=set)  # column positions aligned right


@dataclass(frozen=True)
class Headline:
    """The top of the report: the period, how much failed, and what stands out."""

    period: str
    messages: int
    failures: int
    failure_rate: float
    findings: list[str]
    change: str | None = None  # against the previous day, when the history has it


@dataclass(frozen=True)
class ReportPage:
    """Everything report.html, the email and its plain-text part show."""

    title: str
    headline: Headline
    panels: list[Panel]
    charts: list[Chart]
    alerts: list[str] = field(default_factory=list)  # fired alert rules, shown first
    notice: str | None = None  # e.g. "restated": the date's inputs changed since its first report


def number(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def table(
    frame: pl.DataFrame, formats: dict[str, Callable[[object], str]] | None = None, cap: int | None = None
) -> tuple[list[list[str]], str | None]:
    """Display rows of a frame (first `cap` rows) and a note on what was left out."""
    formats = formats or {}
    shown = frame if cap is None else frame.head(cap)
    rows = [
        [formats.get(c, number)(v) for c, v in zip(frame.columns, row, strict=True)]
        for row in shown.iter_rows()
    ]
    note = None if cap is None or frame.height <= cap else f"{frame.height - cap:,} more rows"
    return rows, note


def rate_formats(*columns: str) -> dict[str, Callable[[object], str]]:
    return {c: (lambda v: percent(v if isinstance(v, float) else None)) for c in columns}


def findings(by_code: pl.DataFrame, cells: pl.DataFrame, limit: int = 3) -> list[str]:
    """The failure codes with the most messages, each as a share of its channel and region."""
    totals = cells.group_by("channel", "region").agg(pl.col("messages").sum().alias("total"))
    worst = (
        by_code.filter(pl.col("status_class").is_in(FAILURE_CLASSES))
        .join(totals, on=["channel", "region"])
        .sort(["messages", "channel", "region", "status_code"], descending=[True, False, False, False])
        .head(limit)
    )
    return [
        f"{_DISPLAY.get(r['channel'], r['channel'])} in {r['region']}: "
        f"{r['status_code']} {r['code_message'] or 'undocumented code'} was the final status of "
        f"{r['messages']:,} of {r['total']:,} messages ({percent(r['messages'] / r['total'])})."
        for r in worst.iter_rows(named=True)
    ]


def pivot_classes(frame: pl.DataFrame, index: list[str], order: list[str]) -> pl.DataFrame:
    """Messages per status class as columns (only the classes that occur), plus a total."""
    present = [c for c in order if c in set(frame["status_class"])]
    wide = frame.pivot(on="status_class", index=index, values="messages", aggregate_function="sum")
    wide = wide.select(*index, *[pl.col(c).fill_null(0) for c in present])
    return wide.with_columns(
        pl.sum_horizontal(present).alias("total") if present else pl.lit(0).alias("total")
    )
