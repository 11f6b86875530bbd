"""Build the ReportPage from the named queries (the same files analysts run) and the run's figures."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from reporter.ingest import IngestResult
from reporter.queries import NamedQuery, run_query
from reporter.report import charts
from reporter.report.context import (
    ACTIONS,
    Headline,
    Panel,
    ReportPage,
    findings,
    number,
    percent,
    pivot_classes,
    rate_formats,
    table,
)
from reporter.vocabulary import is_failure_sql

CLASS_ORDER = list(charts.CLASS_COLOURS)


class _Runner:
    def __init__(self, con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery]) -> None:
        self.con, self.queries = con, queries

    def __call__(self, name: str, **params: str) -> pl.DataFrame:
        query = self.queries[name]
        return run_query(self.con, query, {k: params.get(k) for k in query.params})


def _sum_row(frame: pl.DataFrame, label_columns: int, rates: dict[str, tuple[str, str]]) -> list[str]:
    """A totals row: sums of the count columns, rates recomputed from the sums."""
    sums = {c: int(frame[c].sum()) for c in frame.columns[label_columns:] if frame[c].dtype.is_integer()}
    row = ["Total", *[""] * (label_columns - 1)]
    for c in frame.columns[label_columns:]:
        if c in rates:
            num, den = rates[c]
            row.append(percent(sums[num] / sums[den]) if sums.get(den) else "")
        else:
            row.append(number(sums[c]) if c in sums else "")
    return row


def _channels(q: _Runner) -> Panel:
    frame = q("channel_failure_rate")
    rows, note = table(frame, rate_formats("failure_rate"))
    return Panel(
        key="channels",
        title="By channel",
        sentence=q.queries["channel_failure_rate"].description,
        columns=frame.columns,
        rows=rows,
        totals=_sum_row(frame, 1, {"failure_rate": ("failures", "messages")}),
        note=note,
        chart=charts.failure_rate_by_channel(list(zip(frame["channel"], frame["failure_rate"], strict=True))),
        numeric={1, 2, 3, 4},
    )


def _classes(q: _Runner) -> Panel:
    wide = pivot_classes(q("by_channel_region_class"), ["channel", "region"], CLASS_ORDER)
    wide = wide.sort(["total", "channel", "region"], descending=[True, False, False])
    rows, note = table(wide, cap=20)
    return Panel(
        key="classes",
        title="Channel × region × final status",
        sentence="Messages per channel and region, by the class of their final status (their highest-ranked "
        "event).",
        columns=wide.columns,
        rows=rows,
        totals=_sum_row(wide, 2, {}),
        note=f"{note} in extracts/by_channel_region_class.parquet" if note else None,
        numeric=set(range(2, len(wide.columns))),
    )


def _top_codes(q: _Runner) -> Panel:
    frame = q("top_failures", limit="3").with_columns(
        pl.col("failure_category")
        .replace_strict(ACTIONS, default=ACTIONS["unknown"])
        .alias("suggested action")
    )
    rows, note = table(frame, {**rate_formats("share_of_channel"), "retryable": number})
    biggest = frame.sort(["messages", "channel", "status_code"], descending=[True, False, False]).head(10)
    top = [(f"{r['channel']} {r['status_code']}", r["messages"]) for r in biggest.iter_rows(named=True)]
    return Panel(
        key="codes",
        title="Top failure codes per channel",
        sentence=q.queries["top_failures"].description
        + " Up to three per channel; the rest are in extracts/by_code.parquet.",
        columns=frame.columns,
        rows=rows,
        totals=[*_sum_row(frame.drop("share_of_channel", "suggested action"), 2, {}), "", ""],
        note=note,
        chart=charts.top_codes(top) if top else None,
        numeric={1, 5, 6},
    )


def _categories(q: _Runner) -> Panel:
    frame = q("by_failure_category")
    rows, _ = table(frame, rate_formats("share_of_failures"))
    return Panel(
        key="categories",
        title="Failure categories",
        sentence=q.queries["by_failure_category"].description,
        columns=frame.columns,
        rows=rows,
        totals=[
            *_sum_row(frame.drop("any_retryable", "share_of_failures"), 1, {}),
            "",
            "100.0%" if rows else "",
        ],
        numeric={1, 3},
    )


def _trend(q: _Runner, one_day: bool) -> Panel:
    if one_day:
        frame = q("hourly").with_columns(pl.col("hour").dt.strftime("%H:00").alias("period")).drop("hour")
    else:
        frame = q("daily").with_columns(pl.col("date").cast(pl.String).alias("period"))
    by_class = frame.group_by("period", "status_class").agg(pl.col("messages").sum())
    wide = pivot_classes(by_class, ["period"], CLASS_ORDER).sort("period")
    unit = "hour" if one_day else "day"
    series = {c: wide[c].to_list() for c in CLASS_ORDER if c in wide.columns}
    rows, note = table(wide, cap=35)
    return Panel(
        key="trend",
        title=f"Messages per {unit}",
        sentence=f"Messages per {unit} of their first event (config time zone), by final status class.",
        columns=[unit, *wide.columns[1:]],
        rows=rows,
        totals=_sum_row(wide, 1, {}),
        note=note,
        chart=charts.trend_by_class(wide["period"].to_list(), series, unit) if wide.height else None,
        numeric=set(range(1, len(wide.columns))),
    )


def _countries(q: _Runner) -> Panel:
    frame = q("destination_countries").sort("messages", descending=True)
    rows, note = table(frame, rate_formats("failure_rate"), cap=12)
    return Panel(
        key="countries",
        title="Destination countries",
        sentence=q.queries["destination_countries"].description,
        columns=frame.columns,
        rows=rows,
        totals=_sum_row(frame, 2, {"failure_rate": ("failures", "messages")}),
        note=f"{note} in the warehouse view destination_countries" if note else None,
        numeric={2, 3, 4},
    )


def _reconciliation(result: IngestResult) -> Panel:
    t = result.totals()
    figures = [
        ("rows read", t["rows_read"]),
        ("accepted", t["accepted"]),
        ("quarantined", t["quarantined"]),
        ("unique events", t["unique"]),
        ("duplicate events dropped", t["duplicates"]),
        ("input files", len(result.files)),
    ]
    return Panel(
        key="reconciliation",
        title="Data quality: reconciliation",
        sentence="Rows read = accepted + quarantined; accepted = unique events + exact duplicates dropped.",
        columns=["figure", "count"],
        rows=[[name, number(value)] for name, value in figures],
        numeric={1},
    )


def _quality(q: _Runner, con: duckdb.DuckDBPyConnection) -> list[Panel]:
    findings_frame = q("data_quality")
    sample = con.sql(
        "SELECT regexp_extract(file, '[^/]*$') AS file, line, reason, left(raw, 100) AS raw FROM quarantine "
        "ORDER BY file, line LIMIT 10"
    ).pl()
    senders = q("top_senders", limit="8")
    return [
        Panel(
            key="findings",
            title="Data quality: findings",
            sentence=q.queries["data_quality"].description,
            columns=findings_frame.columns,
            rows=table(findings_frame)[0],
            numeric={2},
        ),
        Panel(
            key="quarantine",
            title="Quarantined rows (first 10)",
            sentence="Rows that could not be used, with the file, line and reason; phone numbers and email "
            "addresses are masked. All are in extracts/quarantine.parquet.",
            columns=sample.columns,
            rows=table(sample)[0],
            numeric={1},
        ),
        Panel(
            key="senders",
            title="Senders with the most failures",
            sentence=q.queries["top_senders"].description,
            columns=senders.columns,
            rows=table(senders, rate_formats("failure_rate"))[0],
            numeric={2, 3, 4},
        ),
    ]


def _appendix(q: _Runner) -> Panel:
    frame = q("codes_seen")
    rows, note = table(frame, cap=50)
    return Panel(
        key="appendix",
        title="Appendix: status codes seen",
        sentence=q.queries["codes_seen"].description + " source_line is the line of the vendor's document.",
        columns=frame.columns,
        rows=rows,
        note=f"{note} in the warehouse view codes_seen" if note else None,
        numeric={1, 6, 7},
    )


def _change(con: duckdb.DuckDBPyConnection) -> str | None:
    """The failure rate's change against the previous day in the history, if it has that day."""
    rows = con.execute(
        "SELECT date, sum(messages), coalesce(sum(messages) FILTER (WHERE "
        f"{is_failure_sql('status_class')}), 0) FROM daily_history GROUP BY date ORDER BY date DESC LIMIT 2"
    ).fetchall()
    if len(rows) < 2 or rows[1][0] != rows[0][0] - dt.timedelta(days=1) or not rows[0][1] or not rows[1][1]:
        return None
    today, before = rows[0][2] / rows[0][1], rows[1][2] / rows[1][1]
    return (
        f"{rows[0][0]}: {100 * today:.1f}% failed, {100 * (today - before):+.1f} points against "
        f"{rows[1][0]} ({100 * before:.1f}%)."
    )


