"""Outcomes in buckets and in passes (inputs past the memory limit): the same extracts as one build."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from reporter import outcomes
from reporter import run as run_module
from reporter.buckets import bucket_count
from reporter.engine import copy_buckets
from reporter.errors import StorageError
from reporter.generate import generate
from reporter.ingest import pipeline
from reporter.ingest.bucketed import ingest_in_buckets, parquet_rows
from reporter.run import RunOptions, run


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "extracts").rglob("*.parquet"))
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same input built at once, with the messages grouped in 5 passes, in 3 buckets, and in 3
    buckets again."""
    root = tmp_path_factory.mktemp("buckets")
    generate(root / "in", 60_000, "csv", seed=4, days=2, files=2)
    lone = [f"2026-03-0{1 + i % 2}T0{i % 10}:00:00Z,sms,{7500 + i % 3},us,+1555000{i:04d}" for i in range(40)]
    (root / "in" / "without-ids.csv").write_text(
        "\n".join(["event_time,channel,status_code,region,destination", *lone])
    )
    outs = {name: root / name for name in ("whole", "passes", "bucketed", "again")}
    patch = pytest.MonkeyPatch()
    patch.setenv("REPORTER_HMAC_KEY", "bucket key")
    run(RunOptions((str(root / "in"),), outs["whole"]))
    with pytest.MonkeyPatch.context() as passes:
        passes.setattr(outcomes, "MESSAGE_PASS_EVENTS", 15_000)
        run(RunOptions((str(root / "in"),), outs["passes"]))
    patch.setattr(run_module, "bucket_count", lambda events, limit: 3)
    run(RunOptions((str(root / "in"),), outs["bucketed"]))
    run(RunOptions((str(root / "in"),), outs["again"]))
    patch.undo()
    return outs


def test_bucket_count_follows_the_memory_limit():
    assert bucket_count(20_000_000, "12000MB") == 1  # fits: built at once, nothing written between
    assert bucket_count(100_000_000, "3000MB") == 20  # 5M events per bucket at 3 GB
    assert bucket_count(5_000_001, "3000MB") == 2
    assert bucket_count(0, "3000MB") == 1


def test_bucket_files_give_back_every_value_as_written(tmp_path: Path):
    # The bucket files use Parquet's version 2 encodings (packed deltas): the row hashes span the
    # whole UBIGINT range in no order, the ordinals and times are BIGINTs and microseconds.
    con = duckdb.connect()
    con.execute("CREATE TABLE rows (bucket INTEGER, h UBIGINT, n BIGINT, t TIMESTAMPTZ, s VARCHAR)")
    edges = [
        (0, 2**64 - 1, -(2**63), "1970-01-01 00:00:00+00", ""),
        (1, 0, 2**63 - 1, "2026-11-30 23:59:59.999999+00", "é 中 😀"),
        (0, 2**63, 0, None, None),
        (1, None, None, "0001-01-01 00:00:00+00", "x" * 70_000),
    ]
    con.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?)", edges)
    con.execute(
        "INSERT INTO rows SELECT i % 3, hash(i), (i * 7919) % 1000003 - 500000, "
        "TIMESTAMPTZ '2026-11-23 00:00:00+00' + to_microseconds(i * 37 % 100000), 'msg-' || i "
        "FROM range(100000) r(i)"
    )
    assert copy_buckets(con, "FROM rows", tmp_path) == 100_004
    back = f"SELECT bucket, h, n, t, s FROM read_parquet('{tmp_path}/*/*.parquet', hive_partitioning = true)"
    for difference in (f"FROM rows EXCEPT ALL {back}", f"{back} EXCEPT ALL FROM rows"):
        assert con.execute(f"SELECT count(*) FROM ({difference})").fetchall() == [(0,)]


