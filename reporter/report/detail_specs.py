"""Panels after the delivery ones: time to delivery, carriers, countries, data quality and the appendix.

Declared like reporter/report/specs.py: each names its query, its columns and what the email shows.
"""

from __future__ import annotations

import polars as pl

from reporter.report.panels import Col, Context, Prepare, Spec, num
from reporter.report.specs import named, rate
from reporter.report.text import channel_name, code, country, cut, region_name, seconds


def _countries(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    return (
        frame.group_by("destination_country")
        .agg(pl.col("messages", "failures").sum())
        .with_columns(
            (pl.col("failures") / pl.col("messages")).alias("failure_rate"),
            pl.col("destination_country").map_elements(country, pl.String, skip_nulls=False).alias("name"),
        )
        .sort(["messages", "destination_country"], descending=[True, False])
    )


def _delivery(level: str) -> Prepare:
    def prepare(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
        rows = frame.filter(pl.col("level") == level).sort(["messages", "channel"], descending=[True, False])
        where = [
            channel_name(c) if level == "channel" else f"{channel_name(c)} in {region_name(r, ctx.labels)}"
            for c, r in zip(rows["channel"], rows["region"], strict=True)
        ]
        return rows.with_columns(pl.Series("where", where, pl.String))

    return prepare


def _carriers(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("channel").map_elements(channel_name, pl.String),
        pl.col("destination_country").map_elements(country, pl.String, skip_nulls=False).alias("country"),
        pl.col("carrier").map_elements(lambda v: cut(v, 30), pl.String),
    )


def delivery_specs(timeout_minutes: int) -> list[Spec]:
    """Time to delivery (per channel; per channel and region) and carriers, when the logs carry them."""
    receipt = f"No receipt after {timeout_minutes} min"
    columns = (
        num("messages", "Messages"),
        num("p50_seconds", "Median time", seconds),
        num("p95_seconds", "95% within", seconds),
        num("without_receipt", receipt),
    )
    sentence = (
        "From a message's first event to its first delivered or read event: the median and the time "
        "95% of delivered messages took (exact quantiles); and messages still submitted or queued "
        f"{timeout_minutes} minutes before the input's last event."
    )
    return [
        Spec(
            "delivery",
            "Time to delivery by channel",
            "delivery_times",
            (Col("where", "Channel", str), *columns),
            sentence=sentence,
            params=(("level", "channel"),),
            prepare=_delivery("channel"),
            totals={},
            email_rows=15,
        ),
        Spec(
            "delivery-regions",
            "Time to delivery by channel and region",
            "delivery_times",
            (Col("where", "Channel and region", str), *columns),
            sentence=sentence,
            params=(("level", "channel_region"),),
            prepare=_delivery("channel_region"),
            cap=20,
            in_email=False,
        ),
        Spec(
            "carriers",
            "Carriers with the most failures",
            "carriers",
            (
                Col("carrier", "Carrier", str),
                Col("country", "Country", str),
                Col("channel", "Channel", str),
                num("messages", "Messages"),
                num("failures", "Failed"),
                num("failure_rate", "Failure rate", rate),
            ),
            params=(("limit", "15"),),
            prepare=_carriers,
            email_rows=5,
            skip_empty=True,
        ),
    ]


def quality_specs() -> list[Spec]:
    """Destination countries, data quality and the appendix: after the delivery panels."""
    return [
        Spec(
            "countries",
            "Destination countries",
            "destination_countries",
            (
                Col("name", "Country", str),
                num("messages", "Messages"),
                num("failures", "Failed"),
                num("failure_rate", "Failure rate", rate),
            ),
            sentence="Messages, failures and failure rate per destination country (from the E.164 number) "
            "for SMS, MMS, WhatsApp and Voice.",
            prepare=_countries,
            totals={"failure_rate": ("failures", "messages")},
            cap=12,
            email_rows=5,
            rest="the warehouse view destination_countries",
        ),
        Spec(
            "findings",
            "Data quality: findings",
            "data_quality",
            (
                Col("finding", "Finding", str),
                Col("detail", "Detail", lambda v: cut(v, 40)),
                num("count", "Count"),
            ),
        ),
        Spec(
            "quarantine",
            "Quarantined rows (first 10)",
            "quarantine_sample",
            (
                Col("file", "File", lambda v: cut(v, 40)),
                num("line", "Line"),
                Col("reason", "Reason", str),
                Col("raw", "Raw text (masked)", lambda v: cut(v, 80)),
            ),
            sentence="Rows that could not be used, with the file, line and reason; phone numbers and email "
            "addresses are masked. All are in extracts/quarantine.parquet.",
            params=(("limit", "10"),),
            in_email=False,
        ),
        Spec(
            "senders",
            "Senders with the most failures",
            "top_senders",
            (
                Col("channel", "Channel", str),
                Col("sender", "Sender", lambda v: cut(v, 30)),
                num("messages", "Messages"),
                num("failures", "Failed"),
                num("failure_rate", "Failure rate", rate),
            ),
            prepare=named,
            params=(("limit", "8"),),
            email_rows=5,
        ),
        Spec(
            "appendix",
            "Appendix: status codes seen",
            "codes_seen",
            (
                Col("channel", "Channel", str),
                Col("status_code", "Code", code),
                Col("code_source", "Found in", str),
                Col("status_class", "Class", str),
                Col("failure_category", "Category", lambda v: str(v or "")),
                Col("message", "Meaning", lambda v: cut(v, 50)),
                num("source_line", "Document line", code),
                num("events", "Events"),
            ),
            sentence="Every (channel, code) the period's events carried, with its documented message, "
            "classification, the line of the vendor's document and events.",
            prepare=named,
            cap=50,
            in_email=False,
            rest="the warehouse view codes_seen",
        ),
    ]
