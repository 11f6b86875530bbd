"""Panels declared once: a table of specs (query, columns with labels and formats, chart), one renderer.

A panel's rows come from its named query (the file analysts run), optionally reshaped by `prepare`
(a pivot, labels, a rate from two counts). report.html shows every column and `cap` rows; the email
shows at most five columns (`email=True`) and `email_rows` rows, and says where the rest is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from reporter.report.charts import Chart
from reporter.report.text import Format, number, percent, plural

EMAIL_COLUMNS = 5


@dataclass(frozen=True)
class Col:
    """A column: the query's name, the label people read, how a value prints, and if the email shows it."""

    name: str
    label: str
    fmt: Format = number
    email: bool = True
    numeric: bool = False  # aligned right


def num(name: str, label: str, fmt: Format = number, email: bool = True) -> Col:
    return Col(name, label, fmt, email, numeric=True)


@dataclass(frozen=True)
class Context:
    """What a panel's prepare and chart functions may need besides the query's frame."""

    day: dt.date | None
    one_day: bool
    labels: dict[str, str] = field(default_factory=dict)  # region key -> label, from the config


Prepare = Callable[[pl.DataFrame, Context], pl.DataFrame]
ChartFn = Callable[[pl.DataFrame, Context], Chart | None]


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    query: str
    columns: tuple[Col, ...]
    sentence: str | None = None  # default: the query's description
    params: tuple[tuple[str, str], ...] = ()
    prepare: Prepare | None = None
    chart: ChartFn | None = None
    totals: dict[str, tuple[str, str]] | None = None  # rate column -> (numerator, denominator); None: no row
    cap: int | None = None  # rows in report.html
    email_rows: int = 10  # rows in the email; 0: the table is in report.html only
    in_email: bool = True
    rest: str = "report.html"  # where the rows beyond the cap are
    skip_empty: bool = False  # no panel at all when the query returns no rows (e.g. no carriers)


@dataclass(frozen=True)
class Panel:
    """One rendered panel: display text only (escaped by the template)."""

    key: str
    title: str
    sentence: str
    columns: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    totals: list[str] | None = None
    note: str | None = None
    chart: Chart | None = None
    email_columns: list[int] = field(default_factory=list)
    email_rows: int = 10
    in_email: bool = True
    email_note: str | None = None


def _totals(frame: pl.DataFrame, spec: Spec) -> list[str] | None:
    """Sums of the count columns; rates recomputed from the sums; the first column says Total."""
    if spec.totals is None or frame.is_empty():
        return None
    row = []
    for i, col in enumerate(spec.columns):
        if i == 0:
            row.append("Total")
        elif col.name in spec.totals:
            top, bottom = (int(frame[c].sum() or 0) for c in spec.totals[col.name])
            row.append(percent(top / bottom) if bottom else "")
        elif col.numeric and frame[col.name].dtype.is_integer():
            row.append(number(int(frame[col.name].sum() or 0)))
        else:
            row.append("")
    return row


def render(spec: Spec, frame: pl.DataFrame, sentence: str, chart: Chart | None) -> Panel:
    shown = frame if spec.cap is None else frame.head(spec.cap)
    rows = [[c.fmt(r[c.name]) for c in spec.columns] for r in shown.iter_rows(named=True)]
    left = frame.height - shown.height
    note = f"{plural(left, 'more row')} in {spec.rest}." if left else None
    email_columns = [i for i, c in enumerate(spec.columns) if c.email][:EMAIL_COLUMNS]
    email_left = frame.height - min(spec.email_rows, frame.height)
    if spec.email_rows == 0 and frame.height:
        email_note = "The table is in report.html."
    elif email_left:
        email_note = f"{plural(email_left, 'more row')} in report.html."
    else:
        email_note = None
    if len(email_columns) < len(spec.columns) and spec.email_rows and frame.height:
        email_note = ((email_note or "") + " All columns are in report.html.").strip()
    return Panel(
        key=spec.key,
        title=spec.title,
        sentence=sentence,
        columns=[c.label for c in spec.columns],
        numeric=[c.numeric for c in spec.columns],
        rows=rows,
        totals=_totals(frame, spec),
        note=note,
        chart=chart,
        email_columns=email_columns,
        email_rows=spec.email_rows,
        in_email=spec.in_email,
        email_note=email_note,
    )
