"""Inputs to sources: expand files, folders and globs; detect each file's format from its bytes."""

from __future__ import annotations

import contextlib
import csv
import glob
import gzip
import hashlib
import io
import itertools
import os
import shutil
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import zstandard

from reporter.errors import InputError

# Folder walks take files with these endings (before .gz/.zst); a file named directly is always read.
DATA_SUFFIXES = {".csv", ".tsv", ".psv", ".txt", ".json", ".ndjson", ".jsonl", ".parquet", ".pq", ".log"}
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    newline: str  # "\n" or "\r\n"
    columns: tuple[str, ...]


@dataclass
class Source:
    """One input file and what was learned from its first bytes."""

    path: Path
    partitions: dict[str, str] = field(default_factory=dict)
    compression: str | None = None  # "gzip", "zstd" or None
    format: str = "unknown"  # csv, ndjson, json, parquet, empty, unreadable
    dialect: Dialect | None = None
    problem: str | None = None  # why the file cannot be read at all
    size: int = 0
    sha256: str = ""
    lines: int | None = None  # CSV: lines of the content up to its last non-empty one (None: unknown)
    longest: int = 0  # CSV, NDJSON: the longest line of the content, in bytes


def _partitions(path: Path) -> dict[str, str]:
    """`key=value` folder names along the path become columns (hive partitions)."""
    parts: dict[str, str] = {}
    for name in path.parent.parts:
        if "=" in name:
            key, _, value = name.partition("=")
            if key:
                parts[key.lower()] = value
    return parts


