"""Inputs to sources: expand files, folders and globs; detect each file's format from its bytes
(its content is read through content.py)."""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import itertools
import os
import zlib
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from reporter.errors import InputError
from reporter.ingest.content import (
    LineMeter,
    TruncatedStream,
    blocks,
    content,
    content_lines,
    digest,
    lines_in,
    measured,
)

PARQUET_MAGIC = b"PAR1"  # a Parquet file's first (and last) four bytes

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
    hashing: Future[str] | None = None  # the sha256, computed beside the reading (detect's `hashing`)
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


def is_data_file(path: Path) -> bool:
    """Whether a folder walk reads this file: a data suffix (before .gz/.zst), not hidden."""
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
                if (name in names and is_data_file(path)) or name in dirs:
                    target = os.readlink(path)
                    findings.append(
                        InputFinding(str(path), f"a link out of {top} (to {target}): not followed", False)
                    )
            elif name in names and is_data_file(path) and path.is_file():
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
    with content(path, compression) as stream:
        data: bytes = stream.read(_SNIFF_BYTES)
        return data


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


def _drain(read: Iterator[bytes]) -> None:
    for _ in read:
        pass


def detect(path: Path, hashing: Executor | None = None) -> Source:
    """Look at a file's bytes: compression, then format (and CSV dialect); then hash them all.

    With `hashing`, a file whose lines need not be counted is hashed there (`Source.hashing`) while
    DuckDB reads it: hashlib and the reads let go of the GIL, and a 4 GB file takes 2.2 s to hash."""
    source = Source(path=path, partitions=_partitions(path), size=path.stat().st_size)
    _sniff(source)
    meter = LineMeter()  # text formats: DuckDB drops a line of some 300 MB without a word
    if source.format in ("csv", "ndjson") and source.compression is None:
        # CSV line numbers need the file's lines (csv_reader.py): counted while hashing, 0.6 s per GB.
        # NDJSON's reader numbers its lines itself: not counted (1.9 s at 10M lines).
        sha = hashlib.sha256()
        with path.open("rb") as f:
            read = measured(blocks(f), sha, meter)
            if source.format == "csv":
                source.lines = lines_in(read)
            else:
                _drain(read)
        source.sha256, source.longest = sha.hexdigest(), meter.longest
        return source
    if hashing is None:
        source.sha256 = digest(path)
    else:
        source.hashing = hashing.submit(digest, path)
    try:
        text = source.format in ("csv", "ndjson")
        if source.compression and (text or (source.compression == "zstd" and source.format != "unreadable")):
            counted = content_lines(path, source.compression, meter)  # zstd: finds a stream cut short
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
    elif magic == PARQUET_MAGIC:
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
