"""`reporter run --engine spark` gives the DuckDB engine's outputs (local mode, one SparkSession).

Marked `spark` and collected last (conftest.py); skipped only where no Java runtime exists.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from reporter.config import load_config
from reporter.errors import ConfigError
from reporter.generate import generate
from reporter.run import RunOptions, run
from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

TABLES = (
    "by_channel_region_class",
    "by_code",
    "daily",
    "event_counts",
    "message_counts",
    "inputs",
    "delivery_times",
    "daily_codes",
    "by_carrier",
)


@pytest.fixture(scope="module")
def spark():
    """One local SparkSession for the whole module (runs reuse it through getOrCreate)."""
    from reporter.config import EngineConfig
    from reporter.spark.session import spark_session

    return spark_session(EngineConfig(conf={"spark.driver.memory": "2g"}), "local[2]", "UTC")


def _both(tmp_path: Path, inputs: list[str], **kw) -> tuple[Path, Path]:
    duck, spark = tmp_path / "duckdb", tmp_path / "spark"
    run(RunOptions(tuple(inputs), duck, **kw))
    run(RunOptions(tuple(inputs), spark, engine="spark", **kw))
    return duck, spark


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def _assert_same(duck: Path, spark: Path, scheme: str = "") -> None:
    """Every extract equal; `scheme` ("file://"): Spark read URIs, DuckDB the same files' paths."""
    con = duckdb.connect()
    for name in TABLES:
        a, b = (f"read_parquet('{d}/extracts/{name}.parquet')" for d in (duck, spark))
        star = f"* REPLACE (replace(path, '{scheme}', '') AS path)" if name == "inputs" else "*"
        assert (
            con.execute(f"DESCRIBE SELECT * FROM {a}").fetchall()
            == con.execute(f"DESCRIBE SELECT * FROM {b}").fetchall()
        ), name
        assert _rows(con, f"SELECT * FROM {a}") == _rows(con, f"SELECT {star} FROM {b}"), name
    quarantine = (
        "SELECT replace(file, '{}', ''), reason, sum(rows), count(*) "
        "FROM read_parquet('{}/extracts/quarantine.parquet') GROUP BY ALL"
    )
    assert _rows(con, quarantine.format("", duck)) == _rows(con, quarantine.format(scheme, spark))
    lines = (
        "SELECT replace(file, '{}', ''), line, reason, raw "
        "FROM read_parquet('{}/extracts/quarantine.parquet')"
    )
    assert _rows(con, lines.format("", duck)) == _rows(con, lines.format(scheme, spark))  # line numbers too
    messages = "SELECT * FROM read_parquet('{}/extracts/messages/*/*.parquet', hive_partitioning = true)"
    assert (
        con.execute(f"DESCRIBE {messages.format(duck)}").fetchall()
        == con.execute(f"DESCRIBE {messages.format(spark)}").fetchall()
    )
    assert _rows(con, messages.format(duck)) == _rows(con, messages.format(spark))


def test_sample_logs_give_the_same_outputs(spark, tmp_path):
    duck, sp = _both(tmp_path, [str(ROOT / "sample_logs")])
    _assert_same(duck, sp)
    con = duckdb.connect()
    assert (
        con.execute(f"SELECT count(*) FROM read_parquet('{sp}/extracts/quarantine.parquet')").fetchall()[0][0]
        > 0
    )
    assert (sp / "report.html").is_file() and (sp / "warehouse.duckdb").is_file()


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(
            [["event_time", "message_id", "channel", "status_code", "region", "destination"]]
        )
        csv.writer(f).writerows(rows)


