"""The report: facts checked with a real HTML parser against the extracts, email safety, escaping."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import polars as pl
import pytest
from click.testing import CliRunner

from reporter.cli import cli
from reporter.report import EMAIL_SIZE_LIMIT
from tests.conftest import ROOT


class Report(HTMLParser):
    """Headline paragraphs, and each panel's table (cells as text) keyed by its h2 title."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.paragraphs: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self._title, self._text = "", ""
        self._row: list[str] | None = None
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "p", "td", "th"):
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
        if tag == "h2":
            self._title = self._text.strip()
        elif tag == "p":
            self.paragraphs.append(" ".join(self._text.split()))
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(self._text.strip())
        elif tag == "tr" and self._row and self._title in self.tables:
            self.tables[self._title].append(self._row)
            self._row = None
        if tag == self._in:
            self._in = None


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "r"
    result = CliRunner().invoke(cli, ["run", str(ROOT / "sample_logs"), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


def test_headline_figures_match_the_extracts(run_dir):
    messages = pl.read_parquet(run_dir / "extracts" / "messages" / "**" / "*.parquet", hive_partitioning=True)
    failures = messages.filter(pl.col("is_failure")).height
    report = Report((run_dir / "report.html").read_text())
    headline = report.paragraphs[0]
    rate = 100 * failures / messages.height
    assert headline == f"{messages.height:,} messages, {rate:.1f}% failed or undelivered ({failures:,})."
    title = re.search(r"<h1[^>]*>(.*?)</h1>", (run_dir / "report.html").read_text())
    assert title is not None and title.group(1) == "Delivery report, 2026-11-23 to 2026-11-25"


def test_panel_totals_match_the_extracts(run_dir):
    report = Report((run_dir / "report.html").read_text())
    cells = pl.read_parquet(run_dir / "extracts" / "by_channel_region_class.parquet")
    by_channel = report.tables["By channel"]
    header, totals = by_channel[0], by_channel[-1]
    assert header == ["channel", "messages", "delivered", "failures", "failure_rate"]
    assert totals[0] == "Total"
    assert as_int(totals[1]) == cells["messages"].sum()
    failed = cells.filter(pl.col("status_class").is_in(["failed", "undelivered"]))["messages"].sum()
    assert as_int(totals[3]) == failed
    # Each channel row agrees with the extract too.
    for row in by_channel[1:-1]:
        channel_cells = cells.filter(pl.col("channel") == row[0])
        assert as_int(row[1]) == channel_cells["messages"].sum()
    classes = report.tables["Channel × region × final status"]
    assert as_int(classes[-1][-1]) == cells["messages"].sum()
    daily = pl.read_parquet(run_dir / "extracts" / "daily.parquet")
    trend = report.tables["Messages per day"]
    assert [r[0] for r in trend[1:-1]] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert [as_int(r[-1]) for r in trend[1:-1]] == daily.group_by("date").agg(pl.col("messages").sum()).sort(
        "date"
    )["messages"].to_list()


def test_reconciliation_panel_matches_the_manifest(run_dir):
    import json

    manifest = json.loads((run_dir / "manifest.json").read_text())["reconciliation"]
    table = dict(Report((run_dir / "report.html").read_text()).tables["Data quality: reconciliation"][1:])
    assert as_int(table["rows read"]) == manifest["rows_read"]
    assert as_int(table["quarantined"]) == manifest["quarantined"] == 22


def test_email_version_is_safe_for_gmail_and_outlook(run_dir):
    email = run_dir / "email"
    html = (email / "body.html").read_text()
    assert len(html.encode()) < EMAIL_SIZE_LIMIT
    for forbidden in ("<script", "data:", "<svg", "<link", "javascript:"):
        assert forbidden not in html.lower()
    report = Report(html)
    cids = {str(img["src"]).removeprefix("cid:") for img in report.images}
    assert cids == {p.stem for p in email.glob("*.png")}
    assert all(img.get("alt") for img in report.images)
    assert "<style" not in html.split("</head>")[1]  # CSS is inlined into the body's elements
    cells = pl.read_parquet(run_dir / "extracts" / "by_channel_region_class.parquet")
    total = int(cells["messages"].sum())
    failed = int(cells.filter(pl.col("status_class").is_in(["failed", "undelivered"]))["messages"].sum())
    expected = f"Delivery report 2026-11-23 to 2026-11-25: {100 * failed / total:.1f}% failed of {total:,}\n"
    assert (email / "subject.txt").read_text() == expected
    text = (email / "body.txt").read_text()
    assert Report(html).paragraphs[0] in text


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
    for html in ((out / "report.html").read_text(), (out / "email" / "body.html").read_text()):
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert "<b>bold" not in html
        assert "&lt;img src=x onerror=alert(2)&gt;" in html  # shown, escaped, in the senders panel
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the quarantined row's raw text
        assert not re.search(r'(href|src|style)="[^"]*alert', html)


def test_large_input_stays_under_the_email_limit(tmp_path):
    from reporter.generate import generate

    generate(tmp_path / "in", 60_000, "parquet", seed=5, days=14)
    out = tmp_path / "r"
    assert CliRunner().invoke(cli, ["run", str(tmp_path / "in"), "--out", str(out)]).exit_code == 0
    assert len((out / "email" / "body.html").read_bytes()) < EMAIL_SIZE_LIMIT


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""


@pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's chromium)"
)
def test_report_renders_in_a_real_browser(run_dir, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", "--window-size=700,2400",
         f"--screenshot={shot}", (run_dir / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    from PIL import Image

    image = Image.open(shot).convert("L")
    colours: list[tuple[int, int]] = image.getcolors(maxcolors=1 << 16) or []  # type: ignore[assignment]
    assert image.size == (700, 2400)
    assert len(colours) > 50  # text, tables and charts; a blank page has one or two
    dark = sum(n for n, v in colours if v < 128)
    assert dark > 0.005 * image.size[0] * image.size[1]
