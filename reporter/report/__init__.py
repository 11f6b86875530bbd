"""The HTML report: report.html (images embedded, opens anywhere) and the email version in email/.

    DIR/report.html          self-contained: charts as embedded PNG, every panel, table and column
    DIR/email/body.html      the email: charts as cid: references (Gmail shows no data: images), at most
                             five columns per table, long tables and the appendix left to report.html
    DIR/email/<chart>.png    one PNG per chart; its stem is the Content-ID
    DIR/email/body.txt       the plain-text alternative: the verdict, tiles, problems and alerts
    DIR/email/subject.txt    the default subject

Both HTML files have their CSS inlined (css-inline, remote stylesheets off, @media kept), a fluid table
layout up to 640 px, no JavaScript and no SVG. Every value from the logs is escaped by Jinja's
autoescape and cut to a length. The email's HTML stays under EMAIL_SIZE_LIMIT as sent
(quoted-printable): panels are left to report.html, last first, until it fits.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import css_inline
import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined

from reporter.alerts import Alert
from reporter.config import Config
from reporter.fsio import atomic_dir, write_text
from reporter.ingest import IngestResult
from reporter.queries import NamedQuery
from reporter.report.build import build_page
from reporter.report.charts import Chart
from reporter.report.context import ReportPage

EMAIL_SIZE_LIMIT = 90_000  # bytes of body.html as sent; Gmail clips an HTML part near 102 KB


def html_size_as_sent(html: str) -> int:
    """Bytes of an HTML part as smtplib sends it (headers, encoding, CRLF); Gmail clips near 102 KB.

    Measured with the content manager mail.build_message uses (add_alternative): same encoding.
    """
    part = EmailMessage()
    part.set_content(html, subtype="html")
    return len(part.as_bytes(policy=part.policy.clone(linesep="\r\n")))


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

    template = _environment(html=True).get_template("report.html")
    html = template.render(page=page, image_src=image_src, email=not embed_images)
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
    return str(inliner.inline(html))


def render_email(page: ReportPage, limit: int = EMAIL_SIZE_LIMIT) -> tuple[str, ReportPage]:
    """The email's HTML within `limit` bytes as sent, and the page it shows (panels dropped to fit)."""
    html = render_html(page, embed_images=False)
    in_email = [i for i, p in enumerate(page.panels) if p.in_email]
    while html_size_as_sent(html) > limit and in_email:
        panels = list(page.panels)
        last = in_email.pop()
        panels[last] = replace(panels[last], in_email=False)
        page = replace(page, panels=panels)
        html = render_html(page, embed_images=False)
    return html, page


def render_text(page: ReportPage) -> str:
    return _environment(html=False).get_template("body.txt").render(page=page)


def subject(page: ReportPage) -> str:
    """The verdict's word, the failure rate and the period, short enough (under 70 characters) that no
    client folds it: "ALERT (2) Worse than usual: 13.5% failed of 20,532, 23-25 Nov 2026"."""
    h = page.headline
    prefix = f"ALERT ({len(page.alerts)}) " if page.alerts else ""
    word = "Delivery report" if page.verdict.level == "none" else page.verdict.word
    return f"{prefix}{word}: {100 * h.failure_rate:.1f}% failed of {h.messages:,}, {h.short_period}"


def write_report(
    con: duckdb.DuckDBPyConnection,
    queries: dict[str, NamedQuery],
    out: Path,
    result: IngestResult,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
    alerts: list[Alert] | None = None,
    notice: str | None = None,
    config: Config | None = None,
) -> ReportPage:
    page = build_page(con, queries, result, period, alerts, notice, config)
    write_text(out / "report.html", render_html(page, embed_images=True))
    html, shown = render_email(page)
    with atomic_dir(out / "email") as tmp:
        (tmp / "body.html").write_text(html, encoding="utf-8")
        (tmp / "body.txt").write_text(render_text(page), encoding="utf-8")
        (tmp / "subject.txt").write_text(subject(page) + "\n", encoding="utf-8")
        for chart in (p.chart for p in shown.panels if p.chart and p.in_email):
            (tmp / f"{chart.name}.png").write_bytes(chart.png)
    return page
