"""Parse the vendor's status-code document into documented rows.

The document is plain text: a heading line per table, an optional sentence, a
header row (`Status Code | Message | ...`), a `---|---|` separator, then one
`code | cell | ...` row per documented code. Every line must be one of those;
anything else stops the parse with the line number and what was expected.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from reporter.codes.channels import Section, section_for_heading
from reporter.errors import DocumentError

DOCUMENT_NAME = "status-codes.txt"

_HEADER_FIRST_CELL = re.compile(r"^(status |error )?code$", re.IGNORECASE)
_SEPARATOR = re.compile(r"^-{3,}(\|-{3,})*\|?$")
_DATA_ROW = re.compile(r"^\d+\s*\|")
_TRAILING_PAREN = re.compile(r"\s+\(([^()]+)\)$")
_FOOTNOTE = re.compile(r"(?<=[a-z)])\.(\d{1,3})$")

# Header cell spellings (the document has a "Meesage" typo) to field names.
_COLUMNS = {
    "code": "code",
    "status code": "code",
    "error code": "code",
    "message": "message",
    "meesage": "message",
    "description": "description",
    "delivery status": "delivery_status",
}


@dataclass(frozen=True)
class DocumentedRow:
    """One row of one table of the document, cleaned, with where it came from."""

    channel: str
    table: str  # the heading text of the table the row sits in
    region_scope: str  # "all", or "us+ca" for the US/Canada SMS table
    supported: bool
    supported_rule: str
    code: int
    message: str
    description: str | None
    delivery_status: str | None
    context: str | None  # e.g. "Generic Template": a repeated trailing parenthetical
    notes: str | None  # cleanups applied to the source text, if any
    source_line: int


@dataclass(frozen=True)
class Table:
    heading: str
    heading_line: int
    section: Section
    columns: tuple[str, ...]
    rows: tuple[DocumentedRow, ...]


def vendored_document() -> str:
    """The document shipped inside the package."""
    return resources.files("reporter.codes").joinpath(DOCUMENT_NAME).read_text(encoding="utf-8")


def read_document(path: Path | None = None) -> tuple[str, str]:
    """(text, name) of the given document, or of the vendored copy."""
    if path is None:
        return vendored_document(), DOCUMENT_NAME
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: cannot read the status-code document: {exc}") from exc


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.endswith("|"):
        body = body[:-1]
    return [cell.strip() for cell in body.split("|")]


class _Parser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tables: list[Table] = []
        self.heading: tuple[str, int, Section] | None = None
        self.columns: tuple[str, ...] | None = None
        self.separator_seen = False
        self.rows: list[DocumentedRow] = []

    def fail(self, lineno: int, expected: str, line: str) -> DocumentError:
        shown = line.strip()
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return DocumentError(f"{self.name}:{lineno}: expected {expected}, found {shown!r}")

    def close_table(self) -> None:
        if self.heading is None:
            return
        heading, lineno, section = self.heading
        if not self.rows:
            raise DocumentError(f"{self.name}:{lineno}: table {heading!r} has no rows")
        assert self.columns is not None
        self.tables.append(Table(heading, lineno, section, self.columns, tuple(self.rows)))
        self.heading, self.columns, self.separator_seen, self.rows = None, None, False, []

    def feed(self, lineno: int, line: str) -> None:
        text = line.strip()
        if not text:
            return
        if self.columns is not None and not self.separator_seen:
            if not _SEPARATOR.match(text.replace(" ", "")):
                raise self.fail(lineno, "a '---|---|' separator under the header row", line)
            self.separator_seen = True
            return
        if self.separator_seen and _DATA_ROW.match(text):
            self.rows.append(self.row(lineno, text))
            return
        section = section_for_heading(text)
        if section is not None:
            self.close_table()
            self.heading = (text, lineno, section)
            return
        if self.heading is None:
            if lineno == 1 and "|" not in text:
                return  # the preamble sentence
            raise self.fail(lineno, "a known section heading", line)
        if self.columns is None:
            if "|" in text:
                self.columns = self.header(lineno, line)
            # else: a sentence between a heading and its header row (WhatsApp has one)
            return
        raise self.fail(lineno, "a table row '<digits> | message |' or a known section heading", line)

    def header(self, lineno: int, line: str) -> tuple[str, ...]:
        cells = [c for c in _cells(line)]
        if not cells or not _HEADER_FIRST_CELL.match(cells[0]):
            raise self.fail(lineno, "a header row starting with 'Code', 'Status Code' or 'Error Code'", line)
        names = []
        for cell in cells:
            name = _COLUMNS.get(cell.lower())
            if name is None:
                raise self.fail(lineno, f"a known column name (not {cell!r})", line)
            names.append(name)
        if "message" not in names:
            raise self.fail(lineno, "a header row with a Message column", line)
        return tuple(names)

    def row(self, lineno: int, line: str) -> DocumentedRow:
        assert self.heading is not None and self.columns is not None
        cells = _cells(line)
        if len(cells) > len(self.columns):
            raise self.fail(lineno, f"at most {len(self.columns)} cells", line)
        # Rows missing trailing cells (and their '|') are padded with empty cells.
        cells += [""] * (len(self.columns) - len(cells))
        values = dict(zip(self.columns, cells, strict=True))
        heading, _, section = self.heading
        message, notes = values["message"], []
        footnote = _FOOTNOTE.search(message)
        if footnote:
            message = message[: footnote.start() + 1]
            notes.append(f"footnote marker {footnote.group(1)!r} removed from message")
        return DocumentedRow(
            channel=section.channel,
            table=heading,
            region_scope=section.region_scope,
            supported=section.supported,
            supported_rule=section.rule,
            code=int(values["code"]),
            message=message,
            description=values.get("description") or None,
            delivery_status=values.get("delivery_status") or None,
            context=None,
            notes="; ".join(notes) or None,
            source_line=lineno,
        )


def _split_contexts(table: Table) -> Table:
    """Move a trailing parenthetical that recurs on two or more rows into `context`.

    "(Generic Template)" and "(Quick Replies)" recur and are contexts; a one-off such as
    "Invalid app credentials(Invalid OAuth)" is part of the message.
    """
    found = [_TRAILING_PAREN.search(r.message) for r in table.rows]
    counts = Counter(m.group(1) for m in found if m)
    rows = tuple(
        replace(row, message=row.message[: m.start()], context=m.group(1))
        if m and counts[m.group(1)] >= 2
        else row
        for row, m in zip(table.rows, found, strict=True)
    )
    return replace(table, rows=rows)


def parse_document(text: str, name: str = DOCUMENT_NAME) -> list[Table]:
    """Every table of the document, in order; raises DocumentError naming the line at fault."""
    parser = _Parser(name)
    for lineno, line in enumerate(text.splitlines(), start=1):
        parser.feed(lineno, line)
    if parser.heading is not None and parser.columns is None:
        _, lineno, _ = parser.heading
        raise DocumentError(f"{name}:{lineno}: heading has no table under it")
    parser.close_table()
    if not parser.tables:
        raise DocumentError(f"{name}: no tables found")
    tables = [_split_contexts(t) for t in parser.tables]
    _check_counts(text, tables, name)
    return tables


def _check_counts(text: str, tables: list[Table], name: str) -> None:
    """Self-validation: every line that looks like a data row was parsed into exactly one row."""
    data_lines = [n for n, line in enumerate(text.splitlines(), 1) if _DATA_ROW.match(line.strip())]
    parsed = [r.source_line for t in tables for r in t.rows]
    if sorted(parsed) != data_lines:
        missing = sorted(set(data_lines) - set(parsed))
        raise DocumentError(f"{name}:{missing[0] if missing else 0}: data row not parsed into any table")
