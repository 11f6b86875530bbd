"""CSV line breaks as DuckDB's strict parser reads them: a copy with every line break outside quotes
in the file's own form, and the empty and malformed lines numbered as DuckDB numbers them."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reporter.ingest.content import MAX_RECORD, Writer, content
from reporter.ingest.sources import Dialect


@dataclass
class LineBreakRepair:
    """What `repair_line_breaks` changed, numbered as DuckDB numbers CSV lines (header = 1)."""

    empty: list[int] = field(default_factory=list)  # empty lines, which DuckDB skips but counts
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line, raw text): a lone CR
    # Called (then both lists emptied) every _BATCH findings and at the end: a file of millions of
    # empty lines is handed over in batches, never held whole.
    sink: Callable[[LineBreakRepair], None] | None = None

    def noted(self, final: bool = False) -> None:
        if self.sink and (final or len(self.empty) + len(self.malformed) >= _BATCH):
            self.sink(self)
            self.empty.clear()
            self.malformed.clear()


_MAX_RECORD = MAX_RECORD  # DuckDB's max_line_size here: a longer record is copied as it is
_BATCH = 50_000


# How DuckDB 2.0.1's strict parser moves between states on a quote (34), a space (32) or the delimiter
# outside quoted text; any other byte makes the field unquoted text. Checked against read_csv itself
# (tests/test_ingest.py): one space may precede an opening quote; after a closing quote, spaces and
# another quote continue the field ("x" "y" reads x y); text after a closing quote makes the rest of
# that field unquoted, and the next field may open a quote again.

_QUOTE_STEPS = {
    "start": {34: "quoted", 32: "space"},
    "space": {34: "quoted"},
    "closing": {34: "quoted", 32: "after"},
    "after": {34: "quoted", 32: "after"},
    "unquoted": {},
}


def _scan_quotes(line: bytes, quoted: bool, delimiter: int) -> tuple[bool, bool]:
    """(still inside quotes at the end of `line`, a CR found outside quotes), read as DuckDB's strict
    parser reads quotes (`_QUOTE_STEPS`); `""` inside quotes is a quote. `line` is one physical line
    without its LF; a CR at its end belongs to the line break."""
    body = line[:-1] if line.endswith(b"\r") else line
    state = "quoted" if quoted else "start"
    lone_cr = False
    for c in body:
        if state == "quoted":
            state = "closing" if c == 34 else "quoted"
        elif c == delimiter:
            state = "start"
        else:
            lone_cr |= c == 13
            state = _QUOTE_STEPS[state].get(c, "unquoted")
    if state == "quoted" and line.endswith(b"\r"):
        return True, lone_cr  # the CR is quoted text too
    return state == "quoted", lone_cr


def repair_line_breaks(
    path: Path, compression: str | None, dialect: Dialect, out: Writer, repair: LineBreakRepair | None = None
) -> LineBreakRepair:
    """Copy a CSV file's content to `out` with every line break outside quotes in the file's own form,
    and number its empty lines and malformed records as DuckDB does.

    DuckDB's strict parser refuses a whole file for one line break outside quotes that differs from
    the dialect's (an LF-only line in a CRLF file, a CRLF line in an LF file) or a lone CR inside an
    unquoted field. Line ends are rewritten in the dialect's form; a record with a lone CR outside
    quotes becomes an empty line (reported as malformed). Quoted text is copied untouched. The copy
    keeps DuckDB's numbering: one number per record or empty line, none per quoted newline.
    """
    end, delimiter = dialect.newline.encode(), ord(dialect.delimiter)
    repair = repair or LineBreakRepair()
    pending, number, quoted, lone_cr, size = list[bytes](), 0, False, False, 0
    with content(path, compression) as raw:
        stream = io.BufferedReader(raw) if compression == "zstd" else raw  # zstd's reader has no lines
        for line in stream:
            pending.append(line)
            text = line[:-1] if line.endswith(b"\n") else line
            if quoted or 34 in text:
                quoted, cr = _scan_quotes(text, quoted, delimiter)
            else:
                cr = b"\r" in text[:-1]
            lone_cr |= cr
            size += len(line)
            if quoted and size <= _MAX_RECORD:
                continue
            size = 0
            number += 1
            record = b"".join(pending)
            pending.clear()
            if quoted:  # a quote never closed within DuckDB's line limit: the rest as it is
                out.write(record)
                shutil.copyfileobj(stream, out)
                break
            terminated = record.endswith(b"\n")
            body = record[:-1] if terminated else record
            body = body[:-1] if body.endswith(b"\r") else body
            if lone_cr:
                repair.malformed.append((number, body.decode("utf-8", "replace")))
                body, lone_cr = b"", False
            if not body:
                repair.empty.append(number)
                repair.noted()
            out.write(body + end if terminated or not body else body)
    if pending:  # a quote never closed: copied as it is, for DuckDB to reject
        out.write(b"".join(pending))
    repair.noted(final=True)
    return repair
