"""Ingest: sources -> canonical events + quarantine, reconciled per file and in total.

Every source is staged in one DuckDB pass (by its reader, readers.py); rows with a reason go to the
quarantine, the rest to `events_all`; exact duplicates are then dropped into `events` (dedup.py), and
the figures reconciled (results.py). Parquet inputs past the memory limit are written into bucket
files instead, quarantined from them, and deduplicated bucket by bucket (bucketed.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from reporter import privacy, schema
from reporter.codes.channels import CHANNELS, channel_key, spellings
from reporter.config import Config
from reporter.engine import insert_rows, quote_literal
from reporter.errors import InputError, StorageError
from reporter.ingest import mapping, readers
from reporter.ingest.dedup import AcceptedRows, deduplicate, keep_fields, stage_table
from reporter.ingest.parquet_reader import bucket_parquet
from reporter.ingest.results import FileStats, IngestResult, reconciled
from reporter.ingest.sources import InputFinding, Source, detect, expand_inputs, unreadable_finding
from reporter.ingest.stage import reject_table

# The canonical event, in this order. The destination is unmasked here, in memory only: every
# writer masks it (privacy.py).
EVENT_COLUMNS = schema.NAMES

# Common exact spellings of known channels: a row spelled so cannot turn out to have an unknown
# channel, so its raw text need not be kept (an exact IN test costs less than lower() per row).
_PLAIN_SPELLINGS = sorted(
    {v for s in spellings() if " " not in s for v in (s, s.upper(), s.capitalize())}
    | {c.name for c in CHANNELS if channel_key(c.name) == c.key}
)


@dataclass(frozen=True)
class IngestOptions:
    config: Config = field(default_factory=Config)
    region: str | None = None  # --region: beats the config's default region, not a column or partition
    # The fields read after ingest (None: all). The others take part in the duplicate check only,
    # and are dropped from memory after it (`events` shows them as NULL): `reporter run` reads only
    # the messages' fields, `reporter ingest` writes every field.
    fields: frozenset[str] | None = None


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE events_empty ({schema.events_columns()})")
    con.execute("CREATE OR REPLACE TEMP TABLE channel_map (text VARCHAR PRIMARY KEY, channel VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE quarantine (file VARCHAR, line BIGINT, reason VARCHAR, detail VARCHAR, "
        "raw VARCHAR, rows BIGINT)"
    )


_RUN_ERRORS = (
    duckdb.OutOfMemoryException,
    duckdb.BinderException,
    duckdb.ParserException,
    duckdb.CatalogException,
    duckdb.InternalException,
)


def _field(columns: list[tuple[str, str]]) -> readers.FieldSpec:
    """A field from its source columns (stage names and types); a field spelled several ways in a
    source's JSON objects is the first spelling each object has (keys differ from line to line)."""
    if len(columns) > 1:
        return readers.FieldSpec("coalesce(" + ", ".join(c for c, _ in columns) + ")", "VARCHAR")
    ((ref, dtype),) = columns
    if dtype == "VARCHAR" or dtype in mapping.INTEGER_TYPES or dtype.startswith("TIMESTAMP"):
        return readers.FieldSpec(ref, dtype)
    if dtype in ("FLOAT", "DOUBLE") or dtype.startswith("DECIMAL"):
        # A whole number written as a float (7501.0) is that integer; 7500.5, 1e300, NaN and inf stay
        # text and are refused as that row's value (never the whole file's).
        integer = f"CAST(TRY_CAST({ref} AS HUGEINT) AS VARCHAR)"
        whole = f"CASE WHEN isfinite({ref}) AND {ref} = trunc({ref}) THEN {integer} END"
        return readers.FieldSpec(f"coalesce({whole}, CAST({ref} AS VARCHAR))", "VARCHAR")
    return readers.FieldSpec(f"CAST({ref} AS VARCHAR)", "VARCHAR")


def _conflict(columns: list[str]) -> str:
    """True where two spellings of one key (`Channel`, `channel`) both hold a value, and they differ."""
    pairs = [(a, b) for i, a in enumerate(columns) for b in columns[i + 1 :]]
    return " OR ".join(f"(NULLIF({a}, '') <> NULLIF({b}, ''))" for a, b in pairs)


