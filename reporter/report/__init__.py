"""The HTML report: report.html (images embedded, opens anywhere) and the email version in email/.

    DIR/report.html          self-contained: charts as embedded PNG
    DIR/email/body.html      the same page with charts as cid: references (Gmail shows no data: images)
    DIR/email/<chart>.png    one PNG per chart; its stem is the Content-ID
    DIR/email/body.txt       the plain-text alternative: headline figures
    DIR/email/subject.txt    the default subject

Both HTML files have their CSS inlined (css-inline, remote stylesheets off), a 640 px table layout,
no JavaScript and no SVG. Every value from the logs is escaped by Jinja's autoescape.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import css_inline
import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined

from reporter.alerts import Alert
from reporter.fsio import atomic_dir, write_text
from reporter.ingest import IngestResult
from reporter.queries import NamedQuery
from reporter.report.build import build_page
from reporter.report.charts import Chart
from reporter.report.context import ReportPage

EMAIL_SIZE_LIMIT = 100_000  # bytes; Gmail clips a message near 102 KB


def _environment(html: bool) -> Environment:
    return Environment(
        loader=PackageLoader("reporter.report", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_html(page: ReportPage, embed_images: bool) -> str:
    """The page as HTML with inlined CSS; charts embedded (on disk) or as cid: (email)."""

    def image_src(chart: Chart) -> str:
        if embed_images:
            return "data:image/png;base64," + base64.b64encode(chart.png).decode()
        return f"cid:{chart.name}"

    html = _environment(html=True).get_template("report.html").render(page=page, image_src=image_src)
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
    return str(inliner.inline(html))


def render_text(page: ReportPage) -> str:
    return _environment(html=False).get_template("body.txt").render(page=page)


def subject(page: ReportPage) -> str:
    """Short enough (under 70 characters for a few years of dates) that no client folds it."""
    h = page.headline
    prefix = f"ALERT ({len(page.alerts)}) " if page.alerts else ""
    return f"{prefix}Delivery report {h.period}: {100 * h.failure_rate:.1f}% failed of {h.messages:,}"


def write_report(
    con: duckdb.DuckDBPyConnection,
    queries: dict[str, NamedQuery],
    out: Path,
    result: IngestResult,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
    alerts: list[Alert] | None = None,
    notice: str | None = None,
) -> ReportPage:
    page = build_page(con, queries, result, period, [a.text for a in alerts or []], notice)
    write_text(out / "report.html", render_html(page, embed_images=True))
    with atomic_dir(out / "email") as tmp:
        (tmp / "body.html").write_text(render_html(page, embed_images=False), encoding="utf-8")
        (tmp / "body.txt").write_text(render_text(page), encoding="utf-8")
        (tmp / "subject.txt").write_text(subject(page) + "\n", encoding="utf-8")
        for chart in page.charts:
            (tmp / f"{chart.name}.png").write_bytes(chart.png)
    return page
