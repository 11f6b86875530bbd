"""CSV line breaks as DuckDB's strict parser reads them: a copy with every line break outside quotes
in the file's own form, and the empty and malformed lines numbered as DuckDB numbers them."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

    The content is read in chunks of whole lines: a chunk with no quote and only the dialect's line
    breaks is copied as it is and its empty lines found by runs (5M empty lines took 111 s line by
    line); any other chunk is read line by line.
    """
    lines = _Lines(dialect, out, repair or LineBreakRepair())
    with content(path, compression) as raw:
        stream = io.BufferedReader(raw) if compression == "zstd" else raw  # zstd's reader has no lines
        for chunk in _chunks(stream):
            if lines.rest:  # a quote never closed within DuckDB's line limit: the rest as it is
                out.write(chunk)
            elif not lines.pending and not lines.quoted and lines.plain(chunk):
                lines.plain_chunk(chunk)
            else:
                for line in io.BytesIO(chunk):
                    lines.line(line)
    if lines.pending:  # a quote never closed: copied as it is, for DuckDB to reject
        out.write(b"".join(lines.pending))
    lines.repair.noted(final=True)
    return lines.repair


_CHUNK = 1 << 18


def _chunks(stream: Any) -> Iterator[bytes]:
    """The content in chunks that end at a line end (but the last). A line is held whole only up to
    the next line end: the lines here are at most MAX_RECORD long (longer ones are cut before)."""
    carry = b""
    while block := stream.read(_CHUNK):
        block = carry + block
        cut = block.rfind(b"\n") + 1
        carry = block[cut:]
        if cut:
            yield block[:cut]
    if carry:
        yield carry


class _Lines:
    """repair_line_breaks' state across chunks: the record being read, its quotes and line number."""

    def __init__(self, dialect: Dialect, out: Writer, repair: LineBreakRepair) -> None:
        self.out, self.repair = out, repair
        self.end, self.delimiter = dialect.newline.encode(), ord(dialect.delimiter)
        self.pending, self.number, self.quoted, self.lone_cr, self.size = list[bytes](), 0, False, False, 0
        self.rest = False  # a quote never closed: everything after is copied as it is
        self.crlf = dialect.newline == "\r\n"
        self.empty_run = re.compile(rb"(?:(?<=\n)|^)(?:\r\n)+" if self.crlf else rb"(?:(?<=\n)|^)\n+")

    def plain(self, chunk: bytes) -> bool:
        """No quote, and every line break the dialect's own (no other CR)."""
        if 34 in chunk:
            return False
        if not self.crlf:
            return 13 not in chunk
        ends = chunk.count(b"\n")
        return chunk.endswith(b"\n") and chunk.count(b"\r") == ends == chunk.count(b"\r\n")

    def plain_chunk(self, chunk: bytes) -> None:
        """A plain chunk: copied as it is; each line a record or an empty line, found by runs."""
        step = len(self.end)
        counted, position = self.number, 0
        for run in self.empty_run.finditer(chunk):
            counted += chunk.count(b"\n", position, run.start())
            position = run.start()
            self.repair.empty.extend(range(counted + 1, counted + 1 + (run.end() - run.start()) // step))
        self.number += chunk.count(b"\n") + (not chunk.endswith(b"\n"))
        self.out.write(chunk)
        self.repair.noted()

    def line(self, line: bytes) -> None:
        if self.rest:
            self.out.write(line)
            return
        self.pending.append(line)
        text = line[:-1] if line.endswith(b"\n") else line
        if self.quoted or 34 in text:
            self.quoted, cr = _scan_quotes(text, self.quoted, self.delimiter)
        else:
            cr = b"\r" in text[:-1]
        self.lone_cr |= cr
        self.size += len(line)
        if self.quoted and self.size <= _MAX_RECORD:
            return
        self.size = 0
        self.number += 1
        record = b"".join(self.pending)
        self.pending.clear()
        if self.quoted:  # a quote never closed within DuckDB's line limit: the rest as it is
            self.out.write(record)
            self.rest = True
            return
        terminated = record.endswith(b"\n")
        body = record[:-1] if terminated else record
        body = body[:-1] if body.endswith(b"\r") else body
        if self.lone_cr:
            self.repair.malformed.append((self.number, body.decode("utf-8", "replace")))
            body, self.lone_cr = b"", False
        if not body:
            self.repair.empty.append(self.number)
            self.repair.noted()
        self.out.write(body + self.end if terminated or not body else body)