class _Ingest:
    def __init__(
        self, con: duckdb.DuckDBPyConnection, options: IngestOptions, buckets: tuple[int, Path] | None = None
    ) -> None:
        self.con, self.options = con, options
        # Parquet files past the memory limit go straight into this many bucket files under this
        # folder (bucketed.py), not into stage tables; their accepted rows by index, over every bucket.
        self.buckets = buckets
        self.bucketed: dict[int, AcceptedRows] = {}
        self.parquet_reference: dict[str, str] | None = None
        self.accepted: list[AcceptedRows] = []  # per staged file: its accepted rows in its stage
        self.plain_hashes = [
            int(h) for (h,) in con.execute("SELECT hash(unnest(?))", [_PLAIN_SPELLINGS]).fetchall()
        ]

    def spec_maker(self, source: Source) -> readers.SpecMaker:
        config = self.options.config
        input_region, zone = config.for_path(source.path)
        # A region column beats all of these; see the README's precedence.
        fallback_region = (
            source.partitions.get("region")
            or input_region
            or self.options.region
            or config.region
            or "unknown"
        )

        def make(columns: dict[str, str], webhook: bool, keyed: bool) -> readers.StageSpecs:
            index = {name: i for i, name in enumerate(columns)}
            extra = {} if webhook else config.columns
            if keyed:  # JSON objects: key spellings may differ from line to line
                candidates = mapping.resolve_keys(list(columns), extra)
            else:  # a column is on every row: the first spelling found is the field
                candidates = {f: [c] for f, c in mapping.resolve_columns(list(columns), extra).items()}
            fields = {
                f: _field([(readers.source_column(index[c]), columns[c]) for c in names])
                for f, names in candidates.items()
            }
            specs = readers.StageSpecs(fields, zone, fallback_region, self.plain_hashes)
            specs.read = frozenset(c for names in candidates.values() for c in names)
            specs.conflicts = [
                _conflict([readers.source_column(index[c]) for c in group])
                for names in candidates.values()
                for group in mapping.same_spelling(names)
            ]
            return specs

        return make

    def quarantine_whole(self, stats: FileStats, reason: str, detail: str, rows: int = 0) -> None:
        stats.whole_file = reason
        stats.rows_read, stats.quarantined = rows, rows
        self.con.execute(
            "INSERT INTO quarantine VALUES (?, NULL, ?, ?, NULL, ?)", [stats.path, reason, detail, rows]
        )

    def stage(self, index: int, source: Source, stats: FileStats) -> readers.Staged | None:
        """Stage one source with the session in its time zone (naive times are read in it)."""
        _, zone = self.options.config.for_path(source.path)
        self.con.execute("SET TimeZone = ?", [zone])
        try:
            return self._stage(index, source, stats)
        finally:
            self.con.execute("SET TimeZone = 'UTC'")

    def _stage(self, index: int, source: Source, stats: FileStats) -> readers.Staged | None:
        table = stage_table(index)
        make = self.spec_maker(source)
        if source.format == "parquet":
            changed = self.schema_change(readers.parquet_schema(self.con, source))
            if changed:
                rows = self.con.execute(
                    f"SELECT count(*) FROM read_parquet({quote_literal(str(source.path))})"
                ).fetchall()[0]
                self.quarantine_whole(stats, "schema_changed", changed, int(rows[0]) if rows else 0)
                return None
            if self.buckets is not None:
                self.write_buckets(index, source, stats, make)
                return None
        staged = readers.READERS[source.format](self.con, source, table, make)
        stats.webhook = staged.webhook
        return staged

    def write_buckets(self, index: int, source: Source, stats: FileStats, make: readers.SpecMaker) -> None:
        """A Parquet file's stage written into the bucket files (bucketed.py); its bad rows
        quarantined and its figures counted from them, its accepted rows kept for the buckets."""
        assert self.buckets is not None
        count, folder = self.buckets
        target = bucket_folder(folder, index)
        try:
            target.parent.mkdir(exist_ok=True)
            staged, written = bucket_parquet(self.con, source, target, make, count)
        except (OSError, duckdb.IOException) as exc:
            # An I/O error is the input's only when it names the input; else the disk under the
            # bucket files is the run's (never an input's quarantine).
            if isinstance(exc, OSError) or str(source.path) not in str(exc) or str(target) in str(exc):
                raise StorageError(f"cannot write bucket files into {target}: {_first_line(exc)}") from exc
            raise
        if written == 0:
            self.quarantine_whole(stats, "empty_file", "the file has no data rows")
            return
        # Its bad rows quarantined and its figures counted from the bucket files, all at once. They
        # are the run's own files: a failure to read them back is the run's too.
        table = f"read_parquet({quote_literal(str(target / '*' / '*.parquet'))}, hive_partitioning = false)"
        rejects = reject_table(self.con, f"{stage_table(index)}_rejects")
        try:
            self.split(index, replace(staged, table=table, rejects=rejects), stats)
        except duckdb.Error as exc:
            if isinstance(exc, _RUN_ERRORS):
                raise
            raise StorageError(
                f"cannot read the bucket files under {target} back: {_first_line(exc)}"
            ) from exc
        if stats.rows_read != written:
            raise StorageError(
                f"{target}: {written} rows written into bucket files, {stats.rows_read} read back"
            )
        self.bucketed[index] = replace(self.accepted.pop(), in_table=False)

    def schema_change(self, schema: dict[str, str]) -> str | None:
        """How a Parquet file's canonical columns differ in type from the run's reference, if they do."""
        resolved = mapping.resolve_columns(list(schema), self.options.config.columns)
        typed = {f: schema[c] for f, c in resolved.items()}
        if self.parquet_reference is None:
            self.parquet_reference = typed
            return None
        diffs = [
            f"{f} is {t}, expected {self.parquet_reference[f]}"
            for f, t in typed.items()
            if f in self.parquet_reference and self.parquet_reference[f] != t
        ]
        return "; ".join(diffs) or None

    def load(self, index: int, source: Source, stats: FileStats) -> None:
        if source.format == "unreadable":
            self.quarantine_whole(stats, "unreadable_file", source.problem or "")
            return
        if source.format == "empty":
            self.quarantine_whole(stats, "empty_file", "the file has no content")
            return
        try:
            staged = self.stage(index, source, stats)
        except (duckdb.Error, readers.UnreadableSource) as exc:
            # A file DuckDB cannot read (a corrupt Parquet footer raises a bare duckdb.Error) is
            # recorded whole; memory, and errors in our own SQL, are the run's.
            if isinstance(exc, _RUN_ERRORS):
                raise
            self.con.execute(f"DROP TABLE IF EXISTS {stage_table(index)}")
            if self.buckets is not None:  # a file cut short may have written some of its rows
                shutil.rmtree(bucket_folder(self.buckets[1], index), ignore_errors=True)
            self.quarantine_whole(stats, "unreadable_file", str(exc).splitlines()[0])
            return
        if staged is not None:
            self.split(index, staged, stats)

    def split(self, index: int, staged: readers.Staged, stats: FileStats) -> None:
        """Bad rows and reader rejects to the quarantine; the stage itself holds the good rows."""
        con, table = self.con, staged.table
        line, skips = readers.line_numbering(con, staged)
        stats.rows_read = _count(
            con, f"SELECT (SELECT count(*) FROM {table}) + (SELECT count(*) FROM {staged.rejects})"
        )
        if stats.rows_read == 0:
            con.execute(f"DROP TABLE {table}")
            _drop_side_tables(con, staged)
            reason = "header_only" if staged.header_lines else "empty_file"
            self.quarantine_whole(stats, reason, "the file has no data rows")
            return
        # Channel spellings are few: map the distinct ones with the dimension's own channel_key
        # (the reader's list when it has one: the stage is not scanned for them again).
        texts = staged.channel_texts
        if texts is None:
            found = con.execute(
                f"SELECT DISTINCT __c_channel_text FROM {table} WHERE __c_channel_text IS NOT NULL"
            ).fetchall()
            texts = [t for (t,) in found]
        mapped: dict[str, str | None] = dict(con.execute("SELECT text, channel FROM channel_map").fetchall())
        fresh = {t: channel_key(t) for t in texts if t not in mapped}
        insert_rows(con, "channel_map", ["text", "channel"], [[t, c] for t, c in fresh.items()])
        mapped |= fresh
        # A file whose spellings all map to a channel has no unknown_channel row: its bad and accepted
        # rows are then told apart by their reasons alone, without reading every row's channel
        # through a join. At 100M events under 3 GB, where the stage has spilled, the quarantine and
        # the count below took 10.2 and 3.3 s; now each under 0.5 s. `events` still joins the
        # channel map, and on the DuckDB engine outcomes checks its count of them against ingest's.
        every_known = all(mapped[t] is not None for t in texts)
        bad = "WHERE s.__c_reason IS NOT NULL"
        if not every_known:
            bad = f"LEFT JOIN channel_map m ON m.text = s.__c_channel_text {bad} OR m.channel IS NULL"
        con.execute(
            f"INSERT INTO quarantine SELECT ?, {line}, coalesce(s.__c_reason, 'unknown_channel'), NULL, "
            f"{privacy.mask_raw('s.__c_raw')}, 1 FROM {table} s{skips} {bad}",
            [stats.path],
        )
        con.execute(
            f"INSERT INTO quarantine SELECT ?, line, reason, detail, {privacy.mask_raw('raw')}, 1 "
            f"FROM {staged.rejects} ORDER BY line",
            [stats.path],
        )
        _drop_side_tables(con, staged)
        rows = AcceptedRows(index, table, line, skips, staged.present, staged.ordinal_from_rowid)
        self.accepted.append(rows)
        accepted = f"{table} WHERE __c_reason IS NULL" if every_known else f"({rows.sql(False)})"
        stats.accepted = _count(con, f"SELECT count(*) FROM {accepted}")
        stats.quarantined = _count(
            con, "SELECT coalesce(sum(rows), 0) FROM quarantine WHERE file = ?", [stats.path]
        )


