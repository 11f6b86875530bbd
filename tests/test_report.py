"""The report: facts checked with a real HTML parser against the extracts, email safety and size, escaping."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from reporter.cli import cli
from reporter.report import EMAIL_SIZE_LIMIT, html_size_as_sent
from reporter.report.text import CUT_MARK
from tests.conftest import ROOT

FAILED = ["failed", "undelivered"]


class Report(HTMLParser):
    """Paragraphs, tiles, problems, and each panel's table (cells as text) keyed by its h2 title."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.paragraphs: list[str] = []
        self.headings: list[str] = []
        self.titles: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self._title, self._text = "", ""
        self._row: list[str] | None = None
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3", "p", "td", "th"):
            self._in, self._text = tag, ""
        if tag == "tr":
            self._row = []
        if tag == "table" and ("class", "grid") in attrs:
            self.tables[self._title] = []
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data):
        if self._in:
            self._text += data

    def handle_endtag(self, tag):
        text = " ".join(self._text.split())
        if tag == "h2":
            self._title = text
            self.titles.append(text)
        elif tag == "h3":
            self.headings.append(text)
        elif tag == "p":
            self.paragraphs.append(text)
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(text)
        elif tag == "tr" and self._row and self._title in self.tables:
            self.tables[self._title].append(self._row)
            self._row = None
        if tag == self._in:
            self._in = None

    def table(self, prefix: str) -> list[list[str]]:
        matches = [t for title, t in self.tables.items() if title.startswith(prefix)]
        assert len(matches) == 1, (prefix, list(self.tables))
        return matches[0]


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