def _hard_input(root: Path) -> list[str]:
    """Generated logs plus every hard case, built by hand so each is known to be there."""
    generate(root / "gen", 1500, "csv", seed=5, days=2)
    generate(root / "hooks", 300, "webhook", seed=6, days=2)
    first = (root / "gen" / "events.csv").read_text().splitlines()
    # Exact copies of 40 generated events in a later file: duplicates across files.
    (root / "z_copies.csv").write_text("\n".join(first[:41]) + "\n")
    _write_csv(
        root / "late.csv",
        [
            # Late and out of order: a message's final event logged before its submission.
            ["2026-11-24T09:00:05Z", "late-1", "sms", "7500", "eu", "+447700900123"],
            ["2026-11-24T09:00:00Z", "late-1", "sms", "7501", "eu", "+447700900123"],
            ["2026-11-23T23:59:59Z", "late-2", "whatsapp", "7203", "us", "+14155550100"],
            ["2026-11-24T00:00:01Z", "late-2", "whatsapp", "7501", "us", "+14155550100"],
            # Id-less events: each is its own message.
            ["2026-11-24T10:00:00Z", "", "sms", "7500", "in", "+919812345678"],
            ["2026-11-24T10:00:00Z", "", "sms", "7500", "in", "+919812345678"],  # a duplicate too
            ["2026-11-24T10:00:01Z", "", "rcs", "7500", "in", "+919812345679"],
            # Unknown codes, and a tie on rank and time broken by the higher code.
            ["2026-11-24T11:00:00Z", "unk-1", "email", "123456", "uk", "a.person@example.com"],
            ["2026-11-24T11:00:00Z", "tie-1", "sms", "7004", "us", "+14155550101"],
            ["2026-11-24T11:00:00Z", "tie-1", "sms", "7203", "us", "+14155550101"],
            # Bad rows: quarantined with their reasons.
            ["yesterday", "bad-1", "sms", "7500", "eu", ""],
            ["2026-11-24T12:00:00Z", "bad-2", "carrier pigeon", "7500", "eu", ""],
            ["2026-11-24T12:00:00Z", "bad-3", "sms", "75.5", "eu", ""],
        ],
    )
    # A tie across files: one message, same time, code and line number in two files, different
    # regions; the later file's event is final in both engines (vocabulary.FINAL_EVENT_KEY).
    tie = ["2026-11-24T11:30:00Z", "tie-2", "sms", "7500", "eu", "+447700900188"]
    _write_csv(root / "tie_a.csv", [tie])
    _write_csv(root / "tie_b.csv", [[*tie[:4], "us", tie[5]]])
    bad = [
        DATA / n for n in ("too_many_columns.csv", "invalid_json_line.ndjson", "empty.csv", "header_only.csv")
    ]
    bad += [DATA / "reference.parquet", DATA / "code_type_changed.parquet", DATA / "truncated.csv.gz"]
    for path in bad:
        shutil.copy(path, root / path.name)
    return [str(root)]


