"""The `reporter` command: a thin layer over the library.

Each command parses its options, makes one library call and prints. Errors from the
library arrive as ReporterError and are mapped to sysexits codes once, in `ReporterGroup`.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reporter import __version__
from reporter.codes import (
    TABLE_COLUMNS,
    CodeFilter,
    build_dimension,
    channel_or_common,
    explain_code,
    explanation_text,
    select_codes,
)
from reporter.codes.rules import FAILURE_CATEGORIES
from reporter.errors import BatchError, ExitCode, ReporterError, UsageError, internal_error, printable
from reporter.export import FORMATS, write_result
from reporter.fsio import private_files
from reporter.generate import FORMATS as GENERATE_FORMATS
from reporter.vocabulary import STATUS_CLASSES

if TYPE_CHECKING:
    from reporter.ingest import IngestResult


class ReporterGroup(click.Group):
    """Maps every error to one stderr line and a sysexits code (see the README)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            with private_files():  # everything every command writes is private (umask 077)
                code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("reporter: aborted", err=True)
            sys.exit(ExitCode.TEMP_FAIL)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"reporter: {exc.format_message()}{hint}", err=True)
            sys.exit(ExitCode.USAGE)
        except click.ClickException as exc:
            click.echo(f"reporter: {exc.format_message()}", err=True)
            sys.exit(ExitCode.USAGE)
        except ReporterError as exc:
            for line in exc.lines if isinstance(exc, BatchError) else [str(exc)]:
                click.echo(f"reporter: {printable(line)}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            click.echo(f"reporter: {printable(str(exc.filename or ''))}: {exc.strerror or exc}", err=True)
            sys.exit(ExitCode.IO)
        except Exception as exc:  # a bug: still one line, never a traceback (REPORTER_DEBUG=1 shows it)
            if os.environ.get("REPORTER_DEBUG"):
                raise
            click.echo(f"reporter: {printable(internal_error(exc))}", err=True)
            sys.exit(ExitCode.SOFTWARE)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)


@click.group(cls=ReporterGroup)
@click.version_option(__version__, prog_name="reporter")
def cli() -> None:
    """Failure breakdowns for CPaaS messaging delivery logs."""


@cli.command()
@click.option("--channel", "channels", multiple=True, help="Channel key or spelling (repeatable).")
@click.option("--class", "classes", multiple=True, type=click.Choice(STATUS_CLASSES), help="Status class.")
@click.option(
    "--category", "categories", multiple=True, type=click.Choice(FAILURE_CATEGORIES), help="Failure category."
)
@click.option("--code", "codes", multiple=True, type=int, help="Status code (repeatable).")
@click.option("--search", "text", help="Case-insensitive text in the message or description.")
@click.option("--all-rows", is_flag=True, help="Every documented row, not one row per (channel, code).")
@click.option(
    "--explain", type=int, metavar="CODE", help="Every documented row for CODE and its classification."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@click.option(
    "--document", type=click.Path(path_type=Path, dir_okay=False), help="Another copy of the document."
)
@click.option("--overrides", type=click.Path(path_type=Path, dir_okay=False), help="Another overrides file.")
def codes(
    channels: tuple[str, ...],
    classes: tuple[str, ...],
    categories: tuple[str, ...],
    codes: tuple[int, ...],
    text: str | None,
    all_rows: bool,
    explain: int | None,
    fmt: str,
    out: Path | None,
    document: Path | None,
    overrides: Path | None,
) -> None:
    """List the status-code dimension built from the vendor's document.

    One row per (channel, code) by default; filter by channel, class, category, code or text.
    `--explain CODE [--channel CH]` shows every documented row of CODE and how it was classified.
    """
    dimension = build_dimension(document, overrides)
    keys = tuple(channel_or_common(c) for c in channels)
    if explain is not None:
        if len(keys) > 1:
            raise UsageError("--explain takes at most one --channel")
        frame = explain_code(dimension, explain, keys[0] if keys else None)
        if frame.is_empty():
            raise UsageError(f"code {explain} is not documented" + (f" for {keys[0]}" if keys else ""))
        if fmt == "table" and out is None:
            click.echo(explanation_text(frame))
            return
    else:
        where = CodeFilter(keys, classes, categories, codes, text, all_rows)
        frame = select_codes(dimension, where)
        if fmt == "table":
            frame = frame.select(TABLE_COLUMNS)
    write_result(frame, fmt, out)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Output folder.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="TOML config.")