def _history_panels(q: _Runner) -> list[Panel]:
    """The comparison and the rollups, when there is more than one day to compare."""
    comparison = q("comparison")
    if comparison.is_empty() or comparison["baseline_messages"].is_null().all():
        return []
    rates = rate_formats("failure_rate", "previous_day_rate", "baseline_rate")
    rows, note = table(
        comparison, {**rates, "change_points": lambda v: "" if v is None else f"{v:+.1f}"}, cap=15
    )
    rollups = q("rollups")
    return [
        Panel(
            key="comparison",
            title="Against the previous days",
            sentence=q.queries["comparison"].description,
            columns=comparison.columns,
            rows=rows,
            note=f"{note} in the warehouse view comparison" if note else None,
            numeric={2, 3, 4, 5, 6, 7, 8, 9},
        ),
        Panel(
            key="rollups",
            title="Day, week-to-date and month-to-date",
            sentence=q.queries["rollups"].description,
            columns=rollups.columns,
            rows=table(rollups, rate_formats("day_rate", "week_rate", "month_rate"))[0],
            numeric={1, 2, 3, 4, 5, 6},
        ),
    ]


def build_page(
    con: duckdb.DuckDBPyConnection,
    queries: dict[str, NamedQuery],
    result: IngestResult,
    period: tuple[dt.date | None, dt.date | None],
    alerts: list[str] | None = None,
    notice: str | None = None,
) -> ReportPage:
    q = _Runner(con, queries)
    first, last = con.execute("SELECT min(date), max(date) FROM message_counts").fetchall()[0]
    start, end = period[0] or first, period[1] or last
    span = "no messages" if start is None else (f"{start}" if start == end else f"{start} to {end}")
    totals = q("channel_failure_rate")
    messages, failures = int(totals["messages"].sum() or 0), int(totals["failures"].sum() or 0)
    headline = Headline(
        period=span,
        messages=messages,
        failures=failures,
        failure_rate=failures / messages if messages else 0.0,
        findings=findings(q("by_code"), q("by_channel_region_class")),
        change=_change(con),
    )
    one_day = start is not None and start == end
    panels = [
        _channels(q),
        *_history_panels(q),
        _classes(q),
        _top_codes(q),
        _categories(q),
        _trend(q, one_day),
        _countries(q),
        _reconciliation(result),
        *_quality(q, con),
        _appendix(q),
    ]
    charts_ = [p.chart for p in panels if p.chart]
    return ReportPage(f"Delivery report, {span}", headline, panels, charts_, alerts or [], notice)