def test_messages_grouped_in_passes_are_the_same_bytes(runs):
    """Every extract, the messages too: a message's events all fall in one pass, and so does every
    event without a message_id (a message of its own)."""
    events, without_id = (
        duckdb.connect()
        .execute(
            "SELECT sum(events), count(*) FILTER (WHERE message_id IS NULL) "
            f"FROM '{runs['whole']}/extracts/messages/*/*.parquet'"
        )
        .fetchall()[0]
    )
    assert outcomes.message_passes(events) == 1 and -(-events // 15_000) == 5 and without_id == 40
    assert digests(runs["passes"]) == digests(runs["whole"])


@pytest.fixture(scope="module")
def parquet_runs(tmp_path_factory):
    """Parquet inputs past the limit: ingest writes the bucket files itself (reporter/ingest/
    bucketed.py). Beside the generated events, files whose figures are known by construction:
    exact copies of earlier rows, events without a message id and their copies (which must meet
    their originals in one bucket), bad rows, an empty file and a file whose types changed."""
    root = tmp_path_factory.mktemp("parquet-buckets")
    inputs = root / "in"
    generate(inputs, 60_000, "parquet", seed=5, days=2, files=2)
    con = duckdb.connect()
    first = inputs / "events-0001.parquet"
    con.execute(f"COPY (FROM '{first}' LIMIT 500) TO '{inputs / 'x-copies.parquet'}'")
    con.execute(f"COPY (FROM '{first}' LIMIT 0) TO '{inputs / 'x-empty.parquet'}'")
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(status_code AS VARCHAR) AS status_code) FROM '{first}' LIMIT 3) "
        f"TO '{inputs / 'x-retyped.parquet'}'"
    )
    rows = [  # (message_id, channel, status_code, destination)
        *[(None, "sms", 7500, f"+1555100{i:04d}") for i in range(10)],  # 10 events without an id
        *[(None, "sms", 7500, f"+1555100{i:04d}") for i in range(5)],  # 5 copies of them
        *[(f"odd-{i}", "pigeon", 7500, "+15551000000") for i in range(5)],  # unknown_channel
        *[(f"odd-{i}", "sms", None, "+15551000000") for i in range(5)],  # missing_status_code
        *[(f"odd-{i}", "sms", 7501, "+15551000000") for i in range(5)],  # 5 events of 5 messages
    ]
    # The bad rows come a month after every event: were they read for the run's as-of time, the
    # messages still waiting for a receipt would all count as past the timeout in delivery_times.
    con.execute(
        "CREATE TABLE odd (event_time TIMESTAMPTZ, message_id VARCHAR, channel VARCHAR, "
        "status_code BIGINT, region VARCHAR, destination VARCHAR)"
    )
    con.executemany(
        "INSERT INTO odd VALUES (TIMESTAMPTZ '2026-11-23 12:00:00+00' + to_days(?), ?, ?, ?, 'us', ?)",
        [
            [30 if channel == "pigeon" or code is None else 0, key, channel, code, to]
            for key, channel, code, to in rows
        ],
    )
    con.execute(f"COPY odd TO '{inputs / 'y-odd.parquet'}'")
    outs = {name: root / name for name in ("whole", "bucketed", "again")}
    staged: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REPORTER_HMAC_KEY", "bucket key")
        run(RunOptions((str(inputs),), outs["whole"]))
        patch.setattr(run_module, "bucket_count", lambda events, limit: 3)

        def noting(*args, **kwargs):
            result = ingest_in_buckets(*args, **kwargs)
            staged.append(type(result).__name__)
            return result

        patch.setattr(run_module, "ingest_in_buckets", noting)
        run(RunOptions((str(inputs),), outs["bucketed"]))
        run(RunOptions((str(inputs),), outs["again"]))
    assert staged == ["BucketedIngest", "BucketedIngest"]
    return outs


@pytest.fixture(params=["staged", "parquet"])
def built(request):
    """Buckets written from the stage tables (CSV inputs), and by ingest itself (Parquet)."""
    return request.getfixturevalue("runs" if request.param == "staged" else "parquet_runs")


def test_small_extracts_are_the_same_bytes(built):
    whole, bucketed = digests(built["whole"]), digests(built["bucketed"])
    small = {k: v for k, v in whole.items() if not k.startswith("extracts/messages/")}
    assert small and small == {k: v for k, v in bucketed.items() if k in small}


def test_messages_are_the_same_rows_one_file_per_bucket_and_date(built):
    con = duckdb.connect()
    whole = built["whole"] / "extracts" / "messages"
    bucketed = built["bucketed"] / "extracts" / "messages"
    for day in sorted(p.name for p in whole.iterdir()):
        assert sorted(p.name for p in (bucketed / day).iterdir()) == [f"data_{b}.parquet" for b in range(3)]
        one, parts = str(whole / day / "*.parquet"), str(bucketed / day / "*.parquet")
        for a, b in ((one, parts), (parts, one)):
            assert con.execute(f"SELECT count(*) FROM (FROM '{a}' EXCEPT ALL FROM '{b}')").fetchone() == (0,)
        # Each file keeps the one build's order (input order of each message's first event).
        order = con.execute(f"SELECT message_key FROM '{one}'").fetchall()
        position = {key: i for i, (key,) in enumerate(order)}
        for part in (bucketed / day).iterdir():
            keys = [position[k] for (k,) in con.execute(f"SELECT message_key FROM '{part}'").fetchall()]
            assert keys == sorted(keys)


def test_bucketed_reruns_are_byte_identical(built):
    assert digests(built["bucketed"]) == digests(built["again"])


