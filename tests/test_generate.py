"""The synthetic log generator: counts, determinism, lifecycles, codes and the shapes of each format."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
from pathlib import Path

import polars as pl
import pytest

from reporter import generate as gen
from reporter.codes import CHANNEL_KEYS, channel_key
from reporter.errors import UsageError
from reporter.generate import FORMATS, UNDOCUMENTED_CODE, generate

START = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
# Country codes each hosting region's phone numbers may carry.
COUNTRY_CODES = {"us": ("+1",), "ca": ("+1",), "uk": ("+44",), "eu": ("+33", "+49", "+34"), "in": ("+91",)}
COUNTRY_CODES |= {"sg": ("+65",), "au": ("+61",)}
PHONE_CHANNELS = {"sms", "mms", "whatsapp", "voice", "rcs"}
WEBHOOK_KEYS = {"deliveryInfo", "transid", "subtid", "carrier", "callbackData", "correlationid"}
DELIVERY_INFO_KEYS = {
    "timeStamp", "code", "Description", "deliveryChannel", "deliveryStatus", "destination",
    "destinationType", "messageCount", "additionalInfo",
}  # fmt: skip


def records(paths: list[Path], fmt: str) -> list[dict[str, object]]:
    """Read generated files back with the standard library (Parquet with Polars)."""
    rows: list[dict[str, object]] = []
    for path in paths:
        if fmt == "csv":
            with path.open(newline="", encoding="utf-8") as handle:
                rows += list(csv.DictReader(handle))
        elif fmt == "json":
            rows += json.loads(path.read_text(encoding="utf-8"))
        elif fmt == "parquet":
            rows += pl.read_parquet(path).to_dicts()
        else:
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    """20,000 events over two days, canonical columns (Parquet)."""
    out = tmp_path_factory.mktemp("parquet")
    return pl.read_parquet(generate(out, 20_000, "parquet", seed=11, days=2))


@pytest.fixture(scope="module")
def codes(dimension):
    return dimension.codes


@pytest.mark.parametrize("fmt", FORMATS)
def test_writes_exactly_the_requested_number_of_events(tmp_path, fmt):
    paths = generate(tmp_path, 1_237, fmt, seed=5, files=2)
    assert len(records(paths, fmt)) == 1_237
    extension = "ndjson" if fmt == "webhook" else fmt
    assert {p.name for p in paths} == {f"events-0001.{extension}", f"events-0002.{extension}"}
    assert all(p.is_relative_to(tmp_path) for p in paths)
    assert not list(tmp_path.rglob("*.tmp")), "temporary files left behind"


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_seed_gives_the_same_bytes(tmp_path, fmt):
    first = generate(tmp_path / "a", 700, fmt, seed=3, days=2, files=2)
    again = generate(tmp_path / "b", 700, fmt, seed=3, days=2, files=2)
    other = generate(tmp_path / "c", 700, fmt, seed=4, days=2, files=2)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in again]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]


def test_chunk_size_does_not_change_the_output(tmp_path, monkeypatch):
    whole = generate(tmp_path / "whole", 3_000, "csv", seed=9)
    monkeypatch.setattr(gen, "CHUNK_MESSAGES", 97)
    chunked = generate(tmp_path / "chunked", 3_000, "csv", seed=9)
    # Every event is a function of its index alone; only the time-ordering is done per chunk.
    assert sorted(whole[0].read_text().splitlines()) == sorted(chunked[0].read_text().splitlines())


def test_days_and_files_split_the_run(tmp_path):
    paths = generate(tmp_path, 5_000, "csv", seed=2, days=3, files=4, start=dt.date(2026, 11, 23))
    assert [p.name for p in paths] == [f"events-000{i}.csv" for i in range(1, 5)]
    rows = records(paths, "csv")
    assert len(rows) == 5_000
    times = [dt.datetime.fromisoformat(str(r["eventTime"])) for r in rows]
    assert min(times) >= START and max(times) < START + dt.timedelta(days=3)
    assert {t.astimezone(dt.UTC).date() for t in times} == {dt.date(2026, 11, d) for d in (23, 24, 25)}


def test_every_message_starts_submitted_or_queued_and_its_times_increase(events):
    by_message = events.sort("event_time").group_by("message_id", maintain_order=True)
    lifecycles = by_message.agg("channel", "status_code", "event_time")
    for channel, codes_seen, times in lifecycles.select("channel", "status_code", "event_time").iter_rows():
        assert codes_seen[0] in (7501, 1001)
        assert 1 <= len(codes_seen) <= 4
        assert all(a < b for a, b in itertools.pairwise(times))
        assert len(set(channel)) == 1
        if codes_seen[0] == 1001:
            assert channel[0] == "apple"
    # Real lifecycles, not one event per message.
    assert events.height / lifecycles.height > 1.5


def test_codes_come_from_the_channel_or_common_table(events, codes):
    documented = set(codes.select("channel", "code").iter_rows())
    common = set(codes.filter(pl.col("channel") == "common")["code"])
    seen = set(events.select("channel", "status_code").unique().iter_rows())
    # The platform's own lifecycle codes go out on every channel, documented for the channel or not.
    allowed_everywhere = {7500, 7501, UNDOCUMENTED_CODE}
    outside = {(ch, c) for ch, c in seen if (ch, c) not in documented and c not in common}
    assert {c for _, c in outside} <= allowed_everywhere
    assert ("sms", UNDOCUMENTED_CODE) in seen and any(c == 7200 for _, c in seen)


def test_failures_use_failure_codes_and_read_only_where_documented(events, codes):
    lifecycle = {7500, 7501, 7502, 1001, 7200, 7519, UNDOCUMENTED_CODE}
    failing = codes.filter(pl.col("status_class").is_in(["failed", "undelivered"]))
    failure_pairs = set(failing.select("channel", "code").iter_rows())
    common_failures = set(failing.filter(pl.col("channel") == "common")["code"])
    others = events.filter(~pl.col("status_code").is_in(list(lifecycle)))
    assert others.height > 0.03 * events.height
    for channel, code in others.select("channel", "status_code").unique().iter_rows():
        assert (channel, code) in failure_pairs or code in common_failures, (channel, code)
    read_channels = set(codes.filter(pl.col("code") == 7502)["channel"])
    assert set(events.filter(pl.col("status_code") == 7502)["channel"]) <= read_channels


def test_us_and_canada_codes_are_mostly_seen_in_us_and_canada(events, codes):
    us_ca = codes.filter(pl.col("region_scope") == "us+ca")["code"].to_list()
    regions = events.filter((pl.col("channel") == "sms") & pl.col("status_code").is_in(us_ca))["region"]
    inside = regions.is_in(["us", "ca"]).sum()
    assert regions.len() > 20
    assert inside / regions.len() > 0.8
    assert inside < regions.len(), "a few out-of-region codes make a data-quality finding"


def test_channels_and_regions_are_weighted_like_real_traffic(events):
    channels = events.unique("message_id")["channel"].value_counts().sort("count", descending=True)
    assert set(channels["channel"]) == set(CHANNEL_KEYS)
    assert set(channels["channel"].head(5)) == {"sms", "whatsapp", "email", "push", "voice"}
    assert channels.filter(pl.col("channel") == "twitter")["count"].item() < 0.01 * channels["count"].sum()
    assert set(events["region"]) == set(COUNTRY_CODES)


def test_destinations_match_channel_and_region(events):
    for channel, region, destination in events.select("channel", "region", "destination").iter_rows():
        if channel in PHONE_CHANNELS:
            assert re.fullmatch(r"\+\d{10,13}", destination), destination
            assert destination.startswith(COUNTRY_CODES[region]), (region, destination)
        elif channel == "email":
            assert re.fullmatch(r"[a-z]+\.[a-z]+\d*@[a-z.]+", destination), destination
        else:
            assert destination and not destination.startswith("+")


def test_message_ids_are_unique_per_message(events):
    per_message = events.group_by("message_id").agg(pl.col("destination").n_unique())
    assert (per_message["destination"] == 1).all()
    assert events["event_id"].n_unique() == events.height


def test_parquet_has_canonical_names_and_types(events):
    assert dict(events.schema) == {
        "event_time": pl.Datetime("us", "UTC"),
        "message_id": pl.String,
        "channel": pl.String,
        "status_code": pl.Int64,
        "region": pl.String,
        "destination": pl.String,
        "sender": pl.String,
        "event_id": pl.String,
    }


def test_csv_and_ndjson_look_like_vendor_exports(tmp_path):
    csv_path = generate(tmp_path / "csv", 2_000, "csv", seed=1)[0]
    header = csv_path.read_text(encoding="utf-8").splitlines()[0]
    assert (
        header == "eventTime,transid,channel,statusCode,statusDescription,region,destination,sender,carrier"
    )
    rows = records(generate(tmp_path / "nd", 2_000, "ndjson", seed=1), "ndjson")
    assert all(
        list(r) == ["event_time", "message_id", "channel", "status_code", "status_description", "region",
                    "destination", "sender", "tenant"]
        for r in rows
    )  # fmt: skip
    times = [r["event_time"] for r in rows]
    assert any(isinstance(t, int) and len(str(t)) == 13 for t in times), "some epoch milliseconds"
    text = [str(t) for t in times if isinstance(t, str)]
    assert any(t.endswith("Z") for t in text) and any(t.endswith("+05:30") for t in text)
    assert all(dt.datetime.fromisoformat(t).tzinfo is not None for t in text)
    spellings = {str(r["channel"]) for r in rows}
    assert {channel_key(s) for s in spellings} <= set(CHANNEL_KEYS)
    assert {"sms", "SMS"} <= spellings and len(spellings) > len(CHANNEL_KEYS) / 2


def test_webhook_bodies_have_the_vendor_shape(tmp_path):
    paths = generate(tmp_path, 1_500, "webhook", seed=8)
    assert {p.parent.name for p in paths} <= {f"region={r}" for r in COUNTRY_CODES}
    assert len(paths) > 3
    for body in records(paths, "webhook"):
        assert list(body) == ["deliveryInfoNotification"]
        notification = body["deliveryInfoNotification"]
        assert isinstance(notification, dict) and set(notification) == WEBHOOK_KEYS
        info = notification["deliveryInfo"]
        assert set(info) == DELIVERY_INFO_KEYS
        assert all(isinstance(v, str) for v in info.values())
        assert all(isinstance(v, str) for k, v in notification.items() if k != "deliveryInfo")
        assert info["code"].isdigit() and info["messageCount"] == "1"
        assert channel_key(info["deliveryChannel"]) in CHANNEL_KEYS
        assert dt.datetime.fromisoformat(info["timeStamp"]).tzinfo is not None
        if info["code"] == str(UNDOCUMENTED_CODE):
            assert info["Description"] == ""


def test_bad_arguments_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="unknown format"):
        generate(tmp_path, 10, "xml")
    with pytest.raises(UsageError):
        generate(tmp_path, 10, "csv", files=0)
    assert generate(tmp_path, 0, "csv") == []
