"""sample_logs/ and a generated mixed-format input: every row accounted for."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from reporter.engine import connect
from reporter.generate import generate
from reporter.ingest import ingest
from tests.conftest import ROOT

SAMPLES = ROOT / "sample_logs"
# Good events by construction (make_samples.py): 6,097 in the format samples, 7,000 in the incident file.
SAMPLE_EVENTS = 6097 + 7000
INCIDENT_FILE = SAMPLES / "events-2026-11-18-to-25-incident.csv"

# The deliberately bad rows, as sample_logs/README.md lists them: (file, record, reason).
BAD_ROWS = {
    ("events-2026-11-23.csv", 122, "too_few_columns"),
    ("events-2026-11-23.csv", 253, "too_many_columns"),
    ("events-2026-11-23.csv", 404, "bad_status_code"),
    ("events-2026-11-23.csv", 555, "missing_status_code"),
    ("events-2026-11-23.csv", 706, "bad_event_time"),
    ("events-2026-11-24-semicolon.csv", 152, "bad_status_code"),
    ("events-2026-11-24-semicolon.csv", 303, "invalid_utf8"),
    ("events-2026-11-24-semicolon.csv", 454, "too_few_columns"),
    ("events-2026-11-25-multiline.csv", 302, "bad_event_time"),
    ("events-2026-11-25.csv.gz", 322, "missing_status_code"),
    ("events-2026-11-23.ndjson", 101, "invalid_json"),
    ("events-2026-11-23.ndjson", 202, "bad_status_code"),
    ("events-2026-11-23.ndjson", 303, "missing_status_code"),
    ("events-2026-11-23.ndjson", 404, "bad_event_time"),
    ("events-2026-11-23.ndjson", 505, "invalid_utf8"),
    ("events-2026-11-23.ndjson", 606, "invalid_json"),
    ("events-2026-11-24.ndjson.zst", 252, "invalid_json"),
    ("events-2026-11-25.json", 150, "missing_status_code"),
    ("events-2026-11-25.json", 350, "bad_event_time"),
    ("events-2026-11-23-to-25.parquet", 450, "missing_status_code"),
    ("webhooks/region=eu/events-2026-11-24.ndjson", 42, "missing_status_code"),
    ("webhooks/region=eu/events-2026-11-24.ndjson", 83, "bad_status_code"),
}


@pytest.fixture(scope="module")
def samples():
    con = connect()
    result = ingest(con, [str(SAMPLES)])
    return con, result


def test_sample_logs_reconcile_with_exactly_the_documented_bad_rows(samples):
    con, result = samples
    rows = con.execute("SELECT file, line, reason FROM quarantine").fetchall()
    got = {(str(Path(f).relative_to(SAMPLES)), line, reason) for f, line, reason in rows}
    assert got == BAD_ROWS
    totals = result.totals()
    assert totals["quarantined"] == len(BAD_ROWS)
    assert totals["accepted"] == SAMPLE_EVENTS  # the good events sample_logs/README.md lists
    assert totals["rows_read"] == totals["accepted"] + totals["quarantined"]
    assert all(f.reconciles() for f in result.files)


def test_sample_logs_cover_every_format_channel_and_region(samples):
    con, result = samples
    formats = {f.format for f in result.files}
    assert formats == {"csv", "ndjson", "json", "parquet"}
    assert {f.compression for f in result.files} == {None, "gzip", "zstd"}
    assert any(f.webhook for f in result.files)
    channels = {c for (c,) in con.execute("SELECT DISTINCT channel FROM events").fetchall()}
    assert len(channels) == 14
    regions = {r for (r,) in con.execute("SELECT DISTINCT region FROM events").fetchall()}
    assert regions == {"us", "ca", "eu", "uk", "in", "sg", "au"}


@pytest.mark.slow
def test_one_million_generated_events_in_four_formats_reconcile(tmp_path: Path):
    per_format = 250_000
    for fmt in ("csv", "ndjson", "parquet", "webhook"):
        generate(tmp_path / fmt, per_format, fmt, seed=11, days=2, files=2)
    con = connect()
    result = ingest(con, [str(tmp_path)])
    totals = result.totals()
    assert totals["rows_read"] == 4 * per_format
    assert totals["accepted"] + totals["quarantined"] == 4 * per_format
    assert totals["quarantined"] == 0
    assert totals["unique"] + totals["duplicates"] == totals["accepted"]
    assert con.execute("SELECT count(*) FROM events").fetchone() == (totals["unique"],)


def test_the_incident_sample_spikes_7203_for_att_sms_in_the_us_on_its_last_day():
    """Read with the csv module alone: the incident's failure events per day, and whose numbers they hit.

    About 7,000 / 2.1 / 8 = 415 messages a day, a third SMS, a third of those in the US, half from
    AT&T's numbers and most of them delivered: 90% of those fail with 7203 on 2026-11-25, some 15 or
    more, where the days before see 7203 on US SMS rarely (a few US/Canada codes lead there).
    """
    with INCIDENT_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7000
    for row in rows:  # some India-hosted rows are in local time (+05:30)
        row["eventTime"] = dt.datetime.fromisoformat(row["eventTime"]).astimezone(dt.UTC).isoformat()
    hits = [
        r for r in rows if r["statusCode"] == "7203" and r["channel"].lower() == "sms" and r["region"] == "us"
    ]
    per_day = Counter(r["eventTime"][:10] for r in hits)
    assert set(r["eventTime"][:10] for r in rows) == {f"2026-11-{d}" for d in range(18, 26)}
    assert per_day["2026-11-25"] >= 15
    assert all(per_day[f"2026-11-{d}"] <= 3 for d in range(18, 25)), per_day
    on_the_day = Counter(r["carrier"] for r in hits if r["eventTime"].startswith("2026-11-25"))
    assert on_the_day.most_common(1)[0][0] == "AT&T" and on_the_day["AT&T"] >= 0.8 * sum(on_the_day.values())
