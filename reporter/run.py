"""`reporter run` and `reporter ingest`: the whole data flow, one step per call.

    inputs --ingest--> events, ingest_files; quarantine, inputs   (reporter/ingest; tables.INGESTED)
           --outcomes--> message_base (message_rows, messages), OUT/extracts/messages; message_counts,
                         event_counts, delivery_times, by_carrier  (outcomes.py; tables.AGGREGATES;
                         per bucket in buckets.py when the events exceed the memory limit)
           --period--> the same narrowed to the dates
           --history--> daily_history, daily_codes, daily_codes_history   (tables.HISTORY)
           --extracts--> OUT/extracts/*.parquet: QUERY_EXTRACTS and the handles' extracts
           --report--> OUT/report.html, OUT/email/              (reporter/report)
           --warehouse--> OUT/warehouse.duckdb                  (warehouse.py)
           --manifest--> OUT/manifest.json, written last

The steps share one DuckDB connection. What a step leaves there for the steps after it is a
handle (reporter/tables.py: its tables by name, what it read), checked when it is handed on: the
heavy part (either engine) hands INGESTED, DIMENSION and AGGREGATES to the small part (_finish).
`run` returns a RunResult, which nightly and the CLI read (never the files it wrote).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import duckdb

from reporter import privacy, schema
from reporter.alerts import Alert, evaluate
from reporter.buckets import Folders, bucket_count, build_from_bucketed_ingest, build_in_buckets
from reporter.codes import Dimension, build_dimension
from reporter.config import Config, load_config
from reporter.engine import connect, memory_limit, quote_literal, spill_folder
from reporter.errors import MemoryLimitError, StorageError
from reporter.extracts import (
    copy_parquet,
    manifest,
    register_inputs,
    write_empty_messages,
    write_ingest_extracts,
    write_manifest,
    write_messages,
)
from reporter.fsio import replace_dir
from reporter.ingest import IngestOptions, IngestResult, ingest
from reporter.ingest.bucketed import BucketedIngest, ingest_in_buckets
from reporter.outcomes import (
    OutcomeCounts,
    build_message_summaries,
    build_outcomes,
    drop_outside_period,
    latest_event_time,
)
from reporter.queries import NamedQuery, load_queries, run_query
from reporter.tables import AGGREGATES, DIMENSION, HISTORY, INGESTED, Tables
from reporter.warehouse import WarehouseState, build_warehouse

# Extracts computed by named queries (DESIGN.md §5); the others are the steps' tables (reporter/tables.py).
QUERY_EXTRACTS = ("by_channel_region_class", "by_code", "daily")


@dataclass(frozen=True)
class RunOptions:
    inputs: tuple[str, ...]
    out: Path
    config: Path | None = None
    region: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    warehouse: bool = True  # the nightly job keeps one warehouse over all dates instead
    history: tuple[Path, ...] = ()  # earlier days' daily.parquet, for the comparison (nightly)
    notice: str | None = None  # shown at the top of the report, e.g. that the date was restated
    memory_limit: str | None = None  # beats the config's; None: the config's, else half the RAM
    engine: str | None = None  # "duckdb" or "spark"; beats the config's [engine] name
    master: str | None = None  # Spark's master URL; beats the config's [engine] master


@dataclass(frozen=True)
class RunResult:
    """What a run did: read by nightly and the CLI (the manifest says the same to other readers)."""

    ingest: IngestResult  # files, reconciliation, quarantine reasons
    outcomes: OutcomeCounts
    alerts: tuple[Alert, ...]  # the alert rules that fired
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # wall seconds per step
    warehouse: WarehouseState = WarehouseState.NOT_BUILT


class Steps:
    """Wall seconds per step of the run, for the manifest (and for finding where time goes)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self._mark, 3)
        self._mark = now


