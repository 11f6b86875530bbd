"""Build the ReportPage from the named queries (the same files analysts run) and the run's figures."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from reporter.alerts import Alert, merge
from reporter.config import Config
from reporter.ingest import IngestResult
from reporter.queries import NamedQuery, run_query
from reporter.report.context import AlertView, Headline, ProblemView, ReportPage
from reporter.report.detail_specs import delivery_specs, quality_specs
from reporter.report.kpis import delivery_figures, tiles
from reporter.report.panels import Col, Context, Panel, Spec, num, render
from reporter.report.specs import specs
from reporter.report.text import cell_name, cut
from reporter.report.verdict import Problem, changes, decide, problems


class Runner:
    """Runs named queries once each (several panels read the same one)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery]) -> None:
        self.con, self.queries = con, queries
        self._seen: dict[tuple[str, tuple[tuple[str, str], ...]], pl.DataFrame] = {}

    def __call__(self, name: str, params: tuple[tuple[str, str], ...] = ()) -> pl.DataFrame:
        key = (name, params)
        if key not in self._seen:
            query = self.queries[name]
            given = dict(params)
            self._seen[key] = run_query(self.con, query, {k: given.get(k) for k in query.params})
        return self._seen[key]


def panels(q: Runner, specs_: list[Spec], ctx: Context) -> list[Panel]:
    shown = []
    for spec in specs_:
        frame = q(spec.query, spec.params)
        if spec.prepare is not None:
            frame = spec.prepare(frame, ctx)
        if spec.skip_empty and frame.is_empty():
            continue
        chart = spec.chart(frame, ctx) if spec.chart is not None and not frame.is_empty() else None
        shown.append(render(spec, frame, spec.sentence or q.queries[spec.query].description, chart))
    return shown


def _reconciliation(result: IngestResult) -> Panel:
    t = result.totals()
    names = ["rows read", "accepted", "quarantined", "unique events", "duplicate events dropped"]
    counts = [t["rows_read"], t["accepted"], t["quarantined"], t["unique"], t["duplicates"]]
    figures = pl.DataFrame({"figure": [*names, "input files"], "count": [*counts, len(result.files)]})
    spec = Spec(
        "reconciliation",
        "Data quality: reconciliation",
        "",
        (Col("figure", "Figure", str), num("count", "Count")),
    )
    sentence = "Rows read = accepted + quarantined; accepted = unique events + exact duplicates dropped."
    return render(spec, figures, sentence, None)


def _problem_view(p: Problem, labels: dict[str, str]) -> ProblemView:
    return ProblemView(
        title=f"{p.where(labels)} · code {p.code} {cut(p.message, 60)}",
        impact=p.impact(),
        description=cut(p.description, 240),
        step=p.step,
        stands_out=p.stands_out,
    )


def _alert_views(alerts: list[Alert], labels: dict[str, str]) -> list[AlertView]:
    return [
        AlertView(
            cell_name(a.channel, a.region, labels),
            ", ".join(cut(r, 30) for r in a.rules),
            "; ".join(cut(d, 200) for d in a.details),
        )
        for a in merge(alerts)
    ]


def short_period(start: dt.date | None, end: dt.date | None) -> str:
    """2026-11-23; 23-25 Nov 2026 within a month; else 2026-10-30 to 2026-11-02."""
    if start is None or end is None:
        return "no messages"
    if start == end:
        return start.isoformat()
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{end.day} {end.strftime('%b %Y')}"
    return f"{start} to {end}"


def build_page(
    con: duckdb.DuckDBPyConnection,
    queries: dict[str, NamedQuery],
    result: IngestResult,
    period: tuple[dt.date | None, dt.date | None],
    alerts: list[Alert] | None = None,
    notice: str | None = None,
    config: Config | None = None,
) -> ReportPage:
    q = Runner(con, queries)
    config = config or Config()
    labels, timeout = config.regions, config.delivery.receipt_timeout_minutes
    first, last = con.execute("SELECT min(date), max(date) FROM message_counts").fetchall()[0]
    start, end = period[0] or first, period[1] or last
    span = "no messages" if start is None else (f"{start}" if start == end else f"{start} to {end}")
    ctx = Context(last, start is not None and start == end, labels)
    totals = q("channel_failure_rate")
    messages, failures = int(totals["messages"].sum() or 0), int(totals["failures"].sum() or 0)
    rate = failures / messages if messages else 0.0
    headline = Headline(span, short_period(start, end), str(last or ""), messages, failures, rate)
    ranked = problems(q("code_changes"), limit=None)
    verdict = decide(changes(q("comparison")), ranked, labels)
    quality, main = quality_specs(), specs(ctx)
    # What broke first (trend, channels, codes), then how fast messages arrive, then the detail.
    after = 1 + next(i for i, s in enumerate(main) if s.key == "movers")
    ordered = [*main[:after], *delivery_specs(timeout), *main[after:], quality[0]]
    shown = panels(q, ordered, ctx)
    shown += [_reconciliation(result), *panels(q, quality[1:], ctx)]
    return ReportPage(
        title=f"Delivery report, {span}",
        headline=headline,
        verdict=verdict,
        tiles=tiles(
            q("daily_totals"), last, delivery_figures(q("delivery_times", (("level", "date"),)), last)
        ),
        problems=[_problem_view(p, labels) for p in ranked[:3]],
        panels=shown,
        charts=[p.chart for p in shown if p.chart],
        alerts=_alert_views(alerts or [], labels),
        notice=notice,
    )
