"""Where `reporter run` spends its time: each DuckDB statement over a threshold, and peak RSS.

    python bench/profile_run.py INPUT --out DIR [--memory-limit 3GB] [--over 1.0]

Runs reporter.run in this process with its connection wrapped, printing to stderr the start offset
and duration of every statement slower than --over seconds, with its CPU seconds and disk traffic,
then the total and the peak RSS sampled every half second (with the time it was reached, to find the
step). For operator-level figures, use DuckDB's profiler on one statement
(`SET enable_profiling = 'json'`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import reporter.run as run_module

START = time.perf_counter()


def elapsed() -> float:
    return time.perf_counter() - START


class PeakRSS(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.kib, self.at = 0, 0.0

    def run(self) -> None:
        while True:
            with open("/proc/self/status") as status:
                kib = int(status.read().split("VmRSS:")[1].split()[0])
            if kib > self.kib:
                self.kib, self.at = kib, elapsed()
            time.sleep(0.5)


class TimedConnection:
    """A DuckDB connection whose execute() reports slow statements."""

    def __init__(self, con: Any, over: float) -> None:
        self._con, self._over = con, over

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        start, (cpu, read, written) = elapsed(), usage()
        result = self._con.execute(sql, *args, **kwargs)
        took = elapsed() - start
        if took > self._over:
            after = usage()
            disk = f"disk read {after[1] - read:6,} MiB, written {after[2] - written:6,} MiB"
            cost = f"cpu {after[0] - cpu:6.1f}s, {disk}"
            print(f"{start:8.1f} +{took:6.1f}s  {cost}  {' '.join(str(sql).split())[:100]}", file=sys.stderr)
        return result


def usage() -> tuple[float, int, int]:
    """CPU seconds of the process (all threads), MiB it has read from the disk (page-cache hits are
    not reads) and MiB it has dirtied for writing (/proc/self/io's write_bytes: a spill-file page
    rewritten before it reached the disk counts each time): whether a statement computed or moved data."""
    times = os.times()
    with open("/proc/self/io") as io:
        fields = dict(line.split(": ") for line in io.read().splitlines())
    return times.user + times.system, int(fields["read_bytes"]) >> 20, int(fields["write_bytes"]) >> 20


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--memory-limit")
    parser.add_argument("--over", type=float, default=1.0, help="report statements slower than this (s)")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    peak = PeakRSS()
    peak.start()
    connect = run_module.connect
    run_module.connect = lambda **kw: TimedConnection(connect(**kw), args.over)  # type: ignore[assignment]
    options = run_module.RunOptions(inputs=tuple(args.inputs), out=args.out, memory_limit=args.memory_limit)
    run_module.run(options)
    print(f"total {elapsed():.1f} s, peak RSS {peak.kib / 1024:,.0f} MiB at {peak.at:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
