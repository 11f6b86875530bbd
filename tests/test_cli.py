"""The CLI in-process: exit codes, stdout and stderr, checked through the library."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from reporter.cli import cli
from reporter.errors import ExitCode


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_codes_csv_has_one_row_per_channel_and_code(runner, dimension):
    result = runner.invoke(cli, ["codes", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == dimension.codes.height == 363
    assert len({(r["channel"], r["code"]) for r in rows}) == len(rows)
    assert list(rows[0]) == dimension.codes.columns
    assert result.stderr == ""


def test_codes_parquet_writes_the_same_rows(runner, tmp_path: Path):
    out = tmp_path / "codes.parquet"
    result = runner.invoke(cli, ["codes", "--format", "parquet", "--out", str(out)])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    from_csv = pl.read_csv(io.StringIO(runner.invoke(cli, ["codes", "--format", "csv"]).stdout))
    written = pl.read_parquet(out)
    assert written.height == from_csv.height
    assert written.select("channel", "code").rows() == from_csv.select("channel", "code").rows()


def test_codes_filters(runner):
    result = runner.invoke(
        cli, ["codes", "--channel", "WhatsApp", "--category", "throttling", "--format", "json"]
    )
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["channel"], r["code"]) for r in rows] == [("whatsapp", 7706), ("whatsapp", 7711)]

    result = runner.invoke(
        cli, ["codes", "--search", "subscriber", "--class", "undelivered", "--format", "csv"]
    )
    codes = {int(r["code"]) for r in csv.DictReader(io.StringIO(result.stdout))}
    # Messages of SMS 7203, 7204, 7206, 7207 and In-App 7309; the description of SMS 7208.
    assert codes == {7203, 7204, 7206, 7207, 7208, 7309}


def test_codes_all_rows_includes_every_documented_row(runner):
    result = runner.invoke(
        cli, ["codes", "--all-rows", "--channel", "inapp", "--code", "7003", "--format", "json"]
    )
    rows = json.loads(result.stdout)
    assert [(r["source_line"], r["context"]) for r in rows] == [
        (129, "Generic Template"),
        (136, "Quick Replies"),
    ]


def test_codes_table_is_readable_on_a_terminal(runner):
    result = runner.invoke(cli, ["codes", "--code", "7203"])
    assert result.exit_code == 0
    assert "Unknown Subscriber address" in result.stdout
    assert "1 rows" in result.stdout


def test_explain_shows_each_row_its_class_and_source_line(runner):
    result = runner.invoke(cli, ["codes", "--explain", "7004", "--channel", "inapp"])
    assert result.exit_code == 0
    out = result.stdout
    assert "7004 on common: Invalid parameters/Values" in out
    assert "7004 on inapp (Generic Template)" in out and "line 130" in out
    assert "7004 on inapp (Quick Replies)" in out and "line 135" in out
    assert "status_class: failed  <- common API error code" in out


def test_explain_across_channels(runner):
    result = runner.invoke(cli, ["codes", "--explain", "7513", "--format", "json"])
    rows = json.loads(result.stdout)
    assert {(r["channel"], r["region_scope"]) for r in rows} == {("sms", "us+ca"), ("push", "all")}


def test_explain_an_undocumented_code_is_a_usage_error(runner):
    result = runner.invoke(cli, ["codes", "--explain", "1234"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "reporter: code 1234 is not documented\n"


def test_bad_option_exits_64_with_one_line(runner):
    result = runner.invoke(cli, ["codes", "--colour", "red"])
    assert result.exit_code == int(ExitCode.USAGE) == 64
    assert result.stdout == ""
    assert result.stderr.startswith("reporter: No such option '--colour'")
    assert result.stderr.count("\n") == 1


def test_bad_choice_and_unknown_channel_exit_64(runner):
    assert runner.invoke(cli, ["codes", "--format", "xml"]).exit_code == 64
    result = runner.invoke(cli, ["codes", "--channel", "pigeon"])
    assert result.exit_code == 64
    assert result.stderr.startswith("reporter: unknown channel 'pigeon'")


def test_parquet_to_stdout_is_refused(runner):
    result = runner.invoke(cli, ["codes", "--format", "parquet"])
    assert result.exit_code == 64
    assert "needs --out" in result.stderr


def test_damaged_document_exits_65_naming_the_line(runner, tmp_path: Path, document_lines):
    damaged = list(document_lines)
    damaged[29] = "this line does not belong here"
    path = tmp_path / "codes.txt"
    path.write_text("\n".join(damaged), encoding="utf-8")
    result = runner.invoke(cli, ["codes", "--document", str(path)])
    assert result.exit_code == int(ExitCode.DATA) == 65
    assert result.stderr == (
        f"reporter: {path}:30: expected a table row '<digits> | message |' or a known section heading, "
        "found 'this line does not belong here'\n"
    )


def test_bad_overrides_exit_78(runner, tmp_path: Path):
    path = tmp_path / "o.toml"
    path.write_text('[[override]]\nchannel = "sms"\ncode = 7203\nstatus_class = "failed"\n')
    result = runner.invoke(cli, ["codes", "--overrides", str(path)])
    assert result.exit_code == int(ExitCode.CONFIG) == 78
    assert result.stderr == f"reporter: {path}: override #1: missing 'reason'\n"


def test_ingest_is_silent_and_writes_extracts_and_manifest(runner, tmp_path: Path):
    from tests.conftest import DATA

    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["ingest", str(DATA / "bad_time.csv"), str(DATA / "webhook.ndjson"), "--out", str(out)]
    )
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(f["rows_read"], f["accepted"], f["quarantined"]) for f in manifest["inputs"]] == [
        (4, 3, 1),
        (2, 2, 0),
    ]
    assert manifest["reconciliation"]["balanced"] is True
    assert manifest["reconciliation"]["quarantine_reasons"] == {"bad_event_time": 1}
    events = pl.read_parquet(out / "extracts" / "events.parquet")
    assert events.height == 5
    assert set(events["source_file"]) == {str(DATA / "bad_time.csv"), str(DATA / "webhook.ndjson")}
    assert pl.read_parquet(out / "extracts" / "quarantine.parquet")["reason"].to_list() == ["bad_event_time"]


def test_ingest_verbose_prints_the_reconciliation_on_stderr(runner, tmp_path: Path):
    from tests.conftest import DATA

    result = runner.invoke(cli, ["ingest", str(DATA / "missing_code.csv"), "--out", str(tmp_path), "-v"])
    assert result.exit_code == 0 and result.stdout == ""
    assert f"{DATA / 'missing_code.csv'}\tcsv\t4\t3\t1\t3\t0" in result.stderr
    assert "total\t\t4\t3\t1\t3\t0" in result.stderr


def test_ingest_missing_input_exits_66(runner, tmp_path: Path):
    result = runner.invoke(cli, ["ingest", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == ExitCode.NO_INPUT
    assert result.stderr == f"reporter: {tmp_path / 'nope.csv'}: no such file or folder\n"
    assert not (tmp_path / "o").exists()


def test_ingest_bad_config_exits_78(runner, tmp_path: Path):
    from tests.conftest import DATA

    config = tmp_path / "c.toml"
    config.write_text("colour = 1\n")
    result = runner.invoke(
        cli, ["ingest", str(DATA / "bom.csv"), "--out", str(tmp_path), "--config", str(config)]
    )
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == f"reporter: {config}: unknown key 'colour'\n"


def test_memory_limit_is_a_size_or_a_share_of_ram(tmp_path: Path):
    from reporter.engine import memory_limit, physical_memory

    assert memory_limit("3GB") == "3000MB"
    assert memory_limit("512MiB") == "536MB"  # 512 * 1024**2 = 536,870,912 bytes
    assert memory_limit(" 2.5 gb ") == "2500MB"
    assert memory_limit("25%") == f"{physical_memory() // 4 // 10**6}MB"
    for bad in ("lots", "0GB", "150%", "3"):
        with pytest.raises(ValueError, match="not a size such as 3GB"):
            memory_limit(bad)


def test_a_connection_reads_its_memory_limit_back_in_bytes():
    from reporter.engine import connect, limit_bytes

    # DuckDB shows 3000MB as "2.7 GiB": 2.7 * 1024**3 = 2,899,102,924 bytes, to the MB below
    assert limit_bytes(connect(memory_limit="3000MB")) == 2_899_000_000
    assert limit_bytes(connect(memory_limit="512MB")) == 511_000_000  # "488.2 MiB": 511,914,803


def test_a_connection_keeps_its_blocks_up_to_its_memory_limit():
    from reporter.engine import connect, memory_limit

    con = connect(memory_limit="512MB")
    kept, limit = con.execute(
        "SELECT current_setting('block_allocator_memory'), current_setting('memory_limit')"
    ).fetchone() or ("", "")
    assert kept == limit == "488.2 MiB"
    # DuckDB maps at most about 80% of the RAM for its blocks: a larger limit still connects.
    con = connect(memory_limit=memory_limit("100%"))
    assert con.execute("SELECT current_setting('block_allocator_memory')").fetchone() == ("0 bytes",)


def test_bad_memory_limit_exits_64_on_the_command_line_and_78_in_the_config(runner, tmp_path: Path):
    from tests.conftest import DATA

    args = ["run", str(DATA / "bom.csv"), "--out", str(tmp_path / "o")]
    result = runner.invoke(cli, [*args, "--memory-limit", "lots"])
    assert result.exit_code == ExitCode.USAGE
    assert "memory limit 'lots' is not a size" in result.stderr
    config = tmp_path / "c.toml"
    config.write_text('memory_limit = "huge"\n')
    result = runner.invoke(cli, [*args, "--config", str(config)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        f"reporter: {config}: memory limit 'huge' is not a size such as 3GB or 512MiB, "
        "nor a share such as 25%\n"
    )
    assert not (tmp_path / "o").exists()


def test_a_full_disk_mid_run_exits_74_with_one_line(runner, tmp_path: Path, monkeypatch):
    import duckdb

    from tests.conftest import DATA

    # The message DuckDB gave when the disk filled while it spilled a 100M-event run.
    full = 'IO Error: Could not write file "/x/duckdb_temp_1.tmp": No space left on device'

    def no_space(*args, **kwargs):
        raise duckdb.IOException(full)

    monkeypatch.setattr("reporter.run.write_messages", no_space)
    out = tmp_path / "o"
    result = runner.invoke(cli, ["run", str(DATA / "bom.csv"), "--out", str(out)])
    assert (result.exit_code, result.stderr) == (ExitCode.IO, f"reporter: {full}\n")
    assert not out.exists()  # nothing partial is left: the run publishes its folder whole


def test_no_room_to_spill_exits_74_not_75(runner, tmp_path: Path, monkeypatch):
    # DuckDB caps its spill files (by default at 90% of the free disk): a 1 MB cap stands for a
    # full disk, and the run must say so rather than advise a higher memory limit.
    from reporter.engine import connect as real
    from reporter.generate import generate

    def capped(*args, **kwargs):
        con = real(*args, **kwargs)
        con.execute("SET max_temp_directory_size = '1MB'")
        return con

    monkeypatch.setattr("reporter.run.connect", capped)
    generate(tmp_path / "in", 200_000, "parquet", seed=9, days=2)
    out = tmp_path / "o"
    result = runner.invoke(cli, ["run", str(tmp_path / "in"), "--out", str(out), "--memory-limit", "32MB"])
    assert result.exit_code == ExitCode.IO
    assert result.stderr.startswith("reporter: no disk space left to spill into ")
    assert "failed to offload" in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()
