"""Peak memory of reporter on hostile input, under --memory-limit (issue 14's bound).

    python bench/bench_memory.py [--empty-lines 5000000] [--malformed 1000000] [--limit 1GB] [--bound-gb 2]

Two inputs are streamed to bench/cache/memory/ (never held in memory): a gzipped CSV of a header, one
good row, then EMPTY_LINES empty lines and a last good row; and a gzipped CSV of MALFORMED rows with a
field too many between two good rows. Each is read by `reporter ingest` and `reporter run` in a child
process under --memory-limit; its peak RSS (getrusage of the children, as the kernel counts it) must
stay under --bound-gb, and every good row must be kept. Exits 1 when a bound is broken.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / "cache" / "memory"
HEADER = b"event_time,message_id,channel,status_code\n"
GOOD = b"2026-11-23T10:00:00Z,m%d,sms,7500\n"


def write_inputs(empty_lines: int, malformed: int) -> list[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    empty, bad = CACHE / f"empty-{empty_lines}.csv.gz", CACHE / f"malformed-{malformed}.csv.gz"
    if not empty.exists():
        with gzip.open(empty, "wb", compresslevel=1) as f:
            f.write(HEADER + GOOD % 1)
            for start in range(0, empty_lines, 1_000_000):
                f.write(b"\n" * min(1_000_000, empty_lines - start))
            f.write(GOOD % 2)
    if not bad.exists():
        row = b"2026-11-23T10:00:00Z,x,sms,7500,extra\n"
        with gzip.open(bad, "wb", compresslevel=1) as f:
            f.write(HEADER + GOOD % 1)
            for start in range(0, malformed, 10_000):
                f.write(row * min(10_000, malformed - start))
            f.write(GOOD % 2)
    return [empty, bad]


def peak(command: list[str]) -> tuple[int, float, int]:
    """(exit code, seconds, peak RSS in bytes) of `command`, measured in a fresh wrapper process."""
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "code = subprocess.run(sys.argv[1:]).returncode; "
        "print(code, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    code, seconds, rss = out.stdout.split()
    return int(code), float(seconds), int(rss)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--empty-lines", type=int, default=5_000_000)
    parser.add_argument("--malformed", type=int, default=1_000_000)
    parser.add_argument("--limit", default="1GB")
    parser.add_argument("--bound-gb", type=float, default=2.0)
    args = parser.parse_args()
    inputs = write_inputs(args.empty_lines, args.malformed)
    broken = 0
    print(f"{'input':32} {'command':8} {'exit':>4} {'s':>7} {'peak RSS MiB':>13} {'kept':>5}")
    for path in inputs:
        for command in ("ingest", "run"):
            with tempfile.TemporaryDirectory(dir=CACHE) as out:
                argv = ["reporter", command, str(path), "--out", out, "--memory-limit", args.limit]
                code, seconds, rss = peak([sys.executable, "-m", "reporter", *argv[1:]])
                totals = json.loads((Path(out) / "manifest.json").read_text())["reconciliation"]
            ok = code == 0 and totals["accepted"] == 2 and rss < args.bound_gb * 1e9
            broken += not ok
            mib, kept = rss / 2**20, totals["accepted"]
            print(f"{path.name:32} {command:8} {code:>4} {seconds:>7.1f} {mib:>13,.0f} {kept:>5}")
    verdict = "held" if not broken else "BROKEN"
    print(f"bound: peak RSS under {args.bound_gb} GB with --memory-limit {args.limit}: {verdict}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
