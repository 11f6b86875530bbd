"""Inputs to sources: expand files, folders and globs; detect each file's format from its bytes."""

from __future__ import annotations

import contextlib
import csv
import glob
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Every file named by `inputs` (files, folders walked recursively, globs), sorted, no repeats."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and _is_data_file(p))
        elif glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
            files = [p for p in matches if p.is_file()]
            if not files:
                raise InputError(f"{item}: no files match")
            found.extend(files)
        else:
            raise InputError(f"{item}: no such file or folder")
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return list(unique)


def _head(path: Path, compression: str | None) -> bytes:
    """The first bytes of the file's content, decompressed."""
    with _content(path, compression) as stream:
        data: bytes = stream.read(_SNIFF_BYTES)
        return data


def _count_lines(blocks: Iterator[bytes], sha: Any = None) -> int:
    """Lines in a stream of blocks up to its last non-empty one: newlines, plus one for an
    unterminated last line, less the empty lines at the end (they number no record)."""
    lines, last = 0, b"\n"
    for block in blocks:
        if sha is not None:
            sha.update(block)
        lines += block.count(b"\n")
        last = block
    end = last[len(last.rstrip(b"\r\n")) :].count(b"\n")  # the last line's newline and empty ones
    return lines - max(end - 1, 0) + (not last.endswith(b"\n"))


def _blocks(stream: Any) -> Iterator[bytes]:
    return iter(lambda: stream.read(1 << 20), b"")


def digest(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in _blocks(f):
            sha.update(block)
    return sha.hexdigest()


def _content_lines(path: Path, compression: str) -> int | None:
    """Lines of a compressed file's content (streamed); None when the stream breaks off."""
    with _content(path, compression) as stream:
        try:
            return _count_lines(_blocks(stream))
        except (OSError, EOFError, zstandard.ZstdError):
            return None


def blank_records(path: Path, compression: str | None, delimiter: str) -> tuple[list[int], int]:
    """The record numbers (header = 1) of a CSV file's empty lines, as DuckDB counts them, and the
    number of non-empty records read.

    DuckDB's CSV reader skips an empty line but counts it in the line numbers it reports, and does
    not count a newline inside quotes; Python's csv module reads a file the same way and yields []
    for an empty line. The caller checks the record count, as the two differ on rare quoting.
    Only run for a file whose lines are not its records (the common file costs a newline count).
    """
    csv.field_size_limit(2**31 - 1)  # DuckDB reads lines of up to 10 MB here; csv's default is 128 KB
    empty: list[int] = []
    records = 0
    with _content(path, compression) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="")
        try:
            for n, row in enumerate(csv.reader(text, delimiter=delimiter), 1):
                if row:
                    records += 1
                else:
                    empty.append(n)
        except csv.Error:
            return [], -1
    return empty, records


@dataclass(frozen=True)
class Record:
    """One CSV record as Python's csv module read it: its first line, fields or the error, raw text."""

    line: int
    fields: list[str] | None  # None: csv could not read the record (`error` says why)
    raw: str
    error: str | None = None


def csv_records(path: Path, compression: str | None, delimiter: str) -> Iterator[Record]:
    """Every record of a CSV file, header first, numbered by the line it starts on.

    Lines end at LF only (a CRLF's CR is dropped with it): a lone CR inside an unquoted field is an
    error of that record, not a line break, so every line keeps the number an editor shows, quoted
    newlines included. After an error, reading goes on at the next line. Invalid UTF-8 bytes come
    through as lone surrogates (the caller quarantines those records).
    """
    csv.field_size_limit(10_000_000)  # as DuckDB's max_line_size here; csv's default is 128 KB
    with _content(path, compression) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="\n")
        consumed: list[str] = []

        def lines() -> Iterator[str]:
            for line in text:
                consumed.append(line)
                yield line

        reader = csv.reader(lines(), delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        start = 1
        while True:
            consumed.clear()
            try:
                fields: list[str] | None = next(reader)
                error = None
            except StopIteration:
                return
            except csv.Error as exc:
                fields, error = None, str(exc)
            yield Record(start, fields, "".join(consumed).rstrip("\r\n"), error)
            start = reader.line_num + 1


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
        seen[name] = seen.get(name, 0) + 1
        columns.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return Dialect(delimiter, newline, tuple(columns))


def detect(path: Path) -> Source:
    """Look at a file's bytes: compression, then format (and CSV dialect); then hash them all."""
    source = Source(path=path, partitions=_partitions(path), size=path.stat().st_size)
    _sniff(source)
    if source.format == "csv" and source.compression is None:
        # CSV line numbers need the file's lines (readers.py): counted while hashing, 0.6 s per GB.
        sha = hashlib.sha256()
        with path.open("rb") as f:
            source.lines = _count_lines(_blocks(f), sha)
        source.sha256 = sha.hexdigest()
        return source
    source.sha256 = digest(path)
    if source.format == "csv" and source.compression:
        source.lines = _content_lines(path, source.compression)
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
    except (OSError, EOFError, zstandard.ZstdError) as exc:
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
        source.dialect = sniff_dialect(head)
        if not source.dialect.columns:
            source.format, source.problem = "unreadable", "the first line, the CSV header, is empty"
