"""Run bench/reference.sql: python bench/reference.py EVENTS.parquet CODES.parquet OUT_DIR."""

import sys
from pathlib import Path

import duckdb

events, codes, out = sys.argv[1:4]
con = duckdb.connect()
for name, value in (("events", events), ("codes", codes), ("out", out)):
    con.execute(f"SET VARIABLE {name} = ?", [value])
con.execute((Path(__file__).parent / "reference.sql").read_text())
