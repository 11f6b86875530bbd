"""The analysts' DuckDB file: views over a run's extracts, the dimension, and every named query.

Views hold absolute paths (DuckDB resolves relative ones against the reader's working directory),
so the file opens from anywhere; `reporter warehouse DIR` rebuilds it in a second after a move.
It is written in an older storage version so that the duckdb CLI of the 1.4/1.5 line opens it too.
"""

from __future__ import annotations

import re
from pathlib import Path

from reporter.engine import connect, quote_ident, quote_literal
from reporter.errors import InputError
from reporter.fsio import atomic_path
from reporter.queries import load_queries

STORAGE_VERSION = "v1.4.0"
WAREHOUSE_NAME = "warehouse.duckdb"
# view name -> files under DIR/extracts (hive partitions for the messages)
BASE_VIEWS = {
    "messages": "messages/*/*.parquet",
    "event_counts": "event_counts.parquet",
    "quarantine": "quarantine.parquet",
    "status_codes": "status_codes.parquet",
    "status_code_rows": "status_code_rows.parquet",
    "inputs": "inputs.parquet",
}
_PARAM = re.compile(r"\$[A-Za-z_]\w*")


def build_warehouse(run_dir: Path) -> Path:
    """(Re)write RUN_DIR/warehouse.duckdb with views over RUN_DIR/extracts."""
    run_dir = run_dir.resolve()
    extracts = run_dir / "extracts"
    if not (extracts / "status_codes.parquet").exists():
        raise InputError(f"{run_dir}: no extracts here (expected {extracts}/status_codes.parquet)")
    target = run_dir / WAREHOUSE_NAME
    with atomic_path(target) as tmp:
        tmp.unlink()
        con = connect()
        con.execute(
            f"ATTACH {quote_literal(str(tmp))} AS w (STORAGE_VERSION {quote_literal(STORAGE_VERSION)})"
        )
        for name, pattern in BASE_VIEWS.items():
            options = ", hive_partitioning = true" if "*" in pattern else ""
            source = quote_literal(str(extracts / pattern))
            con.execute(f"CREATE VIEW w.{quote_ident(name)} AS SELECT * FROM read_parquet({source}{options})")
        con.execute("USE w")
        for query in load_queries().values():
            # A view cannot take parameters: each is bound to NULL, i.e. its documented default.
            con.execute(f"CREATE VIEW {quote_ident(query.name)} AS {_PARAM.sub('NULL', query.sql)}")
        con.close()
    return target