def test_hard_input_gives_the_same_outputs(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTER_HMAC_KEY", "test-key")
    inputs = _hard_input(tmp_path / "in")
    duck, sp = _both(tmp_path, inputs)
    _assert_same(duck, sp)
    con = duckdb.connect()
    reasons = {
        r
        for (r,) in con.execute(
            f"SELECT DISTINCT reason FROM read_parquet('{sp}/extracts/quarantine.parquet')"
        ).fetchall()
    }
    # The cases were there: each engine met them (computed from the inputs, not copied from an output).
    assert {"bad_event_time", "unknown_channel", "bad_status_code", "schema_changed", "empty_file"} <= reasons
    messages = f"read_parquet('{sp}/extracts/messages/*/*.parquet', hive_partitioning = true)"
    by_id = dict(
        con.execute(f"SELECT message_key, status_code FROM {messages} WHERE message_id LIKE '%-1'").fetchall()
    )
    assert by_id["late-1"] == 7500 and by_id["tie-1"] == 7203 and by_id["unk-1"] == 123456
    for out in (duck, sp):
        tied = f"read_parquet('{out}/extracts/messages/*/*.parquet') WHERE message_id = 'tie-2'"
        assert con.execute(f"SELECT region, events FROM {tied}").fetchall() == [("us", 2)]
    idless = con.execute(
        f"SELECT count(*) FROM {messages} WHERE message_id IS NULL AND region = 'in'"
    ).fetchall()[0]
    assert idless == (2,)  # three id-less events, one an exact duplicate
    inputs_table = f"read_parquet('{sp}/extracts/inputs.parquet')"
    copies = con.execute(f"SELECT duplicates FROM {inputs_table} WHERE path LIKE '%z_copies.csv'").fetchall()[
        0
    ]
    assert copies == (40,)
    hashed = (
        f"SELECT count(*) FILTER (destination_hash IS NULL), count(*) FROM {messages} WHERE destination <> ''"
    )
    assert con.execute(hashed).fetchall()[0][0] == 0 < con.execute(hashed).fetchall()[0][1]


def test_a_period_keeps_the_same_messages(spark, tmp_path):
    day = dt.date(2026, 11, 24)
    logs = tmp_path / "in.csv"
    _write_csv(
        logs,
        [
            ["2026-11-23T23:00:00Z", "m1", "sms", "7501", "eu", "+447700900123"],  # first event: 23rd
            ["2026-11-24T01:00:00Z", "m1", "sms", "7500", "eu", "+447700900123"],
            ["2026-11-24T02:00:00Z", "m2", "sms", "7501", "eu", "+447700900124"],
            ["2026-11-25T02:00:00Z", "m3", "sms", "7501", "eu", "+447700900125"],
        ],
    )
    duck, sp = _both(tmp_path, [str(logs)], start=day, end=day)
    _assert_same(duck, sp)
    outcomes = [json.loads((d / "manifest.json").read_text())["outcomes"] for d in (duck, sp)]
    assert outcomes[0] == outcomes[1]
    assert (outcomes[1]["messages"], outcomes[1]["messages_outside_period"]) == (1, 2)
    assert [p.name for p in (sp / "extracts" / "messages").iterdir()] == ["date=2026-11-24"]


def test_a_period_without_messages_gives_the_same_outputs(spark, tmp_path):
    logs = tmp_path / "in.csv"
    _write_csv(
        logs,
        [
            ["2026-11-23T23:00:00Z", "m1", "sms", "7501", "eu", "+447700900123"],
            ["2026-11-24T01:00:00Z", "m1", "sms", "7500", "eu", "+447700900123"],
        ],
    )
    day = dt.date(2026, 11, 30)
    duck, sp = _both(tmp_path, [str(logs)], start=day, end=day)
    _assert_same(duck, sp)
    outcomes = json.loads((sp / "manifest.json").read_text())["outcomes"]
    assert (outcomes["messages"], outcomes["messages_outside_period"]) == (0, 1)


def test_engine_config(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(
        '[engine]\nname = "spark"\nmaster = "local[4]"\n[engine.conf]\n"spark.executor.memory" = "2g"\n'
    )
    engine = load_config(path).engine
    assert (engine.name, engine.master, engine.conf) == ("spark", "local[4]", {"spark.executor.memory": "2g"})
    path.write_text('[engine]\nname = "flink"\n')
    with pytest.raises(ConfigError, match="flink"):
        load_config(path)


def test_cli_engine_option_and_a_missing_input(tmp_path):
    from click.testing import CliRunner

    from reporter.cli import cli

    result = CliRunner().invoke(
        cli, ["run", str(tmp_path / "none"), "--out", str(tmp_path / "o"), "--engine", "spark"]
    )
    assert result.exit_code == 66  # found before Spark starts
    assert "none" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["run", "x", "--out", str(tmp_path / "o"), "--engine", "flink"])
    assert result.exit_code == 64 and "flink" in result.output  # a usage error


def test_a_nightly_spark_run_is_silent_on_success(spark, tmp_path, capfd):
    """Nothing on stdout or stderr (the cron contract), and the JVM's own stderr is its log file."""
    from click.testing import CliRunner

    from reporter.cli import cli
    from reporter.spark.session import jvm_log

    day = tmp_path / "logs" / "2026-11-24"
    day.mkdir(parents=True)
    _write_csv(day / "a.csv", [["2026-11-24T09:00:00Z", "m1", "sms", "7500", "eu", "+447700900123"]])
    config = tmp_path / "r.toml"
    config.write_text('[engine]\nname = "spark"\nmaster = "local[2]"\n')
    capfd.readouterr()
    command = ["nightly", "--config", str(config), "--input", str(tmp_path / "logs" / "{date}")]
    result = CliRunner().invoke(cli, [*command, "--reports", str(tmp_path / "r"), "--date", "2026-11-24"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert capfd.readouterr() == ("", "")  # nothing reached the file descriptors either
    assert (
        json.loads((tmp_path / "r" / "2026-11-24" / "manifest.json").read_text())["outcomes"]["messages"] == 1
    )
    # The JVM's stderr (its startup warnings, which no log setting reaches, Spark's log) is the log file.
    log = jvm_log()
    assert log is not None
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    assert os.readlink(f"/proc/{pid}/fd/2") == str(log)


def test_hadoop_uris_a_folder_and_a_glob(spark, tmp_path):
    """file:// URIs go through Hadoop's FileSystem and binaryFile, as hdfs:// and s3a:// do."""
    root = tmp_path / "in"
    (root / "one" / "deeper").mkdir(parents=True)
    (root / "two").mkdir()
    _write_csv(root / "one" / "a.csv", [["2026-11-24T09:00:00Z", "m1", "sms", "7501", "eu", "+447700900123"]])
    _write_csv(
        root / "one" / "deeper" / "b.csv",
        [
            ["2026-11-24T09:00:05Z", "m1", "sms", "7500", "eu", "+447700900123"],
            ["yesterday", "m2", "sms", "7500", "eu", ""],
        ],
    )
    (root / "one" / "notes.md").write_text("not a data file: a folder walk skips it\n")
    shutil.copy(DATA / "reference.parquet", root / "two" / "c.parquet")
    _write_csv(root / "two" / "d.csv", [["2026-11-24T10:00:00Z", "", "rcs", "7500", "in", "+919812345679"]])
    (root / "two" / "e.md").write_text("the glob does not match it\n")
    duck, sp = tmp_path / "duckdb", tmp_path / "spark"
    run(RunOptions((str(root / "one"), f"{root}/two/*.[cp]*"), duck))
    uris = (f"file://{root}/one", f"file://{root}/two/*.[cp]*")
    run(RunOptions(uris, sp, engine="spark"))
    _assert_same(duck, sp, "file://")
    con = duckdb.connect()
    paths = [
        p for (p,) in con.execute(f"SELECT path FROM read_parquet('{sp}/extracts/inputs.parquet')").fetchall()
    ]
    expected = [
        f"file://{root}/{name}" for name in ("one/a.csv", "one/deeper/b.csv", "two/c.parquet", "two/d.csv")
    ]
    assert sorted(paths) == expected
    quarantined = con.execute(
        f"SELECT file, line FROM read_parquet('{sp}/extracts/quarantine.parquet')"
    ).fetchall()
    assert (f"file://{root}/one/deeper/b.csv", 3) in quarantined  # named by the URI the user gave
    assert all(file.startswith(f"file://{root}/") for file, _ in quarantined)


def test_a_uri_naming_nothing_exits_66(spark, tmp_path):
    from click.testing import CliRunner

    from reporter.cli import cli

    for uri, said in (
        (f"file://{tmp_path}/none", "no such file or folder"),
        (f"file://{tmp_path}/*.csv", "no files match"),
    ):
        result = CliRunner().invoke(cli, ["run", uri, "--out", str(tmp_path / "o"), "--engine", "spark"])
        assert (result.exit_code, result.stderr) == (66, f"reporter: {uri}: {said}\n")


def test_a_jvm_failure_is_named_by_its_innermost_exception():
    from reporter.spark.session import failure_line as _first_line

    message = (
        "An error occurred while calling o85.collectToPython.\n"
        ": org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 0.0 failed"
        " 1 times, most recent failure: Lost task 0.0 (TID 0) (executor driver): java.io.IOException:"
        ' Cannot run program "./env/bin/python": error=2, No such file or directory\n\tat x.y(Z.java:1)'
    )
    assert _first_line(RuntimeError(message)) == (
        'java.io.IOException: Cannot run program "./env/bin/python": error=2, No such file or directory'
    )
    python = "An error occurred\n: org.apache.spark.SparkException: Job aborted\nValueError: bad value"
    assert _first_line(RuntimeError(python)) == "ValueError: bad value"
