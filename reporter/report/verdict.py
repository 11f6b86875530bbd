"""Was the day good or bad, and what broke: the verdict and the top problems, by one documented rule.

The day is the last date of the report; its baseline is up to 7 days before it that have data (this
run's earlier dates and the stored dailies of earlier nightly dates), pooled. Every channel × region
cell with at least MIN_MESSAGES messages on the day and in its baseline is tested:

- one-sided two-proportion z-test of the day's failures against the baseline's pooled rate
  (`reporter.alerts.rise_p_value`), at SIGNIFICANCE divided by the number of cells tested
  (Bonferroni: on a quiet day, all cells together raise a false alarm at most 1% of the time);
- and the change must be at least MIN_POINTS percentage points, so a large volume does not call a
  negligible change unusual.

A cell passing both upwards is "Worse than usual"; the verdict names the one with the most failures
above what its baseline rate predicts, and the code that contributes most of them. With no worse
cell, the whole day is tested the same way (one test) for "Better than usual"; else it is "Usual".
Problems are the channel × region × codes that pass the same rule, ranked by that excess (failures −
messages × the code's baseline rate); when none does, the codes with the most failures on the day.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from reporter.alerts import rise_p_value
from reporter.report.steps import next_step
from reporter.report.text import cell_name, channel_name, cut, percent, region_name, signed

MIN_MESSAGES = 50  # on the day and in the baseline, per cell
MIN_POINTS = 2.0  # percentage points of change that matter
# Family-wise, shared by the cells tested: a nightly report raises a false "Worse" on at most 1% of
# quiet days (at 5%, ten quiet nights of generated traffic already showed one).
SIGNIFICANCE = 0.01
RULE = (
    f"Worse or better than usual means a significant change (one-sided two-proportion z-test, "
    f"{100 * SIGNIFICANCE:.0f}% shared by the channels and regions tested, each with at least "
    f"{MIN_MESSAGES} messages) of at least {MIN_POINTS:.0f} points against up to 7 days before."
)


@dataclass(frozen=True)
class Change:
    """Failures of one cell (or one code in a cell) on the day against its baseline."""

    channel: str
    region: str
    messages: int
    failures: int
    base_days: int
    base_messages: int
    base_failures: int

    @property
    def rate(self) -> float:
        return self.failures / self.messages if self.messages else 0.0

    @property
    def base_rate(self) -> float | None:
        return self.base_failures / self.base_messages if self.base_messages else None

    @property
    def points(self) -> float:
        return 100 * (self.rate - (self.base_rate or 0.0))

    @property
    def expected(self) -> float:
        return self.messages * (self.base_rate or 0.0)

    @property
    def excess(self) -> float:
        return self.failures - self.expected

    @property
    def p_worse(self) -> float:
        return rise_p_value(self.failures, self.messages, self.base_failures, self.base_messages)

    @property
    def p_better(self) -> float:
        return rise_p_value(self.base_failures, self.base_messages, self.failures, self.messages)

    @property
    def tested(self) -> bool:
        return self.messages >= MIN_MESSAGES and self.base_messages >= MIN_MESSAGES


def is_worse(change: Change, alpha: float) -> bool:
    return change.tested and change.points >= MIN_POINTS and change.p_worse < alpha


def is_better(change: Change, alpha: float) -> bool:
    return change.tested and change.points <= -MIN_POINTS and change.p_better < alpha


def changes(frame: pl.DataFrame) -> list[Change]:
    """Changes from a frame with the comparison query's counts (baseline columns may be null)."""
    return [
        Change(
            r["channel"],
            r["region"],
            int(r["messages"] or 0),
            int(r["failures"] or 0),
            int(r.get("baseline_days") or 0),
            int(r["baseline_messages"] or 0),
            int(r["baseline_failures"] or 0),
        )
        for r in frame.iter_rows(named=True)
    ]


def cell_alpha(cells: list[Change]) -> float:
    return SIGNIFICANCE / max(1, sum(c.tested for c in cells))


def baseline_words(days: int) -> str:
    """What the baseline really holds: "the 7 days before", "1 earlier day"."""
    return "the 7 days before" if days >= 7 else f"{days} earlier day" + ("s" if days != 1 else "")


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}" if p < 0.01 else f"p = {p:.2f}"


@dataclass(frozen=True)
class Verdict:
    """The first sentence of the report: a word and an icon as well as a colour."""

    level: str  # worse, better, usual, none
    word: str
    icon: str
    detail: str  # what the word is about: where, how much, against which baseline

    @property
    def sentence(self) -> str:
        return f"{self.icon} {self.word}: {self.detail}"