def _drop_side_tables(con: duckdb.DuckDBPyConnection, staged: readers.Staged) -> None:
    """The rejects and empty lines, once numbered and quarantined (the line thresholds stay)."""
    con.execute(f"DROP TABLE IF EXISTS {staged.rejects}")
    for table in (staged.blanks, staged.counted):
        if table:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchall()[0]
    return int(row[0]) if row else 0


def ingest(
    con: duckdb.DuckDBPyConnection,
    inputs: list[str],
    options: IngestOptions | None = None,
    on_file: Callable[[int, int, Path], None] | None = None,
) -> IngestResult:
    """Read every input into the connection; reconcile. Creates `events` (a view: the accepted rows,
    exact duplicates dropped), `quarantine` and `ingest_files` (source_index -> path, sha256)."""
    options = options or IngestOptions()
    run, files, findings = read_inputs(con, inputs, options, on_file)
    return finish(con, run, files, findings)


def read_inputs(
    con: duckdb.DuckDBPyConnection,
    inputs: list[str],
    options: IngestOptions,
    on_file: Callable[[int, int, Path], None] | None = None,
    plan: Callable[[list[Path]], tuple[int, Path] | None] | None = None,
) -> tuple[_Ingest, list[FileStats], list[InputFinding]]:
    """Every input staged (or, where `plan` gives buckets and a folder for the listed files, written
    into bucket files), its bad rows quarantined; `ingest_files` written. The duplicate check is
    finish's (or each bucket's)."""
    expanded = expand_inputs(inputs)
    paths, findings = expanded.files, expanded.findings
    _create_tables(con)
    run = _Ingest(con, options, plan(paths) if plan else None)
    files: list[FileStats] = []
    # Each file is hashed on this thread while DuckDB reads it (and the next) on its own.
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    try:
        read = []
        for index, path in enumerate(paths):
            if on_file:
                on_file(index, len(paths), path)
            read.append(_read_file(run, path, hashing, files, findings))
        for stats, source in (r for r in read if r is not None):
            stats.sha256 = _sha256(source)
    finally:
        hashing.shutdown(wait=False, cancel_futures=True)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ingest_files (source_index INTEGER, path VARCHAR, sha256 VARCHAR)"
    )
    rows: list[list[object]] = [[i, f.path, f.sha256] for i, f in enumerate(files)]
    insert_rows(con, "ingest_files", ["source_index", "path", "sha256"], rows)
    return run, files, findings