def _daily_history(
    con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery], history: tuple[Path, ...]
) -> None:
    """`daily_history`: this run's daily breakdown plus earlier days' stored ones (logs are never re-read)."""
    today = run_query(con, queries["daily"])
    con.register("daily_today", today)
    con.execute("CREATE OR REPLACE TEMP TABLE daily_history AS SELECT * FROM daily_today")
    con.unregister("daily_today")
    if history:
        files = ", ".join(quote_literal(str(p)) for p in history)
        con.execute(f"INSERT INTO daily_history SELECT * FROM read_parquet([{files}], union_by_name = true)")


def _daily_codes(
    con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery], history: tuple[Path, ...]
) -> None:
    """`daily_codes` (this run's failures per day and code) and `daily_codes_history`: with the
    earlier days' stored daily_codes.parquet beside their daily.parquet, where those exist."""
    frame = run_query(con, queries["daily_codes"])
    con.register("daily_codes_df", frame)
    con.execute("CREATE OR REPLACE TEMP TABLE daily_codes AS SELECT * FROM daily_codes_df")
    con.unregister("daily_codes_df")
    con.execute("CREATE OR REPLACE TEMP TABLE daily_codes_history AS SELECT * FROM daily_codes")
    files = [p.with_name("daily_codes.parquet") for p in history]
    files = [p for p in files if p.exists()]
    if files:
        listed = ", ".join(quote_literal(str(p)) for p in files)
        con.execute(
            f"INSERT INTO daily_codes_history BY NAME "
            f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"
        )


def _history(
    con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery], earlier: tuple[Path, ...]
) -> Tables:
    """HISTORY: this run's daily and daily_codes breakdowns, with the earlier days' stored ones."""
    _daily_history(con, queries, earlier)
    _daily_codes(con, queries, earlier)
    return HISTORY.on(con)


def _write_extracts(
    con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery], folder: Path, handed: tuple[Tables, ...]
) -> None:
    for name in QUERY_EXTRACTS:
        frame = run_query(con, queries[name])
        con.register("q_df", frame)
        copy_parquet(con, "SELECT * FROM q_df", folder / f"{name}.parquet")
        con.unregister("q_df")
    for table in (t for tables in handed for t in tables.extracts):
        copy_parquet(con, f"SELECT * FROM {table}", folder / f"{table}.parquet")


def run(
    options: RunOptions,
    progress: Callable[[int, int, Path], None] | None = None,
    manifest_extra: dict[str, object] | None = None,
) -> RunResult:
    started = time.monotonic()
    config = load_config(options.config)
    dimension = build_dimension()
    limit = memory_limit(options.memory_limit or config.memory_limit)
    with spill_folder(options.out) as spill:
        con = connect(memory_limit=limit, temp_directory=spill)
        try:
            work = _Work(limit, spill, started)
            return _run(con, options, config, dimension, progress, manifest_extra, work)
        except duckdb.OutOfMemoryException as exc:
            first = str(exc).splitlines()[0]
            if "failed to offload" in first:  # no room left to spill: the disk, not the memory limit
                raise StorageError(f"no disk space left to spill into {spill}: {first}") from exc
            raise MemoryLimitError(
                f"out of memory under memory_limit {limit} (raise --memory-limit or the config's): {first}"
            ) from exc
        except duckdb.IOException as exc:  # inputs that cannot be read are quarantined, not raised
            raise StorageError(str(exc).splitlines()[0]) from exc
        finally:
            con.close()


def _run(
    con: duckdb.DuckDBPyConnection,
    options: RunOptions,
    config: Config,
    dimension: Dimension,
    progress: Callable[[int, int, Path], None] | None,
    manifest_extra: dict[str, object] | None,
    work: _Work,
) -> RunResult:
    steps = Steps()
    if (options.engine or config.engine.name) == "spark":
        from reporter.spark import build_tables

        ingested, counts = build_tables(con, options, config, dimension, steps)
    else:
        ingested, counts = _duckdb_tables(con, options, config, (dimension, work), progress, steps)
    # Either engine hands the small part these tables (and nothing else) on the connection.
    handed = (INGESTED.on(con), DIMENSION.on(con), AGGREGATES.on(con))
    return _finish(con, options, config, (ingested, counts, handed), steps, manifest_extra, work.started)


