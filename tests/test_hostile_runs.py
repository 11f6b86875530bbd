"""Hostile runs: inputs exactly as named, a private output, a sandboxed `reporter sql`, a backfill that
goes on. Each builds its few input lines here; exit codes and messages are the README's."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from reporter.cli import cli

HEADER = "event_time,message_id,channel,status_code\n"


def good_csv(path: Path, day: str = "2026-11-23", rows: int = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{day}T10:0{i}:00Z,m{i},sms,7500\n" for i in range(rows)]
    path.write_text(HEADER + "".join(lines))
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_a_link_out_of_the_named_folder_is_not_followed(tmp_path: Path):
    logs = tmp_path / "logs"
    good_csv(logs / "eu" / "a.csv")
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text(HEADER + "2026-11-23T10:00:00Z,SECRET-LINE,sms,7500\nSECRET-TEXT\n")
    (logs / "vendor.csv").symlink_to(secret)
    (logs / "more").symlink_to(secret.parent, target_is_directory=True)
    (logs / "eu" / "same.csv").symlink_to(logs / "eu" / "a.csv")  # inside the tree: read once
    result = invoke("run", str(logs), "--out", str(tmp_path / "out"), "-v")
    assert result.exit_code == 0, result.stderr
    assert f"not read: {logs / 'vendor.csv'}: a link out of {logs}" in result.stderr
    assert f"not read: {logs / 'more'}: a link out of {logs}" in result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [f["path"] for f in manifest["input_findings"]] == [str(logs / "more"), str(logs / "vendor.csv")]
    assert [i["path"] for i in manifest["inputs"]] == [str((logs / "eu" / "a.csv").resolve())]
    assert manifest["reconciliation"]["rows_read"] == 2
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            assert b"SECRET" not in path.read_bytes(), path
    con = duckdb.connect()
    out = tmp_path / "out" / "extracts"
    assert con.execute(f"SELECT count(*) FROM '{out}/quarantine.parquet'").fetchall() == [(0,)]
    assert con.execute(f"SELECT list(message_id) FROM '{out}/messages/*/*.parquet'").fetchall() == [
        (["m0", "m1"],)
    ]


def test_a_glob_does_not_follow_a_link_out_of_its_folder(tmp_path: Path):
    logs = tmp_path / "logs"
    good_csv(logs / "a.csv")
    good_csv(tmp_path / "secret.csv")
    (logs / "b.csv").symlink_to(tmp_path / "secret.csv")
    result = invoke("ingest", str(logs / "*.csv"), "--out", str(tmp_path / "out"), "-v")
    assert result.exit_code == 0, result.stderr
    assert f"not read: {logs / 'b.csv'}: a link out of {logs}" in result.stderr
    # A file named directly is read, link or not: the user named it.
    result = invoke("ingest", str(logs / "b.csv"), "--out", str(tmp_path / "out2"))
    assert result.exit_code == 0, result.stderr


def test_an_unreadable_folder_or_file_is_a_finding_and_exits_66(tmp_path: Path, monkeypatch):
    logs = tmp_path / "logs"
    good_csv(logs / "a.csv")
    good_csv(logs / "eu" / "b.csv")
    good_csv(logs / "us" / "c.csv")
    # The tests may run as root, whom permissions do not stop: the refusals are the kernel's words.
    real_scandir, real_open = os.scandir, Path.open

    def scandir(path):
        if isinstance(path, str | os.PathLike) and Path(path) == logs / "eu":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    def refusing_open(self, *args, **kwargs):
        if self.name == "c.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "open", refusing_open)
    result = invoke("run", str(logs), "--out", str(tmp_path / "out"))
    assert result.exit_code == 66
    assert result.stderr == (
        f"reporter: {logs / 'eu'}: cannot read: Permission denied "
        "(and 1 more unreadable inputs); see manifest.json\n"
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {f["path"]: f["unreadable"] for f in manifest["input_findings"]} == {
        str(logs / "eu"): True,
        str((logs / "us" / "c.csv").resolve()): True,
    }
    assert manifest["reconciliation"]["rows_read"] == 2  # a.csv, read in full


def test_no_file_under_a_runs_output_is_readable_by_others(tmp_path: Path):
    good_csv(tmp_path / "logs" / "a.csv")
    result = invoke("run", str(tmp_path / "logs"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    paths = [tmp_path / "out", *(tmp_path / "out").rglob("*")]
    assert len(paths) > 10
    shared = [str(p) for p in paths if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    assert shared == []


def nightly(logs: Path, reports: Path, *args: str):
    return invoke("nightly", "--input", str(logs / "{date}" / "*.csv"), "--reports", str(reports), *args)


def test_a_backfill_goes_on_past_failed_dates_and_names_each(tmp_path: Path):
    logs, reports = tmp_path / "logs", tmp_path / "reports"
    for day in ("2026-11-23", "2026-11-25"):
        good_csv(logs / day / "a.csv", day)
    (logs / "2026-11-26").mkdir()
    (logs / "2026-11-26" / "a.csv").write_text(HEADER + "2026-11-26T10:00:00Z,m1,sms,7500\nbad,m2,sms,7500\n")
    config = tmp_path / "reporter.toml"
    config.write_text("[nightly]\nquarantine_max_share = 0.1\n")
    result = nightly(logs, reports, "--from", "2026-11-23", "--to", "2026-11-27", "--config", str(config))
    assert result.exit_code == 66  # no input (66) is more severe than a quarantine share (65)
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["2026-11-24", "2026-11-26", "2026-11-27"]
    assert lines[0].startswith("reporter: 2026-11-24: no input")
    assert lines[1].startswith("reporter: 2026-11-26: 50.0% of rows quarantined")
    published = sorted(p.name for p in reports.iterdir() if not p.name.startswith("."))
    assert published == ["2026-11-23", "2026-11-25", "2026-11-26", "dimension", "warehouse.duckdb"]
    con = duckdb.connect(str(reports / "warehouse.duckdb"), read_only=True)
    dates = con.execute("SELECT DISTINCT CAST(date AS VARCHAR) FROM messages ORDER BY 1").fetchall()
    assert dates == [("2026-11-23",), ("2026-11-25",), ("2026-11-26",)]
    assert not list(reports.glob(".*.tmp"))


def test_reporter_sql_reads_the_runs_own_files_and_nothing_else(tmp_path: Path):
    good_csv(tmp_path / "logs" / "a.csv")
    (tmp_path / "outside.txt").write_text("SECRET")
    assert invoke("run", str(tmp_path / "logs"), "--out", str(tmp_path / "out")).exit_code == 0
    warehouse = str(tmp_path / "out" / "warehouse.duckdb")
    views = invoke("sql", "SELECT count(*) AS n FROM messages", "--warehouse", warehouse, "--format", "csv")
    assert (views.exit_code, views.stdout) == (0, "n\n2\n")
    named = invoke("query", "by_code", "--warehouse", warehouse, "--format", "csv")
    assert named.exit_code == 0 and named.stdout.startswith("channel,")
    for statement in (
        f"SELECT * FROM read_text('{tmp_path / 'outside.txt'}')",
        f"SELECT * FROM read_blob('{tmp_path / 'out' / '..' / 'outside.txt'}')",
        "SELECT * FROM glob('/etc/*')",
        f"SELECT * FROM read_csv('{tmp_path / 'out'}2/x.csv')",
        "SELECT current_setting('enable_external_access') FROM (SET enable_external_access = true)",
    ):
        result = invoke("sql", statement, "--warehouse", warehouse)
        assert result.exit_code in (64, 65), (statement, result.stdout)
        assert "SECRET" not in result.stdout and result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_memory_does_not_grow_with_empty_or_rejected_lines(tmp_path: Path):
    # Streamed to disk, never held: 1M empty lines (a 1 KB gzip) and 200k rows with a field too many.
    # Before the empty lines were numbered in DuckDB, the first took 1.9 GB; now about 0.3 GB.
    header, good = b"event_time,message_id,channel,status_code\n", b"2026-11-23T10:00:00Z,m%d,sms,7500\n"
    with gzip.open(tmp_path / "empty.csv.gz", "wb", compresslevel=1) as f:
        f.write(header + good % 1 + b"\n" * 1_000_000 + good % 2)
    with gzip.open(tmp_path / "bad.csv.gz", "wb", compresslevel=1) as f:
        f.write(header + good % 3)
        for _ in range(20):
            f.write(b"2026-11-23T10:00:00Z,x,sms,7500,extra\n" * 10_000)
        f.write(good % 4)
    probe = (
        "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "-m", "reporter", "ingest", str(tmp_path), "--out", str(tmp_path / "out")]
    out = subprocess.run(
        [sys.executable, "-c", probe, *command, "--memory-limit", "512MB"], capture_output=True
    )
    code, peak_kib = map(int, out.stdout.split())
    assert code == 0, out.stderr
    assert peak_kib < 1_000_000  # 1 GB
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["reconciliation"]["accepted"] == 4
    assert manifest["reconciliation"]["quarantine_reasons"] == {"too_many_columns": 200_000}
    quarantine = duckdb.execute(
        f"SELECT min(line), max(line) FROM '{tmp_path}/out/extracts/quarantine.parquet'"
    )
    assert quarantine.fetchall() == [(3, 200_002)]
    events = duckdb.execute(
        f"SELECT message_id, source_line FROM '{tmp_path}/out/extracts/events.parquet' ORDER BY 1"
    )
    assert events.fetchall() == [("m1", 2), ("m2", 1_000_003), ("m3", 2), ("m4", 200_003)]


def test_a_date_whose_outcomes_fail_leaves_no_temporary_folder(tmp_path: Path, monkeypatch):
    logs, reports = tmp_path / "logs", tmp_path / "reports"
    good_csv(logs / "2026-11-23" / "a.csv", "2026-11-23")

    def broken(*args, **kwargs):
        raise RuntimeError("outcomes broke")

    monkeypatch.setattr("reporter.run.build_outcomes", broken)
    result = nightly(logs, reports, "--from", "2026-11-23", "--to", "2026-11-24")
    assert result.exit_code == 70  # a bug (70) is more severe than no input (66)
    assert result.stderr.splitlines() == [
        "reporter: 2026-11-23: internal error: RuntimeError: outcomes broke (please report)",
        f"reporter: 2026-11-24: no input: {logs / '2026-11-24' / '*.csv'} (matches nothing)",
    ]
    assert sorted(p.name for p in reports.iterdir()) == [".nightly.lock"]


def test_nightly_reports_a_link_out_of_its_folder_and_an_unreadable_file_as_run_does(
    tmp_path: Path, monkeypatch
):
    logs, reports = tmp_path / "logs", tmp_path / "reports"
    good_csv(logs / "2026-11-23" / "a.csv")
    secret = good_csv(tmp_path / "outside" / "secret.csv")
    secret.write_text(HEADER + "2026-11-23T10:00:00Z,SECRET-LINE,sms,7500\nSECRET-TEXT\n")
    (logs / "2026-11-23" / "vendor.csv").symlink_to(secret)
    template = str(logs / "{date}")
    result = invoke("nightly", "--date", "2026-11-23", "--input", template, "--reports", str(reports), "-v")
    assert result.exit_code == 0, result.stderr
    link = logs / "2026-11-23" / "vendor.csv"
    assert f"2026-11-23: not read: {link}: a link out of {logs / '2026-11-23'}" in result.stderr
    folder = reports / "2026-11-23"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [(f["path"], f["unreadable"]) for f in manifest["input_findings"]] == [(str(link), False)]
    assert manifest["reconciliation"]["rows_read"] == 2  # a.csv only
    for path in reports.rglob("*"):
        if path.is_file() and path.suffix not in (".parquet", ".duckdb"):
            assert b"SECRET" not in path.read_bytes(), path
    con = duckdb.connect()
    for parquet in folder.rglob("*.parquet"):  # every value of every extract, as text
        query = f"SELECT count(*) FROM '{parquet}' t WHERE contains(CAST(t AS VARCHAR), 'SECRET')"
        assert con.execute(query).fetchall() == [(0,)], parquet
    # An unreadable file in the date's folder: the date is published with the finding, then exits 66.
    good_csv(logs / "2026-11-23" / "b.csv")
    real_open = Path.open

    def refusing_open(self, *args, **kwargs):
        if self.name == "b.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)
    result = invoke("nightly", "--date", "2026-11-23", "--input", template, "--reports", str(reports))
    assert result.exit_code == 66
    b = (logs / "2026-11-23" / "b.csv").resolve()
    assert result.stderr == f"reporter: 2026-11-23: {b}: cannot read: Permission denied; see manifest.json\n"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {f["path"]: f["unreadable"] for f in manifest["input_findings"]} == {
        str(link): False,
        str(b): True,
    }


def test_an_unreadable_top_folder_is_a_finding_and_exits_66(tmp_path: Path, monkeypatch):
    logs, other = tmp_path / "logs", good_csv(tmp_path / "other" / "b.csv")
    good_csv(logs / "a.csv")
    real_scandir = os.scandir

    def scandir(path):
        if isinstance(path, str | os.PathLike) and Path(path) == logs:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = invoke("run", str(logs), str(other), "--out", str(tmp_path / "out"))
    assert result.exit_code == 66
    assert result.stderr == f"reporter: {logs}: cannot read: Permission denied; see manifest.json\n"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [(f["path"], f["unreadable"]) for f in manifest["input_findings"]] == [(str(logs), True)]
    assert manifest["reconciliation"]["rows_read"] == 2  # b.csv, read in full


def test_reporter_ingest_takes_the_configs_memory_limit(tmp_path: Path, monkeypatch):
    import reporter.engine

    limits = []
    real_connect = reporter.engine.connect

    def connect(*args, **kwargs):
        limits.append(kwargs.get("memory_limit"))
        return real_connect(*args, **kwargs)

    monkeypatch.setattr("reporter.run.connect", connect)
    config = tmp_path / "reporter.toml"
    config.write_text('memory_limit = "700MB"\n')
    logs = good_csv(tmp_path / "logs" / "a.csv")
    result = invoke("ingest", str(logs), "--out", str(tmp_path / "out"), "--config", str(config))
    assert result.exit_code == 0, result.stderr
    assert limits == ["700MB"]
    result = invoke(
        "ingest", str(logs), "--out", str(tmp_path / "o2"), "--config", str(config), "--memory-limit", "1GB"
    )
    assert result.exit_code == 0 and limits == ["700MB", "1000MB"]  # the option beats the config


@pytest.mark.parametrize("name", ["tail.csv.gz", "tail.ndjson.zst"])
def test_a_decompressed_stream_without_line_ends_is_cut_as_line_too_long(tmp_path: Path, name):
    import zstandard

    from reporter.ingest.content import MAX_RECORD

    if name.endswith(".csv.gz"):
        head = HEADER.encode() + b"2026-11-23T10:00:00Z,m1,sms,7500\n"
    else:
        head = b'{"event_time": "2026-11-23T10:00:00Z", "message_id": "m1", "channel": "sms", "code": 7500}\n'
    data = head + b"y" * (MAX_RECORD + 5)  # the rest of the stream, with no line end at all
    path = tmp_path / "logs" / name
    path.parent.mkdir()
    path.write_bytes(gzip.compress(data, 1) if name.endswith(".gz") else zstandard.compress(data))
    result = invoke("ingest", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out" / "extracts"
    line = 3 if name.endswith(".csv.gz") else 2
    quarantine = duckdb.execute(f"SELECT line, reason, detail FROM '{out}/quarantine.parquet'").fetchall()
    detail = f"a line of {MAX_RECORD + 5:,} bytes, over the maximum record size of {MAX_RECORD:,}"
    assert quarantine == [(line, "line_too_long", detail)]
    assert duckdb.execute(f"SELECT message_id FROM '{out}/events.parquet'").fetchall() == [("m1",)]
