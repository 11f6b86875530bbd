"""The code dimension: every documented row, classified, and one join row per (channel, code)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from reporter.codes.document import DocumentedRow, parse_document, read_document
from reporter.codes.overrides import Override, apply, load_overrides
from reporter.codes.rules import classify
from reporter.errors import ConfigError

# Column order and types of both tables; docs/README.md documents each column.
ROW_SCHEMA: dict[str, pl.DataType] = {
    "channel": pl.String(),
    "code": pl.Int64(),
    "message": pl.String(),
    "description": pl.String(),
    "delivery_status": pl.String(),
    "context": pl.String(),
    "status_class": pl.String(),
    "status_class_rule": pl.String(),
    "failure_category": pl.String(),
    "failure_category_rule": pl.String(),
    "retryable": pl.Boolean(),
    "retryable_rule": pl.String(),
    "region_scope": pl.String(),
    "supported": pl.Boolean(),
    "supported_rule": pl.String(),
    "table": pl.String(),
    "notes": pl.String(),
    "source_line": pl.Int64(),
    "is_join_row": pl.Boolean(),
}
JOIN_SCHEMA: dict[str, pl.DataType] = {
    **{k: v for k, v in ROW_SCHEMA.items() if k != "is_join_row"},
    "documented_rows": pl.Int64(),
    "join_rule": pl.String(),
}
# Columns a terminal table of codes shows; the other formats carry every column.
TABLE_COLUMNS = (
    "channel",
    "code",
    "status_class",
    "failure_category",
    "retryable",
    "region_scope",
    "message",
)


@dataclass(frozen=True)
class Dimension:
    """`codes`: one row per (channel, code), the join key. `rows`: every documented row."""

    codes: pl.DataFrame
    rows: pl.DataFrame
    source: str


def _join_rows(rows: list[DocumentedRow]) -> dict[tuple[str, int], tuple[DocumentedRow, str]]:
    """Pick the row that represents each (channel, code), and say why.

    A code documented twice in one channel (In-App's "(Generic Template)" and "(Quick Replies)"
    variants, Apple's second table) is represented by its first row without a context, else
    by its first row; the other rows stay in `rows` with `is_join_row` false.
    """
    chosen: dict[tuple[str, int], tuple[DocumentedRow, str]] = {}
    for row in rows:
        key = (row.channel, row.code)
        if key not in chosen:
            chosen[key] = (row, "only documented row")
            continue
        first, _ = chosen[key]
        if first.context is not None and row.context is None:
            chosen[key] = (row, "first documented row without a context")
        elif first.context is None:
            chosen[key] = (first, "first documented row without a context")
        else:
            chosen[key] = (first, "first documented row (every row has a context)")
    return chosen


def build_dimension(document: Path | None = None, overrides: Path | None = None) -> Dimension:
    """Parse the document, classify every row, apply overrides, pick the join rows."""
    text, name = read_document(document)
    tables = parse_document(text, name)
    rows = [row for table in tables for row in table.rows]
    common = frozenset(row.code for row in rows if row.channel == "common")
    by_key: dict[tuple[str, int], Override] = {}
    for override in load_overrides(overrides):
        if not any(r.channel == override.channel and r.code == override.code for r in rows):
            raise ConfigError(f"override for {override.channel} {override.code} matches no documented row")
        by_key[(override.channel, override.code)] = override

    chosen = _join_rows(rows)
    counts: dict[tuple[str, int], int] = {}
    for row in rows:
        counts[(row.channel, row.code)] = counts.get((row.channel, row.code), 0) + 1

    records, join_records = [], []
    for row in rows:
        key = (row.channel, row.code)
        klass = classify(row, common)
        if key in by_key:
            klass = apply(klass, by_key[key])
        record = {**asdict(row), **asdict(klass)}
        is_join_row = chosen[key][0] is row
        records.append({**record, "is_join_row": is_join_row})
        if is_join_row:
            join_records.append({**record, "documented_rows": counts[key], "join_rule": chosen[key][1]})

    return Dimension(
        codes=pl.DataFrame(join_records, schema=JOIN_SCHEMA),
        rows=pl.DataFrame(records, schema=ROW_SCHEMA),
        source=name,
    )


@dataclass(frozen=True)
class CodeFilter:
    """What `reporter codes` shows; every field narrows the selection when set."""

    channels: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    codes: tuple[int, ...] = ()
    text: str | None = None
    all_rows: bool = False


def select_codes(dimension: Dimension, where: CodeFilter) -> pl.DataFrame:
    """The join rows (or every documented row) that pass the filter, in document order."""
    frame = dimension.rows if where.all_rows else dimension.codes
    if where.channels:
        frame = frame.filter(pl.col("channel").is_in(where.channels))
    if where.classes:
        frame = frame.filter(pl.col("status_class").is_in(where.classes))
    if where.categories:
        frame = frame.filter(pl.col("failure_category").is_in(where.categories))
    if where.codes:
        frame = frame.filter(pl.col("code").is_in(where.codes))
    if where.text:
        needle = where.text.lower()
        frame = frame.filter(
            pl.col("message").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("description").str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
        )
    return frame.sort("source_line")


def explain_code(dimension: Dimension, code: int, channel: str | None = None) -> pl.DataFrame:
    """Every documented row for `code` (on `channel`, plus the common row it falls back to)."""
    rows = dimension.rows.filter(pl.col("code") == code)
    if channel is not None:
        rows = rows.filter(pl.col("channel").is_in([channel, "common"]))
    return rows.sort("source_line")


def explanation_text(frame: pl.DataFrame) -> str:
    """`explain_code`'s rows as text: each row, where it is documented and why it is classified so."""
    return "\n\n".join(_explain_row(row) for row in frame.to_dicts())


def _explain_row(row: dict[str, Any]) -> str:
    context = f" ({row['context']})" if row["context"] else ""
    lines = [
        f"{row['code']} on {row['channel']}{context}: {row['message']}",
        f"  source: {row['table']!r}, line {row['source_line']}"
        + ("" if row["is_join_row"] else " (not the join row)"),
    ]
    if row["description"]:
        lines.append(f"  description: {row['description']}")
    if row["delivery_status"]:
        lines.append(f"  documented delivery status: {row['delivery_status']}")
    lines.append(f"  status_class: {row['status_class']}  <- {row['status_class_rule']}")
    if row["failure_category"]:
        lines.append(f"  failure_category: {row['failure_category']}  <- {row['failure_category_rule']}")
        retry = {True: "transient", False: "permanent", None: "unknown"}[row["retryable"]]
        lines.append(f"  retryable: {retry}  <- {row['retryable_rule']}")
    lines.append(f"  region_scope: {row['region_scope']}; supported: {row['supported']}")
    if row["notes"]:
        lines.append(f"  notes: {row['notes']}")
    return "\n".join(lines)
