"""reporter nightly: idempotent, incremental, safe to kill, one run at a time."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reporter.cli import cli
from reporter.generate import generate
from tests.test_mail import smtp_server  # noqa: F401  (a fixture)

DATES = ("2026-11-23", "2026-11-24", "2026-11-25")


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    for i, day in enumerate(DATES):
        generate(root / day, 3000, "csv", seed=i, start=dt.date.fromisoformat(day))
    return root


def nightly(logs: Path, reports: Path, *args: str):
    template = str(logs / "{date}" / "*.csv")
    return CliRunner().invoke(cli, ["nightly", "--input", template, "--reports", str(reports), *args])


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "extracts").rglob("*.parquet"))
    }


def test_a_date_is_published_silently_and_rebuilt_identically(logs, tmp_path):
    reports = tmp_path / "reports"
    result = nightly(logs, reports, "--date", DATES[0])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    folder = reports / DATES[0]
    assert (folder / "manifest.json").exists() and (folder / "report.html").exists()
    first = digests(folder)
    assert len(first) >= 9
    mode = (folder / "manifest.json").stat().st_mode & 0o777
    assert mode == 0o600  # umask 077: reports are private
    import shutil

    shutil.rmtree(folder)
    assert nightly(logs, reports, "--date", DATES[0]).exit_code == 0
    assert digests(folder) == first


def test_unchanged_inputs_are_skipped_and_a_changed_input_restates_its_date(logs, tmp_path):
    reports = tmp_path / "reports"
    assert nightly(logs, reports, "--date", DATES[1]).exit_code == 0
    manifest = reports / DATES[1] / "manifest.json"
    written = manifest.stat().st_mtime_ns
    again = nightly(logs, reports, "--date", DATES[1], "-v")
    assert again.exit_code == 0
    assert f"{DATES[1]}: inputs unchanged, skipped" in again.stderr
    assert manifest.stat().st_mtime_ns == written

    changed = tmp_path / "changed"
    import shutil

    shutil.copytree(logs, changed)
    log = next((changed / DATES[1]).glob("*.csv"))
    log.write_text(log.read_text() + log.read_text().splitlines()[1].replace(",", ",", 1) + "\n")
    restated = nightly(changed, reports, "--date", DATES[1], "-v")
    assert restated.exit_code == 0
    assert f"{DATES[1]}: restated" in restated.stderr
    data = json.loads(manifest.read_text())
    assert data["restated"] is True
    assert data["previous_inputs"][0]["sha256"] != data["inputs"][0]["sha256"]
    assert data["reconciliation"]["duplicates"] == 1  # the appended line repeats line 2
    assert "Restated: this date's inputs changed" in (reports / DATES[1] / "report.html").read_text()


def test_three_dates_and_one_warehouse_over_all_of_them(logs, tmp_path):
    reports = tmp_path / "reports"
    result = nightly(logs, reports, "--from", DATES[0], "--to", DATES[2])
    assert result.exit_code == 0, result.stderr
    warehouse = str(reports / "warehouse.duckdb")
    counts = CliRunner().invoke(
        cli, ["sql", "SELECT count(*) AS n FROM messages", "--warehouse", warehouse, "--format", "csv"]
    )
    per_date = sum(
        json.loads((reports / d / "manifest.json").read_text())["outcomes"]["messages"] for d in DATES
    )
    assert int(counts.stdout.splitlines()[1]) == per_date


def test_no_input_for_the_date_exits_66(logs, tmp_path):
    result = nightly(logs, tmp_path / "reports", "--date", "2026-12-01")
    assert result.exit_code == 66
    assert result.stderr.startswith("reporter: 2026-12-01: no input")
    assert result.stderr.count("\n") == 1


def test_a_folder_template_builds_the_date_from_the_files_inside(logs, tmp_path):
    reports = tmp_path / "reports"
    result = CliRunner().invoke(
        cli, ["nightly", "--input", str(logs / "{date}"), "--reports", str(reports), "--date", DATES[1]]
    )
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((reports / DATES[1] / "manifest.json").read_text())
    expected = sorted(str(p.resolve()) for p in (logs / DATES[1]).rglob("*.csv"))
    assert expected and [i["path"] for i in manifest["inputs"]] == expected
    lines = sum(len(Path(p).read_text().splitlines()) - 1 for p in expected)  # less each header
    assert manifest["reconciliation"]["rows_read"] == lines


def test_a_template_that_names_nothing_for_the_date_exits_66_naming_each_path(logs, tmp_path):
    day = "2026-12-01"
    empty = tmp_path / "empty" / day
    empty.mkdir(parents=True)
    notes = tmp_path / "notes" / day
    notes.mkdir(parents=True)
    (notes / "README.md").write_text("not a log\n")
    templates = [str(logs / "{date}"), str(logs / "{date}" / "*.csv"), str(tmp_path / "empty" / "{date}")]
    templates += [str(tmp_path / "notes" / "{date}"), str(tmp_path / "*" / "{date}")]
    args = ["nightly", "--reports", str(tmp_path / "reports"), "--date", day]
    result = CliRunner().invoke(cli, [*args, *(a for t in templates for a in ("--input", t))])
    assert result.exit_code == 66
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"reporter: {day}: no input: ")
    assert f"{logs / day} (no such file or folder)" in result.stderr
    assert f"{logs / day / '*.csv'} (matches nothing)" in result.stderr
    assert f"{empty} (an empty folder)" in result.stderr
    assert f"{notes} (a folder with no data file (1 other file))" in result.stderr
    assert f"{tmp_path / '*' / day} (matches 2 folders and no data file)" in result.stderr
    assert not (tmp_path / "reports" / day).exists()


def test_a_second_concurrent_run_exits_75(logs, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    with open(reports / ".nightly.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = nightly(logs, reports, "--date", DATES[0])
    assert result.exit_code == 75
    assert "another nightly run holds the lock" in result.stderr
    assert not (reports / DATES[0]).exists()


def test_a_quarantine_share_above_the_limit_exits_65_after_publishing(logs, tmp_path):
    config = tmp_path / "reporter.toml"
    config.write_text("[nightly]\nquarantine_max_share = 0.0\n")
    bad = tmp_path / "bad" / DATES[0]
    bad.mkdir(parents=True)
    (bad / "a.csv").write_text(
        "event_time,message_id,channel,status_code\n"
        "2026-11-23T10:00:00Z,m1,sms,7501\n"
        "not a time,m2,sms,7501\n"
    )
    result = nightly(tmp_path / "bad", tmp_path / "reports", "--date", DATES[0], "--config", str(config))
    assert result.exit_code == 65
    assert "50.0% of rows quarantined" in result.stderr
    assert (tmp_path / "reports" / DATES[0] / "manifest.json").exists()


def test_killed_runs_leave_the_old_or_the_new_folder_and_heal(logs, tmp_path):
    """SIGKILL at random moments, ten times; then a clean run equals a run never killed."""
    reference = tmp_path / "reference"
    assert nightly(logs, reference, "--date", DATES[2]).exit_code == 0
    expected = digests(reference / DATES[2])

    reports = tmp_path / "reports"
    template = str(logs / "{date}" / "*.csv")
    command = [sys.executable, "-m", "reporter", "nightly", "--date", DATES[2], "--input", template,
               "--reports", str(reports)]  # fmt: skip
    rng = random.Random(7)
    for attempt in range(10):
        if attempt == 5:  # half the kills hit a rebuild that replaces a published folder
            (reports / DATES[2] / "manifest.json").unlink(missing_ok=True)
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 3.0))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        folder = reports / DATES[2]
        if folder.exists() and (folder / "manifest.json").exists():
            assert digests(folder) == expected  # never a torn folder at the published name
    assert nightly(logs, reports, "--date", DATES[2]).exit_code == 0
    assert digests(reports / DATES[2]) == expected
    leftovers = [p.name for p in reports.iterdir() if p.name.endswith((".tmp", ".old"))]
    assert leftovers == []


def test_an_analyst_holding_the_warehouse_does_not_break_the_night(logs, tmp_path):
    import duckdb

    reports = tmp_path / "reports"
    assert nightly(logs, reports, "--date", DATES[0]).exit_code == 0
    analyst = duckdb.connect(str(reports / "warehouse.duckdb"))  # read-write: DuckDB locks the file
    try:
        result = nightly(logs, reports, "--date", DATES[1])
        assert result.exit_code == 0
        assert result.stderr.count("\n") == 1
        assert "warehouse.duckdb: not refreshed: another process holds it open" in result.stderr
        # The analyst's own session sees the new date through the glob views.
        days = analyst.execute("SELECT DISTINCT CAST(date AS VARCHAR) FROM messages ORDER BY 1").fetchall()
        assert (DATES[1],) in days
    finally:
        analyst.close()


def test_nightly_returns_each_date_and_the_warehouse_state(logs, tmp_path):
    from reporter.nightly import NightlyOptions
    from reporter.nightly import nightly as run_nightly
    from reporter.warehouse import WarehouseState

    reports = tmp_path / "reports"
    template = (str(logs / "{date}"),)
    day = dt.date.fromisoformat(DATES[0])
    first = run_nightly(NightlyOptions((day,), inputs=template, reports=reports))
    assert [(o.date, o.status) for o in first.dates] == [(day, "published")]
    assert first.warehouse is WarehouseState.WRITTEN
    again = run_nightly(NightlyOptions((day,), inputs=template, reports=reports))
    assert [(o.date, o.status) for o in again.dates] == [(day, "unchanged")]
    assert again.warehouse is WarehouseState.CURRENT  # same views: the file is left alone
    assert again.warehouse_note == f"{reports.resolve() / 'warehouse.duckdb'}: current"


def test_the_report_is_emailed_once_per_date_unless_resent(logs, tmp_path, smtp_server):  # noqa: F811
    from tests.test_mail import Inbox

    inbox = Inbox()
    port = smtp_server(inbox)
    config = tmp_path / "reporter.toml"
    config.write_text(
        '[nightly]\nemail_to = ["ops@example.com"]\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsender = "r@example.com"\nsecurity = "none"\n'
        "allow_plaintext = true\n"
    )
    reports = tmp_path / "reports"
    for extra in ((), (), ("--resend",)):
        result = nightly(logs, reports, "--date", DATES[0], "--config", str(config), *extra)
        assert result.exit_code == 0, result.stderr
    assert len(inbox.received) == 2  # first run, then --resend; the plain re-run sent nothing
    manifest = json.loads((reports / DATES[0] / "manifest.json").read_text())
    ids = {
        inbox_message[2].split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()
        for inbox_message in inbox.received
    }
    assert ids == {manifest["email"]["message_id"]}


def test_messages_outside_the_date_are_counted_not_lost(logs, tmp_path):
    reports = tmp_path / "reports"
    own = nightly(logs, reports, "--date", DATES[0])
    assert own.exit_code == 0
    kept = json.loads((reports / DATES[0] / "manifest.json").read_text())["outcomes"]
    # The next date built from the same day's logs: every message lies outside it, and says so.
    template = str(logs / DATES[0] / "*.csv")
    other = CliRunner().invoke(
        cli, ["nightly", "--input", template, "--reports", str(reports), "--date", DATES[1]]
    )
    assert other.exit_code == 0
    moved = json.loads((reports / DATES[1] / "manifest.json").read_text())["outcomes"]
    assert (moved["messages"], moved["messages_outside_period"]) == (0, kept["messages"])
    assert kept["messages_outside_period"] == 0