def test_parquet_buckets_reconcile_each_file_as_built_by_hand(parquet_runs):
    """The figures of the files made by hand: copies found across files and buckets, bad rows
    quarantined with their lines, an empty and a retyped file recorded whole."""
    con = duckdb.connect()
    figures = {
        Path(path).name: rest
        for path, *rest in con.execute(
            'SELECT path, rows_read, accepted, quarantined, "unique", duplicates '
            f"FROM '{parquet_runs['bucketed']}/extracts/inputs.parquet'"
        ).fetchall()
    }
    assert figures["x-copies.parquet"] == [500, 500, 0, 0, 500]
    assert figures["x-empty.parquet"] == [0, 0, 0, 0, 0]
    assert figures["x-retyped.parquet"] == [3, 0, 3, 0, 0]
    assert figures["y-odd.parquet"] == [30, 20, 10, 15, 5]
    quarantine = parquet_runs["bucketed"] / "extracts" / "quarantine.parquet"
    quarantined = con.execute(
        f"SELECT reason, list(line ORDER BY line) FROM '{quarantine}' "
        "WHERE file LIKE '%y-odd.parquet' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert quarantined == [
        ("missing_status_code", [21, 22, 23, 24, 25]),
        ("unknown_channel", [16, 17, 18, 19, 20]),
    ]


def test_buckets_from_ingest_only_when_every_input_is_a_readable_parquet_file(tmp_path: Path):
    con = duckdb.connect()
    for i, rows in enumerate((3, 4)):
        con.execute(f"COPY (SELECT range AS n FROM range({rows})) TO '{tmp_path / f'p{i}.parquet'}'")
    (tmp_path / "a.csv").write_text("n\n1\n")
    (tmp_path / "cut.parquet").write_bytes((tmp_path / "p0.parquet").read_bytes()[:40])
    con.execute(f"COPY (SELECT 1 AS n, 2 AS file_row_number) TO '{tmp_path / 'numbered.parquet'}'")
    odd_name = tmp_path / os.fsdecode(b"not-utf8-\xff.parquet")
    odd_name.write_bytes((tmp_path / "p0.parquet").read_bytes())
    parquet = [tmp_path / "p0.parquet", tmp_path / "p1.parquet"]
    assert parquet_rows(con, parquet) == 7  # from the footers
    assert parquet_rows(con, [*parquet, tmp_path / "a.csv"]) is None  # staged as usual
    assert parquet_rows(con, [*parquet, tmp_path / "cut.parquet"]) is None  # quarantined as usual
    assert parquet_rows(con, [*parquet, odd_name]) is None  # DuckDB cannot open it: quarantined as usual
    assert parquet_rows(con, [*parquet, tmp_path / "numbered.parquet"]) is None  # its column would shadow
    assert parquet_rows(con, []) is None


def test_a_bucket_file_that_cannot_be_written_fails_the_run_and_quarantines_nothing(
    tmp_path: Path, monkeypatch
):
    """The disk under the bucket files is the run's (exit 74), never an input's fault."""
    inputs = tmp_path / "in"
    generate(inputs, 2_000, "parquet", seed=2)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setattr(pipeline, "bucket_folder", lambda folder, index: blocker)
    monkeypatch.setattr(run_module, "bucket_count", lambda events, limit: 2)
    with pytest.raises(StorageError, match=r"cannot write bucket files into .*blocker"):
        run(RunOptions((str(inputs),), tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_parquet_file_corrupt_half_way_is_quarantined_whole_as_one_build_does(tmp_path: Path, monkeypatch):
    """Its footer reads, so ingest starts writing its bucket files; its pages do not. The partial
    files are dropped, the file is recorded whole, and every extract but the messages is what the
    staged build gives."""
    inputs = tmp_path / "in"
    generate(inputs, 50_000, "parquet", seed=1, files=2)
    broken = inputs / "events-0002.parquet"
    data = bytearray(broken.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = bytes(range(256)) * 16
    broken.write_bytes(bytes(data))
    whole = run(RunOptions((str(inputs),), tmp_path / "whole"))
    staged: list[str] = []

    def noting(*args, **kwargs):
        result = ingest_in_buckets(*args, **kwargs)
        staged.append(type(result).__name__)
        return result

    monkeypatch.setattr(run_module, "ingest_in_buckets", noting)
    monkeypatch.setattr(run_module, "bucket_count", lambda events, limit: 3)
    bucketed = run(RunOptions((str(inputs),), tmp_path / "bucketed"))
    assert staged == ["BucketedIngest"]
    figures = [(Path(f.path).name, f.rows_read, f.accepted, f.whole_file) for f in bucketed.ingest.files]
    assert figures == [
        ("events-0001.parquet", 25_000, 25_000, None),
        ("events-0002.parquet", 0, 0, "unreadable_file"),
    ]
    assert figures == [(Path(f.path).name, f.rows_read, f.accepted, f.whole_file) for f in whole.ingest.files]
    small = {k: v for k, v in digests(tmp_path / "whole").items() if not k.startswith("extracts/messages/")}
    assert small == {k: v for k, v in digests(tmp_path / "bucketed").items() if k in small}