_STYLE = {
    "worse": ("Worse than usual", "▲"),
    "better": ("Better than usual", "▼"),
    "usual": ("Usual", "●"),
    "none": ("No baseline yet", "○"),
}


def _verdict(level: str, detail: str) -> Verdict:
    word, icon = _STYLE[level]
    return Verdict(level, word, icon, detail)


def _total(cells: list[Change]) -> Change:
    base = [c for c in cells if c.base_messages]
    return Change(
        "all",
        "all",
        sum(c.messages for c in cells),
        sum(c.failures for c in cells),
        max((c.base_days for c in cells), default=0),
        sum(c.base_messages for c in base),
        sum(c.base_failures for c in base),
    )


def decide(cells: list[Change], codes: list[Problem], labels: dict[str, str] | None = None) -> Verdict:
    """The verdict over the day's cells (the comparison query) and their codes (code_changes)."""
    total = _total(cells)
    if not total.messages:
        return _verdict("none", "no messages on the day.")
    if not total.base_messages:
        return _verdict(
            "none",
            f"{percent(total.rate)} of {total.messages:,} messages failed; the history holds no earlier "
            "day to compare with.",
        )
    alpha = cell_alpha(cells)
    worse = sorted((c for c in cells if is_worse(c, alpha)), key=lambda c: -c.excess)
    if worse:
        top = worse[0]
        where = cell_name(top.channel, top.region, labels)
        detail = (
            f"{where} failed {percent(top.rate)}, {signed(top.points)} against "
            f"{baseline_words(top.base_days)} ({percent(top.base_rate)}, {p_text(top.p_worse)})"
        )
        culprit = next((p for p in codes if (p.channel, p.region) == (top.channel, top.region)), None)
        if culprit is not None:
            detail += f", mostly code {culprit.code} {cut(culprit.message, 40)}"
        more = len(worse) - 1
        return _verdict("worse", detail + (f"; {more} more worse (below)." if more else "."))
    summary = (
        f"{percent(total.rate)} of {total.messages:,} messages failed, {signed(total.points)} against "
        f"{baseline_words(total.base_days)} ({percent(total.base_rate)})"
    )
    if is_better(total, SIGNIFICANCE):
        return _verdict("better", f"{summary}, {p_text(total.p_better)}.")
    tested = sum(c.tested for c in cells)
    return _verdict("usual", f"{summary}; none of the {tested} channels and regions tested is out of range.")


@dataclass(frozen=True)
class Problem:
    """A failure code in a channel and region, ranked by failures above what its baseline predicts."""

    change: Change
    code: int
    message: str
    description: str
    category: str
    step: str
    stands_out: bool  # passes the verdict's rule (significant and at least MIN_POINTS)

    @property
    def channel(self) -> str:
        return self.change.channel

    @property
    def region(self) -> str:
        return self.change.region

    def where(self, labels: dict[str, str] | None = None) -> str:
        return f"{channel_name(self.channel)} in {region_name(self.region, labels)}"

    def impact(self) -> str:
        c = self.change
        if not c.base_messages:
            return f"{c.failures:,} failures of {c.messages:,} messages (no baseline yet)"
        return (
            f"{c.failures:,} failures of {c.messages:,} messages where {baseline_words(c.base_days)} "
            f"predict {c.expected:,.0f} ({percent(c.rate)} against {percent(c.base_rate)})"
        )


def problems(frame: pl.DataFrame, limit: int | None = 3) -> list[Problem]:
    """Codes by failures above their baseline (code_changes query), largest first."""
    found = []
    rows = frame.iter_rows(named=True)
    alpha = SIGNIFICANCE / max(1, frame.height)
    for r, change in zip(rows, changes(frame), strict=True):
        category = r["failure_category"] or "unknown"
        found.append(
            Problem(
                change,
                int(r["status_code"]),
                r["code_message"] or "undocumented code",
                r["description"] or "",
                category,
                next_step(r["channel"], int(r["status_code"]), category),
                is_worse(change, alpha),
            )
        )
    out = sorted(
        (p for p in found if p.stands_out), key=lambda p: (-p.change.excess, p.channel, p.region, p.code)
    )
    if not out:  # nothing out of its range: the largest sources of failures instead
        out = sorted(found, key=lambda p: (-p.change.failures, -p.change.excess, p.channel, p.region, p.code))
    return out[:limit]
