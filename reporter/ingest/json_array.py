"""JSON arrays DuckDB cannot read as they are, copied as NDJSON: one element per line.

DuckDB reads an array's elements itself, but one element over its maximum object size (some 32 MB)
or one malformed element stops it for the whole file, and it reads an element over MAX_RECORD whole.
Such a file is copied with each element on a line of its own (line n holds element n); an element over
MAX_RECORD bytes, or with a line break inside a string, is left as an empty line and returned, to be
quarantined. The copy is read in blocks and no element is held past MAX_RECORD bytes.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Protocol

from reporter.ingest.content import MAX_RECORD, Writer, content
from reporter.ingest.sources import Source

_OUTSIDE = re.compile(rb'["\[\]{},]')  # what matters between strings
_INSIDE = re.compile(rb'["\\\r\n]')  # what matters inside a string
_SPACE = b" \t\r\n"
_KEPT = MAX_RECORD + (1 << 20)  # bytes of an element held, spaces around it included


class MalformedArray(ValueError):
    """The bytes are not one JSON array of elements (an empty element, text after the array...)."""


@dataclass
class Elements:
    """The elements left out of the copy: (element number, length in bytes, its first 1,000 characters)."""

    too_long: list[tuple[int, int, str]] = field(default_factory=list)
    broken: list[tuple[int, str]] = field(default_factory=list)  # a line break inside a string


class _Stream(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _Splitter:
    """Walks an array's bytes block by block: where each element starts and ends, outside strings."""

    def __init__(self, out: Writer) -> None:
        self.out, self.found = out, Elements()
        self.depth, self.in_string, self.escaped = 0, False, False
        self.closed = False  # the array's closing bracket was seen
        self.number, self.parts, self.size, self.broken = 0, list[bytes](), 0, False
        self.over = False  # the open element went past _KEPT bytes: only its head is kept

    def feed(self, block: bytes) -> None:
        start, i = 0, 0  # start: where the open element's bytes in this block begin
        while i < len(block):
            if self.in_string:
                i = self._string(block, i)
                continue
            match = _OUTSIDE.search(block, i)
            end = match.start() if match else len(block)
            if self.depth == 0:  # before or after the array: spaces only, then its opening bracket
                opening = match and not self.closed and block[end] == 91  # [
                if block[i:end].strip(_SPACE + b"\xef\xbb\xbf") or (match and not opening):
                    where = "after the array" if self.closed else "before the array"
                    raise MalformedArray(f"malformed JSON array: text {where}")
                self.depth, i, start = (1, end + 1, end + 1) if match else (0, end, end)
                continue
            if not match:
                break
            i, char = end + 1, block[end]
            if char == 34:  # "
                self.in_string = True
            elif char in b"[{":
                self.depth += 1
            elif char in b"]}":
                self.depth -= 1
                if self.depth == 0:
                    self._element(block[start:end], last=True)
                    self.closed = True
            elif self.depth == 1:  # a comma between elements
                self._element(block[start:end], last=False)
                start = i
        if self.depth >= 1:
            self._keep(block[start:])

    def _string(self, block: bytes, i: int) -> int:
        if self.escaped:
            self.escaped = False
            return i + 1
        match = _INSIDE.search(block, i)
        if not match:
            return len(block)
        char = block[match.start()]
        if char == ord("\\"):
            self.escaped = True
        elif char == ord('"'):
            self.in_string = False
        else:
            self.broken = True
        return match.end()

    def _keep(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size <= _KEPT:
            self.parts.append(piece)
        elif self.size - len(piece) <= _KEPT:  # just over: keep its head only, for the quarantine
            self.parts, self.over = [(b"".join(self.parts) + piece[:4000])[:4000]], True

    def _element(self, piece: bytes, last: bool) -> None:
        self._keep(piece)
        text = b"".join(self.parts)
        blank = not text.strip(_SPACE)
        # Its length without the spaces around it (those before the comma are in the last piece).
        spaces = len(text) - len(text.lstrip(_SPACE)) + len(piece) - len(piece.rstrip(_SPACE))
        size = 0 if blank else self.size - spaces
        over = self.over or size > MAX_RECORD
        self.parts, broken, self.size, self.broken, self.over = [], self.broken, 0, False, False
        if blank and last and self.number == 0:
            return  # [] holds no element
        self.number += 1
        if blank:
            raise MalformedArray(f"malformed JSON array: element {self.number} is empty")
        head = text.strip(_SPACE)[:4000].decode("utf-8", "replace")[:1000]
        if over:
            self.found.too_long.append((self.number, size, head))
        elif broken:
            self.found.broken.append((self.number, head))
        else:  # line breaks outside strings are spaces
            self.out.write(text.strip(_SPACE).replace(b"\r", b" ").replace(b"\n", b" ") + b"\n")
            return
        self.out.write(b"\n")

    def finish(self) -> Elements:
        if not self.closed:
            raise MalformedArray("malformed JSON array: it ends before its closing bracket")
        return self.found


def split_array(source: Source, out: Writer) -> Elements:
    """Copy a JSON array's elements to `out`, one a line; return those left out (empty lines)."""
    splitter = _Splitter(out)
    with content(source.path, source.compression) as raw:
        stream: _Stream = io.BufferedReader(raw) if source.compression == "zstd" else raw
        while block := stream.read(1 << 20):
            splitter.feed(block)
    return splitter.finish()
