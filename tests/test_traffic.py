"""Realistic generated traffic and incidents: rates, seasonality, latencies, and a story to find."""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
import pytest
from click.testing import CliRunner

from reporter import generate as gen
from reporter.cli import cli
from reporter.errors import UsageError
from reporter.generate import Incident, generate
from reporter.generate.traffic import DELIVERY_MEDIAN_SECONDS, HOURLY_VOLUME

START = dt.date(2026, 11, 18)  # a Wednesday: the run holds a weekend (21st and 22nd)
INCIDENT = Incident(day=dt.date(2026, 11, 25), channel="sms", region="us", code=7203, carrier="AT&T")


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    """60,000 realistic events over 8 days (Parquet, canonical columns), one row per event."""
    out = tmp_path_factory.mktemp("realistic")
    return pl.read_parquet(generate(out, 60_000, "parquet", seed=21, days=8, start=START, realistic=True))


def _messages(events: pl.DataFrame) -> pl.DataFrame:
    """Per message: channel, region, first event, first delivered (7500/7519) time, whether it failed."""
    lifecycle = {7500, 7501, 7502, 7519, 1001, 7200, 7999}
    return events.group_by("message_id").agg(
        pl.col("channel").first(),
        pl.col("region").first(),
        pl.col("event_time").min().alias("first"),
        pl.col("event_time").filter(pl.col("status_code").is_in([7500, 7519])).min().alias("delivered"),
        (~pl.col("status_code").is_in(list(lifecycle))).any().alias("failed"),
        (pl.col("status_code") != 7501).sum().alias("receipts"),
    )


def test_failure_rates_differ_by_channel_and_region(traffic):
    messages = _messages(traffic)
    share = messages.group_by("channel").agg(pl.col("failed").mean()).sort("channel")
    rate = dict(share.iter_rows())
    assert rate["voice"] > rate["sms"] > rate["whatsapp"] > rate["inapp"]
    by_region = dict(messages.group_by("region").agg(pl.col("failed").mean()).iter_rows())
    assert by_region["in"] > 1.5 * by_region["sg"]


def test_volume_follows_the_day_and_the_week(traffic):
    first = _messages(traffic)["first"]
    hours = first.dt.hour().value_counts().sort("first")
    per_hour = dict(hours.iter_rows())
    busy = sum(per_hour[h] for h in (13, 14, 15))
    quiet = sum(per_hour[h] for h in (2, 3, 4))
    assert busy > 5 * quiet  # the curve: 1.5-1.6 against 0.18-0.22
    days = dict(first.dt.date().value_counts().iter_rows())
    weekend = days[dt.date(2026, 11, 21)] + days[dt.date(2026, 11, 22)]
    weekdays = days[dt.date(2026, 11, 19)] + days[dt.date(2026, 11, 20)]
    assert weekend < 0.8 * weekdays
    assert len(HOURLY_VOLUME) == 24


def test_delivery_latency_per_channel_has_a_median_and_a_tail(traffic):
    messages = _messages(traffic).filter(pl.col("delivered").is_not_null())
    seconds = messages.with_columns(s=(pl.col("delivered") - pl.col("first")).dt.total_milliseconds() / 1000)
    stats = seconds.group_by("channel").agg(
        pl.col("s").median().alias("p50"), pl.col("s").quantile(0.95).alias("p95"), pl.len()
    )
    got = {row["channel"]: row for row in stats.to_dicts()}
    # Messages start with 7501 a second or less before the latency is counted: medians land near the table's.
    assert got["push"]["p50"] < 3 and got["sms"]["p50"] > 8 and got["sms"]["p95"] > 40
    for channel in ("sms", "push", "whatsapp", "email"):
        assert 0.6 < got[channel]["p50"] / DELIVERY_MEDIAN_SECONDS[channel] < 1.6, got[channel]
        assert got[channel]["p95"] > 3 * got[channel]["p50"]


def test_some_messages_never_get_a_final_receipt(traffic):
    messages = _messages(traffic)
    never = messages.filter(pl.col("receipts") == 0).height / messages.height
    assert 0.03 < never < 0.09


def _failures_per_day(events: pl.DataFrame, channel: str, region: str, code: int) -> dict[dt.date, int]:
    hits = events.filter(
        (pl.col("channel") == channel) & (pl.col("region") == region) & (pl.col("status_code") == code)
    )
    return {day: count for day, count in hits["event_time"].dt.date().value_counts().iter_rows()}


