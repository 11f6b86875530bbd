"""`reporter nightly`: one dated report folder per day, safe to re-run and safe to kill.

    reports/
      .nightly.lock                  flock: a second run exits 75
      2026-11-24/                    the full `reporter run` contract; manifest.json written last
      dimension/status_codes.parquet the code dimension the warehouse views read
      warehouse.duckdb               views over every dated folder (globs: a new date needs no rewrite)

A date is built beside its folder under a temporary name and renamed into place; leftovers of a
killed run are swept (or restored) at the next start. A date whose inputs (path, size, sha256) are
unchanged is skipped; a changed input restates the date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reporter.alerts import Alert
from reporter.config import Config, load_config
from reporter.errors import (
    AlertError,
    BatchError,
    ExitCode,
    InputError,
    LockedError,
    ReconciliationError,
    ReporterError,
    UsageError,
    internal_error,
    printable,
)
from reporter.extracts import write_manifest
from reporter.ingest.content import digest
from reporter.ingest.sources import Inputs, expand_inputs
from reporter.mail import EmailOptions, email_report
from reporter.run import RunOptions, run
from reporter.warehouse import WarehouseState, build_nightly_warehouse

LOCK_NAME = ".nightly.lock"


@dataclass(frozen=True)
class NightlyOptions:
    dates: tuple[dt.date, ...]
    config: Path | None = None
    inputs: tuple[str, ...] = ()  # --input templates; replace the config's
    reports: Path | None = None
    resend: bool = False
    fail_on_alert: bool = False


@dataclass
class DateOutcome:
    date: dt.date
    status: str  # "published", "restated", "unchanged", "failed"
    notes: list[str] = field(default_factory=list)
    error: Exception | None = None  # why the date failed, or what failed after it was published


@dataclass(frozen=True)
class NightlyResult:
    dates: list[DateOutcome]
    warehouse: WarehouseState  # of REPORTS/warehouse.duckdb
    warehouse_note: str  # one line on it, e.g. why it was not refreshed


def yesterday(zone: str, today: dt.date | None = None) -> dt.date:
    """Yesterday in the configured zone (the CLI passes no `today`; tests do)."""
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo(zone)).date() if today is None else today
    return now - dt.timedelta(days=1)


def dates_to_build(
    day: dt.date | None, first: dt.date | None, last: dt.date | None, config: Path | None = None
) -> tuple[dt.date, ...]:
    """`--date`, or every date from `first` to `last`, or yesterday in the config's time zone."""
    if day and (first or last):
        raise UsageError("give --date, or --from and --to, not both")
    if bool(first) != bool(last):
        raise UsageError("--from and --to go together")
    if first and last:
        if last < first:
            raise UsageError("--to is before --from")
        return tuple(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return (day if day else yesterday(load_config(config).timezone),)


@contextlib.contextmanager
def exclusive_lock(reports: Path) -> Iterator[None]:
    """flock on reports/.nightly.lock; the kernel releases it when the process dies, even by kill -9."""
    reports.mkdir(parents=True, exist_ok=True)
    with open(reports / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockedError(f"{reports / LOCK_NAME}: another nightly run holds the lock") from exc
        yield


def sweep(reports: Path) -> list[str]:
    """Remove what a killed run left: temporary folders and files; restore a date caught mid-swap."""
    swept = []
    for old in reports.glob(".*.old"):
        live = reports / old.name[1:-4]
        if live.exists():
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        else:
            os.replace(old, live)  # killed between the two renames: the old folder is still good
        swept.append(old.name)
    for tmp in reports.glob(".*.tmp"):
        shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
        swept.append(tmp.name)
    return swept


def input_files(templates: tuple[str, ...], day: dt.date) -> tuple[list[str], Inputs]:
    """What the templates name for one date: the paths to hand to the run, and their expansion.

    `{date}` is filled in; then each template is read as `reporter run` reads an input: a file, a
    folder (its data files, recursively) or a glob (each match a file or a folder), with the same
    findings (links out of the tree not followed, unreadable folders). The run expands the same
    paths again, so its manifest, `-v` and exit code report those findings as a plain run does. A
    template that names nothing is passed over while another names files; when none does, the error
    names every expanded path and what it held.
    """
    patterns = [template.replace("{date}", day.isoformat()) for template in templates]
    named = [item for pattern in patterns for item in _named(pattern)]
    expanded = expand_inputs(named) if named else Inputs([], [])
    if not expanded.files:
        tried = "; ".join(f"{pattern} ({_held(pattern)})" for pattern in patterns)
        raise InputError(f"{day}: no input: {tried or 'no --input and no [nightly] inputs'}")
    return named, expanded


def _named(pattern: str) -> list[str]:
    """The existing paths one expanded template names (a glob's matches, sorted)."""
    items = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
    return [item for item in items if Path(item).exists()]


def _held(pattern: str) -> str:
    """What an expanded template that gave no file names, in a few words, for the no-input error."""
    if glob.has_magic(pattern):
        matches = glob.glob(pattern, recursive=True)
        return f"matches {len(matches)} folders and no data file" if matches else "matches nothing"
    path = Path(pattern)
    if not path.is_dir():
        return "no such file or folder"
    files = sum(p.is_file() for p in path.rglob("*"))
    return (
        f"a folder with no data file ({files} other file{'s' * (files != 1)})" if files else "an empty folder"
    )


def fingerprint(files: list[Path]) -> list[dict[str, object]]:
    """Path, size and sha256 of each file, as the manifest lists its inputs. A file that cannot be
    read matches no manifest: its date is built again, and the run reports the file (66 or 74)."""
    found: list[dict[str, object]] = []
    for p in files:
        try:
            found.append({"path": str(p), "size": p.stat().st_size, "sha256": digest(p)})
        except OSError as exc:
            found.append({"path": str(p), "size": None, "sha256": f"cannot read: {exc.strerror or exc}"})
    return found


def _previous(folder: Path) -> list[dict[str, object]] | None:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return [{k: i[k] for k in ("path", "size", "sha256")} for i in data.get("inputs", [])]


def history(reports: Path, day: dt.date, days: int = 31) -> tuple[Path, ...]:
    """The stored daily extracts of the published dates before `day` (enough for month-to-date)."""
    found = []
    for back in range(1, days + 1):
        path = reports / (day - dt.timedelta(days=back)).isoformat() / "extracts" / "daily.parquet"
        if path.exists():
            found.append(path)
    return tuple(found)


def publish(folder: Path, build: Path) -> None:
    """Swap a finished build into place: old -> .old, build -> folder, drop .old (sweep finishes it)."""
    old = folder.with_name(f".{folder.name}.old")
    if folder.exists():
        os.replace(folder, old)
    os.replace(build, folder)
    if old.exists():
        shutil.rmtree(old)


def _check_quarantine_share(config: Config, day: dt.date, totals: dict[str, int]) -> None:
    limit = config.nightly.quarantine_max_share
    if limit is None or not totals["rows_read"]:
        return
    share = totals["quarantined"] / totals["rows_read"]
    if share > limit:
        raise ReconciliationError(
            f"{day}: {share:.1%} of rows quarantined, above the configured {limit:.1%} "
            "(the date is published)"
        )


def run_date(config: Config, options: NightlyOptions, reports: Path, day: dt.date) -> DateOutcome:
    """Build one date. A problem found after the date is published is kept in `outcome.error`."""
    templates = options.inputs or config.nightly.inputs
    named, expanded = input_files(templates, day)
    folder = reports / day.isoformat()
    before, now = _previous(folder), fingerprint(expanded.files)
    if before == now:
        outcome = DateOutcome(day, "unchanged", [f"{day}: inputs unchanged, skipped"])
        _after_publish(outcome, lambda: _email(config, options, folder, outcome))  # retried if it failed
        return outcome
    build = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=reports))
    restated = before is not None
    extra: dict[str, object] = {"restated": restated, "previous_inputs": before} if restated else {}
    run_options = RunOptions(
        tuple(named),  # expanded by the run as by `reporter run`: the same files, and its findings
        build,
        options.config,
        start=day,
        end=day,
        warehouse=False,
        history=history(reports, day),
        notice="Restated: this date's inputs changed since its first report; these figures replace it."
        if restated
        else None,
    )
    try:
        result = run(run_options, manifest_extra=extra)
        publish(folder, build)
    finally:
        shutil.rmtree(build, ignore_errors=True)  # a failed build leaves no .tmp folder behind
    outcome = DateOutcome(day, "restated" if restated else "published")
    if restated:
        outcome.notes.append(f"{day}: inputs changed, date restated")
    outcome.notes += [
        f"{day}: not read: {printable(f.path)}: {printable(f.problem)}" for f in result.ingest.findings
    ]
    _after_publish(
        outcome,
        lambda: _email(config, options, folder, outcome),
        lambda: _check_quarantine_share(config, day, result.ingest.totals()),
        lambda: _check_alerts(options, day, result.alerts),
        result.ingest.check_inputs,
    )
    return outcome