@dataclass(frozen=True)
class _Work:
    limit: str  # DuckDB's memory_limit
    spill: Path  # DuckDB's temp_directory, removed after the run
    started: float


def _duckdb_tables(
    con: duckdb.DuckDBPyConnection,
    options: RunOptions,
    config: Config,
    setup: tuple[Dimension, _Work],
    progress: Callable[[int, int, Path], None] | None,
    steps: Steps,
) -> tuple[IngestResult, OutcomeCounts]:
    """The heavy part on DuckDB (the Spark engine's counterpart: reporter/spark/)."""
    # ingest: the inputs -> events, quarantine, ingest_files; inputs (its reconciliation per file).
    # The messages are built from their fields only: the others leave memory after the duplicate check.
    # Parquet inputs past the memory limit go straight into bucket files (reporter/ingest/bucketed.py).
    read = IngestOptions(config, options.region, fields=frozenset(schema.MESSAGE_FIELDS))
    work = setup[1]
    staged = ingest_in_buckets(
        con,
        list(options.inputs),
        read,
        (lambda rows: bucket_count(rows, work.limit), work.spill / "buckets"),
        progress,
    )
    steps.done("ingest")
    # Dates and hours from here on are in the config's time zone (UTC by default), as is "yesterday".
    con.execute("SET TimeZone = ?", [config.timezone])
    keys = (privacy.hmac_key_from_env(), config.delivery.receipt_timeout_minutes)
    return _messages(con, options, (staged, setup[0]), keys, work, steps)


def _messages(
    con: duckdb.DuckDBPyConnection,
    options: RunOptions,
    inputs: tuple[IngestResult | BucketedIngest, Dimension],
    keys: tuple[bytes | None, int],
    work: _Work,
    steps: Steps,
) -> tuple[IngestResult, OutcomeCounts]:
    """outcomes, the period, the message summaries (delivery_times, by_carrier) and the messages
    extract: at once when the events fit the memory limit, else bucket by bucket
    (reporter/buckets.py), from the bucket files ingest wrote if it did (then ingest reconciles
    once the last bucket is read). `keys`: the HMAC key and the receipt timeout in minutes."""
    (staged, dimension), (hmac_key, timeout) = inputs, keys
    period, folder = (options.start, options.end), options.out / "extracts" / "messages"
    if isinstance(staged, BucketedIngest):
        bucketed = staged
        ingested, counts = _in_buckets(
            con,
            options,
            work,
            bucketed.buckets,
            lambda folders: build_from_bucketed_ingest(con, (bucketed, dimension), keys, folders, period),
        )
        steps.done("outcomes")
    elif (buckets := bucket_count(staged.totals()["unique"], work.limit)) > 1:
        ingested = staged
        layout = (buckets, work.spill / "buckets")
        _, counts = _in_buckets(
            con,
            options,
            work,
            buckets,
            lambda folders: (
                ingested,
                build_in_buckets(con, (ingested, dimension), keys, layout, folders, period),
            ),
        )
        steps.done("outcomes")
    else:
        ingested = staged
        outcomes = build_outcomes(con, ingested, dimension, hmac_key, keep_events=False)
        steps.done("outcomes")
        as_of = latest_event_time(con)  # of the whole input, before the period narrows it
        outside = drop_outside_period(con, "message_base", *period)
        drop_outside_period(con, "message_counts", *period)
        counts = replace(outcomes, messages=outcomes.messages - outside, messages_outside_period=outside)
        build_message_summaries(con, as_of, timeout)
        write_messages(con, folder, options.start)
    register_inputs(con, ingested)  # each file's figures, final once the last bucket is read
    drop_outside_period(con, "event_counts", *period)
    # Written once; from here on everything reads the small aggregates (and the memory is free).
    for name in ("messages", "messages_public", "message_rows"):
        con.execute(f"DROP VIEW {name}")
    con.execute("DROP TABLE message_base")
    con.execute("DROP TABLE destination_public")
    steps.done("messages_extract")
    return ingested, counts


