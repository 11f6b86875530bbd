"""The report's panels, in order: each names its query, its columns (label, format, in the email) and chart.

The `prepare` functions only reshape a query's result (a pivot, labels, a rate from two counts, the
verdict's rule applied per row); every count comes from the named query.
"""

from __future__ import annotations

import math

import polars as pl

from reporter.report import charts
from reporter.report.charts import Chart
from reporter.report.panels import Col, Context, Spec, num
from reporter.report.steps import next_step
from reporter.report.text import channel_name, code, cut, percent, points, region_name
from reporter.report.verdict import MIN_POINTS, SIGNIFICANCE, changes, is_better, is_worse

CLASS_ORDER = list(charts.CLASS_COLOURS)


def _state(frame: pl.DataFrame) -> pl.DataFrame:
    """rate, baseline rate, change and state ("worse", "better", "usual", "no baseline") per row."""
    found = changes(frame)
    alpha = SIGNIFICANCE / max(1, sum(c.tested for c in found))

    def state(c: object) -> str:
        if not getattr(c, "base_messages", 0):
            return "no baseline"
        return "worse" if is_worse(c, alpha) else "better" if is_better(c, alpha) else "usual"  # type: ignore[arg-type]

    return frame.with_columns(
        pl.Series("rate", [c.rate for c in found], pl.Float64),
        pl.Series("base_rate", [c.base_rate for c in found], pl.Float64),
        pl.Series("points", [c.points if c.base_messages else None for c in found], pl.Float64),
        pl.Series("state", [state(c) for c in found], pl.String),
    )