@click.option("--region", help="Region for inputs that name none (no column, partition or config).")
@click.option(
    "--memory-limit",
    callback=lambda _ctx, _param, value: _memory_limit(value),
    help="DuckDB's memory limit, a size (3GB) or a share of RAM (25%); beats the config's. Spills past it.",
)
@click.option("--verbose", "-v", is_flag=True, help="Print the reconciliation per file.")
def ingest(
    inputs: tuple[str, ...],
    out: Path,
    config_path: Path | None,
    region: str | None,
    memory_limit: str | None,
    verbose: bool,
) -> None:
    """Read delivery logs (files, folders, globs) into canonical events and a quarantine.

    Writes OUT/extracts/events.parquet, OUT/extracts/quarantine.parquet and OUT/manifest.json.
    Silent on success unless --verbose.
    """
    from reporter.run import run_ingest

    result = run_ingest(list(inputs), out, config_path, region, progress=_progress(), limit=memory_limit)
    if verbose:
        click.echo(_reconciliation_table(result), err=True)
    result.check_inputs()


@cli.command()
@click.option("--events", type=click.IntRange(min=0), required=True, help="Events to write in total.")
@click.option("--format", "fmt", type=click.Choice(GENERATE_FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Output folder.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same bytes.")
@click.option("--days", type=click.IntRange(min=1), default=1, show_default=True, help="Days to span.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default="2026-11-23", show_default=True)
@click.option("--files", type=click.IntRange(min=1), default=1, show_default=True, help="Files to write.")
@click.option(
    "--realistic",
    is_flag=True,
    help="Failure rates per channel and region, missing receipts, daily/weekly volume, delivery latencies.",
)
@click.option(
    "--incident",
    metavar="DATE:CHANNEL:REGION:CODE[:CARRIER]",
    help="One code spiking on one day, e.g. 2026-11-25:sms:us:7203:AT&T.",
)
@click.option(
    "--incident-rate",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.3,
    show_default=True,
    help="Share of the incident's messages that fail with its code instead of being delivered.",
)
def generate(
    events: int,
    fmt: str,
    out: Path,
    seed: int,
    days: int,
    start: Any,
    files: int,
    realistic: bool,
    incident: str | None,
    incident_rate: float,
) -> None:
    """Write realistic synthetic delivery logs (multi-event lifecycles) for tests and benchmarks.

    Prints the files written, one per line. Codes come from the code dimension; webhook bodies
    are written under region=<r>/ folders, as the vendor's payload carries no region.
    """
    from reporter.generate import Incident
    from reporter.generate import generate as write_logs

    spike = Incident.parse(incident, incident_rate) if incident else None
    written = write_logs(
        out,
        events,
        fmt,
        seed=seed,
        days=days,
        start=start.date(),
        files=files,
        realistic=realistic,
        incident=spike,
    )
    for path in written:
        click.echo(str(path))


def _memory_limit(value: str | None) -> str | None:
    from reporter.engine import memory_limit

    if value is not None:
        try:
            memory_limit(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
    return value


@cli.command("run")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Output folder.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="TOML config.")
@click.option("--region", help="Region for inputs that name none.")
@click.option(
    "--start", type=click.DateTime(["%Y-%m-%d"]), help="First day of the period (message's first event)."
)
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the period.")
@click.option(
    "--memory-limit",
    callback=lambda _ctx, _param, value: _memory_limit(value),
    help="DuckDB's memory limit, a size (3GB) or a share of RAM (25%); beats the config's. Spills past it.",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    help="Engine for the heavy part: duckdb (default) or spark (pip install 'reporter[spark]').",
)
@click.option("--master", help="Spark's master URL (--engine spark), e.g. local[4], yarn, spark://host:7077.")
@click.option("--verbose", "-v", is_flag=True, help="Print the reconciliation per file.")
def run_command(
    inputs: tuple[str, ...],
    out: Path,
    config_path: Path | None,
    region: str | None,
    start: Any,
    end: Any,
    memory_limit: str | None,
    engine: str | None,
    master: str | None,
    verbose: bool,
) -> None:
    """Ingest, classify, break down and write the extracts, warehouse, report and manifest to OUT.

    Silent on success unless --verbose.
    """
    from reporter.run import RunOptions, run

    options = RunOptions(
        inputs,
        out,
        config_path,
        region,
        start.date() if start else None,
        end.date() if end else None,
        memory_limit=memory_limit,
        engine=engine,
        master=master,
    )
    result = run(options, progress=_progress())
    if verbose:
        click.echo(_reconciliation_table(result.ingest), err=True)
    result.ingest.check_inputs()


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
def warehouse(run_dir: Path) -> None:
    """Rebuild RUN_DIR/warehouse.duckdb (views with absolute paths), e.g. after the folder moved."""
    from reporter.warehouse import build_warehouse

    build_warehouse(run_dir)


WAREHOUSE_OPTION = click.option(
    "--warehouse",
    "warehouse_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("reports/sample/warehouse.duckdb"),
    show_default=True,
    help="The warehouse to query.",
)


@cli.command()
@click.argument("name", required=False)
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="A query parameter (repeatable)."
)
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and their parameters.")
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@click.option(
    "--raw", is_flag=True, help="CSV: do not defuse cells that a spreadsheet would run as formulas."
)
def query(
    name: str | None,
    params: tuple[str, ...],
    list_queries: bool,
    warehouse_path: Path,
    fmt: str,
    out: Path | None,
    raw: bool,
) -> None:
    """Run a named query from queries/ against a warehouse (the report runs the same files)."""
    from reporter.queries import get_query, load_queries, parse_params, run_query, sandbox
    from reporter.warehouse import open_warehouse

    if list_queries:
        for q in load_queries().values():
            click.echo(f"{q.name}\t{q.title}\t" + ", ".join(f"{k}: {v}" for k, v in q.params.items()))
        return
    if not name:
        raise UsageError("give a query NAME, or --list")
    named = get_query(name)
    values = parse_params(params, named)
    with open_warehouse(warehouse_path) as con:
        sandbox(con, warehouse_path.parent)
        frame = run_query(con, named, values)
    write_result(frame, fmt, out, defuse=fmt == "csv" and not raw)


@cli.command()
@click.argument("statement")
@WAREHOUSE_OPTION
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@click.option(
    "--raw", is_flag=True, help="CSV: do not defuse cells that a spreadsheet would run as formulas."
)
def sql(statement: str, warehouse_path: Path, fmt: str, out: Path | None, raw: bool) -> None:
    """Run one read-only SELECT against a warehouse."""
    from reporter.queries import run_select, sandbox
    from reporter.warehouse import open_warehouse

    with open_warehouse(warehouse_path) as con:
        sandbox(con, warehouse_path.parent)
        frame = run_select(con, statement)
    write_result(frame, fmt, out, defuse=fmt == "csv" and not raw)


@cli.command("email")
@click.argument("report_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--to", multiple=True, required=True, metavar="ADDR", help="A recipient (repeatable).")
@click.option("--cc", multiple=True, metavar="ADDR", help="A copy recipient (repeatable).")
@click.option("--subject", help="The subject (default: REPORT_DIR/email/subject.txt).")
@click.option(
    "--from",
    "sender",
    metavar="ADDR",
    help="The From address (default: [smtp] sender, else reporter@ this host's name).",
)
@click.option(
    "--dry-run",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE.eml",
    help="Write the message to FILE.eml and send nothing.",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="TOML config.")
def email_command(
    report_dir: Path,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    subject: str | None,
    sender: str | None,
    dry_run: Path | None,
    config_path: Path | None,
) -> None:
    """Send a report's email/ folder as one HTML email with inline charts, over SMTP ([smtp] in the config).

    Silent on success; the password comes from REPORTER_SMTP_PASSWORD, never from the config file.
    """
    from reporter.mail import EmailOptions, email_report

    email_report(EmailOptions(report_dir, to, cc, subject, dry_run, config_path, sender=sender))


@cli.command()
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The date to build (default: yesterday)."
)
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First date of a range (backfill).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last date of a range.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="TOML config.")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="TEMPLATE",
    help="A file, folder or glob with {date} in it (repeatable); replaces [nightly] inputs.",
)
@click.option("--reports", type=click.Path(path_type=Path, file_okay=False), help="Reports root folder.")
@click.option("--resend", is_flag=True, help="Email the report again even if it was sent.")
@click.option("--fail-on-alert", is_flag=True, help="Exit 65 when an alert rule fires (after publishing).")
@click.option("--verbose", "-v", is_flag=True, help="Say what happened to each date.")
def nightly(
    day: Any,
    first: Any,
    last: Any,
    config_path: Path | None,
    inputs: tuple[str, ...],
    reports: Path | None,
    resend: bool,
    fail_on_alert: bool,
    verbose: bool,
) -> None:
    """Build reports/<date>/ for yesterday (or --date, or --from/--to): the cron job.

    Silent on success; one stderr line and a sysexits code on failure. Safe to re-run (unchanged
    inputs are skipped) and safe to kill (a date is renamed into place only when complete).
    """
    from reporter.nightly import NightlyOptions, dates_to_build
    from reporter.nightly import nightly as run_nightly

    day, first, last = (value.date() if value else None for value in (day, first, last))
    dates = dates_to_build(day, first, last, config_path)
    result = run_nightly(NightlyOptions(dates, config_path, inputs, reports, resend, fail_on_alert))
    for outcome in result.dates if verbose else ():
        for note in outcome.notes:
            click.echo(note, err=True)
        click.echo(f"{outcome.date}: {outcome.status}", err=True)
    # A warehouse that could not be refreshed is worth a line even on a quiet night.
    if verbose or not result.warehouse.refreshed:
        click.echo(result.warehouse_note, err=True)