def _in_buckets(
    con: duckdb.DuckDBPyConnection,
    options: RunOptions,
    work: _Work,
    buckets: int,
    build: Callable[[Folders], tuple[IngestResult, dict[str, int]]],
) -> tuple[IngestResult, OutcomeCounts]:
    """The messages extract built bucket by bucket (`build` writes it into `folders.messages`):
    in the spill folder (beside OUT, so the same file system), moved into OUT only when whole, so a
    run that fails here leaves nothing under OUT."""
    folders = Folders(messages=work.spill / "messages", seconds=work.spill / "delivery_seconds")
    for folder in (folders.messages, folders.seconds):
        folder.mkdir()
    ingested, built = build(folders)
    if not built["files"]:
        write_empty_messages(con, folders.messages, options.start)
    replace_dir(folders.messages, options.out / "extracts" / "messages")
    return ingested, OutcomeCounts(
        built["events"], built["messages"], built["messages_outside_period"], buckets
    )


def _finish(
    con: duckdb.DuckDBPyConnection,
    options: RunOptions,
    config: Config,
    heavy: tuple[IngestResult, OutcomeCounts, tuple[Tables, ...]],
    steps: Steps,
    manifest_extra: dict[str, object] | None,
    started: float,
) -> RunResult:
    """The small part, the same for every engine: from the tables the heavy part handed on, the
    other extracts, the report, the warehouse and the manifest. pyarrow and matplotlib load here
    (the named queries' frames, registered as they are; the charts), not in the heavy part."""
    ingested, counts, handed = heavy
    queries = load_queries()
    # history: reads message_counts and earlier days' daily extracts; creates HISTORY's tables
    history = _history(con, queries, options.history)
    # extracts: QUERY_EXTRACTS, and each handed table that is an extract -> OUT/extracts/*.parquet
    _write_extracts(con, queries, options.out / "extracts", (*handed, history))
    steps.done("other_extracts")
    # alerts and report: read the same tables through queries/*.sql -> OUT/report.html, OUT/email/
    fired = tuple(evaluate(run_query(con, queries["comparison"]), config.alerts))
    # Imported here, not above: matplotlib (41 MB resident) stays out of the heavy part's peak memory.
    from reporter.report import write_report

    period = (options.start, options.end)
    write_report(con, queries, options.out, ingested, period, list(fired), options.notice, config)
    steps.done("report")
    warehouse = WarehouseState.NOT_BUILT
    if options.warehouse:
        build_warehouse(options.out)
        warehouse = WarehouseState.WRITTEN
        steps.done("warehouse")
    result = RunResult(
        ingested, counts, fired, round(time.monotonic() - started, 3), steps.seconds, warehouse
    )
    extra = {
        **(manifest_extra or {}),
        "period": {"start": options.start, "end": options.end},
        "outcomes": asdict(result.outcomes),
        "alerts": [a.text for a in result.alerts],
        "timings": {"seconds": result.seconds, "steps": result.steps},
    }
    write_manifest(options.out / "manifest.json", manifest(ingested, extra))
    return result


def run_ingest(
    inputs: list[str],
    out: Path,
    config_path: Path | None = None,
    region: str | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
    limit: str | None = None,
) -> IngestResult:
    """`reporter ingest`: the ingest step alone, with its extracts (events, quarantine) and manifest.

    `limit` (--memory-limit) beats the config's memory_limit; DuckDB spills beside `out` past it.
    """
    started = time.monotonic()
    config = load_config(config_path)
    with spill_folder(out) as spill:
        con = connect(memory_limit=memory_limit(limit or config.memory_limit), temp_directory=spill)
        try:
            result = ingest(con, inputs, IngestOptions(config, region), progress)
            write_ingest_extracts(con, out, privacy.hmac_key_from_env())
            timings = {"seconds": round(time.monotonic() - started, 3)}
            write_manifest(out / "manifest.json", manifest(result, {"timings": timings}))
        except duckdb.OutOfMemoryException as exc:
            first = str(exc).splitlines()[0]
            raise MemoryLimitError(
                f"out of memory under memory_limit {limit or config.memory_limit}: {first}"
            ) from exc
        finally:
            con.close()
    return result