def _channels(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    per_channel = frame.group_by("channel").agg(
        pl.col("messages", "failures", "baseline_messages", "baseline_failures").sum(),
        pl.col("baseline_days").max(),
    )
    out = _state(per_channel.with_columns(pl.lit("all").alias("region")))
    return out.with_columns(pl.col("channel").map_elements(channel_name, pl.String).alias("name")).sort(
        ["messages", "channel"], descending=[True, False]
    )


def _channels_chart(frame: pl.DataFrame, ctx: Context) -> Chart | None:
    rows = [(r["name"], r["rate"], r["base_rate"], r["state"]) for r in frame.iter_rows(named=True)]
    return charts.channels_against_baseline(rows) if rows else None


def _cells(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    out = _state(frame.filter(pl.col("baseline_messages").is_not_null()))
    where = [
        f"{channel_name(c)} in {region_name(r, ctx.labels)}"
        for c, r in zip(out["channel"], out["region"], strict=True)
    ]
    order = {"worse": 0, "better": 1, "usual": 2, "no baseline": 3}
    return out.with_columns(
        pl.Series("where", where, pl.String), pl.col("state").replace_strict(order).alias("_order")
    ).sort(["_order", "failures"], descending=[False, True])


def _trend(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Each day's failure rate and its usual range: the trailing 7 days' pooled rate ± 1.96 standard
    errors of a day with that many messages (where the day falls if nothing changed)."""
    rows = frame.sort("date").to_dicts()
    low: list[float | None] = []
    high: list[float | None] = []
    for i, r in enumerate(rows):
        base = [b for b in rows[max(0, i - 7) : i] if (r["date"] - b["date"]).days <= 7]
        n, f = sum(b["messages"] for b in base), sum(b["failures"] for b in base)
        if not n or not r["messages"]:
            low.append(None)
            high.append(None)
            continue
        p = f / n
        spread = 1.96 * math.sqrt(p * (1 - p) / r["messages"])
        low.append(max(0.0, p - spread))
        high.append(min(1.0, p + spread))
    out = frame.sort("date").with_columns(
        (pl.col("failures") / pl.col("messages")).alias("rate"),
        pl.Series("low", low, pl.Float64),
        pl.Series("high", high, pl.Float64),
    )
    usual = [
        "" if lo is None else f"{100 * lo:.1f}–{100 * hi:.1f}%"
        for lo, hi in zip(out["low"], out["high"], strict=True)
    ]
    return out.with_columns(pl.Series("usual", usual, pl.String)).sort("date", descending=True)


def _trend_chart(frame: pl.DataFrame, ctx: Context) -> Chart | None:
    up = frame.sort("date")
    if up.height < 2:
        return None
    fill = [r if lo is None else lo for r, lo in zip(up["rate"], up["low"], strict=True)]
    top = [r if hi is None else hi for r, hi in zip(up["rate"], up["high"], strict=True)]
    return charts.failure_rate_trend([str(d) for d in up["date"]], up["rate"].to_list(), fill, top)


def _movers(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    rows = frame.filter(pl.col("baseline_messages") > 0)
    rows = rows.with_columns(
        (pl.col("messages") * pl.col("baseline_failures") / pl.col("baseline_messages")).alias("expected")
    ).with_columns((pl.col("failures") - pl.col("expected")).alias("increase"))
    where = [
        f"{channel_name(c)} in {region_name(r, ctx.labels)}"
        for c, r in zip(rows["channel"], rows["region"], strict=True)
    ]
    return (
        rows.with_columns(pl.Series("where", where, pl.String))
        .filter(pl.col("increase") >= 1)
        .sort(["increase", "failures"], descending=True)
    )


def _top_codes(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    steps = [
        next_step(c, s, k)
        for c, s, k in zip(frame["channel"], frame["status_code"], frame["failure_category"], strict=True)
    ]
    return frame.with_columns(
        pl.col("channel").map_elements(channel_name, pl.String).alias("name"),
        pl.Series("step", steps, pl.String),
    )


def _top_codes_chart(frame: pl.DataFrame, ctx: Context) -> Chart | None:
    rows = [(f"{r['name']} {r['status_code']}", r["failures"]) for r in frame.iter_rows(named=True)]
    return charts.top_codes(rows) if rows else None


def pivot_classes(frame: pl.DataFrame, index: list[str]) -> pl.DataFrame:
    """Messages per status class as columns (every class, zero when absent), plus a total."""
    wide = frame.pivot(on="status_class", index=index, values="messages", aggregate_function="sum")
    wide = wide.select(
        *index, *[pl.col(c).fill_null(0) if c in wide.columns else pl.lit(0).alias(c) for c in CLASS_ORDER]
    )
    return wide.with_columns(pl.sum_horizontal(CLASS_ORDER).alias("total"))


def _classes(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    wide = pivot_classes(frame, ["channel", "region"]).sort(
        ["total", "channel", "region"], descending=[True, False, False]
    )
    return wide.with_columns(
        pl.col("channel").map_elements(channel_name, pl.String),
        pl.col("region").map_elements(lambda r: region_name(r, ctx.labels), pl.String),
    )


def _per_period(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    if "hour" in frame.columns:
        frame = frame.with_columns(pl.col("hour").dt.strftime("%H:00").alias("period"))
    else:
        frame = frame.with_columns(pl.col("date").cast(pl.String).alias("period"))
    by_class = frame.group_by("period", "status_class").agg(pl.col("messages").sum())
    wide = pivot_classes(by_class, ["period"]).sort("period")
    return wide.with_columns(
        (pl.col("failed") + pl.col("undelivered")).alias("failures"),
        (pl.col("submitted") + pl.col("queued")).alias("no_receipt"),
        (pl.col("delivered") + pl.col("read")).alias("delivered_or_read"),
    )


def _per_period_chart(frame: pl.DataFrame, ctx: Context) -> Chart | None:
    if frame.is_empty():
        return None
    series = {c: frame[c].to_list() for c in CLASS_ORDER if frame[c].sum()}
    return charts.trend_by_class(frame["period"].to_list(), series, "hour" if ctx.one_day else "day")


def named(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    return frame.with_columns(pl.col("channel").map_elements(channel_name, pl.String))


def rate(value: object) -> str:
    return percent(value)


def _where_code(text: object) -> str:
    return cut(text, 40)


def specs(ctx: Context) -> list[Spec]:
    """Every panel of the report, in order."""
    day = f" on {ctx.day}" if ctx.day else ""
    unit = "hour" if ctx.one_day else "day"
    return [
        Spec(
            "trend",
            "Failure rate, last 30 days",
            "daily_totals",
            (
                Col("date", "Day", str),
                num("messages", "Messages"),
                num("failures", "Failed"),
                num("rate", "Failure rate", rate),
                num("usual", "Usual range", str),
            ),
            sentence="Failed or undelivered share of each day's messages, from the stored daily breakdowns; "
            "the band is each day's usual range: its 7 days before, pooled, ± 1.96 standard errors.",
            prepare=_trend,
            chart=_trend_chart,
            cap=30,
            email_rows=7,
        ),
        Spec(
            "channels",
            f"By channel{day}, against the baseline",
            "comparison",
            (
                Col("name", "Channel", str),
                num("messages", "Messages"),
                num("rate", "Failure rate", rate),
                num("base_rate", "Baseline", rate),
                num("points", "Change", points),
                Col("state", "Verdict", str, email=False),
            ),
            sentence=f"Each channel's failure rate{day} against its baseline (up to 7 days before, pooled); "
            f"worse or better only when significant and at least {MIN_POINTS:.0f} points.",
            prepare=_channels,
            chart=_channels_chart,
            totals={
                "rate": ("failures", "messages"),
                "base_rate": ("baseline_failures", "baseline_messages"),
            },
            email_rows=15,
        ),
        Spec(
            "cells",
            f"Channel and region{day}, against the baseline",
            "comparison",
            (
                Col("where", "Channel and region", str),
                num("messages", "Messages"),
                num("rate", "Failure rate", rate),
                num("base_rate", "Baseline", rate),
                num("points", "Change", points),
                Col("state", "Verdict", str, email=False),
                num("previous_day_rate", "Previous day", rate, email=False),
                num("baseline_days", "Baseline days", email=False),
            ),
            sentence=f"Each channel and region{day} against its baseline (up to 7 days before, pooled), "
            "the worse first; the full table, with the previous day and the days the baseline holds, "
            "is in report.html.",
            prepare=_cells,
            cap=25,
            email_rows=8,
        ),
        Spec(
            "codes",
            "Top 10 failure codes",
            "top_codes",
            (
                Col("name", "Channel", str),
                Col("status_code", "Code", code),
                Col("code_message", "Meaning", _where_code),
                num("failures", "Failed"),
                num("share_of_failures", "Share of failures", rate),
                Col("failure_category", "Category", str, email=False),
                Col("step", "Next step", str, email=False),
            ),
            prepare=_top_codes,
            chart=_top_codes_chart,
        ),
        Spec(
            "movers",
            f"Codes rising most{day}",
            "code_changes",
            (
                Col("where", "Channel and region", str),
                Col("status_code", "Code", code),
                num("failures", "Failed"),
                num("expected", "Baseline predicts", lambda v: f"{v:,.0f}" if isinstance(v, float) else ""),
                num("increase", "Increase", lambda v: f"+{v:,.0f}" if isinstance(v, float) else ""),
                Col("code_message", "Meaning", _where_code, email=False),
            ),
            sentence="Failure codes whose failures rose most above what their baseline rate (the same "
            "code's share of the channel and region's messages in up to 7 days before) predicts for the "
            "day's volume.",
            prepare=_movers,
            cap=10,
            email_rows=5,
        ),
        Spec(
            "categories",
            "Failure categories",
            "by_failure_category",
            (
                Col("failure_category", "Category", str),
                num("failures", "Failed"),
                num("share_of_failures", "Share of failures", rate),
                Col("any_retryable", "Retryable", lambda v: "some" if v else "no"),
            ),
            totals={},
        ),
        Spec(
            "per-period",
            f"Messages per {unit}",
            "hourly" if ctx.one_day else "daily",
            (
                Col("period", unit.capitalize(), str),
                num("total", "Messages"),
                num("read", "Read"),
                num("delivered", "Delivered"),
                num("failed", "Failed"),
                num("undelivered", "Undelivered"),
                num("no_receipt", "No receipt"),
                num("unknown", "Unknown"),
            ),
            sentence=f"Messages per {unit} of their first event (config time zone), by final status class "
            "(no receipt: still submitted or queued).",
            prepare=_per_period,
            chart=_per_period_chart,
            totals={},
            cap=35,
            email_rows=0,
        ),
        Spec(
            "rollups",
            "Day, week-to-date and month-to-date",
            "rollups",
            (
                Col("channel", "Channel", str),
                num("day_rate", "Day", rate),
                num("week_rate", "Week to date", rate),
                num("month_rate", "Month to date", rate),
                num("month_messages", "Messages this month"),
                num("day_messages", "Messages on the day", email=False),
                num("week_messages", "Messages this week", email=False),
            ),
            prepare=named,
            email_rows=0,
        ),
        Spec(
            "classes",
            "Channel × region × final status",
            "by_channel_region_class",
            (
                Col("channel", "Channel", str),
                Col("region", "Region", str),
                *(num(c, c.capitalize()) for c in CLASS_ORDER),
                num("total", "Total"),
            ),
            sentence="Messages per channel and region, by the class of their final status "
            "(their highest-ranked event).",
            prepare=lambda f, c: _classes(f, c),
            totals={},
            cap=20,
            in_email=False,
            rest="extracts/by_channel_region_class.parquet",
        ),
    ]