def _after_publish(outcome: DateOutcome, *checks: Callable[[], None]) -> None:
    """Run each check of a published date; the first error is the date's (the others still run)."""
    for check in checks:
        try:
            check()
        except ReporterError as exc:
            outcome.error = outcome.error or exc


def _check_alerts(options: NightlyOptions, day: dt.date, alerts: tuple[Alert, ...]) -> None:
    if alerts and options.fail_on_alert:
        more = f" (and {len(alerts) - 1} more)" if len(alerts) > 1 else ""
        raise AlertError(f"{day}: alert: {alerts[0].text}{more}")


def _email(config: Config, options: NightlyOptions, folder: Path, outcome: DateOutcome) -> None:
    """Send the date's report once (its Message-ID is recorded in the manifest) unless --resend."""
    if not config.nightly.email_to:
        return
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("email") and not options.resend:
        outcome.notes.append(f"{outcome.date}: already emailed as {manifest['email']['message_id']}")
        return
    msg = email_report(
        EmailOptions(folder, config.nightly.email_to, config.nightly.email_cc, config=options.config)
    )
    manifest["email"] = {"message_id": msg["Message-ID"], "to": list(config.nightly.email_to)}
    write_manifest(manifest_path, manifest)


def nightly(options: NightlyOptions) -> NightlyResult:
    """Build every requested date under one lock; refresh the warehouse; return what happened."""
    config = load_config(options.config)
    reports = (options.reports or config.nightly.reports).resolve()
    outcomes = []
    with exclusive_lock(reports):
        sweep(reports)
        for day in options.dates:  # a date that fails does not stop the next
            try:
                outcomes.append(run_date(config, options, reports, day))
            except Exception as exc:
                if not isinstance(exc, ReporterError) and os.environ.get("REPORTER_DEBUG"):
                    raise
                outcomes.append(DateOutcome(day, "failed", error=exc))
        state, note = _refresh_warehouse(reports)
    failed = [o for o in outcomes if o.error]
    if len(failed) == 1 and isinstance(failed[0].error, ReporterError):
        raise _dated(failed[0].date, failed[0].error)
    if failed:  # every failed date, one line each, with the most severe code
        raise BatchError([(_date_line(o.date, o.error), _code(o.error)) for o in failed])
    return NightlyResult(outcomes, state, f"{reports / 'warehouse.duckdb'}: {note}")


def _refresh_warehouse(reports: Path) -> tuple[WarehouseState, str]:
    """Rewrite the warehouse over every published date (none yet: nothing to view); its state and a note."""
    if not any(p.is_dir() for p in reports.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")):
        return WarehouseState.NOT_BUILT, "not built (no date is published yet)"
    try:
        state = build_nightly_warehouse(reports)
    except OSError as exc:
        return WarehouseState.FAILED, f"not refreshed ({exc.strerror})"
    if state is WarehouseState.LOCKED:
        return state, "not refreshed: another process holds it open (its views still see the new dates)"
    return state, state.value


def _date_line(day: dt.date, error: Exception | None) -> str:
    text = str(error) if isinstance(error, ReporterError) else internal_error(error or Exception())
    return text if text.startswith(str(day)) else f"{day}: {text}"


def _code(error: Exception | None) -> int:
    return int(error.exit_code) if isinstance(error, ReporterError) else int(ExitCode.SOFTWARE)


def _dated(day: dt.date, error: ReporterError) -> ReporterError:
    """The error of the only date, its message naming the date."""
    if not str(error).startswith(str(day)):
        error.args = (f"{day}: {error}",)
    return error
