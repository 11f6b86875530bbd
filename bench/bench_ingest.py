"""Ingest speed against a bare DuckDB read of the same file, in the same run.

    python bench/bench_ingest.py [--events 10000000] [--rounds 3]

Inputs are generated once into bench/cache/ (git-ignored). For each format, every round times
(a) DuckDB reading the file into a table with its own auto-detection (the bare engine), and
(b) reporter's ingest of the same file into canonical events + quarantine, reconciled and
deduplicated (in memory; writing extracts is timed separately). The machine is shared and noisy:
the figure that counts is the ratio within a round, bare / ingest (1.0 = as fast as the engine).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from reporter.engine import connect, quote_literal
from reporter.extracts import register_files, write_ingest_extracts
from reporter.generate import generate
from reporter.ingest import ingest

CACHE = Path(__file__).resolve().parent / "cache"
FORMATS = ("csv", "parquet", "ndjson", "webhook")
BARE = {
    "csv": "read_csv({})",
    "parquet": "read_parquet({})",
    "ndjson": "read_json({}, format = 'newline_delimited')",
    "webhook": "read_json({}, format = 'newline_delimited')",
}


def inputs(events: int) -> dict[str, list[Path]]:
    found = {}
    for fmt in FORMATS:
        folder = CACHE / f"{fmt}-{events}"
        if not (folder / ".done").exists():
            print(f"generating {events:,} {fmt} events into {folder} ...", flush=True)
            generate(folder, events, fmt, seed=1, days=1)
            (folder / ".done").touch()
        found[fmt] = sorted(p for p in folder.rglob("events*") if p.is_file())
    return found


def bare(files: list[Path], fmt: str) -> float:
    con = connect()
    start = time.perf_counter()
    for i, path in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {BARE[fmt].format(quote_literal(str(path)))}")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def ours(files: list[Path], out: Path) -> tuple[float, float, int]:
    con = connect()
    start = time.perf_counter()
    result = ingest(con, [str(p) for p in files])
    read = time.perf_counter() - start
    register_files(con, result)
    write_ingest_extracts(con, out, None)
    written = time.perf_counter() - start
    con.close()
    return read, written, result.totals()["rows_read"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    files = inputs(args.events)
    header = ("format", "bare s", "ingest s", "+write s", "ingest ev/s", "bare/ingest")
    print("\n{:8} {:>8} {:>9} {:>9} {:>12} {:>12}".format(*header))
    for fmt in args.formats.split(","):
        rows = []
        for _ in range(args.rounds):
            b = bare(files[fmt], fmt)
            read, written, events = ours(files[fmt], CACHE / "out" / fmt)
            rows.append((b, read, written, events))
        b, read, written, events = min(rows, key=lambda r: r[1])
        ratio = statistics.median(r[0] / r[1] for r in rows)
        print(f"{fmt:8} {b:8.2f} {read:9.2f} {written:9.2f} {events / read:12,.0f} {ratio:12.2f}", flush=True)


if __name__ == "__main__":
    main()