def _read_file(
    run: _Ingest, path: Path, hashing: Executor, files: list[FileStats], findings: list[InputFinding]
) -> tuple[FileStats, Source] | None:
    """One input staged (or bucketed), or recorded whole, or a finding; its figures appended to
    `files`. Returns them with the file's Source, whose sha256 may still be on its way."""
    try:
        source = detect(path, hashing)
    except OSError as exc:  # no permission, an I/O error: a finding, never a silent skip
        findings.append(unreadable_finding(path, exc))
        return None
    if not _utf8(str(path)):  # DuckDB takes paths as UTF-8: such a file cannot be opened
        name = os.fsencode(path).decode("utf-8", "backslashreplace")
        stats = FileStats(name, "unreadable", source.size, source.sha256)
        files.append(stats)
        run.quarantine_whole(stats, "unreadable_file", "the file name is not UTF-8, which DuckDB cannot open")
        return stats, source
    stats = FileStats(str(path), source.format, source.size, source.sha256, source.compression)
    files.append(stats)
    run.load(len(files) - 1, source, stats)
    return stats, source


def _sha256(source: Source) -> str:
    """The file's sha256, once its hashing (detect's) is done. A file that was opened and read but
    could not be hashed to its end (it failed, or went, in between) stops the run: its rows are in,
    and the manifest would not say which bytes they came from."""
    if source.hashing is None:
        return source.sha256
    try:
        return source.hashing.result()
    except OSError as exc:
        message = f"{source.path}: cannot read: {exc.strerror or exc}"
        raise InputError(message) if isinstance(exc, PermissionError) else StorageError(message) from exc


def finish(
    con: duckdb.DuckDBPyConnection, run: _Ingest, files: list[FileStats], findings: list[InputFinding]
) -> IngestResult:
    """The staged inputs' duplicate check, then the reconciliation."""
    deduplicate(con, run.accepted, files)
    if run.options.fields is not None:
        keep_fields(con, run.accepted, run.options.fields)
    return reconciled(con, files, findings)


def bucket_folder(folder: Path, index: int) -> Path:
    """Where the input file `index` writes its bucket files (folder/source=<index>/bucket=<b>/)."""
    return folder / f"source={index}"