def messages_of(run_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(run_dir / "extracts" / "messages" / "**" / "*.parquet", hive_partitioning=True)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "r"
    result = CliRunner().invoke(cli, ["run", str(ROOT / "sample_logs"), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


def test_title_verdict_and_tiles_match_the_extracts(run_dir):
    messages = messages_of(run_dir)
    first, last = messages["date"].min(), messages["date"].max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    html = (run_dir / "report.html").read_text()
    title = re.search(r"<h1[^>]*>(.*?)</h1>", html)
    assert title is not None and title.group(1) == f"Delivery report, {first} to {last}"
    report = Report(html)
    # sample_logs carry an incident on their last day: 7203 for AT&T's US SMS (sample_logs/README.md).
    verdict = next(p for p in report.paragraphs if p.split(" ")[0] in ("▲", "▼", "●", "○"))
    assert verdict.startswith("▲ Worse than usual: SMS in United States failed "), verdict
    assert "mostly code 7203 Unknown Subscriber address" in verdict
    assert report.headings[0].startswith("1. ▲ SMS in United States · code 7203")
    # The tiles are about the last day, against the day before.
    day = messages.filter(pl.col("date") == last)
    before = messages.filter(pl.col("date") == last - dt.timedelta(days=1))
    rate, rate_before = (100 * d.filter(pl.col("is_failure")).height / d.height for d in (day, before))
    tiles = report.paragraphs[report.paragraphs.index("Messages") :]
    assert tiles[1] == f"{day.height:,}"
    failed = tiles.index("Failed")
    assert tiles[failed + 1] == f"{rate:.1f}%"
    assert tiles[failed + 2] == f"{rate - rate_before:+.1f} pts vs {last - dt.timedelta(days=1):%d %b}"
    receipt = tiles.index("Still no receipt")
    waiting = day.filter(pl.col("status_class").is_in(["submitted", "queued"])).height
    assert tiles[receipt + 1] == f"{waiting:,} ({100 * waiting / day.height:.1f}%)"


def test_top_codes_are_ranked_by_failures_and_print_as_codes(run_dir):
    messages = messages_of(run_dir)
    expected = (
        messages.filter(pl.col("is_failure"))
        .group_by("channel", "status_code")
        .len()
        .sort(["len", "channel", "status_code"], descending=[True, False, False])
        .head(10)
    )
    table = Report((run_dir / "report.html").read_text()).table("Top 10 failure codes")
    assert table[0][:5] == ["Channel", "Code", "Meaning", "Failed", "Share of failures"]
    assert [(r[1], as_int(r[3])) for r in table[1:]] == [
        (str(code), n) for code, n in zip(expected["status_code"], expected["len"], strict=True)
    ]
    assert all("," not in r[1] for r in table[1:])  # 7004, never 7,004
    assert all(r[6] for r in table[1:])  # every code has a next step


def test_channel_panel_totals_match_the_last_day(run_dir):
    messages = messages_of(run_dir)
    last = messages["date"].max()
    assert isinstance(last, dt.date)
    day = messages.filter(pl.col("date") == last)
    table = Report((run_dir / "report.html").read_text()).table(f"By channel on {last}")
    assert table[0][:5] == ["Channel", "Messages", "Failure rate", "Baseline", "Change"]
    totals = table[-1]
    assert totals[0] == "Total" and as_int(totals[1]) == day.height
    assert totals[2] == f"{100 * day['is_failure'].sum() / day.height:.1f}%"
    assert {r[0] for r in table[1:-1]} >= {"SMS", "WhatsApp", "Email"}  # one spelling per channel
    for row in table[1:-1]:
        assert row[5] in ("worse", "better", "usual", "no baseline")


def test_trend_covers_each_day_from_the_dailies(run_dir):
    messages = messages_of(run_dir)
    table = Report((run_dir / "report.html").read_text()).table("Failure rate, last 30 days")
    per_day = (
        messages.group_by("date").agg(pl.len(), pl.col("is_failure").sum()).sort("date", descending=True)
    )
    assert [(r[0], as_int(r[1]), as_int(r[2])) for r in table[1:]] == [
        (str(d), n, f) for d, n, f in per_day.iter_rows()
    ]
    assert table[1][4] and not table[-1][4]  # the first day has no baseline, hence no usual range


def test_reconciliation_panel_matches_the_manifest(run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text())["reconciliation"]
    table = dict(Report((run_dir / "report.html").read_text()).table("Data quality: reconciliation")[1:])
    assert as_int(table["rows read"]) == manifest["rows_read"]
    assert as_int(table["quarantined"]) == manifest["quarantined"] == 22


def test_human_labels_everywhere(run_dir):
    for html in ((run_dir / "report.html").read_text(), (run_dir / "email" / "body.html").read_text()):
        for header in re.findall(r"<th[^>]*>(.*?)</th>", html):
            assert "_" not in header, header


def test_email_version_is_safe_for_gmail_and_outlook(run_dir):
    email = run_dir / "email"
    html = (email / "body.html").read_text()
    assert html_size_as_sent(html) < EMAIL_SIZE_LIMIT
    for forbidden in ("<script", "data:", "<svg", "<link", "javascript:"):
        assert forbidden not in html.lower()
    report = Report(html)
    cids = {str(img["src"]).removeprefix("cid:") for img in report.images}
    assert cids == {p.stem for p in email.glob("*.png")}
    assert all(img.get("alt") for img in report.images)
    assert "<style" not in html.split("</head>")[1]  # CSS is inlined into the body's elements
    assert "@media" in html.split("</head>")[0]  # ...and the phone rules kept for clients that read them
    for table in report.tables.values():
        assert max(len(row) for row in table) <= 5
    assert "Appendix: status codes seen" not in report.tables  # report.html only
    cells = pl.read_parquet(run_dir / "extracts" / "by_channel_region_class.parquet")
    total = int(cells["messages"].sum())
    failed = int(cells.filter(pl.col("status_class").is_in(FAILED))["messages"].sum())
    subject = (email / "subject.txt").read_text()
    dates = messages_of(run_dir)["date"]
    first, last = dates.min(), dates.max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    period = f"{first.day}-{last.day} {last:%b %Y}"
    assert subject == f"Worse than usual: {100 * failed / total:.1f}% failed of {total:,}, {period}\n"
    text = (email / "body.txt").read_text()
    assert text.splitlines()[2] == next(p for p in report.paragraphs if p.startswith(("▲", "▼", "●", "○")))


def test_report_on_disk_embeds_its_images(run_dir):
    report = Report((run_dir / "report.html").read_text())
    assert report.images
    assert all(str(img["src"]).startswith("data:image/png;base64,") for img in report.images)


def test_log_values_are_escaped(tmp_path):
    log = tmp_path / "xss.csv"
    log.write_text(
        "event_time,message_id,channel,status_code,sender,status_description,region\n"
        '2026-11-23T10:00:00Z,x1,"<script>alert(1)</script>",7501,ok,d,eu\n'
        '2026-11-23T10:00:00Z,x2,sms,7203,"<img src=x onerror=alert(2)>","<b>bold</b>",eu\n'
    )
    out = tmp_path / "r"
    assert CliRunner().invoke(cli, ["run", str(log), "--out", str(out)]).exit_code == 0
    html = (out / "report.html").read_text()
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # shown, escaped, in the senders panel
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the quarantined row's raw text
    for page in (html, (out / "email" / "body.html").read_text()):
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
        assert "<b>bold" not in page
        assert not re.search(r'(href|src|style)="[^"]*alert', page)


def test_a_100_kb_log_value_is_cut_and_the_email_stays_small(tmp_path):
    huge = "S" * 100_000
    lines = ["event_time,message_id,channel,status_code,sender,region"]
    for i in range(40):
        lines.append(
            f"2026-11-23T10:00:00Z,m{i},sms,{7203 if i % 2 else 7500},{huge}{i},{huge[:5000]}{i % 3}"
        )
    log = tmp_path / "huge.csv"
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "r"
    result = CliRunner().invoke(cli, ["run", str(log), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    html = (out / "email" / "body.html").read_text()
    assert html_size_as_sent(html) < EMAIL_SIZE_LIMIT
    assert CUT_MARK in html and "S" * 200 not in html
    assert "S" * 200 not in (out / "report.html").read_text()


def test_thirty_alerts_merge_per_cell_by_severity_and_stay_small(tmp_path):
    channels = ["sms", "whatsapp", "email", "push", "voice", "rcs", "mms", "messenger", "instagram", "wechat"]
    lines = ["event_time,message_id,channel,status_code,region"]
    for c, channel in enumerate(channels):
        for r, region in enumerate(["eu", "us", "in"]):
            failures = 4 + c + r  # of 20: 20%..80%, a different severity per cell
            for i in range(20):
                code = 7006 if i < failures else 7500
                lines.append(f"2026-11-23T10:00:00Z,{channel}-{region}-{i},{channel},{code},{region}")
    (tmp_path / "night.csv").write_text("\n".join(lines) + "\n")
    config = tmp_path / "reporter.toml"
    config.write_text(
        "[[alerts]]\nname = 'high'\nfailure_rate_above = 0.1\nmin_messages = 10\n"
        "[[alerts]]\nname = 'very high'\nfailure_rate_above = 0.15\nmin_messages = 10\n"
    )
    out = tmp_path / "r"
    result = CliRunner().invoke(
        cli, ["run", str(tmp_path / "night.csv"), "--out", str(out), "--config", str(config)]
    )
    assert result.exit_code == 0, result.stderr
    assert len(json.loads((out / "manifest.json").read_text())["alerts"]) == 60  # two rules x 30 cells
    html = (out / "email" / "body.html").read_text()
    assert html_size_as_sent(html) < EMAIL_SIZE_LIMIT
    full = Report((out / "report.html").read_text())
    assert "⚠ 30 alerts" in full.titles
    lines_ = [p for p in full.paragraphs if "(high, very high)" in p]
    assert len(lines_) == 30  # one line per cell, both rules on it
    assert lines_[0].startswith(
        "WeChat in India (high, very high): failure rate 75.0%"
    )  # 15 of 20: most above
    assert lines_[-1].startswith("SMS in Europe (high, very high): failure rate 20.0%")  # 4 of 20
    assert (out / "email" / "subject.txt").read_text().startswith("ALERT (30) ")


def test_large_input_stays_under_the_email_limit(tmp_path):
    from reporter.generate import generate

    generate(tmp_path / "in", 60_000, "parquet", seed=5, days=14)
    out = tmp_path / "r"
    assert CliRunner().invoke(cli, ["run", str(tmp_path / "in"), "--out", str(out)]).exit_code == 0
    assert html_size_as_sent((out / "email" / "body.html").read_text()) < EMAIL_SIZE_LIMIT
