"""sample_logs/ and a generated mixed-format input: every row accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter.engine import connect
from reporter.generate import generate
from reporter.ingest import ingest
from tests.conftest import ROOT

SAMPLES = ROOT / "sample_logs"

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
    assert totals["accepted"] == 6097  # the good events sample_logs/README.md lists
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
