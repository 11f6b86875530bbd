"""Classification, the join key, overrides and the channel map."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from reporter.codes import build_dimension, channel_key
from reporter.codes.overrides import load_overrides
from reporter.errors import ConfigError

# The SMS tables' Delivery Status column, as the design maps it.
DOCUMENTED = {
    "Delivered": "delivered",
    "Submitted": "submitted",
    "Failed": "failed",
    "Un-Delivered": "undelivered",
}


def test_join_key_is_unique_and_covers_every_documented_pair(dimension):
    codes = dimension.codes
    assert codes.select(pl.struct("channel", "code").is_unique().all()).item()
    documented_pairs = dimension.rows.select("channel", "code").unique()
    assert codes.height == documented_pairs.height
    # Four In-App codes and one Apple code are documented twice: 368 rows, 363 keys.
    assert (dimension.rows.height, codes.height) == (368, 363)
    assert codes["documented_rows"].sum() == 368


def test_sms_classes_follow_the_documented_delivery_status(dimension, document_lines):
    sms_lines = list(range(20, 38)) + list(range(41, 52))
    seen = 0
    for lineno in sms_lines:
        cells = [c.strip() for c in document_lines[lineno - 1].split("|")]
        code, status = int(cells[0]), cells[3]
        row = dimension.codes.filter((pl.col("channel") == "sms") & (pl.col("code") == code)).row(
            0, named=True
        )
        assert row["delivery_status"] == status
        assert row["status_class"] == DOCUMENTED[status], (code, status)
        seen += 1
    assert seen == dimension.codes.filter(pl.col("channel") == "sms").height == 29


@pytest.mark.parametrize(
    ("channel", "code", "expected"),
    [
        ("sms", 7500, "delivered"),
        ("email", 7500, "delivered"),
        ("sms", 7501, "submitted"),
        ("push", 7502, "read"),
        ("whatsapp", 7502, "read"),
        ("voice", 7519, "delivered"),
        ("apple", 1001, "queued"),
        ("common", 7200, "unknown"),
    ],
)
def test_lifecycle_codes(dimension, channel, code, expected):
    row = dimension.codes.filter((pl.col("channel") == channel) & (pl.col("code") == code)).row(0, named=True)
    assert row["status_class"] == expected
    assert row["failure_category"] is None and row["retryable"] is None


def test_common_api_errors_are_failed_before_the_network(dimension):
    common = dimension.codes.filter((pl.col("channel") == "common") & (pl.col("code") != 7200))
    assert common.height == 11
    assert set(common["status_class"]) == {"failed"}


@pytest.mark.parametrize(
    ("channel", "code", "category", "retryable"),
    [
        ("sms", 7203, "recipient", False),  # Unknown Subscriber
        ("sms", 7207, "network", True),  # out of coverage
        ("sms", 7208, "expired", True),
        ("sms", 7302, "throttling", True),
        ("sms", 7204, "billing", False),
        ("sms", 7101, "sender", False),
        ("common", 7001, "auth", False),
        ("common", 7000, "request", False),
        ("mms", 7237, "content", False),
        ("gbm", 7912, "platform", True),
        ("whatsapp", 7704, "expired", True),  # "pending for too long", from the description
        ("whatsapp", 7736, "unknown", None),
    ],
)
def test_failure_category_and_retryable(dimension, channel, code, category, retryable):
    row = dimension.codes.filter((pl.col("channel") == channel) & (pl.col("code") == code)).row(0, named=True)
    assert (row["failure_category"], row["retryable"]) == (category, retryable)
    assert row["failure_category_rule"]


def test_every_derived_value_names_its_rule(dimension):
    codes = dimension.codes
    assert codes["status_class_rule"].null_count() == 0
    failures = codes.filter(pl.col("status_class").is_in(["failed", "undelivered"]))
    assert failures["failure_category"].null_count() == 0
    assert failures["failure_category_rule"].null_count() == 0
    assert failures.filter(pl.col("retryable").is_not_null())["retryable_rule"].null_count() == 0
    others = codes.filter(~pl.col("status_class").is_in(["failed", "undelivered"]))
    assert others["failure_category"].null_count() == others.height


def test_shipped_overrides_each_carry_a_reason_and_take_effect(dimension):
    overrides = load_overrides()
    assert overrides
    for o in overrides:
        row = dimension.codes.filter((pl.col("channel") == o.channel) & (pl.col("code") == o.code)).row(
            0, named=True
        )
        assert o.reason.strip()
        for field in ("status_class", "failure_category", "retryable"):
            if getattr(o, field) is not None:
                assert row[field] == getattr(o, field)
                assert row[f"{field}_rule"] == f"override: {o.reason}"


def test_gbm_no_error_is_overridden_to_submitted(dimension):
    row = dimension.codes.filter((pl.col("channel") == "gbm") & (pl.col("code") == 7900)).row(0, named=True)
    assert row["status_class"] == "submitted"
    assert row["status_class_rule"].startswith("override: 7900 is gRPC OK")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[override]]\nchannel = "sms"\ncode = 7203\nstatus_class = "failed"\n', "missing 'reason'"),
        (
            '[[override]]\nchannel = "sms"\ncode = 7203\nreason = "x"\ncolour = "red"\n',
            "unknown key 'colour'",
        ),
        (
            '[[override]]\nchannel = "sms"\ncode = 7203\nreason = "x"\nstatus_class = "lost"\n',
            "unknown status_class",
        ),
        ('[[override]]\nchannel = "sms"\ncode = 7203\nreason = "x"\n', "sets none of"),
        (
            '[[override]]\nchannel = "sms"\ncode = 9999\nreason = "x"\nretryable = true\n',
            "matches no documented",
        ),
        ("[[override]\n", "overrides.toml"),
    ],
)
def test_bad_overrides_are_config_errors(tmp_path: Path, text, message):
    path = tmp_path / "overrides.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build_dimension(overrides=path)


def test_an_override_can_change_a_category_and_retryable_follows(tmp_path: Path):
    path = tmp_path / "overrides.toml"
    path.write_text(
        '[[override]]\nchannel = "sms"\ncode = 7203\nfailure_category = "network"\nreason = "test"\n'
    )
    row = (
        build_dimension(overrides=path)
        .codes.filter((pl.col("channel") == "sms") & (pl.col("code") == 7203))
        .row(0, named=True)
    )
    assert (row["failure_category"], row["failure_category_rule"]) == ("network", "override: test")
    assert (row["retryable"], row["status_class"]) == (True, "undelivered")


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("SMS", "sms"),
        ("WhatsApp", "whatsapp"),
        ("In-App Messaging and Live Chat", "inapp"),
        ("Apple Messages for Business", "apple"),
        ("Google Business Messages", "gbm"),
        ("fb", "messenger"),
        ("rt", "inapp"),
        ("  E-Mail ", "email"),
        ("Twitter DM", "twitter"),
        ("carrier pigeon", None),
    ],
)
def test_channel_spellings(spelling, key):
    assert channel_key(spelling) == key


def test_every_dimension_channel_is_a_channel_key(dimension):
    assert {channel_key(c) or c for c in dimension.codes["channel"]} == set(dimension.codes["channel"])