def _read_csv(path) -> pl.DataFrame:
    """A generated CSV with canonical names, channel keys and UTC times."""
    frame = pl.read_csv(path).rename({"eventTime": "event_time", "statusCode": "status_code"})
    return frame.with_columns(
        pl.col("event_time").str.to_datetime(time_zone="UTC"), pl.col("channel").str.to_lowercase()
    )


def test_an_incident_spikes_one_code_on_one_day_and_leaves_the_rest(tmp_path):
    write = functools.partial(generate, events=30_000, fmt="csv", seed=5, days=8, start=START, realistic=True)
    plain = _read_csv(write(tmp_path / "plain")[0])
    spiked = _read_csv(write(tmp_path / "spiked", incident=INCIDENT)[0])
    before = _failures_per_day(plain, "sms", "us", 7203)
    after = _failures_per_day(spiked, "sms", "us", 7203)
    others = [after.get(START + dt.timedelta(days=d), 0) for d in range(7)]
    assert after[INCIDENT.day] > 5 * max(others) and after[INCIDENT.day] > 30
    assert before.get(INCIDENT.day, 0) <= 2 * max(before.values())  # without it, a day like the others
    # The extra 7203s are AT&T's; every message outside the incident's channel and region is untouched.
    extra = spiked.filter(pl.col("status_code") == 7203, pl.col("region") == "us", pl.col("channel") == "sms")
    carriers = extra.filter(pl.col("event_time").dt.date() == INCIDENT.day)["carrier"].value_counts()
    assert carriers.sort("count")["carrier"][-1] == "AT&T"
    outside = (pl.col("channel") != "sms") | (pl.col("region") != "us")
    keys = ["transid", "event_time", "status_code"]
    assert plain.filter(outside).sort(keys).equals(spiked.filter(outside).sort(keys))
    assert plain.height == spiked.height


def test_realistic_traffic_is_deterministic_and_chunk_free(tmp_path, monkeypatch):
    incident = Incident(dt.date(2026, 11, 24), "push", "eu", 7001)
    write = functools.partial(
        generate, events=4_000, fmt="csv", seed=9, days=3, realistic=True, incident=incident
    )
    whole, again = write(tmp_path / "whole"), write(tmp_path / "again")
    assert whole[0].read_bytes() == again[0].read_bytes()
    monkeypatch.setattr(gen, "CHUNK_MESSAGES", 97)
    chunked = write(tmp_path / "chunked")
    assert sorted(whole[0].read_text().splitlines()) == sorted(chunked[0].read_text().splitlines())


@pytest.mark.parametrize(
    ("incident", "message"),
    [(Incident(dt.date(2026, 12, 1), "sms", "us", 7203), r"outside the run \(2026-11-18 to 2026-11-19"),
     (Incident(START, "sms", "mars", 7203), "unknown region"),
     (Incident(START, "pigeon", "us", 7203), "unknown channel"),
     (Incident(START, "sms", "us", 7203, carrier="Orange"), "carrier 'Orange' has no numbers in us"),
     (Incident(START, "sms", "us", 7500), "7500 is no failure code of sms"),
     (Incident(START, "push", "us", 7001, carrier="AT&T"), "carriers are known for"),
     (Incident(START, "sms", "us", 7203, rate=1.5), "the rate must be")],
)  # fmt: skip
def test_incidents_that_do_not_fit_are_usage_errors(tmp_path, incident, message):
    with pytest.raises(UsageError, match=message):
        generate(tmp_path, 100, "csv", start=START, days=2, incident=incident)


def test_cli_writes_an_incident_and_rejects_a_bad_one(tmp_path):
    args = [
        "generate",
        "--events",
        "2000",
        "--out",
        str(tmp_path / "a"),
        "--days",
        "8",
        "--start",
        "2026-11-18",
    ]
    ok = CliRunner().invoke(cli, [*args, "--realistic", "--incident", "2026-11-25:sms:us:7203:AT&T"])
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout == f"{tmp_path / 'a' / 'events.csv'}\n"
    bad = CliRunner().invoke(cli, [*args, "--incident", "2026-11-25:sms:us"])
    assert bad.exit_code == 64
    assert (
        bad.stderr
        == "reporter: --incident '2026-11-25:sms:us': expected DATE:CHANNEL:REGION:CODE[:CARRIER]\n"
    )
    assert Incident.parse("2026-11-25:SMS:US:7203:Vodafone UK", 0.5) == Incident(
        dt.date(2026, 11, 25), "sms", "us", 7203, "Vodafone UK", 0.5
    )
