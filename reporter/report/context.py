"""What the templates get: documented dataclasses of display text, built from the named queries.

The page reads top down as its readers ask: was the day good or bad (the verdict, then KPI tiles),
what broke (the top problems, the alerts), then panels of one shape (title, one sentence on how the
numbers are computed, a chart, a table with a totals row).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reporter.report.charts import Chart
from reporter.report.kpis import Tile
from reporter.report.panels import Panel
from reporter.report.verdict import RULE, Verdict

EMAIL_ALERTS = 10  # alert lines in the email; report.html lists them all


@dataclass(frozen=True)
class Headline:
    """The period's totals: the subject line and the plain-text part use them."""

    period: str  # "2026-11-23 to 2026-11-25"
    short_period: str  # "23-25 Nov 2026", for the subject
    day: str  # the day the verdict is about: the period's last date
    messages: int
    failures: int
    failure_rate: float


@dataclass(frozen=True)
class ProblemView:
    """A top problem as display text: where, which code, what the document says, what to do."""

    title: str  # "SMS in US · code 7203 Unknown Subscriber address"
    impact: str  # "412 failures of 3,100 messages where the 7 days before predict 35 (...)"
    description: str  # the vendor document's description of the code, cut to a length
    step: str  # the next step
    stands_out: bool


@dataclass(frozen=True)
class AlertView:
    """Every rule one channel and region fired, as one line."""

    where: str
    rules: str
    detail: str


@dataclass(frozen=True)
class ReportPage:
    """Everything report.html, the email and its plain-text part show."""

    title: str
    headline: Headline
    verdict: Verdict
    tiles: list[Tile]
    problems: list[ProblemView]
    panels: list[Panel]
    charts: list[Chart]
    alerts: list[AlertView] = field(default_factory=list)
    notice: str | None = None  # e.g. "restated": the date's inputs changed since its first report
    email_alerts: int = EMAIL_ALERTS
    rule: str = RULE  # how the verdict is decided, in one sentence