def _is_data_file(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes = suffixes[:-1]
    return not path.name.startswith(".") and bool(suffixes) and suffixes[-1] in DATA_SUFFIXES


@dataclass(frozen=True)
class InputFinding:
    """Something named by the inputs that was not read: a link out of the tree, or an unreadable path."""

    path: str
    problem: str
    unreadable: bool  # True: the run exits 66 (or 74) after writing; False: a link, said in -v only
    io_error: bool = False  # an I/O error rather than a permission: exit 74


@dataclass
class Inputs:
    files: list[Path]
    findings: list[InputFinding]


def _inside(path: Path, tree: Path) -> bool:
    return path == tree or tree in path.parents


def _walk(top: Path, findings: list[InputFinding]) -> list[Path]:
    """The data files under `top`: links are followed only within it; unlistable folders are findings."""
    tree, files = top.resolve(), []

    def unreadable(exc: OSError) -> None:
        findings.append(unreadable_finding(Path(exc.filename or top), exc))

    for folder, dirs, names in os.walk(top, onerror=unreadable):
        for name in [*dirs, *names]:
            path = Path(folder) / name
            if path.is_symlink() and not _inside(path.resolve(), tree):
                if (name in names and _is_data_file(path)) or name in dirs:
                    target = os.readlink(path)
                    findings.append(
                        InputFinding(str(path), f"a link out of {top} (to {target}): not followed", False)
                    )
            elif name in names and _is_data_file(path) and path.is_file():
                files.append(path)
    return sorted(files)


def unreadable_finding(path: Path, exc: OSError) -> InputFinding:
    io_error = not isinstance(exc, PermissionError)
    return InputFinding(str(path), f"cannot read: {exc.strerror or exc}", True, io_error)


def _glob_base(pattern: str) -> Path:
    """The folder a glob searches: its path up to the first part with a wildcard."""
    parts = Path(pattern).parts
    fixed = [p for p in itertools.takewhile(lambda p: not glob.has_magic(p), parts)]
    return Path(*fixed) if fixed else Path(".")


def expand_inputs(inputs: list[str]) -> Inputs:
    """Every file named by `inputs` (files, folders walked recursively, globs), sorted, no repeats.

    A file named directly is read whatever it is. A folder walk or a glob does not follow a link out
    of its folder (a finding, said in -v and the manifest); a folder it cannot list is a finding too.
    """
    found: list[Path] = []
    findings: list[InputFinding] = []
    for item in inputs:
        path = Path(item)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(_walk(path, findings))
        elif glob.has_magic(item):
            base = _glob_base(item).resolve()
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
            files = [p for p in matches if p.is_file()]
            if not files:
                raise InputError(f"{item}: no files match")
            for p in files:
                if p.is_symlink() and not _inside(p.resolve(), base):
                    findings.append(
                        InputFinding(
                            str(p), f"a link out of {base} (to {os.readlink(p)}): not followed", False
                        )
                    )
                else:
                    found.append(p)
        else:
            raise InputError(f"{item}: no such file or folder")
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return Inputs(list(unique), findings)


def _head(path: Path, compression: str | None) -> bytes:
    """The first bytes of the file's content, decompressed."""
    with _content(path, compression) as stream:
        data: bytes = stream.read(_SNIFF_BYTES)
        return data


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


def _count_lines(blocks: Iterator[bytes], sha: Any = None, meter: LineMeter | None = None) -> int:
    """Lines in a stream of blocks up to its last non-empty one: newlines, plus one for an
    unterminated last line, less the empty lines at the end (they number no record)."""
    lines, last = 0, b"\n"
    for block in blocks:
        if sha is not None:
            sha.update(block)
        if meter is not None:
            meter.feed(block)
        lines += block.count(b"\n")
        last = block
    end = last[len(last.rstrip(b"\r\n")) :].count(b"\n")  # the last line's newline and empty ones
    return lines - max(end - 1, 0) + (not last.endswith(b"\n"))


def count_lines(path: Path) -> int:
    """`_count_lines` of an uncompressed file."""
    with path.open("rb") as f:
        return _count_lines(_blocks(f))


def _blocks(stream: Any) -> Iterator[bytes]:
    return iter(lambda: stream.read(1 << 20), b"")


def digest(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in _blocks(f):
            sha.update(block)
    return sha.hexdigest()


def _content_lines(path: Path, compression: str, meter: LineMeter | None = None) -> int | None:
    """Lines of a compressed file's content (streamed); None when the stream breaks off.

    A zstd stream cut short raises TruncatedStream (gzip's reader raises EOFError itself)."""
    if compression == "zstd":
        try:
            return _count_lines(_zstd_blocks(path), meter=meter)
        except zstandard.ZstdError:
            return None
    with _content(path, compression) as stream:
        try:
            return _count_lines(_blocks(stream), meter=meter)
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
        for block in _blocks(raw):
            while block:
                yield frame.decompress(block)
                inside, block = not frame.eof, frame.unused_data if frame.eof else b""
                if frame.eof:
                    frame = decompressor.decompressobj()
    if inside:
        raise TruncatedStream("the zstd stream ends inside a frame: the file was cut short")


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


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...


class Discard:
    """A Writer that keeps nothing: `repair_line_breaks` run only for its numbering."""

    def write(self, data: bytes, /) -> int:
        return len(data)


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
    with _content(path, compression) as raw:
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


def cut_long_lines(path: Path, compression: str | None, out: Writer) -> list[tuple[int, int, str]]:
    """Copy a file's content to `out` with each line over MAX_RECORD bytes left empty; return those
    lines as (line number, length, first 1,000 characters). Read in pieces: no line is held whole."""
    cut: list[tuple[int, int, str]] = []
    with _content(path, compression) as raw:
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
def _content(path: Path, compression: str | None) -> Iterator[Any]:
    """The file's content as a binary stream, decompressed."""
    with path.open("rb") as raw:
        if compression == "gzip":
            yield gzip.GzipFile(fileobj=raw)
        elif compression == "zstd":
            yield zstandard.ZstdDecompressor().stream_reader(raw)
        else:
            yield raw


def sniff_dialect(head: bytes) -> Dialect:
    """Delimiter and newline from the header line; column names parsed with that delimiter."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    newline = "\r\n" if first.endswith("\r") else "\n"
    header = first.rstrip("\r")
    delimiter = max(DELIMITERS, key=lambda d: (header.count(d), -DELIMITERS.index(d)))
    names = next(csv.reader(io.StringIO(header), delimiter=delimiter), [])
    seen: dict[str, int] = {}
    columns = []
    for i, name in enumerate(names):
        name = name.strip() or f"column{i + 1}"
        # DuckDB's column names are case-insensitive: "ID" and "id" are one name, so the second is "id_2".
        seen[name.lower()] = seen.get(name.lower(), 0) + 1
        columns.append(name if seen[name.lower()] == 1 else f"{name}_{seen[name.lower()]}")
    return Dialect(delimiter, newline, tuple(columns))


def detect(path: Path) -> Source:
    """Look at a file's bytes: compression, then format (and CSV dialect); then hash them all."""
    source = Source(path=path, partitions=_partitions(path), size=path.stat().st_size)
    _sniff(source)
    meter = LineMeter()  # text formats: DuckDB drops a line of some 300 MB without a word
    if source.format in ("csv", "ndjson") and source.compression is None:
        # CSV line numbers need the file's lines (csv_reader.py): counted while hashing, 0.6 s per GB.
        sha = hashlib.sha256()
        with path.open("rb") as f:
            lines = _count_lines(_blocks(f), sha, meter)
        source.lines = lines if source.format == "csv" else None
        source.sha256, source.longest = sha.hexdigest(), meter.longest
        return source
    source.sha256 = digest(path)
    try:
        text = source.format in ("csv", "ndjson")
        if source.compression and (text or (source.compression == "zstd" and source.format != "unreadable")):
            counted = _content_lines(path, source.compression, meter)  # zstd: finds a stream cut short
            source.lines = counted if source.format == "csv" else None
            source.longest = meter.longest
    except TruncatedStream as exc:
        source.format, source.problem = "unreadable", str(exc)
    return source


def _sniff(source: Source) -> None:
    with source.path.open("rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        source.compression = "gzip"
    elif magic == b"\x28\xb5\x2f\xfd":
        source.compression = "zstd"
    elif magic == b"PAR1":
        source.format = "parquet"
        return
    try:
        head = _head(source.path, source.compression)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        source.format, source.problem = "unreadable", f"cannot decompress: {exc}"
        return
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        source.format = "empty"
    elif stripped[:1] == b"[":
        source.format = "json"
    elif stripped[:1] == b"{":
        source.format = "ndjson"
    else:
        source.format = "csv"
        try:
            source.dialect = sniff_dialect(head)
        except csv.Error as exc:  # a CR inside the header line
            source.format = "unreadable"
            source.problem = f"the first line, the CSV header, cannot be read: {exc}"
            return
        if not source.dialect.columns:
            source.format, source.problem = "unreadable", "the first line, the CSV header, is empty"
