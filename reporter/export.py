"""Write a result (a Polars frame) as a terminal table, CSV, JSON or Parquet.

One registry of formats serves every command that prints or saves rows. An empty result
is still a valid file with its header or schema.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

from reporter.errors import UsageError
from reporter.fsio import atomic_path

# OWASP's list: a spreadsheet runs a cell starting with these as a formula (TAB and CR included).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def defuse_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with `'` (OWASP CSV injection)."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    pattern = (
        "^["
        + "".join(p.encode("unicode_escape").decode() if p < " " else "\\" + p for p in FORMULA_PREFIXES)
        + "]"
    )
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_columns
    )


def _table(frame: pl.DataFrame) -> bytes:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for name in frame.columns:
        table.add_column(name, overflow="fold")
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    buffer = io.StringIO()
    console = Console(file=buffer, width=200 if not sys.stdout.isatty() else None, soft_wrap=False)
    console.print(table)
    console.print(f"{frame.height} rows")
    return buffer.getvalue().encode()


def _csv(frame: pl.DataFrame) -> bytes:
    """CSV holds text: lists and structs are written as JSON text, binary values as hex."""
    nested = [n for n, t in frame.schema.items() if t.is_nested() or t == pl.Binary]
    if nested:
        frame = frame.with_columns(
            pl.Series(n, [_cell(v) for v in frame[n].to_list()], dtype=pl.String) for n in nested
        )
    return frame.write_csv().encode()


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    return json.dumps(value, default=str, ensure_ascii=False)


def _json(frame: pl.DataFrame) -> bytes:
    return (frame.write_json() + "\n").encode()


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


WRITERS: dict[str, Callable[[pl.DataFrame], bytes]] = {
    "table": _table,
    "csv": _csv,
    "json": _json,
    "parquet": _parquet,
}
FORMATS = tuple(WRITERS)


def write_result(frame: pl.DataFrame, fmt: str, out: Path | None, defuse: bool = False) -> None:
    """Write `frame` in `fmt` to `out` (atomically), or to stdout when `out` is None."""
    if defuse:
        frame = defuse_formulas(frame)
    if fmt not in WRITERS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "parquet" and out is None:
        raise UsageError("--format parquet needs --out FILE (Parquet is binary)")
    payload = WRITERS[fmt](frame)
    if out is None:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
        return
    with atomic_path(out) as tmp:
        tmp.write_bytes(payload)
