"""`reporter run` end to end on sample_logs: the contract's files, the warehouse, the named queries."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from reporter.cli import cli
from reporter.queries import load_queries
from tests.conftest import ROOT
from tests.test_sample_logs import SAMPLE_EVENTS

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
CONTRACT = [
    "report.html",
    "manifest.json",
    "warehouse.duckdb",
    "extracts/by_channel_region_class.parquet",
    "extracts/by_code.parquet",
    "extracts/daily.parquet",
    "extracts/quarantine.parquet",
    "extracts/status_codes.parquet",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    result = CliRunner().invoke(cli, ["run", str(ROOT / "sample_logs"), "--out", str(out)])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", ""), result.stderr
    return out


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_run_writes_every_file_of_the_contract(run_dir):
    for name in CONTRACT:
        assert (run_dir / name).is_file(), name
    days = sorted(p.name for p in (run_dir / "extracts" / "messages").iterdir())
    # The incident sample spans 2026-11-18 to 2026-11-25; the other samples 2026-11-23 to 2026-11-25.
    assert days == [f"date=2026-11-{d}" for d in range(18, 26)]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["reconciliation"]["balanced"] is True
    assert manifest["reconciliation"]["accepted"] == SAMPLE_EVENTS


def test_messages_extract_agrees_with_the_breakdown(run_dir):
    messages = pl.read_parquet(run_dir / "extracts" / "messages" / "**" / "*.parquet", hive_partitioning=True)
    cells = pl.read_parquet(run_dir / "extracts" / "by_channel_region_class.parquet")
    assert messages.height == cells["messages"].sum()
    assert messages["events"].sum() == cells["events"].sum() == SAMPLE_EVENTS
    assert messages["destination"].str.contains(r"^\+\d{1,3}\*+\d{3}$|^\*\*\*@|^\*").all()


def test_message_counts_count_the_messages_extract(run_dir):
    # Counted independently from the messages extract, on every key message_counts groups by.
    keys = ["date", "channel", "region", "status_code", "sender", "destination_country"]
    messages = pl.read_parquet(run_dir / "extracts" / "messages" / "**" / "*.parquet", hive_partitioning=True)
    expected = messages.group_by(keys).len("messages").sort(keys, nulls_last=True)
    counts = pl.read_parquet(run_dir / "extracts" / "message_counts.parquet")
    got = counts.group_by(keys).agg(pl.col("messages").sum()).sort(keys, nulls_last=True)
    assert got.select(keys).equals(expected.select(keys))
    assert got["messages"].to_list() == expected["messages"].cast(pl.Int64).to_list()
    assert counts["messages"].sum() == messages.height


def test_a_folder_from_before_message_counts_gets_it_from_reporter_warehouse(run_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    (old / "extracts" / "message_counts.parquet").unlink()
    assert invoke("warehouse", str(old)).exit_code == 0
    keys = ["date", "hour", "channel", "region", "status_code", "sender", "destination_country"]
    rebuilt = pl.read_parquet(old / "extracts" / "message_counts.parquet").sort(keys, nulls_last=True)
    original = pl.read_parquet(run_dir / "extracts" / "message_counts.parquet").sort(keys, nulls_last=True)
    assert rebuilt.equals(original)  # sample_logs run in UTC, the zone a backfill cuts hours in
    for name in ("channel_failure_rate", "hourly"):
        before = invoke("query", name, "--warehouse", str(run_dir / "warehouse.duckdb"), "--format", "csv")
        after = invoke("query", name, "--warehouse", str(old / "warehouse.duckdb"), "--format", "csv")
        assert (after.exit_code, after.stdout) == (0, before.stdout)


def test_duckdb_cli_opens_the_warehouse_from_another_folder(run_dir, tmp_path):
    if not DUCKDB_CLI.exists():
        pytest.skip("duckdb CLI not installed in this environment (make test installs duckdb-cli)")
    out = subprocess.run(
        [
            str(DUCKDB_CLI),
            str(run_dir / "warehouse.duckdb"),
            "-csv",
            "-c",
            "SELECT sum(messages) FROM by_code",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    total = int(out.stdout.splitlines()[1])
    assert total == pl.read_parquet(run_dir / "extracts" / "by_code.parquet")["messages"].sum()


def test_a_moved_run_is_repaired_by_reporter_warehouse(run_dir, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(run_dir, moved)
    broken = shutil.move(str(run_dir), str(tmp_path / "gone"))  # the old paths no longer exist
    try:
        failed = invoke(
            "sql", "SELECT count(*) FROM messages", "--warehouse", str(moved / "warehouse.duckdb")
        )
        assert failed.exit_code == 65
        assert invoke("warehouse", str(moved)).exit_code == 0
        fixed = invoke(
            "sql",
            "SELECT count(*) AS n FROM messages",
            "--warehouse",
            str(moved / "warehouse.duckdb"),
            "--format",
            "csv",
        )
        assert fixed.exit_code == 0
        assert int(fixed.stdout.splitlines()[1]) > 0
    finally:
        shutil.move(broken, str(run_dir))


def test_every_named_query_is_documented_and_runs_on_the_warehouse(run_dir):
    queries = load_queries()
    assert len(queries) >= 11
    for name, q in queries.items():
        assert q.title and q.description, name
        for param, doc in q.params.items():
            assert doc.strip(), (name, param)
        result = invoke("query", name, "--warehouse", str(run_dir / "warehouse.duckdb"), "--format", "json")
        assert result.exit_code == 0, (name, result.stderr)
        assert isinstance(json.loads(result.stdout), list)


def test_query_list_and_params(run_dir):
    listing = invoke("query", "--list")
    assert listing.exit_code == 0
    assert "top_failures\tTop failure codes per channel\t" in listing.stdout
    wh = str(run_dir / "warehouse.duckdb")
    one = invoke("query", "top_failures", "--param", "limit=1", "--warehouse", wh, "--format", "json")
    rows = json.loads(one.stdout)
    assert len(rows) == len({r["channel"] for r in rows})  # one code per channel
    bad = invoke("query", "top_failures", "--param", "colour=red", "--warehouse", wh)
    assert bad.exit_code == 64
    assert bad.stderr.startswith("reporter: query top_failures has no parameter 'colour'")


def test_csv_output_defuses_formulas_unless_raw(run_dir):
    wh = str(run_dir / "warehouse.duckdb")
    statement = "SELECT '=HYPERLINK(1)' AS a, '+1' AS b, 'plain' AS c, 7 AS n"
    safe = list(
        csv.reader(io.StringIO(invoke("sql", statement, "--warehouse", wh, "--format", "csv").stdout))
    )
    assert safe[1] == ["'=HYPERLINK(1)", "'+1", "plain", "7"]
    raw = list(
        csv.reader(
            io.StringIO(invoke("sql", statement, "--warehouse", wh, "--format", "csv", "--raw").stdout)
        )
    )
    assert raw[1] == ["=HYPERLINK(1)", "+1", "plain", "7"]


def test_sql_is_read_only(run_dir):
    wh = str(run_dir / "warehouse.duckdb")
    result = invoke("sql", "DROP VIEW messages", "--warehouse", wh)
    assert result.exit_code == 64
    assert result.stderr == "reporter: reporter sql runs exactly one SELECT statement\n"
    missing = invoke("sql", "SELECT 1", "--warehouse", str(run_dir / "nope.duckdb"))
    assert missing.exit_code == 66


def test_run_with_a_period(tmp_path):
    out = tmp_path / "r"
    result = invoke(
        "run", str(ROOT / "sample_logs"), "--out", str(out), "--start", "2026-11-24", "--end", "2026-11-24"
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (out / "extracts" / "messages").iterdir()) == ["date=2026-11-24"]
    daily = pl.read_parquet(out / "extracts" / "daily.parquet")
    assert {str(d) for d in daily["date"].to_list()} == {"2026-11-24"}


def test_the_same_inputs_give_byte_identical_extracts(run_dir, tmp_path):
    import hashlib

    again = tmp_path / "again"
    assert invoke("run", str(ROOT / "sample_logs"), "--out", str(again)).exit_code == 0

    def digests(folder: Path) -> dict[str, str]:
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "extracts").rglob("*.parquet"))
        }

    first, second = digests(run_dir), digests(again)
    assert len(first) >= 11
    assert first == second


def test_a_tiny_memory_limit_gives_the_same_extracts(tmp_path):
    """DuckDB spills past memory_limit into a folder beside the output; the results must not change."""
    from reporter.generate import generate
    from reporter.run import RunOptions, run

    generate(tmp_path / "in", 200_000, "parquet", seed=9, days=2)
    free, tight = tmp_path / "free", tmp_path / "tight"
    run(RunOptions((str(tmp_path / "in"),), free))
    run(RunOptions((str(tmp_path / "in"),), tight, memory_limit="128MB"))

    def digests(folder: Path) -> dict[str, str]:
        import hashlib

        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "extracts").rglob("*.parquet"))
        }

    assert digests(free) == digests(tight)
    assert not [p for p in tmp_path.iterdir() if ".spill." in p.name]  # the spill folder is removed


def test_the_sample_incident_is_there_to_find(run_dir):
    """sample_logs' incident (7203 for AT&T's US SMS on 2026-11-25) leads the comparison and the codes."""
    wh = str(run_dir / "warehouse.duckdb")
    rows = json.loads(invoke("query", "comparison", "--warehouse", wh, "--format", "json").stdout)
    # Impact: failures above what the cell's baseline rate predicts for its messages.
    worst = max(rows, key=lambda r: r["failures"] - (r["baseline_rate"] or 0) * r["messages"])
    assert (worst["channel"], worst["region"]) == ("sms", "us")
    codes = pl.read_parquet(run_dir / "extracts" / "daily_codes.parquet")
    last_day = codes.filter(pl.col("date") == pl.date(2026, 11, 25)).sort("messages", descending=True)
    assert last_day.select("channel", "region", "status_code").row(0) == ("sms", "us", 7203)
    carriers = json.loads(invoke("query", "carriers", "--param", "start=2026-11-25", "--warehouse", wh,
                                 "--format", "json").stdout)  # fmt: skip
    assert (carriers[0]["channel"], carriers[0]["destination_country"], carriers[0]["carrier"]) == (
        "sms",
        "US",
        "AT&T",
    )


def test_run_returns_what_it_did_and_nightly_and_the_cli_read_it(tmp_path):
    import datetime as dt

    from reporter.ingest import IngestResult
    from reporter.outcomes import OutcomeCounts
    from reporter.run import RunOptions, RunResult, run
    from reporter.warehouse import WarehouseState

    log = tmp_path / "log.csv"
    log.write_text(
        "event_time,message_id,channel,status_code,region\n"
        "2026-11-23T10:00:00Z,m1,sms,7501,eu\n2026-11-23T10:00:05Z,m1,sms,7500,eu\n"
        "2026-11-23T10:00:00Z,m2,sms,7501,eu\n2026-11-23T10:00:05Z,m2,sms,7203,eu\n"
        "2026-11-24T10:00:00Z,m3,sms,7501,eu\nnot a time,m4,sms,7501,eu\n"
    )
    config = tmp_path / "reporter.toml"
    config.write_text("[[alerts]]\nname = 'high'\nfailure_rate_above = 0.2\nmin_messages = 2\n")
    day = dt.date(2026, 11, 23)
    result = run(RunOptions((str(log),), tmp_path / "out", config, start=day, end=day))
    assert isinstance(result, RunResult) and isinstance(result.ingest, IngestResult)
    assert result.ingest.totals() == {
        "rows_read": 6, "accepted": 5, "quarantined": 1, "unique": 5, "duplicates": 0
    }  # fmt: skip
    # 5 events; m1 and m2 start on the 23rd, m3 on the 24th is outside the period.
    assert result.outcomes == OutcomeCounts(events=5, messages=2, messages_outside_period=1)
    assert [a.rule for a in result.alerts] == ["high"]  # sms in eu: 1 failure in 2 messages, 50%
    assert "sms in eu" in result.alerts[0].text
    assert result.warehouse is WarehouseState.WRITTEN
    assert {"ingest", "outcomes", "report", "warehouse"} <= set(result.steps)
    assert result.seconds >= sum(result.steps.values()) - 0.01
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["alerts"] == [a.text for a in result.alerts]

    bare = run(RunOptions((str(log),), tmp_path / "bare", warehouse=False))
    assert bare.warehouse is WarehouseState.NOT_BUILT and bare.alerts == ()
    assert not (tmp_path / "bare" / "warehouse.duckdb").exists()


def test_fields_no_message_reads_still_tell_duplicates_apart(tmp_path):
    """A run drops the fields no message carries (event_id, status_description...) from memory after
    the duplicate check, never before: events that differ only there stay two events."""
    from reporter.run import RunOptions, run

    log = tmp_path / "log.csv"
    log.write_text(
        "event_time,message_id,channel,status_code,region,event_id,status_description,carrier\n"
        "2026-11-23T10:00:00Z,m1,sms,7501,eu,e1,Submitted,Vodafone\n"
        "2026-11-23T10:00:00Z,m1,sms,7501,eu,e2,Submitted,Vodafone\n"  # another event_id: kept
        "2026-11-23T10:00:00Z,m1,sms,7501,eu,e1,Submitted,Vodafone\n"  # line 2 again: a duplicate
        "2026-11-23T10:00:00Z,m1,sms,7501,eu,e1,submitted,Vodafone\n"  # another description: kept
        "2026-11-23T10:00:09Z,m1,sms,7500,eu,e3,Delivered,Vodafone\n"
    )
    result = run(RunOptions((str(log),), tmp_path / "out", warehouse=False))
    assert (result.ingest.totals()["unique"], result.ingest.totals()["duplicates"]) == (4, 1)
    messages = pl.read_parquet(tmp_path / "out" / "extracts" / "messages" / "*" / "*.parquet")
    # The carrier is a message's field, read after the check: still there.
    assert messages.select("events", "status_code", "carrier").rows() == [(4, 7500, "Vodafone")]


def test_a_run_does_not_import_pandas(tmp_path):
    """pyarrow imports pandas (1.4 s) whenever it builds an Arrow table from Python lists, if pandas
    is installed, as the `spark` extra installs it; a run on the sample logs never needs it."""
    pytest.importorskip("pandas")
    code = (
        "import sys; from pathlib import Path; from reporter.run import RunOptions, run; "
        f"run(RunOptions(({str(ROOT / 'sample_logs')!r},), Path({str(tmp_path / 'out')!r}))); "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("buckets", [1, 2])
def test_the_heavy_part_loads_neither_pyarrow_nor_matplotlib(tmp_path, buckets):
    """The heavy part (ingest, outcomes, the messages extract) runs at the memory limit, so every
    megabyte the process holds beside DuckDB is peak memory: pyarrow (38 MB resident) and matplotlib
    (41 MB) are loaded only by the small part after it (the named queries' frames, the charts), and
    not by the command's imports either. The NDJSON file gives a key twice (its check streams rows)."""
    repeated = tmp_path / "repeated.ndjson"
    row = '"event_time": "2026-11-23T10:00:00Z", "status_code": 7500, "message_id": "r1"'
    repeated.write_text(f'{{{row}, "channel": "sms", "channel": "email"}}\n{{{row}, "channel": "sms"}}\n')
    code = f"""
import sys
from pathlib import Path
import reporter.cli  # the command's own imports count too
from reporter import run as run_module
loaded = []
finish = run_module._finish
def noting(*args, **kwargs):
    loaded.extend(sorted({{"pyarrow", "matplotlib"}} & sys.modules.keys()))
    return finish(*args, **kwargs)
run_module._finish = noting
run_module.bucket_count = lambda events, limit: {buckets}
inputs = ({str(ROOT / "sample_logs")!r}, {str(repeated)!r})
options = run_module.RunOptions(inputs, Path({str(tmp_path / "out")!r}))
result = run_module.run(options)
print(result.outcomes.buckets, loaded, sorted({{"pyarrow", "matplotlib"}} & sys.modules.keys()))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == f"{buckets} [] ['matplotlib', 'pyarrow']"


def test_the_manifest_lists_each_inputs_sha256(run_dir):
    """Parquet, JSON and compressed files are hashed on a thread while DuckDB reads them; CSV while
    its lines are counted. Either way the manifest has the sha256 of the file's bytes."""
    import hashlib

    listed = {i["path"]: i["sha256"] for i in json.loads((run_dir / "manifest.json").read_text())["inputs"]}
    kinds = {".parquet", ".json", ".zst", ".gz", ".csv", ".ndjson"}
    assert {Path(p).suffix for p in listed} == kinds
    for path, sha256 in listed.items():
        assert sha256 == hashlib.sha256(Path(path).read_bytes()).hexdigest(), path


def test_an_input_that_cannot_be_hashed_to_its_end_stops_the_run_in_one_line(tmp_path, monkeypatch):
    """Opened and read, then an I/O error while it is hashed (on its thread): its rows are staged, so
    the run stops (74, an I/O error) with nothing under OUT, rather than report rows of unknown bytes."""
    import errno

    def failing(path: Path) -> str:
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr("reporter.ingest.sources.digest", failing)
    log = ROOT / "sample_logs" / "events-2026-11-23-to-25.parquet"
    result = invoke("run", str(log), "--out", str(tmp_path / "out"))
    assert result.exit_code == 74
    assert result.stderr == f"reporter: {log}: cannot read: Input/output error\n"
    assert not (tmp_path / "out").exists()
