"""Outcomes in buckets and in passes (inputs past the memory limit): the same extracts as one build."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from reporter import outcomes
from reporter import run as run_module
from reporter.buckets import bucket_count
from reporter.generate import generate
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


def test_small_extracts_are_the_same_bytes(runs):
    whole, bucketed = digests(runs["whole"]), digests(runs["bucketed"])
    small = {k: v for k, v in whole.items() if not k.startswith("extracts/messages/")}
    assert small and small == {k: v for k, v in bucketed.items() if k in small}


def test_messages_are_the_same_rows_one_file_per_bucket_and_date(runs):
    con = duckdb.connect()
    whole = runs["whole"] / "extracts" / "messages"
    bucketed = runs["bucketed"] / "extracts" / "messages"
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


def test_bucketed_reruns_are_byte_identical(runs):
    assert digests(runs["bucketed"]) == digests(runs["again"])
