"""`reporter ingest` as one library call: read, reconcile, write the extracts and the manifest."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from reporter.config import load_config
from reporter.engine import connect
from reporter.extracts import manifest, register_files, write_ingest_extracts, write_manifest
from reporter.ingest.pipeline import IngestOptions, IngestResult, ingest


def run_ingest(
    inputs: list[str],
    out: Path,
    config_path: Path | None = None,
    region: str | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
) -> IngestResult:
    started = time.monotonic()
    options = IngestOptions(load_config(config_path), region, IngestOptions.hmac_from_env())
    con = connect()
    try:
        result = ingest(con, inputs, options, progress)
        register_files(con, result)
        write_ingest_extracts(con, out, options.hmac_key)
        timings = {"seconds": round(time.monotonic() - started, 3)}
        write_manifest(out / "manifest.json", manifest(result, {"timings": timings}))
    finally:
        con.close()
    return result
