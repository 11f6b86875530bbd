"""The analysts' DuckDB file: views over a run's extracts, the dimension, and every named query.

Views hold absolute paths (DuckDB resolves relative ones against the reader's working directory),
so the file opens from anywhere; `reporter warehouse DIR` rebuilds it in a second after a move.
It is written in an older storage version so that the duckdb CLI of the 1.4/1.5 line opens it too.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl

from reporter.codes import Dimension
from reporter.engine import connect, quote_ident, quote_literal
from reporter.errors import InputError
from reporter.fsio import atomic_path
from reporter.outcomes import build_message_counts, pipeline_sql, register_dimension
from reporter.queries import load_queries

STORAGE_VERSION = "v1.4.0"
WAREHOUSE_NAME = "warehouse.duckdb"
# view name -> files under DIR/extracts (hive partitions for the messages)
BASE_VIEWS = {
    "messages": "messages/*/*.parquet",
    "message_counts": "message_counts.parquet",
    "daily_history": "daily.parquet",
    "event_counts": "event_counts.parquet",
    "quarantine": "quarantine.parquet",
    "status_codes": "status_codes.parquet",
    "status_code_rows": "status_code_rows.parquet",
    "inputs": "inputs.parquet",
    "delivery_times": "delivery_times.parquet",
    "daily_codes_history": "daily_codes.parquet",
    "by_carrier": "by_carrier.parquet",
}
# Extracts a folder written before them may lack: their views are left out there.
OPTIONAL_VIEWS = ("delivery_times", "daily_codes_history", "by_carrier")
_PARAM = re.compile(r"\$[A-Za-z_]\w*")


class WarehouseState(enum.Enum):
    """What became of a warehouse file in a run (`reporter run`, `reporter nightly`)."""

    WRITTEN = "written"  # (re)written
    CURRENT = "current"  # its views were already these: left alone
    LOCKED = "locked"  # another process holds it open, so it was not checked (its glob views still read)
    FAILED = "failed"  # it could not be written (an OSError)
    NOT_BUILT = "not built"  # this run keeps none (nightly keeps one over every date instead)

    @property
    def refreshed(self) -> bool:
        return self in (WarehouseState.WRITTEN, WarehouseState.CURRENT)


def _write_views(target: Path, sources: dict[str, str]) -> None:
    """Write `target` atomically: one view per source (a read_parquet call), one per named query."""
    with atomic_path(target) as tmp:
        tmp.unlink()
        con = connect()
        con.execute(
            f"ATTACH {quote_literal(str(tmp))} AS w (STORAGE_VERSION {quote_literal(STORAGE_VERSION)})"
        )
        con.execute("USE w")
        for name, source in sources.items():
            con.execute(f"CREATE VIEW {quote_ident(name)} AS SELECT * FROM {source}")
        for query in load_queries().values():
            if query.name in BASE_VIEWS:  # a query named after an extract reads it: the view is the extract
                continue
            # A view cannot take parameters: each is bound to NULL, i.e. its documented default.
            con.execute(f"CREATE VIEW {quote_ident(query.name)} AS {_PARAM.sub('NULL', query.sql)}")
        con.execute("CREATE TABLE _reporter (views_sha256 VARCHAR)")
        con.execute("INSERT INTO _reporter VALUES (?)", [_views_digest(sources)])
        con.close()


def _views_digest(sources: dict[str, str]) -> str:
    text = json.dumps(sources, sort_keys=True) + "".join(q.sql for q in load_queries().values())
    return hashlib.sha256(text.encode()).hexdigest()


def _parquet(pattern: Path, hive: bool = False) -> str:
    options = ", hive_partitioning = true" if hive else ""
    return f"read_parquet({quote_literal(str(pattern))}, union_by_name = true{options})"


def _present(sources: dict[str, str], root: Path, extracts: str) -> dict[str, str]:
    """The sources but the optional ones no extracts folder (`extracts`, a glob under `root`) has."""
    missing = {n for n in OPTIONAL_VIEWS if not any(root.glob(f"{extracts}/{BASE_VIEWS[n]}"))}
    return {name: source for name, source in sources.items() if name not in missing}


def backfill_message_counts(extracts: Path) -> bool:
    """Write extracts/message_counts.parquet (and daily_codes, by_carrier) where a folder from
    before they existed lacks them.

    Derived from the folder's messages extract by the run's own SQL (outcomes.build_message_counts:
    message_groups.sql, message_counts.sql, its codes classified by code_lookup.sql against the
    folder's own dimension), with hours cut in UTC (the time zone those folders' warehouse views
    used). Returns whether it wrote message_counts.parquet.
    """
    messages = extracts / "messages" / "*" / "*.parquet"
    names = [
        n for n in ("message_counts", "daily_codes", "by_carrier") if not (extracts / f"{n}.parquet").exists()
    ]
    if not names or not any(extracts.glob("messages/*/*.parquet")):
        return False
    con = connect()
    try:
        source = f"read_parquet({quote_literal(str(messages))}, hive_partitioning = true)"
        con.execute(f"CREATE TEMP VIEW messages AS SELECT * FROM {source}")
        # The names the outcomes SQL reads: message_rows (by_carrier), message_base (the count
        # check) and event_groups (code_lookup's (channel, code) pairs) are the messages here.
        for view in ("message_rows", "message_base", "event_groups"):
            con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM messages")
        register_dimension(con, _folder_dimension(extracts))
        con.execute(f"CREATE TEMP TABLE code_lookup AS {pipeline_sql('code_lookup')}")
        build_message_counts(con)
        queries = {
            "message_counts": "SELECT * FROM message_counts",
            "daily_codes": _PARAM.sub("NULL", load_queries()["daily_codes"].sql),
            "by_carrier": pipeline_sql("by_carrier"),
        }
        for name in names:
            with atomic_path(extracts / f"{name}.parquet") as tmp:
                con.execute(f"COPY ({queries[name]}) TO {quote_literal(str(tmp))} (FORMAT parquet)")
    finally:
        con.close()
    return "message_counts" in names


def _folder_dimension(extracts: Path) -> Dimension:
    """The code dimension a run folder was classified with (its status_codes extracts)."""
    codes = pl.read_parquet(extracts / "status_codes.parquet")
    rows = extracts / "status_code_rows.parquet"
    return Dimension(codes, pl.read_parquet(rows) if rows.exists() else codes.clear(), str(extracts))


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing warehouse file (for `reporter query` and `reporter sql`)."""
    if not path.exists():
        raise InputError(f"{path}: no warehouse here (run 'reporter run ... --out DIR' first)")
    return connect(path, read_only=True)


