"""delivery_times, daily_codes and by_carrier: figures worked out by hand on a small log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from reporter.cli import cli
from reporter.errors import ConfigError
from reporter.report import write_report
from reporter.run import RunOptions, run

# Seconds from each message's first event to its first delivered (7500) or read (7502) event:
# a1 10, a2 30, a3 120 (delivered on a retry after 7203), a5 100, b1 50; p1 2, p2 4 (then read), b4 6.
# Never delivered: a4, b5 (7203), b6 (7001), p3, b2, b3 (7501 only) and q1 (1001 only).
# The latest event of the input is 2026-11-24 12:00:00 (b4).
LOG = """event_time,message_id,channel,status_code,region,destination,carrier
2026-11-23T10:00:00Z,a1,sms,7501,us,+14155550101,AT&T
2026-11-23T10:00:10Z,a1,sms,7500,us,+14155550101,AT&T
2026-11-23T10:00:00Z,a2,sms,7501,us,+14155550102,Verizon
2026-11-23T10:00:30Z,a2,sms,7500,us,+14155550102,
2026-11-23T10:00:00Z,a3,sms,7501,us,+14155550103,AT&T
2026-11-23T10:00:05Z,a3,sms,7203,us,+14155550103,AT&T
2026-11-23T10:01:00Z,a3,sms,7501,us,+14155550103,AT&T
2026-11-23T10:02:00Z,a3,sms,7500,us,+14155550103,AT&T
2026-11-23T10:00:00Z,a4,sms,7501,us,+14155550104,AT&T
2026-11-23T10:00:20Z,a4,sms,7203,us,+14155550104,AT&T
2026-11-23T10:00:00Z,a5,sms,7501,eu,+33612345678,
2026-11-23T10:01:40Z,a5,sms,7500,eu,+33612345678,
2026-11-23T10:00:00Z,p1,push,7501,eu,tok1,
2026-11-23T10:00:02Z,p1,push,7500,eu,tok1,
2026-11-23T10:00:00Z,p2,push,7501,eu,tok2,
2026-11-23T10:00:04Z,p2,push,7500,eu,tok2,
2026-11-23T10:05:00Z,p2,push,7502,eu,tok2,
2026-11-23T10:00:00Z,p3,push,7501,eu,tok3,
2026-11-24T09:00:00Z,b1,sms,7501,us,+14155550111,T-Mobile
2026-11-24T09:00:50Z,b1,sms,7500,us,+14155550111,T-Mobile
2026-11-24T11:30:00Z,b2,sms,7501,us,+14155550112,
2026-11-24T09:00:00Z,b3,sms,7501,us,+14155550113,AT&T
2026-11-24T11:59:54Z,b4,push,7501,eu,tok4,
2026-11-24T12:00:00Z,b4,push,7500,eu,tok4,
2026-11-24T09:00:00Z,b5,sms,7501,us,+14155550115,T-Mobile
2026-11-24T09:00:30Z,b5,sms,7203,us,+14155550115,T-Mobile
2026-11-24T10:00:00Z,b6,push,7501,eu,tok6,
2026-11-24T10:00:01Z,b6,push,7001,eu,tok6,
2026-11-24T08:00:00Z,q1,apple,1001,eu,urn:mbid:q1,
"""
D23, D24 = dt.date(2026, 11, 23), dt.date(2026, 11, 24)


def _run(tmp_path: Path, config: str | None = None, log: str = LOG) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "log.csv").write_text(log)
    cfg = None
    if config is not None:
        cfg = tmp_path / "reporter.toml"
        cfg.write_text(config)
    out = tmp_path / "out"
    run(RunOptions((str(tmp_path / "log.csv"),), out, config=cfg))
    return out / "extracts"


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("delivery"))


def _row(frame: pl.DataFrame, level: str, **keys: object) -> dict[str, object]:
    rows = frame.filter(pl.col("level") == level, *[pl.col(k) == v for k, v in keys.items()])
    assert rows.height == 1, (level, keys, rows)
    return rows.row(0, named=True)


def test_time_to_delivery_per_channel_by_hand(extracts):
    times = pl.read_parquet(extracts / "delivery_times.parquet")
    sms = _row(times, "channel", channel="sms")
    # sms delivered after 10, 30, 50, 100, 120 s: median 50; p95 at position 4 x 0.95 = 3.8: 100 + 0.8 x 20.
    assert (sms["messages"], sms["delivered"], sms["without_receipt"]) == (9, 5, 1)  # b3, 3 hours old
    assert sms["p50_seconds"] == pytest.approx(50) and sms["p95_seconds"] == pytest.approx(116)
    push = _row(times, "channel", channel="push")
    # push after 2, 4 (its read, later, does not count) and 6 s: p95 at 2 x 0.95 = 1.9: 4 + 0.9 x 2.
    assert (push["messages"], push["delivered"], push["without_receipt"]) == (5, 3, 1)  # p3
    assert push["p50_seconds"] == pytest.approx(4) and push["p95_seconds"] == pytest.approx(5.8)
    apple = _row(times, "channel", channel="apple")
    assert (apple["messages"], apple["delivered"], apple["without_receipt"]) == (
        1,
        0,
        1,
    )  # queued, never sent
    assert apple["p50_seconds"] is None and apple["p95_seconds"] is None


def test_time_to_delivery_at_every_level(extracts):
    times = pl.read_parquet(extracts / "delivery_times.parquet")
    assert set(times["level"]) == {
        "date_channel_region", "date_channel", "date", "channel_region", "channel", "all",
    }  # fmt: skip
    # sms in us: 10, 30, 50, 120 s -> median 40, p95 at 2.85: 50 + 0.85 x 70.
    us = _row(times, "channel_region", channel="sms", region="us")
    assert (us["messages"], us["delivered"]) == (8, 4)
    assert us["p50_seconds"] == pytest.approx(40) and us["p95_seconds"] == pytest.approx(109.5)
    # sms on the 23rd: 10, 30, 100, 120 s -> median 65, p95 at 2.85: 100 + 0.85 x 20.
    day = _row(times, "date_channel", date=D23, channel="sms")
    assert day["p50_seconds"] == pytest.approx(65) and day["p95_seconds"] == pytest.approx(117)
    cell = _row(times, "date_channel_region", date=D24, channel="sms", region="us")
    assert (cell["messages"], cell["delivered"], cell["without_receipt"]) == (4, 1, 1)
    # All: 2, 4, 6, 10, 30, 50, 100, 120 -> median 20, p95 at 6.65: 100 + 0.65 x 20.
    total = _row(times, "all")
    assert (total["messages"], total["delivered"], total["without_receipt"]) == (15, 8, 3)
    assert total["p50_seconds"] == pytest.approx(20) and total["p95_seconds"] == pytest.approx(113)
    assert total["date"] is None and total["channel"] is None and total["region"] is None
    assert _row(times, "date", date=D24)["messages"] == 7


def test_the_receipt_timeout_comes_from_the_config(tmp_path):
    # 20 minutes: b2 (submitted 30 minutes before the last event) has no receipt either.
    times = pl.read_parquet(
        _run(tmp_path, "[delivery]\nreceipt_timeout_minutes = 20\n") / "delivery_times.parquet"
    )
    assert _row(times, "all")["without_receipt"] == 4
    assert _row(times, "channel", channel="sms")["without_receipt"] == 2
    with pytest.raises(ConfigError, match=r"\[delivery\]: 'receipt_timeout_minutes' must be"):
        _run(tmp_path / "bad", "[delivery]\nreceipt_timeout_minutes = '1h'\n")
    with pytest.raises(ConfigError, match=r"\[delivery\]: unknown key 'timeout'"):
        _run(tmp_path / "bad2", "[delivery]\ntimeout = 5\n")


def test_daily_codes_count_failures_per_day_and_code(extracts):
    codes = pl.read_parquet(extracts / "daily_codes.parquet")
    # a3 failed with 7203 but was delivered on a retry: not a failure. a4 and b5 end on 7203, b6 on 7001.
    assert sorted(codes.rows()) == [
        (D23, "sms", "us", 7203, "undelivered", "recipient", 1),
        (D24, "push", "eu", 7001, "failed", "auth", 1),
        (D24, "sms", "us", 7203, "undelivered", "recipient", 1),
    ]
    assert codes.columns == [
        "date", "channel", "region", "status_code", "status_class", "failure_category", "messages",
    ]  # fmt: skip


def test_by_carrier_counts_messages_whose_final_event_names_a_carrier(extracts):
    carriers = pl.read_parquet(extracts / "by_carrier.parquet")
    # a2's final event names no carrier (its first did); b2 names none at all.
    assert sorted(carriers.rows()) == [
        (D23, "sms", "us", "US", "AT&T", 3, 1),  # a1, a3, a4 (failed)
        (D24, "sms", "us", "US", "AT&T", 1, 0),  # b3
        (D24, "sms", "us", "US", "T-Mobile", 2, 1),  # b1, b5 (failed)
    ]
    assert carriers.columns == [
        "date", "channel", "region", "destination_country", "carrier", "messages", "failures",
    ]  # fmt: skip


def test_no_carrier_in_the_logs_gives_an_empty_file_with_its_schema(tmp_path):
    log = "\n".join(line.rsplit(",", 1)[0] for line in LOG.splitlines()) + "\n"
    carriers = pl.read_parquet(_run(tmp_path, log=log) / "by_carrier.parquet")
    assert carriers.height == 0
    assert carriers.schema["messages"] == pl.Int64 and carriers.schema["carrier"] == pl.String


def test_messages_extract_keeps_its_columns(extracts):
    schema = pl.read_parquet_schema(next((extracts / "messages").rglob("*.parquet")))
    assert "first_delivered_at" not in schema
    assert len(schema) == 24


def test_tables_are_on_the_connection_for_the_report(tmp_path, monkeypatch):
    seen: dict[str, int] = {}
    real = write_report

    def spy(con, *args, **kwargs):
        for table in ("delivery_times", "daily_codes", "daily_codes_history", "by_carrier"):
            seen[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        return real(con, *args, **kwargs)

    monkeypatch.setattr("reporter.report.write_report", spy)
    _run(tmp_path)
    # delivery_times: 6 (day, channel, region), 5 (day, channel), 2 days, 4 (channel, region), 3 channels, 1.
    assert seen == {"delivery_times": 21, "daily_codes": 3, "daily_codes_history": 3, "by_carrier": 3}


def test_named_queries_read_the_extracts_in_the_warehouse(extracts):
    warehouse = str(extracts.parent / "warehouse.duckdb")

    def query(*args: str) -> list[dict[str, object]]:
        result = CliRunner().invoke(cli, ["query", *args, "--warehouse", warehouse, "--format", "json"])
        assert result.exit_code == 0, result.stderr
        rows: list[dict[str, object]] = json.loads(result.stdout)
        return rows

    per_channel = query("delivery_times", "--param", "level=channel")
    assert [r["channel"] for r in per_channel] == ["apple", "push", "sms"]
    assert [r["p50_seconds"] for r in per_channel] == [None, 4.0, 50.0]
    # push on each day in eu and in all regions, push in eu and push in all regions over both days.
    assert len(query("delivery_times", "--param", "channel=push")) == 2 + 2 + 1 + 1
    top = query("carriers")
    assert [(r["carrier"], r["messages"], r["failures"], r["failure_rate"]) for r in top] == [
        ("AT&T", 4, 1, 0.25),
        ("T-Mobile", 2, 1, 0.5),
    ]
    assert len(query("daily_codes", "--param", "start=2026-11-24")) == 2


def test_a_folder_from_before_these_extracts_gets_what_its_messages_allow(extracts, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(extracts.parent, old)
    originals = {n: pl.read_parquet(extracts / f"{n}.parquet") for n in ("daily_codes", "by_carrier")}
    for name in ("delivery_times", "daily_codes", "by_carrier"):
        (old / "extracts" / f"{name}.parquet").unlink()
    result = CliRunner().invoke(cli, ["warehouse", str(old)])
    assert result.exit_code == 0, result.stderr
    # Rebuilt from the messages extract: the same rows. Time to delivery needs what it does not keep.
    for name, original in originals.items():
        assert (
            pl.read_parquet(old / "extracts" / f"{name}.parquet")
            .sort(pl.all())
            .equals(original.sort(pl.all()))
        )
    assert not (old / "extracts" / "delivery_times.parquet").exists()
    listed = CliRunner().invoke(cli, ["sql", "SELECT count(*) AS n FROM by_carrier", "--warehouse",
                                      str(old / "warehouse.duckdb"), "--format", "json"])  # fmt: skip
    assert listed.exit_code == 0 and json.loads(listed.stdout) == [{"n": 3}]


def test_daily_codes_history_adds_earlier_dates_stored_beside_their_daily(extracts, tmp_path, monkeypatch):
    """As the nightly job passes them: earlier folders' daily.parquet, with daily_codes.parquet beside."""
    daily = pl.read_parquet(extracts / "daily.parquet")
    history = []
    for day in ("2026-11-19", "2026-11-20"):
        folder = tmp_path / day / "extracts"
        folder.mkdir(parents=True)
        daily.write_parquet(folder / "daily.parquet")
        history.append(folder / "daily.parquet")
    # The 20th has its daily_codes (this log's three failures, dated the 20th); the 19th, from before, none.
    stored = pl.read_parquet(extracts / "daily_codes.parquet").with_columns(
        date=pl.lit(dt.date(2026, 11, 20))
    )
    stored.write_parquet(tmp_path / "2026-11-20" / "extracts" / "daily_codes.parquet")
    seen: list[tuple[object, ...]] = []

    def spy(con, *args, **kwargs):
        query = "SELECT date, sum(messages) FROM daily_codes_history GROUP BY 1 ORDER BY 1"
        seen.extend(con.execute(query).fetchall())
        return write_report(con, *args, **kwargs)

    monkeypatch.setattr("reporter.report.write_report", spy)
    (tmp_path / "log.csv").write_text(LOG)
    run(RunOptions((str(tmp_path / "log.csv"),), tmp_path / "out", history=tuple(history)))
    # This run's failures: one on the 23rd (a4), two on the 24th (b5, b6).
    assert seen == [(dt.date(2026, 11, 20), 3), (D23, 1), (D24, 2)]
