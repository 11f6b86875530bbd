"""The HTML report. For now a plain summary page: totals, failure rate by channel, reconciliation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined

from reporter.fsio import write_text
from reporter.ingest import IngestResult
from reporter.queries import NamedQuery, run_query


@dataclass(frozen=True)
class Table:
    """A panel's table: column names and rows of display values."""

    title: str
    description: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class SummaryPage:
    """What summary.html shows."""

    messages: int
    failures: int
    reconciliation: dict[str, int]
    panels: list[Table]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("reporter.report", "templates"), autoescape=True, undefined=StrictUndefined
    )


def _panel(con: duckdb.DuckDBPyConnection, query: NamedQuery) -> Table:
    frame = run_query(con, query)
    return Table(query.title, query.description, frame.columns, [list(r) for r in frame.iter_rows()])


def write_summary(
    con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery], path: Path, result: IngestResult
) -> None:
    row = con.execute("SELECT count(*), count(*) FILTER (WHERE is_failure) FROM messages").fetchall()[0]
    messages, failures = (int(row[0]), int(row[1])) if row else (0, 0)
    page = SummaryPage(
        messages=messages,
        failures=failures,
        reconciliation=result.totals(),
        panels=[
            _panel(con, queries[n]) for n in ("channel_failure_rate", "by_failure_category", "data_quality")
        ],
    )
    write_text(path, _environment().get_template("summary.html").render(page=page))
