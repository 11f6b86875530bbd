"""`reporter ingest` as one library call: read, reconcile, write the extracts and the manifest."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from reporter import privacy
from reporter.config import load_config
from reporter.engine import connect, memory_limit, spill_folder
from reporter.errors import MemoryLimitError, printable
from reporter.extracts import manifest, register_files, write_ingest_extracts, write_manifest
from reporter.ingest.pipeline import IngestOptions, IngestResult, ingest


def run_ingest(
    inputs: list[str],
    out: Path,
    config_path: Path | None = None,
    region: str | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
    limit: str | None = None,
) -> IngestResult:
    """`limit` (--memory-limit) beats the config's memory_limit; DuckDB spills beside `out` past it."""
    started = time.monotonic()
    config = load_config(config_path)
    options = IngestOptions(config, region)
    with spill_folder(out) as spill:
        con = connect(memory_limit=memory_limit(limit or config.memory_limit), temp_directory=spill)
        try:
            result = ingest(con, inputs, options, progress)
            register_files(con, result)
            write_ingest_extracts(con, out, privacy.hmac_key_from_env())
            timings = {"seconds": round(time.monotonic() - started, 3)}
            write_manifest(out / "manifest.json", manifest(result, {"timings": timings}))
        except duckdb.OutOfMemoryException as exc:
            first = str(exc).splitlines()[0]
            raise MemoryLimitError(
                f"out of memory under memory_limit {limit or config.memory_limit}: {first}"
            ) from exc
        finally:
            con.close()
    return result


def reconciliation_table(result: IngestResult) -> str:
    """The reconciliation per file and in total, tab-separated with a header (what --verbose prints)."""
    lines = ["file\tformat\trows_read\taccepted\tquarantined\tunique\tduplicates"]
    for f in result.files:
        fmt = f.format + (" (whole file: " + f.whole_file + ")" if f.whole_file else "")
        lines.append(
            f"{printable(f.path)}\t{fmt}\t{f.rows_read}\t{f.accepted}\t{f.quarantined}\t{f.unique}\t{f.duplicates}"
        )
    t = result.totals()
    lines.append(
        f"total\t\t{t['rows_read']}\t{t['accepted']}\t{t['quarantined']}\t{t['unique']}\t{t['duplicates']}"
    )
    lines.extend(f"not read: {printable(f.path)}: {printable(f.problem)}" for f in result.findings)
    return "\n".join(lines)
