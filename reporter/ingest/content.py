"""A file's content as bytes: decompressed, counted and measured in blocks, hashed, and copied
with its over-long lines cut. No line is ever held whole: memory does not grow with a line's length."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import zstandard

MAX_RECORD = 10_000_000  # bytes: a longer line is quarantined as line_too_long (README, Limits)


class LineMeter:
    """The longest line in a stream of blocks, measured without holding any line."""

    def __init__(self) -> None:
        self.run, self.longest = 0, 0  # the open line's length so far; the longest line

    def feed(self, block: bytes) -> None:
        first = block.find(b"\n")
        if first < 0:
            self.run += len(block)
        else:
            self.longest = max(self.longest, self.run + first)
            last = block.rfind(b"\n")
            start = first + 1
            # Lines between a block's newlines are shorter than the block: measured in big blocks only.
            while len(block) > MAX_RECORD and start <= last:
                end = block.find(b"\n", start)
                self.longest, start = max(self.longest, end - start), end + 1
            self.run = len(block) - last - 1
        self.longest = max(self.longest, self.run)


def measured(blocks: Iterator[bytes], sha: Any = None, meter: LineMeter | None = None) -> Iterator[bytes]:
    """The blocks, each fed to `sha` (a hashlib object) and `meter` on the way."""
    for block in blocks:
        if sha is not None:
            sha.update(block)
        if meter is not None:
            meter.feed(block)
        yield block


def lines_in(blocks: Iterator[bytes], meter: LineMeter | None = None) -> int:
    """Lines in a stream of blocks up to its last non-empty one: newlines, plus one for an
    unterminated last line, less the empty lines at the end (they number no record)."""
    lines, last = 0, b"\n"
    for block in measured(blocks, meter=meter):
        lines += block.count(b"\n")
        last = block
    end = last[len(last.rstrip(b"\r\n")) :].count(b"\n")  # the last line's newline and empty ones
    return lines - max(end - 1, 0) + (not last.endswith(b"\n"))


def count_lines(path: Path) -> int:
    """`lines_in` of an uncompressed file."""
    with path.open("rb") as f:
        return lines_in(blocks(f))


def blocks(stream: Any) -> Iterator[bytes]:
    return iter(lambda: stream.read(1 << 20), b"")


def digest(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in blocks(f):
            sha.update(block)
    return sha.hexdigest()


def content_lines(path: Path, compression: str, meter: LineMeter | None = None) -> int | None:
    """Lines of a compressed file's content (streamed); None when the stream breaks off.

    A zstd stream cut short raises TruncatedStream (gzip's reader raises EOFError itself)."""
    if compression == "zstd":
        try:
            return lines_in(_zstd_blocks(path), meter=meter)
        except zstandard.ZstdError:
            return None
    with content(path, compression) as stream:
        try:
            return lines_in(blocks(stream), meter=meter)
        except (OSError, EOFError, zlib.error):
            return None


class TruncatedStream(Exception):
    """A zstd stream that ends inside a frame: the file was cut short."""


def _zstd_blocks(path: Path) -> Iterator[bytes]:
    """A zstd file's content in blocks, frame after frame; raises TruncatedStream if the last frame
    is cut short (zstandard's stream reader just stops there, and so does DuckDB)."""
    decompressor = zstandard.ZstdDecompressor()
    frame, inside = decompressor.decompressobj(), False
    with path.open("rb") as raw:
        for block in blocks(raw):
            while block:
                yield frame.decompress(block)
                inside, block = not frame.eof, frame.unused_data if frame.eof else b""
                if frame.eof:
                    frame = decompressor.decompressobj()
    if inside:
        raise TruncatedStream("the zstd stream ends inside a frame: the file was cut short")


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...


class Discard:
    """A Writer that keeps nothing: `repair_line_breaks` run only for its numbering."""

    def write(self, data: bytes, /) -> int:
        return len(data)


def cut_long_lines(path: Path, compression: str | None, out: Writer) -> list[tuple[int, int, str]]:
    """Copy a file's content to `out` with each line over MAX_RECORD bytes left empty; return those
    lines as (line number, length, first 1,000 characters). Read in pieces: no line is held whole."""
    cut: list[tuple[int, int, str]] = []
    with content(path, compression) as raw:
        stream = io.BufferedReader(raw) if compression == "zstd" else raw
        number = 0
        while piece := stream.readline(MAX_RECORD + 1):
            number += 1
            if len(piece) <= MAX_RECORD or piece.endswith(b"\n"):
                out.write(piece)
                continue
            head, length = piece[:1000].decode("utf-8", "replace"), len(piece)
            while piece and not piece.endswith(b"\n"):
                piece = stream.readline(1 << 20)
                length += len(piece)
            cut.append((number, length - piece.endswith(b"\n"), head))
            out.write(b"\n")
    return cut


@contextlib.contextmanager
def content(path: Path, compression: str | None) -> Iterator[Any]:
    """The file's content as a binary stream, decompressed."""
    with path.open("rb") as raw:
        if compression == "gzip":
            yield gzip.GzipFile(fileobj=raw)
        elif compression == "zstd":
            yield zstandard.ZstdDecompressor().stream_reader(raw)
        else:
            yield raw
