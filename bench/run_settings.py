"""`reporter run` in this process with extra DuckDB settings, or another bucket size: for trying a
setting on the whole run before changing reporter (bench/RESULTS.md, tenth session).

    python bench/run_settings.py INPUT --out DIR [--memory-limit 3GB] [--set "SET x = y" ...]
        [--bytes-per-event N]

Each --set runs on every connection reporter opens, after reporter's own settings. --bytes-per-event
replaces reporter.buckets.BYTES_PER_EVENT (the memory a bucket's events are sized by: the limit
divided by it is the events per bucket). Prints the wall time, user and system CPU seconds, minor
page faults and peak RSS of the run. DIR is removed after.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import reporter.buckets
import reporter.run as run_module


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--memory-limit")
    parser.add_argument("--set", action="append", default=[], dest="settings", help="a SET statement")
    parser.add_argument("--bytes-per-event", type=int)
    args = parser.parse_args()
    if args.bytes_per_event:
        reporter.buckets.BYTES_PER_EVENT = args.bytes_per_event
    connect = run_module.connect  # type: ignore[attr-defined]

    def with_settings(**kwargs: Any) -> Any:
        con = connect(**kwargs)
        for statement in args.settings:
            con.execute(statement)
        return con

    run_module.connect = with_settings  # type: ignore[attr-defined,assignment]
    shutil.rmtree(args.out, ignore_errors=True)
    start = time.perf_counter()
    options = run_module.RunOptions(inputs=tuple(args.inputs), out=args.out, memory_limit=args.memory_limit)
    run_module.run(options)
    took = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{took:.1f} s, cpu {used.ru_utime:.1f}s user {used.ru_stime:.1f}s system, "
        f"{used.ru_minflt // 1000:,}k faults, peak RSS {used.ru_maxrss // 1024:,} MiB"
    )
    shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
