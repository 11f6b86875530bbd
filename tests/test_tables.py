"""Step handles: the tables a step hands on are checked at the hand-off, and become the extracts."""

from __future__ import annotations

import duckdb
import pytest

from reporter.errors import ReporterError
from reporter.run import RunOptions, run
from reporter.tables import Tables
from tests.conftest import DATA


def test_a_missing_table_fails_at_the_hand_off_naming_it():
    con = duckdb.connect()
    con.execute("CREATE TABLE made (x INTEGER)")
    con.execute("CREATE VIEW shown AS SELECT 1")
    handle = Tables("demo", ("made", "shown", "forgotten"), internal=("shown",))
    with pytest.raises(ReporterError, match="the demo step left no forgotten"):
        handle.on(con)
    assert Tables("demo", ("made", "shown")).on(con).creates == ("made", "shown")
    assert handle.extracts == ("made", "forgotten")


def test_a_run_writes_each_handed_extract_once(tmp_path):
    run(RunOptions((str(DATA / "bom.csv"),), tmp_path))
    written = sorted(p.name for p in (tmp_path / "extracts").glob("*.parquet"))
    assert written == [
        "by_carrier.parquet",
        "by_channel_region_class.parquet",
        "by_code.parquet",
        "daily.parquet",
        "daily_codes.parquet",
        "delivery_times.parquet",
        "event_counts.parquet",
        "inputs.parquet",
        "message_counts.parquet",
        "quarantine.parquet",
        "status_code_rows.parquet",
        "status_codes.parquet",
    ]