def build_warehouse(run_dir: Path) -> Path:
    """(Re)write RUN_DIR/warehouse.duckdb with views over RUN_DIR/extracts."""
    run_dir = run_dir.resolve()
    extracts = run_dir / "extracts"
    if not (extracts / "status_codes.parquet").exists():
        raise InputError(f"{run_dir}: no extracts here (expected {extracts}/status_codes.parquet)")
    backfill_message_counts(extracts)
    sources = {name: _parquet(extracts / pattern, "*" in pattern) for name, pattern in BASE_VIEWS.items()}
    sources = _present(sources, run_dir, "extracts")
    _write_views(run_dir / WAREHOUSE_NAME, sources)
    return run_dir / WAREHOUSE_NAME


def build_nightly_warehouse(reports: Path) -> WarehouseState:
    """reports/warehouse.duckdb over every dated folder; rewritten only when its views change.

    The views read globs, so a new date needs no rewrite; an analyst holding the file open keeps
    the old copy (the rewrite is a rename). LOCKED when another process holds the file and it could
    not be checked (its glob views still see the new date).
    """
    dates = reports / "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]" / "extracts"
    latest = max(p for p in reports.glob("[0-9]*-*-*") if p.is_dir())
    for folder in reports.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"):
        backfill_message_counts(folder / "extracts")
    dimension = reports / "dimension"
    dimension.mkdir(exist_ok=True)
    for name in ("status_codes", "status_code_rows"):
        shutil.copyfile(latest / "extracts" / f"{name}.parquet", dimension / f".{name}.parquet.tmp")
        os.replace(dimension / f".{name}.parquet.tmp", dimension / f"{name}.parquet")
    sources = {
        "messages": _parquet(dates / "messages" / "*" / "*.parquet", hive=True),
        "message_counts": _parquet(dates / "message_counts.parquet"),
        "event_counts": _parquet(dates / "event_counts.parquet"),
        "daily_history": _parquet(dates / "daily.parquet"),
        "quarantine": _parquet(dates / "quarantine.parquet"),
        "inputs": _parquet(dates / "inputs.parquet"),
        "delivery_times": _parquet(dates / "delivery_times.parquet"),
        "daily_codes_history": _parquet(dates / "daily_codes.parquet"),
        "by_carrier": _parquet(dates / "by_carrier.parquet"),
        "status_codes": _parquet(dimension / "status_codes.parquet"),
        "status_code_rows": _parquet(dimension / "status_code_rows.parquet"),
    }
    sources = _present(sources, reports, f"{dates.parent.name}/extracts")
    target = reports / WAREHOUSE_NAME
    if target.exists():
        stored = _stored_digest(target)
        if stored is None:
            return WarehouseState.LOCKED
        if stored == _views_digest(sources):
            return WarehouseState.CURRENT
    _write_views(target, sources)
    return WarehouseState.WRITTEN


def _stored_digest(target: Path) -> str | None:
    """The views' digest stored in the file; None when the file cannot be opened (locked)."""
    try:
        con = connect(target, read_only=True)
    except duckdb.Error:
        return None
    try:
        rows = con.execute("SELECT views_sha256 FROM _reporter").fetchall()
    except duckdb.Error:
        return ""
    finally:
        con.close()
    return str(rows[0][0]) if rows else ""
