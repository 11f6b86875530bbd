"""Where `reporter run` spends its time: each DuckDB statement over a threshold, and peak RSS.

    python bench/profile_run.py INPUT --out DIR [--memory-limit 3GB] [--over 1.0]
        [--set "SET x = y" ...] [--bytes-per-event N]

Runs reporter.run in this process with its connection wrapped, printing to stderr the start offset
and duration of every statement slower than --over seconds, with its user and system CPU seconds,
minor page faults and disk traffic, then the run's total of each and the peak RSS sampled every half
second (with the time it was reached, to find the step).

To try a setting on the whole run before changing reporter: each --set runs on every connection
after reporter's own settings; --bytes-per-event replaces reporter.buckets.BYTES_PER_EVENT (the
limit divided by it is the events per bucket). A large --over leaves only the totals. For
operator-level figures, use DuckDB's profiler on one statement (`SET enable_profiling = 'json'`).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import reporter.buckets
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

    def __init__(self, con: Any, over: float, settings: list[str]) -> None:
        self._con, self._over = con, over
        for statement in settings:
            con.execute(statement)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        start, before = elapsed(), Usage.now()
        result = self._con.execute(sql, *args, **kwargs)
        took = elapsed() - start
        if took > self._over:
            statement = " ".join(str(sql).split())[:100]
            print(f"{start:8.1f} +{took:6.1f}s  {Usage.now() - before}  {statement}", file=sys.stderr)
        return result


@dataclass(frozen=True)
class Usage:
    """What the process has used so far: user and system CPU seconds (all threads), minor page faults,
    MiB read from the disk (page-cache hits are not reads) and MiB dirtied for writing (/proc/self/io's
    write_bytes: a spill-file page rewritten before it reached the disk counts each time). Between
    two statements: whether one computed, moved data, or had the kernel map memory for it (system
    time with many faults: DuckDB releasing blocks near its memory limit and touching them again)."""

    user: float
    system: float
    faults: int
    read: int
    written: int

    @staticmethod
    def now() -> Usage:
        rusage = resource.getrusage(resource.RUSAGE_SELF)
        with open("/proc/self/io") as io:
            fields = dict(line.split(": ") for line in io.read().splitlines())
        mib = (int(fields["read_bytes"]) >> 20, int(fields["write_bytes"]) >> 20)
        return Usage(rusage.ru_utime, rusage.ru_stime, rusage.ru_minflt, *mib)

    def __sub__(self, other: Usage) -> str:
        cpu = f"cpu {self.user - other.user:6.1f}s user {self.system - other.system:5.1f}s system"
        faults = f"{(self.faults - other.faults) // 1000:6,}k faults"
        disk = f"disk read {self.read - other.read:6,} MiB, written {self.written - other.written:6,} MiB"
        return f"{cpu}, {faults}, {disk}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--memory-limit")
    parser.add_argument("--over", type=float, default=1.0, help="report statements slower than this (s)")
    parser.add_argument("--set", action="append", default=[], dest="settings", help="a SET statement")
    parser.add_argument("--bytes-per-event", type=int, help="the bucket size's divisor of the limit")
    args = parser.parse_args()
    if args.bytes_per_event:
        reporter.buckets.BYTES_PER_EVENT = args.bytes_per_event
    shutil.rmtree(args.out, ignore_errors=True)
    peak = PeakRSS()
    peak.start()
    before = Usage.now()
    connect = run_module.connect  # type: ignore[attr-defined]
    run_module.connect = lambda **kw: TimedConnection(connect(**kw), args.over, args.settings)  # type: ignore[attr-defined,assignment]
    options = run_module.RunOptions(inputs=tuple(args.inputs), out=args.out, memory_limit=args.memory_limit)
    run_module.run(options)
    total = f"total {elapsed():.1f} s, {Usage.now() - before}"
    print(f"{total}, peak RSS {peak.kib / 1024:,.0f} MiB at {peak.at:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