def _reconciliation_table(result: IngestResult) -> str:
    """The reconciliation per file and in total, tab-separated with a header (what --verbose prints)."""
    lines = ["file\tformat\trows_read\taccepted\tquarantined\tunique\tduplicates"]
    for f in result.files:
        fmt = f.format + (" (whole file: " + f.whole_file + ")" if f.whole_file else "")
        lines.append(
            f"{printable(f.path)}\t{fmt}\t{f.rows_read}\t{f.accepted}\t{f.quarantined}\t{f.unique}\t{f.duplicates}"
        )
    t = result.totals()
    lines.append(
        f"total\t\t{t['rows_read']}\t{t['accepted']}\t{t['quarantined']}\t{t['unique']}\t{t['duplicates']}"
    )
    lines.extend(f"not read: {printable(f.path)}: {printable(f.problem)}" for f in result.findings)
    return "\n".join(lines)


def _progress() -> Any:
    """A per-file progress callback on a terminal; None otherwise (cron stays silent)."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    progress = Progress(transient=True)
    task = progress.add_task("ingest", total=None)

    def on_file(index: int, total: int, path: Path) -> None:
        if index == 0:
            progress.start()
        progress.update(task, total=total, completed=index, description=path.name)
        if index == total - 1:
            progress.stop()

    return on_file


def main() -> None:
    # Python's cyclic garbage collector scans the young objects every 700 allocations and, now and
    # then, all of them: the libraries a command imports (polars, duckdb, matplotlib...) are scanned
    # over and over as they load, and all once more at exit. Young scans every 100,000 allocations
    # (the older generations at their default ratios, so every 10M a full one) and none at exit
    # (frozen objects are skipped; cyclic garbage left then is not finalised) save 0.7-0.9 CPU-s of
    # every command: `reporter run sample_logs` took 7.0 CPU-s, now 6.1-6.3 (medians of 7 runs).
    gc.set_threshold(100_000, 10, 10)
    atexit.register(gc.freeze)
    cli(prog_name="reporter")
